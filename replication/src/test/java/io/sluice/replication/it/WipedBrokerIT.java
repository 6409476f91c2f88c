package io.sluice.replication.it;

import static io.sluice.replication.testkit.MiniCluster.waitFor;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.replication.AckMode;
import io.sluice.replication.AppendResult;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import io.sluice.replication.node.ReplicationNode;
import io.sluice.replication.node.ReplicationNodeConfig;
import io.sluice.replication.testkit.MiniCluster;
import io.sluice.replication.testkit.PartitionData;
import io.sluice.replication.testkit.ReplicaInvariants;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker whose whole data directory is lost (partition replicas, the metadata controller group's Raft log, vote and
 * snapshots, the replica registry) and that comes back at once with the same id and address: docs/operations.md, "The
 * disk is lost". All three brokers are controller voters, so the wiped broker is also a controller voter that lost its
 * Raft state; it is either the controller leader or a controller follower when it goes, it is either closed
 * gracefully or killed, and it comes back with the same client ports (an unchanged registration) or new ones (a
 * registration that replaces the old one, as a broker on ephemeral ports makes). With snapshots, the controller group
 * and the partitions have compacted their logs first, so the wiped broker catches up through snapshot installs.
 *
 * <p>Within {@link #RECOVERY} of its restart, every partition must list it in its replica set, its local replica must be
 * open and must have caught up with what the leaders committed (including what was written while it was down and
 * restarting), and the controller group must be healthy: a topic created afterwards is placed on it too, and the group
 * still elects a controller and commits changes when another voter is lost (which needs the wiped voter's vote and
 * log).
 */
class WipedBrokerIT {

    private static final Logger LOG = LoggerFactory.getLogger(WipedBrokerIT.class);

    /**
     * Bound on the wiped broker getting its replicas back and catching up; the known issue of docs/operations.md is a
     * wiped controller voter that got no replicas for two minutes (it takes about 0.3 to 2.5 s here).
     */
    private static final Duration RECOVERY = Duration.ofSeconds(60);

    private static final String TOPIC = "wiped";
    private static final int PARTITIONS = 6;
    private static final int BATCHES = 10;

    enum Role {
        LEADER,
        FOLLOWER
    }

    enum Stop {
        CLOSE,
        KILL
    }

    /**
     * Whether the restarted broker comes back with the same client ports (a registration equal to the old one) or
     * other ones (as a broker binding ephemeral ports does: its registration replaces the old one).
     */
    enum Ports {
        SAME,
        NEW
    }

    @TempDir
    Path dir;

    @ParameterizedTest(name = "controller {0}, {1}, snapshots {2}, {3} ports")
    @CsvSource({
        "LEADER, CLOSE, false, SAME",
        "FOLLOWER, CLOSE, false, SAME",
        "LEADER, KILL, false, SAME",
        "FOLLOWER, KILL, false, SAME",
        "LEADER, CLOSE, true, NEW",
        "FOLLOWER, CLOSE, true, NEW",
        "LEADER, KILL, false, NEW",
        "FOLLOWER, CLOSE, false, NEW"
    })
    void wipedControllerVoterGetsItsReplicasBackAndCatchesUp(Role role, Stop stop, boolean snapshots, Ports ports)
            throws Exception {
        try (MiniCluster c = MiniCluster.builder(dir).brokers(3).voters(3).start()) {
            TopicInfo topic = c.createTopic(TOPIC, PARTITIONS, 3);
            // Per partition, the end of what was acknowledged before the broker goes.
            Map<Integer, Long> acked = new TreeMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                acked.put(p, appendSome(c, TOPIC, p, "before-" + p + "-").lastOffset() + 1);
            }
            if (snapshots) {
                // Two rounds of snapshots with changes between them, so the logs drop their first entries (JRaft
                // keeps the log back to the previous snapshot): the wiped broker then needs snapshot installs, of the
                // controller group and of every partition, before the log.
                for (int round = 0; round < 2; round++) {
                    c.createTopic("filler-" + round, 1, 3);
                    for (int p = 0; p < PARTITIONS; p++) {
                        acked.put(
                                p,
                                appendSome(c, TOPIC, p, "round-" + round + "-" + p + "-")
                                                .lastOffset()
                                        + 1);
                    }
                    for (int b : c.runningIds()) {
                        c.node(b).snapshotMetadata();
                        for (int p = 0; p < PARTITIONS; p++) {
                            c.get(c.partitionOn(b, TOPIC, p).snapshot());
                        }
                    }
                }
            }

            // The controller leader, or a follower of it; picked again if the leadership moves while picking.
            int victim = c.await(
                    () -> {
                        int controller = c.awaitController();
                        int v = role == Role.LEADER ? controller : controller % 3 + 1;
                        return c.node(v).isController() == (role == Role.LEADER) ? Optional.of(v) : Optional.empty();
                    },
                    "a controller " + role.name().toLowerCase(Locale.ROOT) + " to wipe");
            for (PartitionAssignment p : topic.partitions()) {
                assertTrue(p.hasReplica(victim));
                c.partitionOn(victim, TOPIC, p.partition());
            }

            if (stop == Stop.CLOSE) {
                c.stop(victim);
            } else {
                c.kill(victim);
            }
            // As docs/operations.md asks: the broker comes back empty only once the others are healthy without it,
            // i.e. every group it was in has a leader among them and they agree on what was committed. An empty
            // voter that comes back while an election is still open votes with an empty log and can elect a
            // follower that misses acknowledged entries (seen here under load: the up-to-date follower's replica
            // then failed on the truncation); that hazard is a known bug, not what this test is about.
            c.awaitController();
            waitFor(
                    () -> c.metadataViews().values().stream().distinct().count() == 1,
                    c.timeout(),
                    () -> "the other brokers with the same metadata: " + c.metadataViews());
            for (int p = 0; p < PARTITIONS; p++) {
                ReplicaInvariants.awaitConverged(c, TOPIC, p, acked.get(p));
            }
            c.wipe(victim);
            if (ports == Ports.NEW) {
                int grpc = c.config(victim).grpcPort() + 1000;
                c.reconfigure(victim, cfg -> cfg.with(ReplicationNodeConfig.GRPC_PORT, Integer.toString(grpc)));
            }
            c.restart(victim);
            long restartedNanos = System.nanoTime();
            LOG.info(
                    "wiped broker {} (controller {}, {}, snapshots {}, {} ports) restarted with an empty data directory",
                    victim,
                    role,
                    stop,
                    snapshots,
                    ports);

            // Writes go on while it recovers; each partition's target is past its last acknowledged batch.
            Map<Integer, Long> target = new TreeMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                target.put(p, appendSome(c, TOPIC, p, "after-" + p + "-").lastOffset() + 1);
            }

            waitFor(
                    () -> recovered(c, victim, target),
                    RECOVERY,
                    () -> "the wiped broker " + victim + " to have every replica of " + TOPIC
                            + " back and caught up with " + target + ": " + state(c, victim));
            LOG.info(
                    "wiped broker {} (controller {}, {}, snapshots {}, {} ports) had every replica back and caught up {} ms"
                            + " after its restart",
                    victim,
                    role,
                    stop,
                    snapshots,
                    ports,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedNanos));

            c.awaitAllRegistered();
            if (ports == Ports.NEW) {
                int grpc = c.config(victim).grpcPort();
                waitFor(
                        () -> c.metadataViews().values().stream().allMatch(m -> m.broker(victim)
                                .map(b -> b.grpcPort() == grpc)
                                .orElse(false)),
                        c.timeout(),
                        () -> "the new registration of broker " + victim + " everywhere: " + c.metadataViews());
            }
            for (int p = 0; p < PARTITIONS; p++) {
                ReplicaInvariants.awaitConverged(c, TOPIC, p, target.get(p));
                ReplicaInvariants.assertByteIdentical(c, TOPIC, p);
            }

            // The controller group is healthy: a new topic is placed on the wiped broker and opened there.
            TopicInfo later = c.createTopic("later", 3, 3);
            for (PartitionAssignment p : later.partitions()) {
                assertTrue(p.hasReplica(victim), "later-" + p.partition() + " placed on the wiped broker");
                c.partitionOn(victim, "later", p.partition());
                appendSome(c, "later", p.partition(), "later-");
            }
            waitFor(
                    () -> c.metadataViews().values().stream().distinct().count() == 1,
                    c.timeout(),
                    () -> "every broker with the same metadata: " + c.metadataViews());

            // And it survives the loss of another voter: the two left (one of them the wiped one) must elect a
            // controller and commit, which needs the wiped voter's log to be complete and its vote to count.
            int current = c.awaitController();
            int other = current != victim ? current : victim % 3 + 1;
            assertNotEquals(victim, other);
            c.kill(other);
            waitFor(
                    () -> c.runningIds().stream()
                            .anyMatch(b -> c.node(b).isController()
                                    && !c.node(b).metadata().current().isAlive(other)),
                    c.timeout(),
                    () -> "a controller among " + c.runningIds() + " that marked broker " + other + " dead: "
                            + c.metadataViews());
            TopicInfo survivor = c.createTopic("survivor", 2, 2);
            for (PartitionAssignment p : survivor.partitions()) {
                assertTrue(p.hasReplica(victim), "survivor-" + p.partition() + " placed on the wiped broker");
                appendSome(c, "survivor", p.partition(), "survivor-");
            }
        }
    }

    /** Whether every partition of {@link #TOPIC} lists {@code victim}, is open there and reached its target. */
    private static boolean recovered(MiniCluster c, int victim, Map<Integer, Long> target) {
        if (!c.isRunning(victim)) {
            return false;
        }
        ReplicationNode n = c.node(victim);
        for (Map.Entry<Integer, Long> e : target.entrySet()) {
            Optional<List<Integer>> replicas = c.replicasIfKnown(TOPIC, e.getKey());
            if (replicas.isEmpty() || !replicas.get().contains(victim)) {
                return false;
            }
            Optional<ReplicatedPartition> local = n.partition(TOPIC, e.getKey());
            if (local.isEmpty() || !local.get().isOpen() || local.get().highWatermark() < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** What the wiped broker and the controller see, for a failure message. */
    private static String state(MiniCluster c, int victim) {
        StringBuilder sb = new StringBuilder();
        for (int b : c.runningIds()) {
            ReplicationNode n = c.node(b);
            ClusterMetadata m = n.metadata().current();
            sb.append("\n broker ")
                    .append(b)
                    .append(n.isController() ? " (controller leader)" : "")
                    .append(": view version ")
                    .append(m.version())
                    .append(", brokers ")
                    .append(m.brokers().keySet())
                    .append(", live ")
                    .append(m.liveBrokers())
                    .append(", topics ")
                    .append(m.topics().keySet())
                    .append(", controller ")
                    .append(n.metadata().controllerId())
                    .append(", open replicas ")
                    .append(n.raftHost().partitions().size());
        }
        for (int p = 0; p < PARTITIONS; p++) {
            sb.append("\n ")
                    .append(TOPIC)
                    .append('-')
                    .append(p)
                    .append(':')
                    .append(ReplicaInvariants.describe(c, TOPIC, p));
        }
        return sb.toString();
    }

    /**
     * Appends {@link #BATCHES} one-record batches to the partition through its current leader, retrying while the
     * leadership moves; returns the last acknowledgement.
     */
    private static AppendResult appendSome(MiniCluster c, String topic, int partition, String prefix) {
        AppendResult last = null;
        for (int i = 0; i < BATCHES; i++) {
            String value = prefix + i;
            AppendResult[] result = new AppendResult[1];
            waitFor(
                    () -> {
                        try {
                            int leader = c.awaitLeader(topic, partition);
                            ReplicatedPartition p =
                                    c.node(leader).partition(topic, partition).orElseThrow();
                            result[0] = p.append(PartitionData.batch(value), AckMode.QUORUM)
                                    .get(10, TimeUnit.SECONDS);
                            return true;
                        } catch (Exception | AssertionError e) {
                            // Leadership moved or the leader stopped: ask again (a retry may duplicate the value,
                            // which this test does not check).
                            return false;
                        }
                    },
                    c.timeout(),
                    () -> "batch " + value + " acknowledged by " + topic + "-" + partition);
            last = result[0];
        }
        return last;
    }
}
