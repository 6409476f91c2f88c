package io.sluice.replication;

/**
 * A record's offset and timestamp, as found by a timestamp lookup ({@link
 * ReplicatedPartition#offsetAndTimestampFor}). Immutable and thread-safe.
 *
 * @param offset the record's offset
 * @param timestamp the record's timestamp, ms since the epoch
 */
public record TimestampedOffset(long offset, long timestamp) {}
