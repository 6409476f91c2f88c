package io.sluice.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Defaults, parsing and validation of {@link LogConfig}. */
class LogConfigTest {

    @Test
    void defaults() {
        LogConfig c = LogConfig.defaults();
        assertEquals(512 * 1024 * 1024, c.segmentBytes());
        assertEquals(Duration.ofDays(7).toMillis(), c.segmentMs());
        assertEquals(4096, c.indexIntervalBytes());
        assertEquals(0, c.maxIndexBytes() % 12);
        assertEquals(DurabilityPolicy.GROUPED, c.durability());
        assertEquals(-1, c.retentionBytes());
        assertEquals(Duration.ofDays(7).toMillis(), c.retentionMs());
        assertEquals(CleanupPolicy.DELETE, c.cleanupPolicy());
        assertEquals(Duration.ofDays(1).toMillis(), c.deleteRetentionMs());
        assertEquals(0, c.minCompactionLagMs());
    }

    @Test
    void keysAreDottedLowerCaseAndEveryDefaultParses() {
        Set<String> seen = new HashSet<>();
        for (ConfigKey k : LogConfig.KEYS) {
            assertTrue(k.key().matches("[a-z]+(\\.[a-z]+)+"), k.key());
            assertTrue(seen.add(k.key()), "duplicate " + k.key());
            assertTrue(!k.doc().isBlank());
            LogConfig.fromMap(Map.of(k.key(), k.defaultValue()));
        }
        assertEquals(LogConfig.defaults(), LogConfig.fromMap(Map.of()));
        assertTrue(seen.containsAll(Set.of(
                "segment.bytes",
                "segment.ms",
                "retention.bytes",
                "retention.ms",
                "cleanup.policy",
                "delete.retention.ms",
                "log.flush.policy",
                "min.compaction.lag.ms")));
    }

    @Test
    void fromMapParsesEveryKey() {
        LogConfig c = LogConfig.fromMap(Map.of(
                "segment.bytes", "1048576",
                "segment.ms", "60000",
                "index.interval.bytes", "0",
                "segment.index.bytes", "1000",
                "log.flush.policy", "FSYNC_PER_APPEND",
                "retention.bytes", "10000000",
                "retention.ms", "-1",
                "cleanup.policy", "compact, delete",
                "delete.retention.ms", "5",
                "min.compaction.lag.ms", "7"));
        assertEquals(1048576, c.segmentBytes());
        assertEquals(60000, c.segmentMs());
        assertEquals(0, c.indexIntervalBytes());
        assertEquals(996, c.maxIndexBytes(), "rounded down to whole entries");
        assertEquals(DurabilityPolicy.FSYNC_PER_APPEND, c.durability());
        assertEquals(10000000, c.retentionBytes());
        assertEquals(-1, c.retentionMs());
        assertEquals(CleanupPolicy.COMPACT_DELETE, c.cleanupPolicy());
        assertEquals(5, c.deleteRetentionMs());
        assertEquals(7, c.minCompactionLagMs());
        assertEquals(c, LogConfig.fromMap(c.toMap()));
        assertEquals(
                CleanupPolicy.COMPACT,
                LogConfig.fromMap(Map.of("cleanup.policy", "compact")).cleanupPolicy());
        assertEquals(
                DurabilityPolicy.NONE,
                LogConfig.fromMap(Map.of("log.flush.policy", "none")).durability());
    }

    @Test
    void errorsNameTheKey() {
        assertMessageNames("segment.bytes", Map.of("segment.bytes", "12"));
        assertMessageNames("segment.bytes", Map.of("segment.bytes", "lots"));
        assertMessageNames("segment.bytes", Map.of("segment.bytes", "4294967296"));
        assertMessageNames("segment.ms", Map.of("segment.ms", "0"));
        assertMessageNames("retention.ms", Map.of("retention.ms", "-2"));
        assertMessageNames("retention.bytes", Map.of("retention.bytes", "x"));
        assertMessageNames("cleanup.policy", Map.of("cleanup.policy", "shred"));
        assertMessageNames("log.flush.policy", Map.of("log.flush.policy", "sometimes"));
        assertMessageNames("delete.retention.ms", Map.of("delete.retention.ms", "-1"));
        assertMessageNames("segment.index.bytes", Map.of("segment.index.bytes", "11"));
        assertMessageNames("segment.bytez", Map.of("segment.bytez", "1"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> LogConfig.builder().minCompactionLagMs(-1).build());
        assertTrue(e.getMessage().contains("min.compaction.lag.ms"));
    }

    private static void assertMessageNames(String key, Map<String, String> props) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LogConfig.fromMap(props));
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }
}
