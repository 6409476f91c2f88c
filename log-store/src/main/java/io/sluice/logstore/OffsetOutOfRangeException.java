package io.sluice.logstore;

/**
 * A read asked for an offset below the log start offset or above the log end offset.
 *
 * <p>Brokers map it to {@code OUT_OF_RANGE} carrying {@link #logStartOffset()} and {@link #logEndOffset()}
 * so the consumer can reset. Instances are immutable and thread-safe.
 */
public class OffsetOutOfRangeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long requestedOffset;
    private final long logStartOffset;
    private final long logEndOffset;

    public OffsetOutOfRangeException(long requestedOffset, long logStartOffset, long logEndOffset) {
        super("offset " + requestedOffset + " is out of range: log start offset " + logStartOffset + ", log end offset "
                + logEndOffset);
        this.requestedOffset = requestedOffset;
        this.logStartOffset = logStartOffset;
        this.logEndOffset = logEndOffset;
    }

    public long requestedOffset() {
        return requestedOffset;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return logEndOffset;
    }
}
