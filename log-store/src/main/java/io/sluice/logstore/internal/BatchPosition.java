package io.sluice.logstore.internal;

/**
 * A batch located in a segment: where it starts and what its header says.
 *
 * <p>Instances are immutable and thread-safe.
 */
record BatchPosition(
        int position,
        int sizeInBytes,
        long baseOffset,
        long lastOffset,
        long entryIndex,
        long raftTerm,
        long maxTimestamp) {

    long nextOffset() {
        return lastOffset + 1;
    }
}
