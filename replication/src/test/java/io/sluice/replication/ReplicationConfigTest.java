package io.sluice.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicationConfigTest {
    @Test
    void defaultsRoundTripThroughProperties() {
        ReplicationConfig c = ReplicationConfig.defaults(Path.of("/tmp/x"));
        assertEquals(3000, c.electionTimeoutMs());
        assertEquals(9095, c.port());
        assertEquals(c, ReplicationConfig.fromProperties(c.toProperties()));
        assertEquals(ReplicationConfig.KEYS.size(), c.toProperties().size(), "every key has a field");
        assertEquals(new RaftGroupOptions(3000, 300_000), c.defaultGroupOptions());
    }

    @Test
    void rejectsUnknownMissingAndOutOfRangeValues() {
        assertThrows(IllegalArgumentException.class, () -> ReplicationConfig.fromProperties(Map.of()));
        assertThrows(
                IllegalArgumentException.class,
                () -> ReplicationConfig.fromProperties(Map.of("raft.data.dir", "/d", "raft.no.such.key", "1")));
        ReplicationConfig c = ReplicationConfig.defaults(Path.of("/d"));
        assertThrows(IllegalArgumentException.class, () -> c.with(ReplicationConfig.ELECTION_TIMEOUT_MS, "5"));
        assertThrows(IllegalArgumentException.class, () -> c.with(ReplicationConfig.DISRUPTOR_BUFFER_ENTRIES, "1000"));
        assertThrows(IllegalArgumentException.class, () -> c.with(ReplicationConfig.PORT, "nope"));
        assertEquals(0, c.withPort(0).port());
        // Other modules' keys pass through untouched.
        assertEquals(c, ReplicationConfig.fromProperties(Map.of("raft.data.dir", "/d", "log.segment.bytes", "1")));
    }

    @Test
    void docsCarryTheGeneratedReference() throws Exception {
        Path doc = Path.of("").toAbsolutePath().getParent().resolve("docs").resolve("replication.md");
        String text = java.nio.file.Files.readString(doc);
        assertTrue(
                text.contains(ReplicationConfig.referenceDoc()),
                "docs/replication.md must contain ReplicationConfig.referenceDoc() verbatim; regenerate its table");
    }

    @Test
    void referenceDocListsEveryKey() {
        String doc = ReplicationConfig.referenceDoc();
        for (ReplicationConfig.Key k : ReplicationConfig.KEYS) {
            assertTrue(doc.contains("`" + k.name() + "`"), k.name());
            assertTrue(
                    k.name().equals(ReplicationConfig.DATA_DIR)
                            || k.name().equals(ReplicationConfig.HOST)
                            || k.name().equals(ReplicationConfig.PORT)
                            || k.name().matches(".*\\.(ms|count|entries|bytes)"),
                    "key ends in a unit: " + k.name());
        }
    }
}
