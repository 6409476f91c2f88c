package io.sluice.client;

/**
 * A read or seek named an offset outside the partition's readable range (code
 * {@link ErrorCode#OFFSET_OUT_OF_RANGE}); the range at the time of the error is attached. Not retriable: the
 * consumer must seek elsewhere.
 *
 * <p>Immutable and thread-safe once constructed.
 */
public class OffsetOutOfRangeException extends SluiceException {
    private final long logStartOffset;
    private final long highWatermark;

    public OffsetOutOfRangeException(String message, long logStartOffset, long highWatermark) {
        super(ErrorCode.OFFSET_OUT_OF_RANGE, message);
        this.logStartOffset = logStartOffset;
        this.highWatermark = highWatermark;
    }

    /** The first readable offset, or -1 when the broker did not say. */
    public long logStartOffset() {
        return logStartOffset;
    }

    /** One past the last readable offset, or -1 when the broker did not say. */
    public long highWatermark() {
        return highWatermark;
    }
}
