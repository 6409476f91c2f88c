package io.sluice.client;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A record read from a partition.
 *
 * <p>The arrays belong to the caller. Otherwise immutable and thread-safe.
 *
 * @param topic topic name
 * @param partition partition number
 * @param offset the record's offset
 * @param timestamp ms since the epoch (create time, or log-append time for topics that use it)
 * @param key key bytes; null when the record has no key
 * @param value value bytes; null for a tombstone
 * @param headers headers in wire order, never null
 */
public record ConsumedRecord(
        String topic, int partition, long offset, long timestamp, byte[] key, byte[] value, List<Header> headers) {
    public ConsumedRecord {
        headers = List.copyOf(headers);
    }

    /** The partition this record came from. */
    public TopicPartition topicPartition() {
        return new TopicPartition(topic, partition);
    }

    /** The value decoded as UTF-8, or null for a tombstone. */
    public String valueAsString() {
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    /** The key decoded as UTF-8, or null when absent. */
    public String keyAsString() {
        return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }
}
