package io.sluice.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.broker.internal.TestUtil;
import io.sluice.broker.internal.offsets.NotCoordinatorException;
import io.sluice.broker.internal.offsets.OffsetStore;
import io.sluice.broker.internal.offsets.OffsetStore.OffsetCommitEntry;
import io.sluice.broker.internal.offsets.OffsetStore.StoredOffset;
import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import io.sluice.broker.internal.offsets.OffsetsDb;
import io.sluice.broker.internal.offsets.ReplicatedOffsetStore;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.metadata.TopicInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Committed offsets on three real brokers in one JVM: {@code __offsets} is created at the first lookup, commits are
 * read back on the coordinator, the coordinator's crash hands the same offsets to the new leader of the group's
 * partition, every replica's RocksDB holds the same contents, a replica whose data directory is wiped converges through
 * a snapshot plus log replay, and deleting a group removes its offsets on every replica.
 */
class OffsetsIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String TOPIC = ReplicatedOffsetStore.TOPIC;

    @TempDir
    Path dir;

    private final Map<Integer, SluiceBroker> brokers = new ConcurrentHashMap<>();
    private final Map<Integer, BrokerConfig> configs = new HashMap<>();
    /** Coordinator events per broker: "+p" elected, "-p" resigned. */
    private final Map<Integer, List<String>> events = new ConcurrentHashMap<>();

    @AfterEach
    void tearDown() {
        brokers.values().forEach(SluiceBroker::close);
    }

    private void startCluster() throws Exception {
        configs.putAll(InJvmClusterConfigs.resolve(3, dir, Map.of(BrokerConfig.OFFSETS_TOPIC_PARTITIONS, "4")));
        for (int id = 1; id <= 3; id++) {
            start(id);
        }
        for (int id = 1; id <= 3; id++) {
            int port = brokers.get(id).grpcPort();
            TestUtil.waitFor(
                    () -> SluiceBroker.checkReady("127.0.0.1:" + port, Duration.ofSeconds(1)), WAIT, "broker ready");
        }
    }

    private void start(int id) throws IOException {
        SluiceBroker b = SluiceBroker.start(configs.get(id));
        List<String> log = events.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
        b.offsetStore().addCoordinatorListener(new OffsetStore.CoordinatorListener() {
            @Override
            public void onElected(int p) {
                log.add("+" + p);
            }

            @Override
            public void onResigned(int p) {
                log.add("-" + p);
            }
        });
        brokers.put(id, b);
    }

    private OffsetStore store(int id) {
        return brokers.get(id).offsetStore();
    }

    private OffsetsDb db(int id) {
        return ((ReplicatedOffsetStore) brokers.get(id).offsetStore()).db();
    }

    /** Triggers the creation of __offsets (first lookup) and waits for the group's coordinator; returns its id. */
    private int awaitCoordinator(String group) {
        int[] found = {-1};
        TestUtil.waitFor(
                () -> {
                    brokers.values().forEach(b -> b.offsetStore().coordinatorOf(group));
                    for (Map.Entry<Integer, SluiceBroker> e : brokers.entrySet()) {
                        if (e.getValue().offsetStore().isCoordinatorFor(group)) {
                            found[0] = e.getKey();
                            return true;
                        }
                    }
                    return false;
                },
                WAIT,
                "a coordinator for group " + group);
        return found[0];
    }

    private List<Integer> replicasOf(int partition) {
        for (SluiceBroker b : brokers.values()) {
            Optional<TopicInfo> t = b.node().metadata().current().topic(TOPIC);
            if (t.isPresent()) {
                return t.get().partition(partition).replicas();
            }
        }
        throw new AssertionError("no running broker knows " + TOPIC);
    }

    /** Waits until every running replica of the partition holds the same RocksDB contents as {@code reference}. */
    private Map<String, String> awaitSameState(int partition, int reference) {
        Map<String, String>[] last = new Map[1];
        TestUtil.waitFor(
                () -> {
                    Map<String, String> ref = db(reference).partition(partition).dump();
                    last[0] = ref;
                    for (int b : replicasOf(partition)) {
                        if (!brokers.containsKey(b)) {
                            continue;
                        }
                        Optional<OffsetsDb.Partition> p = db(b).existing(partition);
                        if (p.isEmpty() || !p.get().dump().equals(ref)) {
                            return false;
                        }
                    }
                    return true;
                },
                WAIT,
                "every replica of " + TOPIC + "-" + partition + " holds the same offsets as broker " + reference);
        return last[0];
    }

    /** What each running broker knows of {@code __offsets-partition}: for a failure message. */
    private String describe(int partition) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<Integer, SluiceBroker> e : new java.util.TreeMap<>(brokers).entrySet()) {
            out.append("broker ").append(e.getKey()).append(": ");
            try {
                Optional<ReplicatedPartition> rp = e.getValue().node().partition(TOPIC, partition);
                if (rp.isEmpty()) {
                    out.append("no replica");
                } else {
                    ReplicatedPartition r = rp.get();
                    out.append("leader=")
                            .append(r.isLeader())
                            .append(" knownLeader=")
                            .append(r.leader())
                            .append(" term=")
                            .append(r.term())
                            .append(" replicas=")
                            .append(r.replicas())
                            .append(" log=[")
                            .append(r.logStartOffset())
                            .append(", ")
                            .append(r.logEndOffset())
                            .append(") hw=")
                            .append(r.highWatermark());
                }
                Optional<OffsetsDb.Partition> p = db(e.getKey()).existing(partition);
                out.append(p.map(x -> " applied=" + x.appliedOffset() + " imports=" + x.imports())
                        .orElse(" no state"));
                // What this broker's metadata tells its reconciler (a replica missing for long starts here).
                var view = e.getValue().node().metadata().current();
                out.append(" metadata: version=")
                        .append(view.version())
                        .append(" isController=")
                        .append(e.getValue().node().isController())
                        .append(" brokers=")
                        .append(view.brokers().keySet())
                        .append(" alive=")
                        .append(view.liveBrokers())
                        .append(" replicasHere=")
                        .append(view.replicasOn(e.getKey()).stream()
                                .map(r -> r.topic().name() + "-" + r.partition())
                                .sorted()
                                .toList());
            } catch (RuntimeException ex) {
                out.append(ex);
            }
            out.append("; ");
        }
        return out.toString();
    }

    private static List<OffsetCommitEntry> commits(String topic, int partitions, long base) {
        List<OffsetCommitEntry> out = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            out.add(new OffsetCommitEntry(topic, p, base + p * 10, "meta-" + base + "-" + p));
        }
        return out;
    }

    private static <T> T join(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void offsetsSurviveTheCoordinatorsCrash() throws Exception {
        startCluster();
        String group = "orders-app";
        int coordinator = awaitCoordinator(group);
        OffsetStore c = store(coordinator);
        int partition = c.partitionFor(group);
        assertEquals(3, replicasOf(partition).size(), "RF 3 on three live brokers");
        for (long round = 0; round < 5; round++) {
            join(c.commit(group, commits("orders", 6, round * 100)));
        }
        join(c.commit(group, List.of(new OffsetCommitEntry("payments", 0, 7, ""))));
        // Read-your-writes on the coordinator: the last commit is applied when its future completes.
        Map<TopicPartitionKey, StoredOffset> committed = c.fetch(group, List.of());
        assertEquals(7, committed.size());
        StoredOffset o3 = committed.get(new TopicPartitionKey("orders", 3));
        assertEquals(430, o3.offset());
        assertEquals("meta-400-3", o3.metadata());
        assertTrue(o3.leaderTerm() > 0 && o3.commitTimeMs() > 0, o3.toString());
        assertTrue(c.groups().contains(group));
        TestUtil.waitFor(() -> events.get(coordinator).contains("+" + partition), WAIT, "onElected on the coordinator");
        Map<String, String> state = awaitSameState(partition, coordinator);

        // A broker that is not the coordinator refuses commits, naming the coordinator.
        int other = brokers.keySet().stream()
                .filter(b -> b != coordinator)
                .findFirst()
                .orElseThrow();
        assertFalse(store(other).isCoordinatorFor(group));
        Throwable refused = assertThrowsCompletion(store(other).commit(group, commits("orders", 1, 1)));
        NotCoordinatorException nc = assertInstanceOf(NotCoordinatorException.class, refused);
        assertEquals(Optional.of(coordinator), nc.coordinator());

        brokers.remove(coordinator).halt();
        int next = awaitCoordinator(group);
        assertNotEquals(coordinator, next);
        TestUtil.waitFor(() -> events.get(next).contains("+" + partition), WAIT, "onElected on the new coordinator");
        assertEquals(committed, store(next).fetch(group, List.of()), "the new coordinator has the same offsets");
        assertEquals(
                Map.of(new TopicPartitionKey("orders", 3), o3),
                store(next).fetch(group, List.of(new TopicPartitionKey("orders", 3))));

        // It goes on committing, in a higher term.
        join(store(next).commit(group, commits("orders", 1, 1000)));
        StoredOffset after = store(next)
                .fetch(group, List.of(new TopicPartitionKey("orders", 0)))
                .get(new TopicPartitionKey("orders", 0));
        assertEquals(1000, after.offset());
        assertTrue(after.leaderTerm() > o3.leaderTerm(), after + " vs " + o3);

        // The crashed broker comes back and catches up.
        start(coordinator);
        Map<String, String> now = awaitSameState(partition, next);
        assertNotEquals(state, now);
    }

    @Test
    void wipedReplicaConvergesAndDeletedGroupsVanishEverywhere() throws Exception {
        startCluster();
        int coordinator = awaitCoordinator("g0");
        int partition = store(coordinator).partitionFor("g0");
        // Groups of the same __offsets partition.
        List<String> groups = new ArrayList<>();
        for (int i = 0; groups.size() < 5; i++) {
            if (store(coordinator).partitionFor("g" + i) == partition) {
                groups.add("g" + i);
            }
        }
        int follower = replicasOf(partition).stream()
                .filter(b -> b != coordinator)
                .findFirst()
                .orElseThrow();
        // Two rounds of commits, each followed by a snapshot on every replica: JRaft then no longer serves the first
        // entries from its log, so a replica starting from nothing must install the snapshot.
        for (int round = 0; round < 2; round++) {
            for (String g : groups) {
                for (int k = 0; k < 5; k++) {
                    join(store(coordinator).commit(g, commits("t" + k, 3, round * 1000 + k)));
                }
            }
            awaitSameState(partition, coordinator);
            for (int b : replicasOf(partition)) {
                ReplicatedPartition rp =
                        brokers.get(b).node().partition(TOPIC, partition).orElseThrow();
                join(rp.snapshot());
            }
        }
        // A few more after the snapshot: replayed from the log.
        for (String g : groups) {
            join(store(coordinator).commit(g, List.of(new OffsetCommitEntry("late", 0, 5, "after snapshot"))));
        }
        Map<String, String> reference = awaitSameState(partition, coordinator);

        // The follower's replica is rebuilt from scratch: its log, Raft metadata and snapshots, and the broker's
        // offsets RocksDB, are deleted while it is down (the rest of the broker, e.g. its controller state, stays).
        brokers.remove(follower).close();
        Path dataDir = configs.get(follower).dataDir();
        deleteRecursively(dataDir.resolve("raft").resolve(TOPIC + "-" + partition));
        deleteRecursively(dataDir.resolve(OffsetsDb.DIR_NAME));
        start(follower);
        TestUtil.waitFor(
                () -> db(follower).existing(partition).map(p -> p.imports() > 0).orElse(false),
                WAIT.multipliedBy(2),
                "the wiped replica (broker " + follower + ") installed a snapshot",
                () -> describe(partition));
        assertEquals(reference, awaitSameState(partition, coordinator), "snapshot + replay = the same contents");

        // deleteGroup: tombstones through Raft, applied on every replica.
        String gone = groups.get(0);
        join(store(coordinator).deleteGroup(gone));
        assertEquals(Map.of(), store(coordinator).fetch(gone, List.of()));
        assertFalse(store(coordinator).groups().contains(gone));
        assertTrue(store(coordinator).groups().containsAll(groups.subList(1, groups.size())));
        awaitSameState(partition, coordinator);
        for (int b : replicasOf(partition)) {
            assertEquals(Map.of(), db(b).partition(partition).fetch(gone, List.of()), "broker " + b);
            assertEquals(
                    16,
                    db(b).partition(partition).fetch(groups.get(1), List.of()).size(),
                    "other groups stay");
        }
        // Deleting a group without offsets is a no-op; committing again recreates it.
        join(store(coordinator).deleteGroup(gone));
        join(store(coordinator).commit(gone, commits("again", 1, 1)));
        assertEquals(1, store(coordinator).fetch(gone, List.of()).size());
    }

    private static Throwable assertThrowsCompletion(java.util.concurrent.CompletableFuture<?> f) {
        try {
            f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | CompletionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a failure");
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
