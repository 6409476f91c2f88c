package io.sluice.broker.internal.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The metrics contract (docs/metrics.md, shared with the alert rules and the dashboard): exact exposed names, types and
 * label sets; per-partition series that follow the local replicas; per-topic series that follow the topics; group
 * series that follow the coordinator's samples; both text formats.
 */
class BrokerMetricsTest {
    final BrokerMetrics metrics = BrokerMetrics.create(7, "1.2.3");

    @AfterEach
    void close() {
        metrics.close();
    }

    /** Exposed family -> (Prometheus type, label names). Every sluice_* family of the contract. */
    static final Map<String, Family> CONTRACT = new TreeMap<>();

    record Family(String type, Set<String> labels) {}

    static void family(String name, String type, String... labels) {
        CONTRACT.put(name, new Family(type, new TreeSet<>(List.of(labels))));
    }

    static {
        family("sluice_broker_info", "gauge", "version", "broker_id");
        family("sluice_produce_records_total", "counter", "topic");
        family("sluice_produce_bytes_total", "counter", "topic");
        family("sluice_produce_request_duration_seconds", "histogram", "acks");
        family("sluice_produce_errors_total", "counter", "topic", "code");
        family("sluice_fetch_records_total", "counter", "topic");
        family("sluice_fetch_bytes_total", "counter", "topic");
        family("sluice_fetch_request_duration_seconds", "histogram");
        family("sluice_grpc_active_streams", "gauge", "method");
        family("sluice_partition_high_watermark", "gauge", "topic", "partition");
        family("sluice_partition_log_end_offset", "gauge", "topic", "partition");
        family("sluice_partition_log_start_offset", "gauge", "topic", "partition");
        family("sluice_partition_log_size_bytes", "gauge", "topic", "partition");
        family("sluice_partition_leader", "gauge", "topic", "partition");
        family("sluice_partition_under_replicated", "gauge", "topic", "partition");
        family("sluice_partition_raft_term", "gauge", "topic", "partition");
        family("sluice_under_replicated_partitions", "gauge");
        family("sluice_partitions_led", "gauge");
        family("sluice_partitions", "gauge");
        family("sluice_offline_partitions", "gauge");
        family("sluice_raft_leader_changes_total", "counter", "topic", "partition");
        family("sluice_raft_commit_latency_seconds", "histogram");
        family("sluice_log_append_latency_seconds", "histogram");
        family("sluice_log_fsync_latency_seconds", "histogram");
        family("sluice_cluster_brokers_alive", "gauge");
        family("sluice_group_members", "gauge", "group");
        family("sluice_group_lag", "gauge", "group", "topic", "partition");
    }

    /** Timers also publish a max gauge: allowed additions to the contract. */
    static final Set<String> EXTRAS = Set.of(
            "sluice_produce_request_duration_seconds_max",
            "sluice_fetch_request_duration_seconds_max",
            "sluice_raft_commit_latency_seconds_max",
            "sluice_log_append_latency_seconds_max",
            "sluice_log_fsync_latency_seconds_max");

    static ClusterMetadata cluster(Set<Integer> alive, String... topics) {
        Map<Integer, BrokerInfo> brokers = new TreeMap<>();
        for (int id = 1; id <= 3; id++) {
            brokers.put(id, new BrokerInfo(id, "127.0.0.1", 7070 + id, 7170 + id, 7270 + id, Optional.empty()));
        }
        Map<String, TopicInfo> t = new TreeMap<>();
        long topicId = 1;
        for (String name : topics) {
            t.put(
                    name,
                    new TopicInfo(
                            name,
                            topicId++,
                            Map.of(),
                            List.of(
                                    new PartitionAssignment(0, List.of(1, 2, 3)),
                                    new PartitionAssignment(1, List.of(2, 3, 1)))));
        }
        return new ClusterMetadata(10, brokers, alive, t);
    }

    PromText scrape() {
        BrokerMetrics.Scrape s = metrics.scrape("");
        assertEquals("text/plain; version=0.0.4; charset=utf-8", s.contentType());
        return PromText.parse(new String(s.body(), StandardCharsets.UTF_8));
    }

    static Map<String, String> labels(String... kv) {
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** Drives every recording point once. */
    private FakeReplica exerciseEverything(AtomicReference<ClusterMetadata> view) throws Exception {
        metrics.bindCluster(view::get);
        FakeReplica r = new FakeReplica("orders", 0, 3);
        metrics.replicationObserver().onReplicaOpened(r);
        r.hw = 42;
        r.logStart = 3;
        r.logEnd = 45;
        r.size = 4096;
        r.lead(5);
        RequestMetrics req = metrics.requests();
        req.produced("orders", 10, 1000, true, TimeUnit.MILLISECONDS.toNanos(3));
        req.produced("orders", 2, 200, false, TimeUnit.MILLISECONDS.toNanos(1));
        req.produceFailed("orders", ErrorCode.ERROR_CODE_NOT_LEADER);
        req.fetched("orders", 12, 1200, TimeUnit.MICROSECONDS.toNanos(500));
        metrics.replicationObserver().onCommitted(TimeUnit.MILLISECONDS.toNanos(2));
        metrics.replicationObserver().onAppend(3, TimeUnit.MICROSECONDS.toNanos(200));
        metrics.replicationObserver().onFsync(TimeUnit.MILLISECONDS.toNanos(4));
        metrics.bindGroups(() -> List.of(new GroupMetricsSample(
                "billing",
                2,
                List.of(new PartitionLagSample("orders", 0, 17), new PartitionLagSample("orders", 1, 0)))));
        FakeCall call = new FakeCall("sluice.v1.FetchService/Fetch", MethodDescriptor.MethodType.BIDI_STREAMING);
        metrics.activeStreams().interceptCall(call, new Metadata(), (c, h) -> new ServerCall.Listener<>() {});
        return r;
    }

    @Test
    void everyContractFamilyIsExposedWithExactlyItsTypeAndLabels() throws Exception {
        AtomicReference<ClusterMetadata> view = new AtomicReference<>(cluster(Set.of(1, 2, 3), "orders"));
        exerciseEverything(view);
        PromText t = scrape();

        Map<String, String> sluice = new TreeMap<>();
        t.types.forEach((name, type) -> {
            if (name.startsWith("sluice_")) {
                sluice.put(name, type);
            }
        });
        Set<String> expected = new TreeSet<>(CONTRACT.keySet());
        expected.addAll(EXTRAS);
        assertEquals(expected, sluice.keySet(), "exposed sluice_* families");
        for (Map.Entry<String, Family> e : CONTRACT.entrySet()) {
            String name = e.getKey();
            assertEquals(e.getValue().type(), t.types.get(name), "type of " + name);
            assertFalse(t.help.getOrDefault(name, "").isBlank(), name + " has help text");
            List<PromText.Sample> samples = t.samples.stream()
                    .filter(s -> t.family(s.name()).orElse("").equals(name))
                    .toList();
            assertFalse(samples.isEmpty(), name + " has samples");
            for (PromText.Sample s : samples) {
                Set<String> names = new TreeSet<>(s.labels().keySet());
                names.remove("le");
                assertEquals(e.getValue().labels(), names, "labels of " + s);
            }
        }
        // Counters count, histograms have buckets usable by histogram_quantile().
        assertEquals(10 + 2, t.value("sluice_produce_records_total", labels("topic", "orders")));
        assertEquals(1200, t.value("sluice_produce_bytes_total", labels("topic", "orders")));
        assertEquals(1, t.value("sluice_produce_errors_total", labels("topic", "orders", "code", "NOT_LEADER")));
        assertEquals(12, t.value("sluice_fetch_records_total", labels("topic", "orders")));
        assertEquals(1200, t.value("sluice_fetch_bytes_total", labels("topic", "orders")));
        assertEquals(1, t.value("sluice_produce_request_duration_seconds_count", labels("acks", "quorum")));
        assertEquals(1, t.value("sluice_produce_request_duration_seconds_count", labels("acks", "leader")));
        assertEquals(0.003, t.value("sluice_produce_request_duration_seconds_sum", labels("acks", "quorum")), 1e-9);
        List<PromText.Sample> buckets = t.samples("sluice_raft_commit_latency_seconds_bucket");
        assertTrue(buckets.size() > 10, "a percentile histogram: " + buckets.size() + " buckets");
        assertTrue(
                buckets.stream().anyMatch(b -> b.labels().get("le").equals("+Inf") && b.value() == 1), "+Inf bucket");
        double smallest = buckets.stream()
                .mapToDouble(b -> Double.parseDouble(b.labels().get("le").replace("+Inf", "Infinity")))
                .min()
                .orElseThrow();
        assertTrue(smallest <= 0.0001 + 1e-9, "resolves 100 µs: smallest bucket " + smallest);
        assertEquals(1, t.value("sluice_log_fsync_latency_seconds_count", Map.of()));
        assertEquals(1, t.value("sluice_log_append_latency_seconds_count", Map.of()));
        assertEquals(1, t.value("sluice_fetch_request_duration_seconds_count", Map.of()));
        // Gauges.
        assertEquals(1, t.value("sluice_broker_info", labels("broker_id", "7", "version", "1.2.3")));
        Map<String, String> p0 = labels("topic", "orders", "partition", "0");
        assertEquals(42, t.value("sluice_partition_high_watermark", p0));
        assertEquals(45, t.value("sluice_partition_log_end_offset", p0));
        assertEquals(3, t.value("sluice_partition_log_start_offset", p0));
        assertEquals(4096, t.value("sluice_partition_log_size_bytes", p0));
        assertEquals(1, t.value("sluice_partition_leader", p0));
        assertEquals(0, t.value("sluice_partition_under_replicated", p0));
        assertEquals(5, t.value("sluice_partition_raft_term", p0));
        assertEquals(1, t.value("sluice_raft_leader_changes_total", p0));
        assertEquals(1, t.value("sluice_partitions", Map.of()));
        assertEquals(1, t.value("sluice_partitions_led", Map.of()));
        assertEquals(0, t.value("sluice_under_replicated_partitions", Map.of()));
        assertEquals(3, t.value("sluice_cluster_brokers_alive", Map.of()));
        assertEquals(0, t.value("sluice_offline_partitions", Map.of()));
        assertEquals(1, t.value("sluice_grpc_active_streams", labels("method", "sluice.v1.FetchService/Fetch")));
        assertEquals(2, t.value("sluice_group_members", labels("group", "billing")));
        assertEquals(17, t.value("sluice_group_lag", labels("group", "billing", "topic", "orders", "partition", "0")));
        // The JVM and process binders.
        for (String jvm : List.of(
                "jvm_memory_used_bytes",
                "jvm_threads_live_threads",
                "jvm_classes_loaded_classes",
                "process_cpu_usage",
                "process_uptime_seconds",
                "process_files_open_files")) {
            assertTrue(t.types.containsKey(jvm), jvm + " is exposed");
        }
    }

    @Test
    void partitionSeriesFollowTheLocalReplicaAndTheLeaderReportsUnderReplication() throws Exception {
        AtomicReference<ClusterMetadata> view = new AtomicReference<>(cluster(Set.of(1, 2, 3), "orders"));
        FakeReplica r = exerciseEverything(view);
        FakeReplica other = new FakeReplica("orders", 1, 3);
        metrics.replicationObserver().onReplicaOpened(other);
        Map<String, String> p0 = labels("topic", "orders", "partition", "0");
        Map<String, String> p1 = labels("topic", "orders", "partition", "1");

        // A follower drops out of the leader's in-sync set.
        r.inSync = r.replicas.subList(0, 2);
        PromText t = scrape();
        assertEquals(1, t.value("sluice_partition_under_replicated", p0));
        assertEquals(0, t.value("sluice_partition_under_replicated", p1), "followers report 0");
        assertEquals(0, t.value("sluice_partition_leader", p1));
        assertEquals(1, t.value("sluice_under_replicated_partitions", Map.of()));
        assertEquals(2, t.value("sluice_partitions", Map.of()));

        // Leadership moves away: the replica counts the change and stops reporting under-replication.
        r.stepDown();
        t = scrape();
        assertEquals(2, t.value("sluice_raft_leader_changes_total", p0));
        assertEquals(0, t.value("sluice_partition_leader", p0));
        assertEquals(0, t.value("sluice_under_replicated_partitions", Map.of()));
        assertEquals(0, t.value("sluice_partitions_led", Map.of()));

        // Closing (or deleting) the replica removes every series of it, and only of it.
        r.closed = true;
        metrics.replicationObserver().onReplicaClosed(r);
        t = scrape();
        for (PromText.Sample s : t.samples) {
            assertFalse(
                    s.labels().entrySet().containsAll(p0.entrySet())
                            && (s.name().startsWith("sluice_partition_")
                                    || s.name().startsWith("sluice_raft_")),
                    "stale series " + s);
        }
        assertEquals(1, t.value("sluice_partitions", Map.of()));
        assertTrue(t.sample("sluice_partition_high_watermark", p1).isPresent());
        assertTrue(r.listeners.isEmpty(), "the leader-change listener was removed");

        // A closed replica object reporting late does not remove the series of a newer replica of the partition.
        FakeReplica reopened = new FakeReplica("orders", 0, 3);
        metrics.replicationObserver().onReplicaOpened(reopened);
        metrics.replicationObserver().onReplicaClosed(r);
        assertTrue(scrape().sample("sluice_partition_high_watermark", p0).isPresent());
    }

    @Test
    void topicSeriesDisappearWithTheTopicAndUnknownTopicsGetNoLabelOfTheirOwn() throws Exception {
        AtomicReference<ClusterMetadata> view = new AtomicReference<>(cluster(Set.of(1, 2, 3), "orders", "audit"));
        exerciseEverything(view);
        metrics.requests().produced("audit", 1, 10, true, 1000);
        metrics.requests().produceFailed("no-such-topic-" + System.nanoTime(), ErrorCode.ERROR_CODE_UNKNOWN_TOPIC);
        PromText t = scrape();
        assertEquals(1, t.value("sluice_produce_records_total", labels("topic", "audit")));
        assertEquals(1, t.value("sluice_produce_errors_total", labels("topic", "", "code", "UNKNOWN_TOPIC")));

        view.set(cluster(Set.of(1, 2, 3), "orders"));
        t = scrape();
        assertTrue(t.samples.stream().noneMatch(s -> "audit".equals(s.labels().get("topic"))), "audit is gone");
        assertEquals(12, t.value("sluice_produce_records_total", labels("topic", "orders")));
    }

    @Test
    void clusterGaugesCountLiveBrokersAndPartitionsWithoutAMajority() throws Exception {
        AtomicReference<ClusterMetadata> view = new AtomicReference<>(cluster(Set.of(1, 2, 3), "orders"));
        exerciseEverything(view);
        view.set(cluster(Set.of(1, 2), "orders"));
        PromText t = scrape();
        assertEquals(2, t.value("sluice_cluster_brokers_alive", Map.of()));
        assertEquals(0, t.value("sluice_offline_partitions", Map.of()), "2 of 3 replicas elect a leader");
        view.set(cluster(Set.of(1), "orders"));
        t = scrape();
        assertEquals(1, t.value("sluice_cluster_brokers_alive", Map.of()));
        assertEquals(2, t.value("sluice_offline_partitions", Map.of()));
    }

    @Test
    void groupSeriesFollowTheSamples() throws Exception {
        AtomicReference<ClusterMetadata> view = new AtomicReference<>(cluster(Set.of(1, 2, 3), "orders"));
        exerciseEverything(view);
        AtomicReference<List<GroupMetricsSample>> groups = new AtomicReference<>(List.of(
                new GroupMetricsSample("a", 1, List.of(new PartitionLagSample("orders", 0, 5))),
                new GroupMetricsSample("b", 3, List.of(new PartitionLagSample("orders", 1, 9)))));
        metrics.bindGroups(groups::get);
        PromText t = scrape();
        assertEquals(1, t.value("sluice_group_members", labels("group", "a")));
        assertEquals(3, t.value("sluice_group_members", labels("group", "b")));
        assertTrue(t.sample("sluice_group_members", labels("group", "billing")).isEmpty(), "the old supplier's");

        groups.set(List.of(new GroupMetricsSample("b", 2, List.of(new PartitionLagSample("orders", 1, 4)))));
        t = scrape();
        assertTrue(t.sample("sluice_group_members", labels("group", "a")).isEmpty(), "group a is gone");
        assertTrue(t.sample("sluice_group_lag", labels("group", "a")).isEmpty());
        assertEquals(2, t.value("sluice_group_members", labels("group", "b")));
        assertEquals(4, t.value("sluice_group_lag", labels("group", "b", "topic", "orders", "partition", "1")));

        // A failing supplier keeps the scrape alive.
        metrics.bindGroups(() -> {
            throw new IllegalStateException("coordinator not ready");
        });
        assertTrue(scrape().types.containsKey("sluice_broker_info"));
    }

    @Test
    void activeStreamsCountsStreamingCallsUntilTheyEndOnce() {
        FakeCall unary = new FakeCall("sluice.v1.AdminService/CreateTopic", MethodDescriptor.MethodType.UNARY);
        metrics.activeStreams().interceptCall(unary, new Metadata(), (c, h) -> new ServerCall.Listener<>() {});
        FakeCall produce = new FakeCall("sluice.v1.ProduceService/Produce", MethodDescriptor.MethodType.BIDI_STREAMING);
        List<ServerCall<InputStream, InputStream>> wrapped = new ArrayList<>();
        ServerCall.Listener<InputStream> l = metrics.activeStreams().interceptCall(produce, new Metadata(), (c, h) -> {
            wrapped.add(c);
            return new ServerCall.Listener<>() {};
        });
        Map<String, String> m = labels("method", "sluice.v1.ProduceService/Produce");
        assertEquals(1, scrape().value("sluice_grpc_active_streams", m));
        assertTrue(scrape().sample("sluice_grpc_active_streams", labels("method", "sluice.v1.AdminService/CreateTopic"))
                .isEmpty());
        wrapped.get(0).close(Status.OK, new Metadata());
        l.onComplete();
        assertEquals(0, scrape().value("sluice_grpc_active_streams", m), "closed and completed: counted down once");
    }

    @Test
    void openMetricsIsServedWhenAsked() {
        BrokerMetrics.Scrape s = metrics.scrape("application/openmetrics-text; version=1.0.0,text/plain;q=0.5");
        assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8", s.contentType());
        String body = new String(s.body(), StandardCharsets.UTF_8);
        assertTrue(body.endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
        assertTrue(body.contains("sluice_broker_info{broker_id=\"7\",version=\"1.2.3\"} 1"), body);
    }

    @Test
    void promtoolFindsNoProblems() throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        if (!Files.isExecutable(promtool)) {
            installMonitoringTools();
        }
        exerciseEverything(new AtomicReference<>(cluster(Set.of(1, 2, 3), "orders")));
        byte[] body = metrics.scrape("").body();
        Path input = Files.createTempFile("scrape", ".txt");
        Path output = Files.createTempFile("promtool", ".txt");
        try {
            Files.write(input, body);
            Process p = new ProcessBuilder(promtool.toString(), "check", "metrics")
                    .redirectInput(input.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), "promtool check metrics:\n" + Files.readString(output));
        } finally {
            Files.deleteIfExists(input);
            Files.deleteIfExists(output);
        }
    }

    /** Runs the project's own installer (deploy/prometheus/install-tools.sh), which CI's live check also uses. */
    private static void installMonitoringTools() throws Exception {
        Path root = Path.of("").toAbsolutePath();
        while (root != null && !Files.exists(root.resolve("deploy/prometheus/install-tools.sh"))) {
            root = root.getParent();
        }
        assertNotNull(
                root,
                "deploy/prometheus/install-tools.sh not found above "
                        + Path.of("").toAbsolutePath());
        Path log = Files.createTempFile("install-tools", ".txt");
        try {
            Process p = new ProcessBuilder(
                            "bash",
                            root.resolve("deploy/prometheus/install-tools.sh").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            assertTrue(p.waitFor(30, TimeUnit.MINUTES), "install-tools.sh did not finish");
            assertEquals(0, p.exitValue(), "install-tools.sh:\n" + Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** A server call that only names its method. */
    static final class FakeCall extends ServerCall<InputStream, InputStream> {
        final MethodDescriptor<InputStream, InputStream> method;

        FakeCall(String fullName, MethodDescriptor.MethodType type) {
            MethodDescriptor.Marshaller<InputStream> m = new MethodDescriptor.Marshaller<>() {
                @Override
                public InputStream stream(InputStream value) {
                    return value;
                }

                @Override
                public InputStream parse(InputStream stream) {
                    return stream;
                }
            };
            this.method = MethodDescriptor.<InputStream, InputStream>newBuilder()
                    .setFullMethodName(fullName)
                    .setType(type)
                    .setRequestMarshaller(m)
                    .setResponseMarshaller(m)
                    .build();
        }

        @Override
        public void request(int numMessages) {}

        @Override
        public void sendHeaders(Metadata headers) {}

        @Override
        public void sendMessage(InputStream message) {}

        @Override
        public void close(Status status, Metadata trailers) {}

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public MethodDescriptor<InputStream, InputStream> getMethodDescriptor() {
            return method;
        }
    }
}
