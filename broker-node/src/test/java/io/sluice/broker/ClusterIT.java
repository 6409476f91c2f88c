package io.sluice.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.sluice.broker.internal.TestUtil;
import io.sluice.broker.internal.metrics.PromText;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.logstore.record.RecordBatches;
import io.sluice.proto.v1.Acks;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.CreateTopicRequest;
import io.sluice.proto.v1.DeleteTopicRequest;
import io.sluice.proto.v1.DescribeTopicRequest;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.FetchRequest;
import io.sluice.proto.v1.FetchResponse;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.FetchStart;
import io.sluice.proto.v1.GetMetadataRequest;
import io.sluice.proto.v1.LogBoundary;
import io.sluice.proto.v1.PartitionMetadata;
import io.sluice.proto.v1.ProduceRequest;
import io.sluice.proto.v1.ProduceResponse;
import io.sluice.proto.v1.ProduceServiceGrpc;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three brokers in one JVM (real replication nodes, real gRPC servers on ephemeral ports), driven with the generated
 * gRPC stubs: quorum produce and fetch round trip, a tailing fetch pushed new batches, and NOT_LEADER naming the new
 * leader after the old one crashes.
 */
class ClusterIT {
    @TempDir
    Path dir;

    final Map<Integer, SluiceBroker> brokers = new HashMap<>();
    final Map<Integer, ManagedChannel> channels = new HashMap<>();

    @AfterEach
    void tearDown() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        brokers.values().forEach(SluiceBroker::close);
    }

    void startCluster() throws Exception {
        Map<Integer, BrokerConfig> configs = InJvmClusterConfigs.resolve(
                3, dir, Map.of("raft.replica.lag.time.max.ms", "2000", "request.threads", "4"));
        for (int id = 1; id <= 3; id++) {
            SluiceBroker b = SluiceBroker.start(configs.get(id));
            brokers.put(id, b);
            channels.put(
                    id,
                    NettyChannelBuilder.forAddress("127.0.0.1", b.grpcPort())
                            .usePlaintext()
                            .build());
        }
        for (int id = 1; id <= 3; id++) {
            int port = brokers.get(id).grpcPort();
            TestUtil.waitFor(
                    () -> SluiceBroker.checkReady("127.0.0.1:" + port, Duration.ofSeconds(1)),
                    Duration.ofSeconds(60),
                    "broker ready");
            // The HTTP readiness probe agrees with the gRPC health service.
            int httpPort = brokers.get(id).httpPort();
            TestUtil.waitFor(
                    () -> httpStatus(httpPort, "/health/ready") == 200,
                    Duration.ofSeconds(30),
                    "GET /health/ready answers 200");
            assertEquals(200, httpStatus(httpPort, "/health/live"));
        }
    }

    static int httpStatus(int port, String path) {
        try {
            return java.net.http.HttpClient.newHttpClient()
                    .send(
                            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            java.net.http.HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static String httpGet(int port, String path) {
        try {
            var r = java.net.http.HttpClient.newHttpClient()
                    .send(
                            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            assertEquals(
                    "text/plain; version=0.0.4; charset=utf-8",
                    r.headers().firstValue("Content-Type").orElse(""));
            return r.body();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The broker's /metrics, parsed (the parse fails on malformed text). */
    PromText metrics(int broker) {
        return PromText.parse(httpGet(brokers.get(broker).httpPort(), "/metrics"));
    }

    /** Waits until some broker leads the partition and returns its id. */
    int awaitLeader(String topic, int partition, int askBroker) {
        int[] leader = {-1};
        TestUtil.waitFor(
                () -> {
                    PartitionMetadata pm = AdminServiceGrpc.newBlockingStub(channels.get(askBroker))
                            .getMetadata(GetMetadataRequest.newBuilder()
                                    .addTopics(topic)
                                    .build())
                            .getTopics(0)
                            .getPartitionsList()
                            .stream()
                            .filter(p -> p.getPartition() == partition)
                            .findFirst()
                            .orElse(null);
                    if (pm == null || !pm.hasLeaderId() || !brokers.containsKey(pm.getLeaderId())) {
                        return false;
                    }
                    // Confirm with the leader itself: only a real leader accepts a produce.
                    ProduceResponse r = produce(pm.getLeaderId(), topic, partition, List.of(batch("probe", 1)))
                            .get(0);
                    leader[0] = pm.getLeaderId();
                    return !r.hasError();
                },
                Duration.ofSeconds(60),
                "a leader for " + topic + "-" + partition);
        return leader[0];
    }

    static ByteBuffer batch(String prefix, int records) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        for (int i = 0; i < records; i++) {
            b.append(System.currentTimeMillis(), null, (prefix + "-" + i).getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    List<ProduceResponse> produce(int broker, String topic, int partition, List<ByteBuffer> batches) {
        LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
        StreamObserver<ProduceRequest> s = ProduceServiceGrpc.newStub(channels.get(broker))
                .produce(new StreamObserver<>() {
                    @Override
                    public void onNext(ProduceResponse r) {
                        q.add(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        q.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        q.add("done");
                    }
                });
        long id = 1;
        for (ByteBuffer b : batches) {
            s.onNext(ProduceRequest.newBuilder()
                    .setRequestId(id++)
                    .setTopic(topic)
                    .setPartition(partition)
                    .setAcks(Acks.ACKS_QUORUM)
                    .setRecords(ByteString.copyFrom(b.duplicate()))
                    .build());
        }
        s.onCompleted();
        List<ProduceResponse> out = new ArrayList<>();
        try {
            while (true) {
                Object o = q.poll(30, TimeUnit.SECONDS);
                assertNotNull(o, "produce timed out");
                if (o instanceof ProduceResponse r) {
                    out.add(r);
                } else if (o instanceof Throwable t) {
                    throw new AssertionError("produce stream failed", t);
                } else {
                    return out;
                }
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Reads the partition from the earliest offset on {@code broker} until {@code hw}, returning the data values. */
    List<String> readAll(int broker, String topic, int partition) throws Exception {
        var stream = FetchServiceGrpc.newBlockingV2Stub(channels.get(broker)).fetch();
        stream.write(FetchRequest.newBuilder()
                .setStart(FetchStart.newBuilder()
                        .setTopic(topic)
                        .setPartition(partition)
                        .setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST)
                        .setInitialCredits(1000))
                .build());
        FetchResponse first = stream.read(10, TimeUnit.SECONDS);
        long hw = first.getHighWatermark();
        long next = first.getNextOffset();
        List<String> values = new ArrayList<>();
        while (next < hw) {
            FetchResponse r = stream.read(10, TimeUnit.SECONDS);
            assertNotNull(r, "fetch stalled at " + next + " below hw " + hw);
            for (Record rec : RecordBatches.dataRecords(r.getRecords().asReadOnlyByteBuffer())) {
                values.add(StandardCharsets.UTF_8.decode(rec.value()).toString());
            }
            next = r.getNextOffset();
        }
        stream.cancel("done", null);
        return values;
    }

    @Test
    void produceFetchTailAndFailover() throws Exception {
        startCluster();
        var created = AdminServiceGrpc.newBlockingStub(channels.get(1))
                .createTopic(CreateTopicRequest.newBuilder()
                        .setName("it")
                        .setPartitions(1)
                        .setReplicationFactor(3)
                        .build());
        assertEquals(3, created.getReplicationFactor());
        int leader = awaitLeader("it", 0, 1);

        // Quorum round trip: pipelined batches, offsets in order.
        List<ByteBuffer> batches = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            batches.add(batch("a" + i, 5));
        }
        List<ProduceResponse> rs = produce(leader, "it", 0, batches);
        assertEquals(20, rs.size());
        long last = -1;
        for (ProduceResponse r : rs) {
            assertFalse(r.hasError(), r.getError().toString());
            assertTrue(r.getBaseOffset() > last);
            assertEquals(r.getBaseOffset() + 4, r.getLastOffset());
            last = r.getLastOffset();
        }
        List<String> values = readAll(leader, "it", 0);
        assertEquals(1 + 100, values.size(), "probe record + 100 produced");
        assertEquals("a0-0", values.get(1));
        assertEquals("a19-4", values.get(100));

        // Any broker describes the partition with the leader's log state.
        // The non-leader learns the leader through metadata and asks it for the high watermark (best effort, so
        // waited for: its first call to the leader may open the connection).
        int other = leader == 1 ? 2 : 1;
        final long lastProduced = last;
        var described = new java.util.concurrent.atomic.AtomicReference<io.sluice.proto.v1.PartitionDescription>();
        TestUtil.waitFor(
                () -> {
                    described.set(AdminServiceGrpc.newBlockingStub(channels.get(other))
                            .describeTopic(DescribeTopicRequest.newBuilder()
                                    .setName("it")
                                    .build())
                            .getTopic()
                            .getPartitions(0));
                    return described.get().getLeaderId() == leader
                            && described.get().hasHighWatermark();
                },
                Duration.ofSeconds(30),
                "broker " + other + " describes partition 0 with leader " + leader + " and its high watermark",
                () -> String.valueOf(described.get()));
        assertTrue(
                described.get().getHighWatermark() > lastProduced,
                described.get().toString());

        // A tailing fetch is pushed new batches as they commit.
        var tail = FetchServiceGrpc.newBlockingV2Stub(channels.get(leader)).fetch();
        tail.write(FetchRequest.newBuilder()
                .setStart(FetchStart.newBuilder()
                        .setTopic("it")
                        .setPartition(0)
                        .setBoundary(LogBoundary.LOG_BOUNDARY_LATEST)
                        .setInitialCredits(10))
                .build());
        FetchResponse position = tail.read(10, TimeUnit.SECONDS);
        assertEquals(0, position.getRecords().size());
        produce(leader, "it", 0, List.of(batch("tail", 2)));
        List<String> tailed = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (tailed.isEmpty() && System.nanoTime() < deadline) {
            FetchResponse r = tail.read(10, TimeUnit.SECONDS);
            assertNotNull(r, "the tailing fetch received nothing");
            for (Record rec : RecordBatches.dataRecords(r.getRecords().asReadOnlyByteBuffer())) {
                tailed.add(StandardCharsets.UTF_8.decode(rec.value()).toString());
            }
        }
        assertEquals(List.of("tail-0", "tail-1"), tailed);
        tail.cancel("done", null);

        // Crash the leader: a surviving broker that is not the new leader answers NOT_LEADER naming it.
        brokers.remove(leader).halt();
        channels.remove(leader).shutdownNow();
        int survivor = brokers.keySet().iterator().next();
        int newLeader = awaitLeader("it", 0, survivor);
        assertTrue(newLeader != leader);
        int follower = brokers.keySet().stream()
                .filter(id -> id != newLeader)
                .findFirst()
                .orElseThrow();
        ProduceResponse redirected =
                produce(follower, "it", 0, List.of(batch("x", 1))).get(0);
        assertEquals(ErrorCode.ERROR_CODE_NOT_LEADER, redirected.getError().getCode());
        assertEquals(newLeader, redirected.getError().getNotLeader().getLeaderId());
        assertEquals(
                brokers.get(newLeader).grpcPort(),
                redirected.getError().getNotLeader().getLeaderEndpoint().getPort());
        // Every acknowledged record survived the crash.
        List<String> after = readAll(newLeader, "it", 0);
        assertTrue(after.containsAll(values), "acknowledged records survive the leader's crash");
        assertTrue(after.containsAll(tailed));
    }

    @Test
    void leaderMetricsShowTrafficWatermarkAndUnderReplication() throws Exception {
        startCluster();
        AdminServiceGrpc.newBlockingStub(channels.get(1))
                .createTopic(CreateTopicRequest.newBuilder()
                        .setName("metered")
                        .setPartitions(1)
                        .setReplicationFactor(3)
                        .build());
        int leader = awaitLeader("metered", 0, 1);
        Map<String, String> topic = Map.of("topic", "metered");
        Map<String, String> p0 = Map.of("topic", "metered", "partition", "0");
        // The probe awaitLeader wrote is the baseline.
        PromText before = metrics(leader);
        double recordsBefore = before.value("sluice_produce_records_total", topic);
        double bytesBefore = before.value("sluice_produce_bytes_total", topic);
        assertTrue(recordsBefore >= 1, "the probe record was counted: " + recordsBefore);

        List<ByteBuffer> batches = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < 10; i++) {
            ByteBuffer b = batch("m" + i, 5);
            bytes += b.remaining();
            batches.add(b);
        }
        List<ProduceResponse> rs = produce(leader, "metered", 0, batches);
        rs.forEach(r -> assertFalse(r.hasError(), r.toString()));
        long lastAcked = rs.get(rs.size() - 1).getLastOffset();
        List<String> values = readAll(leader, "metered", 0);

        PromText after = metrics(leader);
        assertEquals(recordsBefore + 50, after.value("sluice_produce_records_total", topic));
        assertEquals(bytesBefore + bytes, after.value("sluice_produce_bytes_total", topic));
        assertTrue(
                after.value("sluice_produce_request_duration_seconds_count", Map.of("acks", "quorum")) >= 11,
                "every acknowledged batch is timed");
        assertTrue(after.value("sluice_raft_commit_latency_seconds_count", Map.of()) >= 11);
        // JRaft hands pipelined entries to the log in groups: one append call may carry several batches.
        double appends = after.value("sluice_log_append_latency_seconds_count", Map.of());
        assertTrue(appends >= 2, "log appends timed: " + appends);
        assertTrue(after.value("sluice_log_fsync_latency_seconds_count", Map.of()) >= 1);
        assertEquals(1, after.value("sluice_partition_leader", p0));
        assertEquals(3, after.value("sluice_cluster_brokers_alive", Map.of()));
        assertEquals(0, after.value("sluice_offline_partitions", Map.of()));
        assertEquals(1, after.value("sluice_broker_info", Map.of("broker_id", Integer.toString(leader))));
        // Fetch: every record read back (the response is recorded right after it is handed to gRPC).
        int read = values.size();
        TestUtil.waitFor(
                () -> metrics(leader).value("sluice_fetch_records_total", topic) == read,
                Duration.ofSeconds(30),
                "the leader counts the " + read + " records fetched");
        // The high watermark gauge is the committed end the fetch path reports.
        long hw = FetchServiceGrpc.newBlockingStub(channels.get(leader))
                .listOffsets(io.sluice.proto.v1.ListOffsetsRequest.newBuilder()
                        .addQueries(io.sluice.proto.v1.ListOffsetsQuery.newBuilder()
                                .setTopic("metered")
                                .setPartition(0)
                                .setBoundary(LogBoundary.LOG_BOUNDARY_LATEST))
                        .build())
                .getResults(0)
                .getOffset();
        assertTrue(hw > lastAcked, "hw " + hw + " covers the last acknowledged offset " + lastAcked);
        assertEquals(hw, metrics(leader).value("sluice_partition_high_watermark", p0));
        for (int id : brokers.keySet()) {
            TestUtil.waitFor(
                    () -> metrics(id).value("sluice_partition_high_watermark", p0) == hw,
                    Duration.ofSeconds(30),
                    "broker " + id + "'s replica reaches the high watermark " + hw);
        }
        // All replicas up: nothing under-replicated.
        TestUtil.waitFor(
                () -> {
                    PromText m = metrics(leader);
                    return m.value("sluice_partition_under_replicated", p0) == 0
                            && m.value("sluice_under_replicated_partitions", Map.of()) == 0;
                },
                Duration.ofSeconds(30),
                "no under-replicated partition with every broker up");
        promtoolAccepts(httpGet(brokers.get(leader).httpPort(), "/metrics"));

        // Crash a follower: the leader reports the partition under-replicated once the lag bound passed.
        int follower =
                brokers.keySet().stream().filter(id -> id != leader).findFirst().orElseThrow();
        brokers.remove(follower).halt();
        channels.remove(follower).shutdownNow();
        TestUtil.waitFor(
                () -> {
                    PromText m = metrics(leader);
                    return m.value("sluice_partition_under_replicated", p0) == 1
                            && m.value("sluice_under_replicated_partitions", Map.of()) == 1;
                },
                Duration.ofSeconds(60),
                "the leader reports the partition under-replicated after broker " + follower + " crashed");

        // Deleting the topic removes its series.
        AdminServiceGrpc.newBlockingStub(channels.get(leader))
                .deleteTopic(DeleteTopicRequest.newBuilder().setName("metered").build());
        TestUtil.waitFor(
                () -> metrics(leader).samples.stream()
                        .noneMatch(s -> "metered".equals(s.labels().get("topic"))),
                Duration.ofSeconds(60),
                "no series of the deleted topic remains");
    }

    /** {@code promtool check metrics} finds no problem (skipped where promtool is not installed). */
    static void promtoolAccepts(String scrape) throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        if (!java.nio.file.Files.isExecutable(promtool)) {
            return;
        }
        Path in = java.nio.file.Files.createTempFile("scrape", ".txt");
        Path out = java.nio.file.Files.createTempFile("promtool", ".txt");
        try {
            java.nio.file.Files.writeString(in, scrape);
            Process p = new ProcessBuilder(promtool.toString(), "check", "metrics")
                    .redirectInput(in.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), "promtool check metrics:\n" + java.nio.file.Files.readString(out));
        } finally {
            java.nio.file.Files.deleteIfExists(in);
            java.nio.file.Files.deleteIfExists(out);
        }
    }
}
