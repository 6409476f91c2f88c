package io.sluice.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerConfigTest {

    @Test
    void precedenceIsDefaultsThenFileThenEnvThenFlags() {
        Map<String, String> file = Map.of("broker.id", "1", "grpc.port", "8000", "fetch.max.bytes", "2048");
        Map<String, String> env = Map.of("SLUICE_GRPC_PORT", "8001", "SLUICE_FETCH_MAX_BYTES", "4096");
        BrokerConfig c = BrokerConfig.resolve(file, env, Map.of("grpc.port", "8002"));
        assertEquals(8002, c.grpcPort());
        assertEquals(4096, c.fetchMaxBytes());
        assertEquals(7170, c.raftPort(), "default");
        assertEquals("127.0.0.1", c.host());
        assertEquals(1, c.brokerId());
    }

    @Test
    void unrelatedSluiceVariablesAreIgnored() {
        BrokerConfig c = BrokerConfig.resolve(
                Map.of("broker.id", "3"), Map.of("SLUICE_JVM_OPTS", "-Xmx1g", "SLUICE_BOOTSTRAP", "x"), Map.of());
        assertEquals(3, c.brokerId());
    }

    @Test
    void errorsNameTheKeyAndTheSource() {
        ConfigException unknown = assertThrows(
                ConfigException.class,
                () -> BrokerConfig.resolve(Map.of("broker.id", "1", "grpc.prot", "1"), Map.of(), Map.of()));
        assertTrue(unknown.getMessage().contains("grpc.prot"), unknown.getMessage());
        ConfigException bad = assertThrows(
                ConfigException.class,
                () -> BrokerConfig.resolve(Map.of("broker.id", "1"), Map.of("SLUICE_GRPC_PORT", "70000"), Map.of()));
        assertTrue(
                bad.getMessage().contains("grpc.port") && bad.getMessage().contains("SLUICE_GRPC_PORT"),
                bad.getMessage());
        ConfigException notNumber = assertThrows(
                ConfigException.class, () -> BrokerConfig.resolve(Map.of(), Map.of(), Map.of("broker.id", "one")));
        assertTrue(notNumber.getMessage().contains("--set"), notNumber.getMessage());
        ConfigException missing =
                assertThrows(ConfigException.class, () -> BrokerConfig.resolve(Map.of(), Map.of(), Map.of()));
        assertTrue(missing.getMessage().contains("broker.id"), missing.getMessage());
        ConfigException log = assertThrows(
                ConfigException.class,
                () -> BrokerConfig.resolve(Map.of("broker.id", "1", "log.retention.ms", "x"), Map.of(), Map.of()));
        assertTrue(log.getMessage().contains("log.retention.ms"), log.getMessage());
        ConfigException cross = assertThrows(
                ConfigException.class,
                () -> BrokerConfig.resolve(
                        Map.of("broker.id", "1", "produce.max.batch.bytes", "4000000"), Map.of(), Map.of()));
        assertTrue(cross.getMessage().contains("message.max.bytes"), cross.getMessage());
        ConfigException voters = assertThrows(
                ConfigException.class,
                () -> BrokerConfig.resolve(Map.of("broker.id", "1", "controller.voters", "1@x"), Map.of(), Map.of()));
        assertTrue(voters.getMessage().contains("controller.voters"), voters.getMessage());
        for (ConfigException e : new ConfigException[] {unknown, bad, notNumber, missing, log, cross, voters}) {
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    @Test
    void derivesReplicationAndLogConfigs() {
        BrokerConfig c = BrokerConfig.resolve(
                Map.of(
                        "broker.id", "2",
                        "raft.port", "7171",
                        "data.dir", "/tmp/x",
                        "controller.voters", "1@127.0.0.1:7170,2@127.0.0.1:7171,3@127.0.0.1:7172",
                        "log.segment.bytes", "4096"),
                Map.of(),
                Map.of());
        assertEquals(4096, c.logDefaults().segmentBytes());
        assertEquals(7171, c.replicationConfig().port());
        assertEquals(Path.of("/tmp/x/raft"), c.replicationConfig().dataDir());
        assertEquals(3, c.replicationNodeConfig().controllerVoters().size());
        assertEquals(
                1,
                BrokerConfig.resolve(Map.of("broker.id", "5"), Map.of(), Map.of())
                        .replicationNodeConfig()
                        .controllerVoters()
                        .size());
    }

    @Test
    void groupSettingsAreCheckedTogether() {
        BrokerConfig c =
                BrokerConfig.resolve(Map.of("broker.id", "1", "group.session.timeout.ms", "4000"), Map.of(), Map.of());
        assertEquals(4000, c.groupConfig().sessionTimeoutMs());
        assertEquals(1000, c.groupConfig().heartbeatIntervalMs());
        ConfigException bad = assertThrows(
                ConfigException.class,
                () -> BrokerConfig.resolve(
                        Map.of("broker.id", "1", "group.heartbeat.interval.ms", "5000"), Map.of(), Map.of()));
        assertTrue(bad.getMessage().contains("heartbeat interval (5000)"), bad.getMessage());
    }

    @Test
    void keysAreUniqueDottedLowerCaseAndDocumented() {
        Set<String> seen = new HashSet<>();
        for (BrokerConfig.Key k : BrokerConfig.KEYS) {
            assertTrue(seen.add(k.name()), "duplicate key " + k.name());
            assertTrue(k.name().matches("[a-z0-9]+(\\.[a-z0-9]+)+"), k.name());
            assertFalse(k.doc().isBlank(), k.name());
        }
        assertEquals("SLUICE_PRODUCE_MAX_INFLIGHT_PER_STREAM", BrokerConfig.envName("produce.max.inflight.per.stream"));
    }

    @Test
    void readsPropertiesFiles(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("b.properties");
        Files.writeString(f, "# comment\nbroker.id = 7\ngrpc.port=9000\n");
        BrokerConfig c = BrokerConfig.resolve(BrokerConfig.readFile(f), Map.of(), Map.of());
        assertEquals(7, c.brokerId());
        assertEquals(9000, c.grpcPort());
        assertThrows(ConfigException.class, () -> BrokerConfig.readFile(dir.resolve("missing")));
    }
}
