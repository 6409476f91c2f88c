package io.sluice.client;

import java.time.Duration;
import java.util.Optional;

/**
 * A failure that may not happen again: retrying the same operation (possibly after refreshing metadata or
 * waiting {@link #retryAfter()}) can succeed. For a write, the outcome of the failed attempt may be unknown.
 *
 * <p>Immutable and thread-safe once constructed.
 */
public class RetriableException extends SluiceException {
    private final Duration retryAfter;

    public RetriableException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public RetriableException(ErrorCode code, String message, Duration retryAfter, Throwable cause) {
        super(code, message, cause);
        this.retryAfter = retryAfter;
    }

    /** The minimum wait the broker asked for before retrying, when it named one. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
