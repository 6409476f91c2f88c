package io.sluice.client.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Partition choice for records without an explicit partition: keyed records by Kafka's hash ({@code
 * toPositive(murmur2(key)) % partitions}, so the same key lands on the same partition number as with a Kafka
 * producer), unkeyed ones on a per-topic sticky partition that moves (to a different partition when there is
 * more than one) each time a batch for it fills, so unkeyed traffic forms full batches yet spreads over time.
 *
 * <p>Thread-safe.
 */
public final class Partitioners {
    private final Map<String, Integer> sticky = new ConcurrentHashMap<>();

    /** Kafka's murmur2 (seed 0x9747b28c), bit-for-bit. */
    public static int murmur2(byte[] data) {
        int length = data.length;
        int seed = 0x9747b28c;
        final int m = 0x5bd1e995;
        final int r = 24;
        int h = seed ^ length;
        int length4 = length / 4;
        for (int i = 0; i < length4; i++) {
            int i4 = i * 4;
            int k = (data[i4] & 0xff)
                    + ((data[i4 + 1] & 0xff) << 8)
                    + ((data[i4 + 2] & 0xff) << 16)
                    + ((data[i4 + 3] & 0xff) << 24);
            k *= m;
            k ^= k >>> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        int tail = length & ~3;
        switch (length % 4) {
            case 3:
                h ^= (data[tail + 2] & 0xff) << 16;
            // fall through
            case 2:
                h ^= (data[tail + 1] & 0xff) << 8;
            // fall through
            case 1:
                h ^= data[tail] & 0xff;
                h *= m;
                break;
            default:
                break;
        }
        h ^= h >>> 13;
        h *= m;
        h ^= h >>> 15;
        return h;
    }

    /** The partition of a keyed record. */
    public static int forKey(byte[] key, int numPartitions) {
        return (murmur2(key) & 0x7fffffff) % numPartitions;
    }

    /** The current sticky partition of {@code topic}. */
    public int sticky(String topic, int numPartitions) {
        Integer p = sticky.get(topic);
        if (p != null && p < numPartitions) {
            return p;
        }
        return sticky.compute(
                topic,
                (t, old) -> old != null && old < numPartitions
                        ? old
                        : ThreadLocalRandom.current().nextInt(numPartitions));
    }

    /** A batch of the sticky partition {@code full} filled: move the topic's sticky partition elsewhere. */
    public void onBatchFull(String topic, int full, int numPartitions) {
        sticky.computeIfPresent(topic, (t, old) -> {
            if (old != full || numPartitions <= 1) {
                return old;
            }
            int next = ThreadLocalRandom.current().nextInt(numPartitions - 1);
            return next >= full ? next + 1 : next;
        });
    }
}
