package io.sluice.client;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A record to produce.
 *
 * <p>Without an explicit partition the producer picks one: the murmur2 hash of the key modulo the partition
 * count (Kafka-compatible), or, for a null key, a sticky partition that changes when a batch fills, preferring
 * partitions with fewer batches queued or in flight (as Kafka's adaptive partitioning does). Without a timestamp
 * the producer stamps the current time. Arrays are not copied; do not mutate them after sending.
 * Otherwise immutable and thread-safe.
 *
 * @param topic topic name
 * @param partition explicit partition, or empty to let the producer choose
 * @param key key bytes, or null for an unkeyed record
 * @param value value bytes, or null for a tombstone
 * @param headers headers, never null
 * @param timestamp create time in ms since the epoch, or empty for "now"
 */
public record Record(
        String topic, OptionalInt partition, byte[] key, byte[] value, List<Header> headers, OptionalLong timestamp) {
    public Record {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(partition, "partition");
        Objects.requireNonNull(timestamp, "timestamp");
        headers = List.copyOf(Objects.requireNonNull(headers, "headers"));
        if (partition.isPresent() && partition.getAsInt() < 0) {
            throw new IllegalArgumentException("partition must be >= 0");
        }
    }

    /** A record with a key and value, no headers, partition chosen by the producer, timestamp now. */
    public static Record of(String topic, byte[] key, byte[] value) {
        return new Record(topic, OptionalInt.empty(), key, value, List.of(), OptionalLong.empty());
    }

    /** Like {@link #of(String, byte[], byte[])} with UTF-8 strings (either may be null). */
    public static Record of(String topic, String key, String value) {
        return of(topic, utf8(key), utf8(value));
    }

    /** This record sent to an explicit partition. */
    public Record withPartition(int partition) {
        return new Record(topic, OptionalInt.of(partition), key, value, headers, timestamp);
    }

    /** This record with these headers. */
    public Record withHeaders(List<Header> headers) {
        return new Record(topic, partition, key, value, headers, timestamp);
    }

    /** This record with an explicit create timestamp (ms since the epoch). */
    public Record withTimestamp(long timestampMs) {
        return new Record(topic, partition, key, value, headers, OptionalLong.of(timestampMs));
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
