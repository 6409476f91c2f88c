package io.sluice.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

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
}
