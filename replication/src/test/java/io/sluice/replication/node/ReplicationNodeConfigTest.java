package io.sluice.replication.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.LogConfig;
import io.sluice.replication.ReplicationConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicationNodeConfigTest {

    @TempDir
    Path dir;

    private ReplicationConfig raft(int port) {
        return ReplicationConfig.defaults(dir).withPort(port);
    }

    @Test
    void parsesVotersAndRoundTrips() {
        assertEquals(
                Map.of(1, "127.0.0.1:7170", 2, "h2:7171", 3, "h3:7172"),
                ReplicationNodeConfig.parseVoters(" 1@127.0.0.1:7170, 2@h2:7171,3@h3:7172 "));
        Map<String, String> props = new HashMap<>();
        props.put(ReplicationNodeConfig.BROKER_ID, "2");
        props.put(ReplicationNodeConfig.BROKER_RACK, "r1");
        props.put(ReplicationNodeConfig.CONTROLLER_VOTERS, "1@127.0.0.1:7170,2@127.0.0.1:7171");
        props.put(ReplicationNodeConfig.SESSION_TIMEOUT_MS, "3000");
        ReplicationNodeConfig c = ReplicationNodeConfig.fromProperties(props, raft(7171), LogConfig.defaults());
        assertTrue(c.isControllerVoter());
        assertEquals(Optional.of("r1"), c.rack());
        assertEquals(3000, c.sessionTimeoutMs());
        assertEquals(c, ReplicationNodeConfig.fromProperties(c.toProperties(), raft(7171), LogConfig.defaults()));
        assertEquals(7, c.with(ReplicationNodeConfig.GRPC_PORT, "7").grpcPort());
    }

    @Test
    void rejectsBadValues() {
        for (String bad : new String[] {"", "1", "1@h", "x@h:1", "1@h:0", "1@h:1,1@h:2", "1@h:1,2@h:1", "-1@h:1"}) {
            assertThrows(IllegalArgumentException.class, () -> ReplicationNodeConfig.parseVoters(bad), bad);
        }
        // A voter must be configured at its own Raft endpoint.
        assertThrows(
                IllegalArgumentException.class,
                () -> ReplicationNodeConfig.defaults(1, raft(7999), "1@127.0.0.1:7170"));
        ReplicationNodeConfig ok = ReplicationNodeConfig.defaults(4, raft(0), "1@127.0.0.1:7170");
        assertThrows(
                IllegalArgumentException.class,
                () -> ok.with(ReplicationNodeConfig.HEARTBEAT_INTERVAL_MS, "9000"),
                "heartbeat interval >= session timeout");
        assertThrows(IllegalArgumentException.class, () -> ok.with(ReplicationNodeConfig.SESSION_TIMEOUT_MS, "x"));
        assertThrows(IllegalArgumentException.class, () -> ok.with("nope", "1"));
    }

    @Test
    void docsCarryTheGeneratedReference() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "replication.md"));
        assertTrue(
                doc.contains(ReplicationNodeConfig.referenceDoc()),
                "docs/replication.md must contain ReplicationNodeConfig.referenceDoc():\n"
                        + ReplicationNodeConfig.referenceDoc());
    }
}
