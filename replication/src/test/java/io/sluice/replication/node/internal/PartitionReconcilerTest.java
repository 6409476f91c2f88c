package io.sluice.replication.node.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.logstore.LogConfig;
import io.sluice.replication.PartitionSpec;
import io.sluice.replication.RaftGroupOptions;
import io.sluice.replication.RaftHost;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.TopicPartition;
import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.MetadataListener;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import io.sluice.replication.testkit.MiniCluster;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reconciler against a fake Raft host and metadata source: opens, deletes, recreations, stale views. */
class PartitionReconcilerTest {

    @TempDir
    Path dir;

    private final List<String> events = new CopyOnWriteArrayList<>();
    private final Map<TopicPartition, ReplicatedPartition> open = new ConcurrentHashMap<>();

    private RaftHost fakeHost() {
        return (RaftHost) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {RaftHost.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "openPartition" -> {
                        PartitionSpec spec = (PartitionSpec) args[0];
                        events.add("open " + spec.partition());
                        ReplicatedPartition p = fakePartition(spec.partition());
                        open.put(spec.partition(), p);
                        yield p;
                    }
                    case "partition" -> Optional.ofNullable(open.get((TopicPartition) args[0]));
                    case "partitions" -> List.copyOf(open.values());
                    case "deletePartition" -> {
                        events.add("delete " + args[0]);
                        open.remove((TopicPartition) args[0]);
                        yield null;
                    }
                    case "toString" -> "fake host";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    private static ReplicatedPartition fakePartition(TopicPartition tp) {
        return (ReplicatedPartition) Proxy.newProxyInstance(
                ReplicatedPartition.class.getClassLoader(),
                new Class<?>[] {ReplicatedPartition.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "topicPartition" -> tp;
                    case "isLeader" -> false;
                    case "isOpen" -> true;
                    case "toString" -> "fake " + tp;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    /** A metadata source whose view the test sets. */
    private static final class FakeMetadata implements MetadataClient {
        private volatile ClusterMetadata view = ClusterMetadata.EMPTY;
        private final List<MetadataListener> listeners = new CopyOnWriteArrayList<>();

        void set(ClusterMetadata v) {
            view = v;
            listeners.forEach(l -> l.onChange(v));
        }

        @Override
        public CompletableFuture<TopicInfo> createTopic(String n, int p, int rf, Map<String, String> c) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Void> deleteTopic(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ClusterMetadata current() {
            return view;
        }

        @Override
        public OptionalInt controllerId() {
            return OptionalInt.empty();
        }

        @Override
        public CompletableFuture<ClusterMetadata> awaitVersion(long version) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void addListener(MetadataListener l) {
            listeners.add(l);
            l.onChange(view);
        }

        @Override
        public void removeListener(MetadataListener l) {
            listeners.remove(l);
        }
    }

    private static ClusterMetadata view(long version, TopicInfo... topics) {
        Map<Integer, BrokerInfo> brokers = Map.of(
                1, new BrokerInfo(1, "127.0.0.1", 0, 7001, 0, Optional.empty()),
                2, new BrokerInfo(2, "127.0.0.1", 0, 7002, 0, Optional.empty()));
        Map<String, TopicInfo> t = new java.util.HashMap<>();
        for (TopicInfo info : topics) {
            t.put(info.name(), info);
        }
        return new ClusterMetadata(version, brokers, Set.of(1, 2), t);
    }

    private static TopicInfo topic(String name, long id, List<Integer>... replicas) {
        List<PartitionAssignment> parts = new ArrayList<>();
        for (int i = 0; i < replicas.length; i++) {
            parts.add(new PartitionAssignment(i, replicas[i]));
        }
        return new TopicInfo(name, id, Map.of(), parts);
    }

    private PartitionReconciler reconciler(FakeMetadata metadata, RaftHost host) {
        return new PartitionReconciler(
                1, host, metadata, LogConfig.defaults(), new RaftGroupOptions(1000, 0), dir, 50, 0);
    }

    private void awaitEvents(String... expected) {
        MiniCluster.waitFor(
                () -> events.equals(List.of(expected)),
                Duration.ofSeconds(10),
                "events " + List.of(expected) + ", have " + events);
    }

    @Test
    void opensDeletesAndReplacesIncarnations() {
        FakeMetadata metadata = new FakeMetadata();
        RaftHost host = fakeHost();
        try (PartitionReconciler r = reconciler(metadata, host)) {
            r.start();
            metadata.set(view(5, topic("t", 5, List.of(1, 2))));
            awaitEvents("open t-0");
            // Deleted and created again under the same name, seen in one step: old data goes before the new opens.
            metadata.set(view(9, topic("t", 9, List.of(2, 1), List.of(1, 2))));
            MiniCluster.waitFor(() -> events.size() == 4, Duration.ofSeconds(10), "delete + 2 opens: " + events);
            assertEquals(List.of("open t-0", "delete t-0"), events.subList(0, 2));
            assertEquals(Set.of("open t-0", "open t-1"), Set.copyOf(events.subList(2, 4)));
            metadata.set(view(12));
            MiniCluster.waitFor(() -> events.size() == 6, Duration.ofSeconds(10), "two deletes: " + events);
            assertEquals(Set.of("delete t-0", "delete t-1"), Set.copyOf(events.subList(4, 6)));
        }
    }

    @Test
    void aStaleViewAfterRestartDeletesNothingItHasNotSeenCreated() {
        FakeMetadata metadata = new FakeMetadata();
        try (PartitionReconciler r = reconciler(metadata, fakeHost())) {
            r.start();
            metadata.set(view(20, topic("late", 20, List.of(1))));
            awaitEvents("open late-0");
        }
        // Restart: the local metadata replays from an older point (version 10) where "late" does not exist yet.
        events.clear();
        open.clear();
        FakeMetadata restarted = new FakeMetadata();
        restarted.set(view(10));
        try (PartitionReconciler r = reconciler(restarted, fakeHost())) {
            r.start();
            long passes = r.passes();
            MiniCluster.waitFor(() -> r.passes() > passes + 1, Duration.ofSeconds(10), "passes over the stale view");
            assertEquals(List.of(), events, "nothing done on a view that has not seen the topic created");
            // Then the view catches up and the replica is reopened, never deleted.
            restarted.set(view(25, topic("late", 20, List.of(1))));
            awaitEvents("open late-0");
            // Once the view has seen its creation and its deletion, the data goes.
            restarted.set(view(30));
            awaitEvents("open late-0", "delete late-0");
        }
        assertEquals(List.of("open late-0", "delete late-0"), Collections.unmodifiableList(events));
    }
}
