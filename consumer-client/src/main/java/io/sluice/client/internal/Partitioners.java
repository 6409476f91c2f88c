package io.sluice.client.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;

/**
 * Partition choice for records without an explicit partition: keyed records by Kafka's hash ({@code
 * toPositive(murmur2(key)) % partitions}, so the same key lands on the same partition number as with a Kafka
 * producer), unkeyed ones on a per-topic sticky partition that moves (to a different partition when there is
 * more than one) each time a batch for it fills, so unkeyed traffic forms full batches yet spreads over time. The
 * move is adaptive, as in Kafka's producer (KIP-794): a partition is picked with weight {@code maxLoad + 1 - load},
 * where load is the batches it has queued or in flight, so partitions whose broker is slow at the moment get fewer
 * new records, and all get an equal share when the loads are equal.
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
        onBatchFull(topic, full, numPartitions, p -> 0);
    }

    /**
     * A batch of the sticky partition {@code full} filled: move the topic's sticky partition to another one, picked
     * with weight {@code maxLoad + 1 - load(p)}, where {@code load} gives a partition's batches queued or in flight.
     */
    public void onBatchFull(String topic, int full, int numPartitions, IntUnaryOperator load) {
        Integer current = sticky.get(topic);
        if (current == null || current != full || numPartitions <= 1) {
            return;
        }
        // picked outside the map's lock (load takes each queue's lock); set only if nobody moved it meanwhile
        sticky.replace(topic, full, pick(full, numPartitions, load));
    }

    private static int pick(int exclude, int numPartitions, IntUnaryOperator load) {
        int[] loads = new int[numPartitions];
        int max = 0;
        for (int p = 0; p < numPartitions; p++) {
            loads[p] = p == exclude ? 0 : Math.max(0, load.applyAsInt(p));
            max = Math.max(max, loads[p]);
        }
        long total = 0;
        for (int p = 0; p < numPartitions; p++) {
            total += p == exclude ? 0 : max + 1L - loads[p];
        }
        long r = ThreadLocalRandom.current().nextLong(total);
        for (int p = 0; p < numPartitions; p++) {
            if (p == exclude) {
                continue;
            }
            r -= max + 1L - loads[p];
            if (r < 0) {
                return p;
            }
        }
        throw new AssertionError("weights sum to " + total); // unreachable: r < total
    }
}
