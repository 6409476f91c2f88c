package io.sluice.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Kafka-compatible murmur2 and the sticky partitioner. */
class PartitionersTest {
    @Test
    void murmur2MatchesKafkaVectors() {
        Map<String, Integer> cases = Map.of(
                "21", -973932308,
                "foobar", -790332482,
                "a-little-bit-long-string", -985981536,
                "a-little-bit-longer-string", -1486304829,
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971,
                "abc", 479470107);
        cases.forEach((k, v) -> assertEquals(v, Partitioners.murmur2(k.getBytes(StandardCharsets.UTF_8)), k));
    }

    @Test
    void keyPartitionIsPositiveModulo() {
        byte[] key = "foobar".getBytes(StandardCharsets.UTF_8);
        assertEquals((-790332482 & 0x7fffffff) % 7, Partitioners.forKey(key, 7));
    }

    @Test
    void stickyStaysUntilBatchFillsThenMoves() {
        Partitioners p = new Partitioners();
        int first = p.sticky("t", 5);
        for (int i = 0; i < 10; i++) {
            assertEquals(first, p.sticky("t", 5));
        }
        p.onBatchFull("t", (first + 1) % 5, 5); // not the sticky one: no move
        assertEquals(first, p.sticky("t", 5));
        p.onBatchFull("t", first, 5);
        assertNotEquals(first, p.sticky("t", 5));
        Partitioners single = new Partitioners();
        single.sticky("s", 1);
        single.onBatchFull("s", 0, 1);
        assertEquals(0, single.sticky("s", 1));
    }

    /**
     * Moves the sticky partition of "t" away from its current one {@code n} times; counts where it went, for the
     * moves that started on partition {@code from} ({@code -1}: all moves).
     */
    private static int[] moves(int n, int partitions, int[] loads, int from) {
        Partitioners p = new Partitioners();
        int[] landed = new int[partitions];
        for (int i = 0; i < n; i++) {
            int was = p.sticky("t", partitions);
            p.onBatchFull("t", was, partitions, q -> loads[q]);
            int to = p.sticky("t", partitions);
            assertNotEquals(was, to, "never stays on the partition whose batch filled");
            if (from < 0 || was == from) {
                landed[to]++;
            }
        }
        return landed;
    }

    @Test
    void stickyMovesAwayFromPartitionsWithLongQueues() {
        // partition 3's broker keeps up, the others have 10 batches queued: from partition 0 the weights of
        // partitions 1, 2, 3 are 1, 1, 11
        int[] landed = moves(6_000, 4, new int[] {10, 10, 10, 0}, 0);
        int total = landed[1] + landed[2] + landed[3];
        String seen = java.util.Arrays.toString(landed);
        assertTrue(total > 500, seen);
        assertTrue(landed[3] > total * 0.7, "mostly to the partition that keeps up (11 of 13 expected): " + seen);
        assertTrue(landed[1] > 0 && landed[2] > 0, "a loaded partition still gets some: " + seen);
    }

    @Test
    void equalLoadsSpreadEvenly() {
        int[] landed = moves(3_000, 3, new int[] {4, 4, 4}, -1);
        for (int q = 0; q < 3; q++) {
            assertTrue(landed[q] > 700, "about a third each: " + java.util.Arrays.toString(landed));
        }
    }
}
