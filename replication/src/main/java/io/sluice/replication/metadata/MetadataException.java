package io.sluice.replication.metadata;

import java.util.Objects;

/**
 * A failed metadata operation. Subclasses name the cases callers handle; {@link #error()} carries the stable code.
 *
 * <p>Immutable, thread-safe.
 */
public class MetadataException extends RuntimeException {

    private final MetadataError error;

    public MetadataException(MetadataError error, String message) {
        super(message);
        this.error = Objects.requireNonNull(error, "error");
    }

    public MetadataError error() {
        return error;
    }

    /** Whether retrying later may succeed. */
    public boolean retriable() {
        return error.retriable();
    }
}
