package io.sluice.broker.internal.group;

import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link LogOffsets} set by the test: per partition a log start, a high watermark and records at given timestamps
 * (one per offset from the log start: the record at offset o has timestamp {@code 1000 * o}). Partitions not set have
 * no answering leader. Thread-safe.
 */
final class FakeLogOffsets implements LogOffsets {
    private final Map<TopicPartitionKey, Bounds> bounds = new ConcurrentHashMap<>();

    void set(String topic, int partition, long logStart, long highWatermark) {
        bounds.put(new TopicPartitionKey(topic, partition), new Bounds(logStart, highWatermark));
    }

    @Override
    public Map<TopicPartitionKey, Bounds> bounds(Collection<TopicPartitionKey> partitions) {
        Map<TopicPartitionKey, Bounds> out = new HashMap<>();
        for (TopicPartitionKey tp : partitions) {
            if (bounds.containsKey(tp)) {
                out.put(tp, bounds.get(tp));
            }
        }
        return out;
    }

    @Override
    public Map<TopicPartitionKey, OptionalLong> offsetsForTimestamp(
            Collection<TopicPartitionKey> partitions, long timestampMs) {
        Map<TopicPartitionKey, OptionalLong> out = new HashMap<>();
        for (TopicPartitionKey tp : partitions) {
            Bounds b = bounds.get(tp);
            if (b != null) {
                long o = Math.max(b.logStartOffset(), (timestampMs + 999) / 1000);
                out.put(tp, o < b.highWatermark() ? OptionalLong.of(o) : OptionalLong.empty());
            }
        }
        return out;
    }

    @Override
    public OptionalLong localLogEnd(TopicPartitionKey partition) {
        Bounds b = bounds.get(partition);
        return b == null ? OptionalLong.empty() : OptionalLong.of(b.highWatermark());
    }
}
