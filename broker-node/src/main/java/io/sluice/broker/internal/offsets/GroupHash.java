package io.sluice.broker.internal.offsets;

import java.nio.charset.StandardCharsets;

/**
 * Maps a group id to its {@code __offsets} partition: 32-bit MurmurHash2 (seed {@code 0x9747b28c}, the variant
 * Kafka's default partitioner uses) of the id's UTF-8 bytes, made non-negative by clearing the sign bit, modulo the
 * partition count. The mapping must never change for a given partition count: it decides where a group's offsets are.
 *
 * <p>Stateless and thread-safe.
 */
public final class GroupHash {
    private static final int SEED = 0x9747b28c;
    private static final int M = 0x5bd1e995;
    private static final int R = 24;

    private GroupHash() {}

    /** The {@code __offsets} partition of {@code groupId} among {@code partitionCount}. */
    public static int partitionFor(String groupId, int partitionCount) {
        if (partitionCount < 1) {
            throw new IllegalArgumentException("partition count must be >= 1: " + partitionCount);
        }
        return (murmur2(groupId.getBytes(StandardCharsets.UTF_8)) & 0x7fffffff) % partitionCount;
    }

    /** 32-bit MurmurHash2 of {@code data}. */
    public static int murmur2(byte[] data) {
        int length = data.length;
        int h = SEED ^ length;
        int blocks = length / 4;
        for (int i = 0; i < blocks; i++) {
            int at = i * 4;
            int k = (data[at] & 0xff)
                    | ((data[at + 1] & 0xff) << 8)
                    | ((data[at + 2] & 0xff) << 16)
                    | ((data[at + 3] & 0xff) << 24);
            k *= M;
            k ^= k >>> R;
            k *= M;
            h *= M;
            h ^= k;
        }
        int tail = blocks * 4;
        int rest = length - tail;
        if (rest == 3) {
            h ^= (data[tail + 2] & 0xff) << 16;
        }
        if (rest >= 2) {
            h ^= (data[tail + 1] & 0xff) << 8;
        }
        if (rest >= 1) {
            h ^= data[tail] & 0xff;
            h *= M;
        }
        h ^= h >>> 13;
        h *= M;
        h ^= h >>> 15;
        return h;
    }
}
