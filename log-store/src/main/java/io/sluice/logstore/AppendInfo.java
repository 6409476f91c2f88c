package io.sluice.logstore;

/**
 * What the log assigned to one appended batch.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param baseOffset offset of the batch's first record (the log end offset before the append)
 * @param lastOffset offset of the batch's last record ({@code baseOffset + lastOffsetDelta})
 * @param entryIndex the Raft entry index stamped into the batch
 * @param maxTimestamp the batch's max timestamp, as found in its header
 * @param sizeInBytes bytes the batch occupies in the log
 */
public record AppendInfo(long baseOffset, long lastOffset, long entryIndex, long maxTimestamp, int sizeInBytes) {

    /** The offset the next batch gets. */
    public long nextOffset() {
        return lastOffset + 1;
    }
}
