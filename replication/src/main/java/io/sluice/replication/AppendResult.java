package io.sluice.replication;

/**
 * What a successful append produced: the offsets the log assigned to the batch.
 *
 * <p>Invariants: {@code baseOffset <= lastOffset}; {@code entryIndex >= 1}; {@code term >= 1}. Immutable and
 * thread-safe.
 *
 * @param baseOffset offset of the batch's first record
 * @param lastOffset offset of the batch's last record
 * @param term the Raft term in which the batch was appended
 * @param entryIndex the Raft log index of the entry that carries the batch
 */
public record AppendResult(long baseOffset, long lastOffset, long term, long entryIndex) {

    public AppendResult {
        if (lastOffset < baseOffset || baseOffset < 0) {
            throw new IllegalArgumentException("invalid offsets: " + baseOffset + ".." + lastOffset);
        }
    }
}
