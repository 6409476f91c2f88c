package io.sluice.logstore;

import java.nio.ByteBuffer;

/**
 * Whole stored batches read from a log, bytes untouched.
 *
 * <p>{@code records} holds zero or more complete batches back to back (position 0, limit = their total
 * size). The first batch contains the requested offset, so {@code firstBatchBaseOffset} may be below it
 * when the request pointed inside a batch; consumers skip the records before the offset they asked for.
 *
 * <p>Instances are immutable in the sense that the log never touches the buffer again; the buffer itself
 * is not shared with anyone else. Thread-safe as long as the caller does not mutate the buffer.
 *
 * @param records the batches; empty when nothing could be read
 * @param firstBatchBaseOffset base offset of the first batch, or the requested offset when empty
 * @param nextOffset the offset to ask for next (last batch's last offset + 1, or the requested offset when
 *     empty)
 * @param batchCount number of batches in {@code records}
 * @param logStartOffset the log start offset at the time of the read
 * @param logEndOffset the log end offset at the time of the read
 */
public record LogReadResult(
        ByteBuffer records,
        long firstBatchBaseOffset,
        long nextOffset,
        int batchCount,
        long logStartOffset,
        long logEndOffset) {

    /** An empty result at {@code offset}. */
    public static LogReadResult empty(long offset, long logStartOffset, long logEndOffset) {
        return new LogReadResult(ByteBuffer.allocate(0), offset, offset, 0, logStartOffset, logEndOffset);
    }

    /** True when no batch was read. */
    public boolean isEmpty() {
        return batchCount == 0;
    }

    /** Bytes of batch data in {@code records}. */
    public int sizeInBytes() {
        return records.remaining();
    }
}
