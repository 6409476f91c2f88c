package io.sluice.client;

import java.util.Objects;

/**
 * The root of every failure the client reports: an unchecked exception with the stable {@link ErrorCode}.
 * Whether retrying can help is a type: {@link RetriableException} (and its subclasses) or not.
 *
 * <p>Immutable and thread-safe once constructed.
 */
public class SluiceException extends RuntimeException {
    private final ErrorCode code;

    public SluiceException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public SluiceException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The stable error code. */
    public ErrorCode code() {
        return code;
    }
}
