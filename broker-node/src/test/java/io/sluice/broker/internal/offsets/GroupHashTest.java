package io.sluice.broker.internal.offsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The group → {@code __offsets} partition mapping must never change: pinned values. */
class GroupHashTest {

    @Test
    void murmur2MatchesKafkasReferenceVectors() {
        // Kafka's UtilsTest.testMurmur2: the same function its default partitioner uses.
        Map<String, Integer> vectors = Map.of(
                "21", -973932308,
                "foobar", -790332482,
                "a-little-bit-long-string", -985981536,
                "a-little-bit-longer-string", -1486304829,
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971,
                "abc", 479470107);
        vectors.forEach((s, h) -> assertEquals(h, GroupHash.murmur2(s.getBytes(StandardCharsets.UTF_8)), s));
    }

    @Test
    void partitionForIsStable() {
        // (murmur2 & 0x7fffffff) % n, pinned: changing these moves every group's offsets.
        assertEquals(6, GroupHash.partitionFor("foobar", 10));
        assertEquals(16, GroupHash.partitionFor("foobar", 50));
        assertEquals((479470107 & 0x7fffffff) % 16, GroupHash.partitionFor("abc", 16));
        assertEquals((-973932308 & 0x7fffffff) % 16, GroupHash.partitionFor("21", 16));
        assertEquals(0, GroupHash.partitionFor("anything", 1));
    }

    @Test
    void nonAsciiIdsHashTheirUtf8Bytes() {
        int h = GroupHash.murmur2("caf\u00e9".getBytes(StandardCharsets.UTF_8));
        assertEquals((h & 0x7fffffff) % 16, GroupHash.partitionFor("caf\u00e9", 16));
        for (String g : new String[] {"", "g", "group-1", "\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9"}) {
            int p = GroupHash.partitionFor(g, 16);
            assertTrue(p >= 0 && p < 16, g);
        }
    }

    @Test
    void zeroPartitionsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> GroupHash.partitionFor("g", 0));
    }
}
