package io.sluice.replication.it;

import static io.sluice.replication.testkit.MiniCluster.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.replication.AckMode;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.ControllerUnavailableException;
import io.sluice.replication.metadata.InvalidTopicException;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.MetadataError;
import io.sluice.replication.metadata.MetadataException;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicExistsException;
import io.sluice.replication.metadata.TopicInfo;
import io.sluice.replication.metadata.UnknownTopicException;
import io.sluice.replication.node.ReplicationNodeConfig;
import io.sluice.replication.testkit.MiniCluster;
import io.sluice.replication.testkit.PartitionData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metadata controller on real brokers: topic lifecycle across brokers (data removed on delete), typed errors,
 * broker liveness, controller failover, assignment evenness, preferred-leader rebalance, recovery of the metadata
 * from snapshot + log after a restart of every broker, and cleanup of replicas of topics deleted while a broker was
 * down.
 */
class ControllerIT {

    @TempDir
    Path dir;

    private static Path partitionDir(MiniCluster c, int broker, String topic, int partition) {
        return c.dataDir(broker).resolve(topic + "-" + partition);
    }

    @Test
    void topicLifecycleAcrossBrokersWithTypedErrors() throws Exception {
        try (MiniCluster c = MiniCluster.builder(dir).brokers(4).voters(3).start()) {
            // Broker 4 is a learner of the controller group: its requests are forwarded to the leader.
            MetadataClient learner = c.node(4).metadata();
            TopicInfo t = c.get(learner.createTopic("orders", 6, 3, Map.of("retention.ms", "60000")));
            assertEquals(6, t.partitionCount());
            assertEquals(3, t.replicationFactor());
            assertEquals(Map.of("retention.ms", "60000"), t.configs());
            c.awaitTopicReady(t);
            // After createTopic completes, the calling broker's view already has the topic.
            assertTrue(learner.current().topic("orders").isPresent());
            // Waited on equality itself: a liveness change committed between two checks would move the version on.
            waitFor(
                    () -> c.metadataViews().values().stream().distinct().count() == 1,
                    c.timeout(),
                    "every broker with the same metadata");

            for (PartitionAssignment p : t.partitions()) {
                for (int b : c.brokerIds()) {
                    assertEquals(
                            p.hasReplica(b),
                            c.node(b).partition("orders", p.partition()).isPresent(),
                            "replica of orders-" + p.partition() + " on broker " + b);
                    assertEquals(p.hasReplica(b), Files.isDirectory(partitionDir(c, b, "orders", p.partition())));
                }
            }
            int leader = c.awaitLeader("orders", 0);
            c.get(c.node(leader).partition("orders", 0).orElseThrow().append(PartitionData.batch("x"), AckMode.QUORUM));

            // Typed errors, from a voter and from the learner.
            assertError(
                    TopicExistsException.class,
                    MetadataError.TOPIC_EXISTS,
                    learner.createTopic("orders", 1, 1, Map.of()));
            assertError(
                    InvalidTopicException.class,
                    MetadataError.INVALID_REPLICATION_FACTOR,
                    c.node(2).metadata().createTopic("big", 1, 5, Map.of()));
            assertError(
                    InvalidTopicException.class,
                    MetadataError.INVALID_TOPIC,
                    learner.createTopic("a/b", 1, 1, Map.of()));
            assertError(
                    InvalidTopicException.class,
                    MetadataError.INVALID_PARTITIONS,
                    learner.createTopic("p0", 0, 1, Map.of()));
            assertError(
                    InvalidTopicException.class,
                    MetadataError.INVALID_CONFIG,
                    learner.createTopic("cfg", 1, 1, Map.of("segment.bytes", "1")));
            assertError(UnknownTopicException.class, MetadataError.UNKNOWN_TOPIC, learner.deleteTopic("nope"));

            // Delete: every replica closed, every directory gone.
            c.get(learner.deleteTopic("orders"));
            waitFor(
                    () -> c.brokerIds().stream().allMatch(b -> {
                        for (int p = 0; p < 6; p++) {
                            if (Files.exists(partitionDir(c, b, "orders", p))) {
                                return false;
                            }
                        }
                        return c.node(b).metadata().current().topic("orders").isEmpty();
                    }),
                    c.timeout(),
                    "orders deleted on every broker with its data");

            // Same name again: a new incarnation with an empty log.
            TopicInfo again = c.createTopic("orders", 2, 2);
            assertTrue(again.topicId() > t.topicId());
            int l = c.awaitLeader("orders", 0);
            ReplicatedPartition p0 = c.partitionOn(l, "orders", 0);
            assertEquals(List.of(), PartitionData.committedRecords(p0));
        }
    }

    private static void assertError(
            Class<? extends MetadataException> type, MetadataError error, java.util.concurrent.CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        MetadataException m = assertInstanceOf(type, e.getCause());
        assertEquals(error, m.error());
    }

    @Test
    void livenessFailoverAndEvenAssignment() throws Exception {
        try (MiniCluster c = MiniCluster.builder(dir).brokers(4).voters(3).start()) {
            // Even spread: replicas and preferred leaders per live broker differ by at most one.
            c.createTopic("a", 6, 2);
            c.createTopic("b", 5, 3);
            c.createTopic("c", 3, 1);
            assertEven(c.metadata().current(), List.of(1, 2, 3, 4));

            // A killed broker is marked dead by the controller, and new topics avoid it.
            c.kill(4);
            waitFor(
                    () -> c.runningIds().stream()
                            .allMatch(b -> !c.node(b).metadata().current().isAlive(4)),
                    c.timeout(),
                    "broker 4 marked dead everywhere");
            TopicInfo d = c.createTopic("d", 6, 3);
            d.partitions().forEach(p -> assertFalse(p.hasReplica(4), p.toString()));
            // Placement balances the live brokers' totals over all topics.
            assertEven(c.metadata().current(), List.of(1, 2, 3));

            c.restart(4);
            waitFor(
                    () -> c.runningIds().stream()
                            .allMatch(b -> c.node(b).metadata().current().isAlive(4)),
                    c.timeout(),
                    "broker 4 alive again everywhere");

            // Kill the controller leader: another voter takes over and serves requests from everyone.
            int controller = c.awaitController();
            c.kill(controller);
            int next = c.awaitController();
            assertNotEquals(controller, next);
            // The new controller gives every broker a full session before marking it dead (placement may use a
            // broker that just died until then, as in any session-based liveness).
            waitFor(
                    () -> !c.node(next).metadata().current().isAlive(controller),
                    c.timeout(),
                    "the old controller marked dead");
            TopicInfo e = c.get(c.node(4).metadata().createTopic("e", 2, 2, Map.of()));
            e.partitions().forEach(p -> assertFalse(p.hasReplica(controller), p.toString()));
            c.awaitTopicReady(e);
            c.restart(controller);
            waitFor(
                    () -> c.runningIds().stream()
                            .allMatch(b -> c.node(b).metadata().current().isAlive(controller)),
                    c.timeout(),
                    "old controller alive again");
        }
    }

    private static void assertEven(ClusterMetadata m, List<Integer> brokers) {
        Map<Integer, Integer> replicas = new HashMap<>();
        Map<Integer, Integer> leaders = new HashMap<>();
        for (TopicInfo t : m.topics().values()) {
            for (PartitionAssignment p : t.partitions()) {
                leaders.merge(p.preferredLeader(), 1, Integer::sum);
                p.replicas().forEach(r -> replicas.merge(r, 1, Integer::sum));
            }
        }
        for (Map<Integer, Integer> counts : List.of(replicas, leaders)) {
            int min = brokers.stream()
                    .mapToInt(b -> counts.getOrDefault(b, 0))
                    .min()
                    .orElseThrow();
            int max = brokers.stream()
                    .mapToInt(b -> counts.getOrDefault(b, 0))
                    .max()
                    .orElseThrow();
            assertTrue(max - min <= 1, "uneven " + counts + " in " + m.topics());
        }
    }

    @Test
    void preferredLeaderRebalanceAfterBrokerComesBack() throws Exception {
        try (MiniCluster c = MiniCluster.builder(dir)
                .brokers(3)
                .voters(3)
                .leaderRebalanceIntervalMs(300)
                .start()) {
            TopicInfo t = c.createTopic("r", 6, 3);
            waitFor(() -> ledByPreferred(c, t), c.timeout(), "every partition led by its preferred replica");

            c.kill(2);
            List<Integer> movedAway = t.partitions().stream()
                    .filter(p -> p.preferredLeader() == 2)
                    .map(PartitionAssignment::partition)
                    .toList();
            assertFalse(movedAway.isEmpty());
            for (int p : movedAway) {
                assertNotEquals(2, c.awaitLeader("r", p));
            }
            c.restart(2);
            waitFor(
                    () -> ledByPreferred(c, t),
                    c.timeout(),
                    "leadership back on the preferred replicas " + leadersOf(c, t));
        }
    }

    private static boolean ledByPreferred(MiniCluster c, TopicInfo t) {
        for (PartitionAssignment p : t.partitions()) {
            if (c.currentLeader(t.name(), p.partition()).orElse(-1) != p.preferredLeader()) {
                return false;
            }
        }
        return true;
    }

    private static String leadersOf(MiniCluster c, TopicInfo t) {
        return t.partitions().stream()
                .map(p -> p.partition() + ":" + c.currentLeader(t.name(), p.partition()))
                .collect(Collectors.joining(", "));
    }

    @Test
    void metadataSurvivesRestartOfEveryBrokerAndStaleReplicasAreDeleted() throws Exception {
        MiniCluster.Builder builder = MiniCluster.builder(dir)
                .brokers(4)
                .voters(3)
                .configure(cfg -> cfg.with(ReplicationNodeConfig.CONTROLLER_SNAPSHOT_INTERVAL_MS, "3600000"));
        ClusterMetadata before;
        long oldId;
        try (MiniCluster c = builder.start()) {
            c.createTopic("kept", 3, 3);
            for (int b : c.runningIds()) {
                c.node(b).snapshotMetadata();
            }
            // Entries after the snapshot are recovered from the log.
            // Replicas on every broker, so broker 4 surely holds data of the old incarnation.
            oldId = c.createTopic("doomed", 4, 4).topicId();
            waitFor(
                    () -> c.metadataViews().values().stream()
                                    .map(ClusterMetadata::version)
                                    .distinct()
                                    .count()
                            == 1,
                    c.timeout(),
                    "every broker at the same metadata version");
            before = c.node(1).metadata().current();
            // Abrupt stop of everyone.
            for (int b : List.of(4, 3, 2, 1)) {
                c.kill(b);
            }
            for (int b : List.of(1, 2, 3)) {
                c.restart(b);
            }
            waitFor(
                    () -> c.node(1).metadata().current().topics().equals(before.topics()),
                    c.timeout(),
                    "topics recovered after restart");

            // While broker 4 is down, "doomed" is deleted and created again (without a replica on broker 4, which is
            // dead): when broker 4 comes back, all four of its old replicas are stale and must go.
            assertTrue(Files.isDirectory(partitionDir(c, 4, "doomed", 0)));
            waitFor(() -> !c.metadata().current().isAlive(4), c.timeout(), "broker 4 marked dead");
            c.deleteTopic("doomed");
            TopicInfo reborn = c.createTopic("doomed", 1, 3);
            assertTrue(reborn.topicId() > oldId);
            assertFalse(reborn.partition(0).hasReplica(4));
            c.restart(4);
            c.awaitAllRegistered();
            waitFor(
                    () -> {
                        for (int p = 0; p < 4; p++) {
                            if (Files.exists(partitionDir(c, 4, "doomed", p))) {
                                return false;
                            }
                        }
                        return c.node(4).partition("doomed", 0).isEmpty()
                                && c.node(4)
                                                .metadata()
                                                .current()
                                                .topic("doomed")
                                                .map(t -> t.topicId())
                                                .orElse(-1L)
                                        == reborn.topicId();
                    },
                    c.timeout(),
                    "broker 4 dropped the replicas of the old incarnation");
            assertEquals(
                    before.topics().get("kept"),
                    c.node(4).metadata().current().topics().get("kept"));
            c.awaitTopicReady(before.topics().get("kept"));
        }
    }

    @Test
    void requestsFailWithControllerUnavailableWithoutAQuorum() throws Exception {
        try (MiniCluster c = MiniCluster.builder(dir)
                .brokers(3)
                .voters(3)
                .timeout(Duration.ofSeconds(20))
                .configure(cfg -> cfg.with(ReplicationNodeConfig.REQUEST_TIMEOUT_MS, "2000"))
                .start()) {
            c.isolate(1);
            c.isolate(2);
            assertError(
                    ControllerUnavailableException.class,
                    MetadataError.CONTROLLER_UNAVAILABLE,
                    c.node(3).metadata().createTopic("x", 1, 1, Map.of()));
            c.heal();
            c.awaitController();
            // (The refused "x" may still commit later: a proposal without a quorum is ambiguous, as in any Raft.)
            TopicInfo y = c.get(c.node(3).metadata().createTopic("y", 1, 1, Map.of()));
            c.awaitTopicReady(y);
        }
    }
}
