package io.sluice.logstore.internal;

/**
 * The header facts of a batch about to be written: what the indexes and the log's counters need.
 *
 * <p>Instances are immutable and thread-safe.
 */
record BatchMeta(long baseOffset, long lastOffset, long entryIndex, long maxTimestamp, int sizeInBytes) {}
