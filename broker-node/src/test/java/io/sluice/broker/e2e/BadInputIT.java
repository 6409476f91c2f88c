package io.sluice.broker.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.sluice.broker.internal.CompilerThreads;
import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.OffsetOutOfRangeException;
import io.sluice.client.Producer;
import io.sluice.client.Record;
import io.sluice.client.RecordPosition;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.proto.GrpcErrors;
import io.sluice.proto.v1.Acks;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.CreateTopicRequest;
import io.sluice.proto.v1.DescribeTopicRequest;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.FetchRequest;
import io.sluice.proto.v1.FetchResponse;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.FetchStart;
import io.sluice.proto.v1.ListOffsetsQuery;
import io.sluice.proto.v1.ListOffsetsRequest;
import io.sluice.proto.v1.ListOffsetsResult;
import io.sluice.proto.v1.ListTopicsRequest;
import io.sluice.proto.v1.LogBoundary;
import io.sluice.proto.v1.PartitionDescription;
import io.sluice.proto.v1.ProduceRequest;
import io.sluice.proto.v1.ProduceResponse;
import io.sluice.proto.v1.ProduceServiceGrpc;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input table against three real broker processes, end to end (the in-process HandlerTest covers the handlers
 * one by one): each bad request gets a clear error, a gRPC status plus the typed {@code sluice-error-bin} code (or
 * the in-band code of a produce response), never a stack trace; nothing is created or appended by it; and afterwards
 * every broker still produces and consumes normally through the SDK. The CLI's {@code topic create} with bad
 * arguments exits 1 with one line on stderr.
 *
 * <p>Tests share the cluster and run in order; the last one checks that the brokers are unharmed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BadInputIT {
    static final String TOPIC = "good";
    static final int MAX_BATCH = 1024 * 1024; // produce.max.batch.bytes default
    static final int MAX_MESSAGE = 2 * 1024 * 1024; // message.max.bytes default

    @TempDir
    static Path data;

    static ProcessCluster cluster;
    static SluiceClient client;

    @RegisterExtension
    static final TestWatcher LOGS = ProcessCluster.dumpLogsOnFailure(() -> cluster);

    @BeforeAll
    static void startCluster() throws Exception {
        // No broker is killed here: longer election timeouts keep leaders put on a busy machine (the helpers below
        // still follow a leader change).
        cluster = ProcessCluster.start(
                "bad-input",
                3,
                data,
                Map.of("raft.election.timeout.ms", "3000", "controller.election.timeout.ms", "3000"),
                Duration.ofSeconds(90));
        client = SluiceClient.builder()
                .bootstrap(cluster.bootstrap())
                .requestTimeout(Duration.ofSeconds(10))
                .build();
        admin(1).createTopic(CreateTopicRequest.newBuilder()
                .setName(TOPIC)
                .setPartitions(3)
                .setReplicationFactor(3)
                .build());
        Waits.waitFor(
                () -> describe(TOPIC).stream().allMatch(PartitionDescription::hasLeaderId),
                Duration.ofSeconds(60),
                "a leader for every partition of " + TOPIC);
        // Some committed data, so that offsets have a range.
        try (Producer p = client.newProducer().create()) {
            for (int i = 0; i < 30; i++) {
                p.sendAsync(Record.of(TOPIC, "k" + i, "v" + i));
            }
            p.flush();
        }
    }

    @AfterAll
    static void stopCluster() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    // ------------------------------------------------------------------ helpers

    static AdminServiceGrpc.AdminServiceBlockingStub admin(int broker) {
        return AdminServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(15, TimeUnit.SECONDS);
    }

    static List<PartitionDescription> describe(String topic) {
        return admin(1).describeTopic(
                        DescribeTopicRequest.newBuilder().setName(topic).build())
                .getTopic()
                .getPartitionsList();
    }

    static int leaderOf(int partition) {
        int[] leader = {-1};
        Waits.waitFor(
                () -> {
                    PartitionDescription d = describe(TOPIC).get(partition);
                    leader[0] = d.hasLeaderId() ? d.getLeaderId() : -1;
                    return leader[0] > 0;
                },
                Duration.ofSeconds(30),
                "a leader for " + TOPIC + "-" + partition);
        return leader[0];
    }

    static boolean isNotLeader(Throwable t) {
        return GrpcErrors.fromThrowable(t)
                .map(i -> i.getCode() == ErrorCode.ERROR_CODE_NOT_LEADER)
                .orElse(false);
    }

    /** How a fetch of {@code TOPIC-partition} at its current leader fails (asked again if leadership moved). */
    static Throwable fetchFailureAtLeader(int partition, FetchStart.Builder start) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Throwable t = fetchFailure(leaderOf(partition), start.clone());
            if (!isNotLeader(t) || System.nanoTime() > deadline) {
                return t;
            }
        }
    }

    /** The answer to one produce request at the current leader of its partition (asked again on NOT_LEADER). */
    static ProduceResponse produceAtLeader(ProduceRequest req) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            ProduceResponse r = produceOne(leaderOf(req.getPartition()), req);
            if (r.getError().getCode() != ErrorCode.ERROR_CODE_NOT_LEADER || System.nanoTime() > deadline) {
                return r;
            }
        }
    }

    /**
     * The partition's high watermark. A broker that does not lead the partition asks its leader for it, best effort:
     * waits until the answer carries it.
     */
    static long highWatermark(int partition) {
        long[] hw = {-1};
        Waits.waitFor(
                () -> {
                    PartitionDescription d = describe(TOPIC).get(partition);
                    if (d.hasHighWatermark()) {
                        hw[0] = d.getHighWatermark();
                    }
                    return d.hasHighWatermark();
                },
                Duration.ofSeconds(30),
                "the high watermark of " + TOPIC + "-" + partition);
        return hw[0];
    }

    /** The data records (control batches are skipped by the consumer) of a partition in [from, to). */
    static List<ConsumedRecord> dataRecordsBetween(int partition, long from, long to) {
        List<ConsumedRecord> got = new ArrayList<>();
        if (from >= to) {
            return got;
        }
        TopicPartition tp = new TopicPartition(TOPIC, partition);
        try (Consumer c = client.newConsumer().create()) {
            c.assign(List.of(tp));
            c.seek(tp, from);
            // Bounded: a range holding only control batches may not move the position, and then nothing is returned.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (c.position(tp) < to && System.nanoTime() < deadline) {
                for (ConsumedRecord r : c.poll(Duration.ofMillis(200))) {
                    if (r.offset() < to) {
                        got.add(r);
                    }
                }
            }
        }
        return got;
    }

    static ErrorInfo trailer(Throwable t) {
        return GrpcErrors.fromThrowable(t)
                .orElseThrow(() -> new AssertionError("no " + GrpcErrors.ERROR_TRAILER + " trailer on " + t));
    }

    /** Asserts a failed call: gRPC status, typed code in the trailer, a message without a stack trace. */
    static ErrorInfo assertFailure(String what, Throwable t, Status.Code status, ErrorCode code) {
        assertInstanceOf(StatusRuntimeException.class, t, what);
        Status s = ((StatusRuntimeException) t).getStatus();
        assertEquals(status, s.getCode(), what + ": " + s);
        ErrorInfo info = trailer(t);
        assertEquals(code, info.getCode(), what + ": " + info);
        assertFalse(info.getMessage().isBlank(), what + " explains itself");
        assertNoStackTrace(what, String.valueOf(s.getDescription()) + info.getMessage());
        return info;
    }

    static void assertNoStackTrace(String what, String text) {
        assertFalse(
                text.contains("\tat ") || text.contains("\n\tat") || text.contains("Exception in thread"),
                what + " leaks a stack trace: " + text);
    }

    static ByteBuffer batch(int records, int valueBytes) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        for (int i = 0; i < records; i++) {
            b.append(System.currentTimeMillis(), ("k" + i).getBytes(StandardCharsets.UTF_8), new byte[valueBytes]);
        }
        return b.build();
    }

    static ProduceRequest produceRequest(long id, String topic, int partition, ByteBuffer records) {
        return ProduceRequest.newBuilder()
                .setRequestId(id)
                .setTopic(topic)
                .setPartition(partition)
                .setAcks(Acks.ACKS_QUORUM)
                .setRecords(ByteString.copyFrom(records.duplicate()))
                .build();
    }

    /** Sends requests on one produce stream, half-closes, and returns the responses (or the stream's failure). */
    static List<Object> produceStream(int broker, List<ProduceRequest> requests) throws InterruptedException {
        LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
        StreamObserver<ProduceRequest> s = ProduceServiceGrpc.newStub(cluster.channel(broker))
                .withDeadlineAfter(30, TimeUnit.SECONDS)
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
                        q.add("completed");
                    }
                });
        for (ProduceRequest r : requests) {
            s.onNext(r);
        }
        s.onCompleted();
        List<Object> out = new ArrayList<>();
        while (true) {
            Object o = q.poll(30, TimeUnit.SECONDS);
            assertNotNull(o, "the produce stream neither answered nor ended in 30 s; got " + out);
            if ("completed".equals(o)) {
                return out;
            }
            out.add(o);
            if (o instanceof Throwable) {
                return out;
            }
        }
    }

    static ProduceResponse produceOne(int broker, ProduceRequest req) throws InterruptedException {
        List<Object> out = produceStream(broker, List.of(req));
        assertEquals(1, out.size(), "one response: " + out);
        if (out.get(0) instanceof Throwable t) {
            throw new AssertionError("the produce stream failed instead of answering in band", t);
        }
        return (ProduceResponse) out.get(0);
    }

    /** Opens a fetch stream with {@code start} and returns how it failed. */
    static Throwable fetchFailure(int broker, FetchStart.Builder start) throws Exception {
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        StreamObserver<FetchRequest> s = FetchServiceGrpc.newStub(cluster.channel(broker))
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .fetch(new StreamObserver<>() {
                    @Override
                    public void onNext(FetchResponse r) {
                        failed.completeExceptionally(new AssertionError("expected a failure, got a response " + r));
                    }

                    @Override
                    public void onError(Throwable t) {
                        failed.complete(t);
                    }

                    @Override
                    public void onCompleted() {
                        failed.completeExceptionally(new AssertionError("expected a failure, the stream completed"));
                    }
                });
        s.onNext(FetchRequest.newBuilder().setStart(start.setInitialCredits(10)).build());
        try {
            return failed.get(25, TimeUnit.SECONDS);
        } finally {
            s.onCompleted();
        }
    }

    static FetchStart.Builder start(String topic, int partition) {
        return FetchStart.newBuilder().setTopic(topic).setPartition(partition);
    }

    static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    /** Sends raw bytes as the one request message of {@code method}; returns the call's closing status+trailers. */
    static StatusRuntimeException rawCall(Channel ch, MethodDescriptor<?, ?> method, byte[] bytes) throws Exception {
        MethodDescriptor<byte[], byte[]> raw = method.toBuilder(RAW, RAW).build();
        ClientCall<byte[], byte[]> call = ch.newCall(raw, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS));
        CompletableFuture<StatusRuntimeException> closed = new CompletableFuture<>();
        call.start(
                new ClientCall.Listener<>() {
                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        closed.complete(status.asRuntimeException(trailers));
                    }
                },
                new Metadata());
        call.request(1);
        call.sendMessage(bytes);
        call.halfClose();
        return closed.get(25, TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------------ admin

    @Test
    @Order(1)
    void createTopicRejectsBadShapesAndNamesAndCreatesNothing() {
        record Case(String what, CreateTopicRequest req, ErrorCode code) {}
        List<Case> cases = new ArrayList<>();
        cases.add(new Case(
                "replication factor 4 on 3 brokers",
                create("rf4", 1, 4),
                ErrorCode.ERROR_CODE_INVALID_REPLICATION_FACTOR));
        cases.add(new Case(
                "negative replication factor",
                create("rfneg", 1, -1),
                ErrorCode.ERROR_CODE_INVALID_REPLICATION_FACTOR));
        cases.add(new Case("negative partitions", create("pneg", -1, 1), ErrorCode.ERROR_CODE_INVALID_PARTITION_COUNT));
        cases.add(new Case(
                "257 partitions (max 256)", create("p257", 257, 1), ErrorCode.ERROR_CODE_INVALID_PARTITION_COUNT));
        cases.add(new Case(
                "a million partitions",
                create("pmillion", 1_000_000, 1),
                ErrorCode.ERROR_CODE_INVALID_PARTITION_COUNT));
        cases.add(new Case(
                "2^31-1 partitions",
                create("pmax", Integer.MAX_VALUE, 3),
                ErrorCode.ERROR_CODE_INVALID_PARTITION_COUNT));
        for (String name : List.of(
                "",
                ".",
                "..",
                "a b",
                "a/b",
                "../etc",
                "caf\u00e9",
                "x".repeat(250),
                "__offsets",
                "tab\there",
                "new\nline")) {
            cases.add(new Case(
                    "topic name '" + name.replace("\n", "\\n") + "'",
                    create(name, 1, 1),
                    ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME));
        }
        cases.add(new Case("existing topic", create(TOPIC, 1, 1), ErrorCode.ERROR_CODE_TOPIC_ALREADY_EXISTS));
        int broker = 0;
        for (Case c : cases) {
            broker = broker % 3 + 1; // any broker answers admin calls (forwarded to the controller)
            int b = broker;
            StatusRuntimeException e =
                    assertThrows(StatusRuntimeException.class, () -> admin(b).createTopic(c.req()), c.what());
            assertFailure(c.what() + " via broker " + b, e, GrpcErrors.statusCode(c.code()), c.code());
        }
        assertEquals(
                List.of(TOPIC),
                admin(2).listTopics(ListTopicsRequest.getDefaultInstance()).getTopicsList().stream()
                        .map(t -> t.getName())
                        .toList(),
                "no rejected topic was created");
        // Zero is "the broker default" in the API (proto3's unset); the CLI refuses an explicit 0 (see cli test).
        var created = admin(3).createTopic(create("defaults", 0, 0));
        assertEquals(1, created.getPartitions());
        assertEquals(3, created.getReplicationFactor());
    }

    static CreateTopicRequest create(String name, int partitions, int rf) {
        return CreateTopicRequest.newBuilder()
                .setName(name)
                .setPartitions(partitions)
                .setReplicationFactor(rf)
                .build();
    }

    @Test
    @Order(2)
    void unknownTopicsAndPartitionsAreNotFoundEverywhere() throws Exception {
        int leader = leaderOf(0);
        for (int b = 1; b <= 3; b++) {
            int broker = b;
            assertFailure(
                    "describe unknown topic",
                    assertThrows(StatusRuntimeException.class, () -> admin(broker)
                            .describeTopic(DescribeTopicRequest.newBuilder()
                                    .setName("nope")
                                    .build())),
                    Status.Code.NOT_FOUND,
                    ErrorCode.ERROR_CODE_UNKNOWN_TOPIC);
            assertFailure(
                    "fetch unknown topic",
                    fetchFailure(broker, start("nope", 0).setOffset(0)),
                    Status.Code.NOT_FOUND,
                    ErrorCode.ERROR_CODE_UNKNOWN_TOPIC);
            for (int p : new int[] {3, -1, Integer.MAX_VALUE}) {
                assertFailure(
                        "fetch partition " + p,
                        fetchFailure(broker, start(TOPIC, p).setOffset(0)),
                        Status.Code.NOT_FOUND,
                        ErrorCode.ERROR_CODE_UNKNOWN_PARTITION);
            }
        }
        List<ProduceResponse> rs = new ArrayList<>();
        long id = 1;
        for (Object o : produceStream(
                leader,
                List.of(
                        produceRequest(id++, "nope", 0, batch(1, 10)),
                        produceRequest(id++, TOPIC, 3, batch(1, 10)),
                        produceRequest(id++, TOPIC, -1, batch(1, 10)),
                        produceRequest(id++, "", 0, batch(1, 10))))) {
            if (o instanceof Throwable t) {
                throw new AssertionError("the stream failed instead of answering in band", t);
            }
            rs.add((ProduceResponse) o);
        }
        assertEquals(4, rs.size(), "one in-band answer per request: " + rs);
        ErrorCode[] expected = {
            ErrorCode.ERROR_CODE_UNKNOWN_TOPIC,
            ErrorCode.ERROR_CODE_UNKNOWN_PARTITION,
            ErrorCode.ERROR_CODE_UNKNOWN_PARTITION,
            ErrorCode.ERROR_CODE_INVALID_REQUEST
        };
        for (ProduceResponse r : rs) {
            assertEquals(expected[(int) r.getRequestId() - 1], r.getError().getCode(), r.toString());
            assertNoStackTrace("produce error", r.getError().getMessage());
        }
        List<ListOffsetsResult> lo = listOffsetsBadQueries(leaderOf(0));
        if (lo.get(2).getError().getCode() == ErrorCode.ERROR_CODE_NOT_LEADER) {
            lo = listOffsetsBadQueries(leaderOf(0)); // leadership moved in between: ask the new leader
        }
        assertEquals(ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, lo.get(0).getError().getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_PARTITION, lo.get(1).getError().getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_TIMESTAMP, lo.get(2).getError().getCode());
    }

    static List<ListOffsetsResult> listOffsetsBadQueries(int broker) {
        return FetchServiceGrpc.newBlockingStub(cluster.channel(broker))
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .listOffsets(ListOffsetsRequest.newBuilder()
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic("nope")
                                .setPartition(0)
                                .setBoundary(LogBoundary.LOG_BOUNDARY_LATEST))
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic(TOPIC)
                                .setPartition(9)
                                .setBoundary(LogBoundary.LOG_BOUNDARY_LATEST))
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic(TOPIC)
                                .setPartition(0)
                                .setTimestampMs(-1))
                        .build())
                .getResultsList();
    }

    @Test
    @Order(3)
    void negativeAndOutOfRangeOffsetsAreOutOfRangeWithTheValidRange() throws Exception {
        long hw = highWatermark(0);
        assertTrue(hw > 0, "partition 0 has data");
        for (long offset : new long[] {-1, Long.MIN_VALUE, hw + 1, Long.MAX_VALUE}) {
            ErrorInfo info = assertFailure(
                    "fetch at offset " + offset,
                    fetchFailureAtLeader(0, start(TOPIC, 0).setOffset(offset)),
                    Status.Code.OUT_OF_RANGE,
                    ErrorCode.ERROR_CODE_OFFSET_OUT_OF_RANGE);
            assertEquals(hw, info.getOffsetRange().getHighWatermark(), "the error names the valid range");
            assertEquals(0, info.getOffsetRange().getLogStartOffset());
        }
        assertFailure(
                "fetch at a negative timestamp",
                fetchFailureAtLeader(0, start(TOPIC, 0).setTimestampMs(-5)),
                Status.Code.INVALID_ARGUMENT,
                ErrorCode.ERROR_CODE_INVALID_TIMESTAMP);
        // Through the SDK: a negative seek is refused at once, an offset past the end fails the poll.
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        try (Consumer c = client.newConsumer().create()) {
            c.assign(List.of(tp));
            assertThrows(IllegalArgumentException.class, () -> c.seek(tp, -1));
            c.seek(tp, hw + 1000);
            OffsetOutOfRangeException e = assertThrows(OffsetOutOfRangeException.class, () -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (System.nanoTime() < deadline) {
                    c.poll(Duration.ofMillis(200));
                }
            });
            assertNoStackTrace("consumer error", e.getMessage());
        }
    }

    // ------------------------------------------------------------------ produce payloads

    @Test
    @Order(4)
    void corruptAndOversizedBatchesAreRejectedAndNothingIsAppended() throws Exception {
        long before = highWatermark(1);
        ByteBuffer badCrc = batch(3, 10);
        badCrc.put(badCrc.limit() - 1, (byte) (badCrc.get(badCrc.limit() - 1) ^ 0x5a));
        ByteBuffer good = batch(2, 10);
        ByteBuffer truncated = good.duplicate().limit(good.remaining() - 3).slice();
        ByteBuffer junk =
                ByteBuffer.wrap("definitely not a record batch, just some bytes".getBytes(StandardCharsets.UTF_8));
        record Case(String what, ByteBuffer records, ErrorCode code) {}
        List<Case> cases = List.of(
                new Case("wrong CRC", badCrc, ErrorCode.ERROR_CODE_CORRUPT_BATCH),
                new Case("truncated batch", truncated, ErrorCode.ERROR_CODE_CORRUPT_BATCH),
                new Case("junk bytes", junk, ErrorCode.ERROR_CODE_CORRUPT_BATCH),
                new Case("empty records", ByteBuffer.allocate(0), ErrorCode.ERROR_CODE_INVALID_REQUEST),
                new Case(
                        "batch above produce.max.batch.bytes",
                        batch(40, MAX_BATCH / 32),
                        ErrorCode.ERROR_CODE_BATCH_TOO_LARGE),
                new Case(
                        "single record above produce.max.batch.bytes",
                        batch(1, MAX_BATCH + 10),
                        ErrorCode.ERROR_CODE_RECORD_TOO_LARGE));
        for (Case c : cases) {
            ProduceResponse r = produceAtLeader(produceRequest(1, TOPIC, 1, c.records()));
            assertEquals(c.code(), r.getError().getCode(), c.what() + ": " + r.getError());
            assertFalse(r.getError().getMessage().isBlank(), c.what() + " explains itself");
            assertNoStackTrace(c.what(), r.getError().getMessage());
        }
        // A message above message.max.bytes never reaches the handler: gRPC fails the whole call.
        List<Object> out = produceStream(leaderOf(1), List.of(produceRequest(1, TOPIC, 1, batch(3, MAX_MESSAGE / 2))));
        assertEquals(1, out.size(), out.toString());
        assertInstanceOf(StatusRuntimeException.class, out.get(0), "the oversized message fails the call");
        Status s = ((StatusRuntimeException) out.get(0)).getStatus();
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, s.getCode(), s.toString());
        assertNoStackTrace("oversized message", String.valueOf(s.getDescription()));
        // The high watermark may still move: a leader change under load appends the new leader's no-op control batch,
        // which takes an offset. What must not appear is a data record.
        assertEquals(
                List.of(),
                dataRecordsBetween(1, before, highWatermark(1)),
                "nothing was appended by the rejected batches");
        // The same stream shape with a good batch is accepted.
        ProduceResponse ok = produceAtLeader(produceRequest(2, TOPIC, 1, good));
        assertFalse(ok.hasError(), ok.toString());
        assertTrue(ok.getBaseOffset() >= before, ok.toString());
        // A follower answers NOT_LEADER naming the leader and its client endpoint.
        int follower = leaderOf(1) % 3 + 1;
        ProduceResponse redirect = produceOne(follower, produceRequest(3, TOPIC, 1, good));
        assertEquals(ErrorCode.ERROR_CODE_NOT_LEADER, redirect.getError().getCode());
        var hint = redirect.getError().getNotLeader();
        assertTrue(hint.hasLeaderId() && hint.getLeaderId() != follower, hint.toString());
        assertEquals(
                cluster.grpcPort(hint.getLeaderId()), hint.getLeaderEndpoint().getPort(), hint.toString());
    }

    @Test
    @Order(5)
    void malformedProtobufFailsTheCallWithInvalidArgument() throws Exception {
        // Field 2 (length-delimited) claiming 100 bytes with 3 present; and a lone invalid tag.
        List<byte[]> garbage = List.of(new byte[] {0x12, 100, 'a', 'b', 'c'}, new byte[] {(byte) 0xff, (byte) 0xff});
        List<MethodDescriptor<?, ?>> methods = List.of(
                ProduceServiceGrpc.getProduceMethod(),
                FetchServiceGrpc.getFetchMethod(),
                FetchServiceGrpc.getListOffsetsMethod(),
                AdminServiceGrpc.getCreateTopicMethod(),
                AdminServiceGrpc.getGetMetadataMethod());
        for (int b = 1; b <= 3; b++) {
            for (MethodDescriptor<?, ?> m : methods) {
                for (byte[] g : garbage) {
                    StatusRuntimeException e = rawCall(cluster.channel(b), m, g);
                    assertFailure(
                            m.getBareMethodName() + " with malformed bytes on broker " + b,
                            e,
                            Status.Code.INVALID_ARGUMENT,
                            ErrorCode.ERROR_CODE_INVALID_REQUEST);
                }
            }
        }
    }

    // ------------------------------------------------------------------ clients that never read

    @Test
    @Order(6)
    void clientsThatNeverReadDoNotStopTheBrokerServingOthers() throws Exception {
        // About 8 MiB in partition 2, so that a stalled reader could pile up far more than its bound.
        String big = "x".repeat(16 * 1024);
        TopicPartition tp = new TopicPartition(TOPIC, 2);
        try (Producer p = client.newProducer().batchSize(256 * 1024).create()) {
            for (int i = 0; i < 512; i++) {
                p.sendAsync(Record.of(TOPIC, null, big).withPartition(2));
            }
            p.flush();
        }
        int leader = leaderOf(2);
        long hw = highWatermark(2);
        List<ManagedChannel> stalledChannels = new ArrayList<>();
        List<ClientCall<?, ?>> stalledCalls = new ArrayList<>();
        try {
            for (int c = 0; c < 4; c++) {
                ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", cluster.grpcPort(leader))
                        .usePlaintext()
                        .build();
                stalledChannels.add(ch);
                // Fetch streams with plenty of credit whose responses are never requested (never read).
                for (int s = 0; s < 4; s++) {
                    ClientCall<FetchRequest, FetchResponse> call =
                            ch.newCall(FetchServiceGrpc.getFetchMethod(), CallOptions.DEFAULT);
                    call.start(new ClientCall.Listener<>() {}, new Metadata());
                    call.sendMessage(FetchRequest.newBuilder()
                            .setStart(start(TOPIC, 2).setOffset(0).setInitialCredits(1_000_000))
                            .build());
                    stalledCalls.add(call);
                }
                // A produce stream that sends far more requests than the in-flight limit and never reads answers.
                ClientCall<ProduceRequest, ProduceResponse> produce =
                        ch.newCall(ProduceServiceGrpc.getProduceMethod(), CallOptions.DEFAULT);
                produce.start(new ClientCall.Listener<>() {}, new Metadata());
                ByteBuffer small = batch(1, 100);
                for (int i = 0; i < 200; i++) {
                    produce.sendMessage(produceRequest(i + 1, TOPIC, 2, small));
                }
                stalledCalls.add(produce);
            }
            // Meanwhile a normal consumer reads the whole partition and a normal producer is served.
            long started = System.nanoTime();
            try (Consumer consumer = client.newConsumer().create()) {
                consumer.assign(List.of(tp));
                consumer.seek(tp, 0);
                long read = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
                while (consumer.position(tp) < hw) {
                    read += consumer.poll(Duration.ofMillis(200)).size();
                    if (System.nanoTime() > deadline) {
                        fail("a normal consumer next to stalled clients reached " + consumer.position(tp) + " of " + hw
                                + " in 40 s");
                    }
                }
                assertTrue(read >= 512, "read " + read);
            }
            try (Producer p = client.newProducer().create()) {
                RecordPosition pos = p.send(Record.of(TOPIC, null, "post-stall").withPartition(2));
                assertTrue(pos.offset() >= hw);
            }
            System.out.printf(
                    "[BadInputIT] served a normal consumer and producer next to 16 stalled fetch streams and 4 stalled"
                            + " produce streams in %.1f s%n",
                    (System.nanoTime() - started) / 1e9);
            assertTrue(cluster.isAlive(leader), "the broker serving the stalled clients is alive");
            assertTrue(cluster.isReady(leader), "and healthy");
        } finally {
            for (ClientCall<?, ?> c : stalledCalls) {
                c.cancel("test over", null);
            }
            for (ManagedChannel ch : stalledChannels) {
                ch.shutdownNow();
            }
        }
    }

    // ------------------------------------------------------------------ the CLI

    @Test
    @Order(7)
    void cliTopicCreateWithBadArgumentsExitsOneWithOneLine() throws Exception {
        record Case(String what, List<String> args, String expected) {}
        String bootstrap = "--bootstrap=" + cluster.bootstrap();
        // Parse errors of picocli itself (unknown option, missing NAME, not a number) are covered by SluiceCliTest.
        List<Case> cases = List.of(
                new Case("invalid name", List.of("topic", "create", "bad name", bootstrap), "INVALID_TOPIC_NAME"),
                new Case(
                        "rf above brokers",
                        List.of("topic", "create", "rf", "--replication-factor", "4", bootstrap),
                        "INVALID_REPLICATION_FACTOR"),
                new Case(
                        "zero partitions",
                        List.of("topic", "create", "zero", "--partitions", "0", bootstrap),
                        "must be >= 1"),
                new Case(
                        "huge partitions",
                        List.of("topic", "create", "huge", "--partitions", "1000000", bootstrap),
                        "INVALID_PARTITION_COUNT"),
                new Case("existing topic", List.of("topic", "create", TOPIC, bootstrap), "TOPIC_ALREADY_EXISTS"),
                new Case(
                        "bad config",
                        List.of("topic", "create", "cfg", "--config", "retention.ms=soon", bootstrap),
                        "INVALID_CONFIG"),
                new Case(
                        "no broker there",
                        List.of("topic", "create", "nobody", "--bootstrap=127.0.0.1:1"),
                        "BROKER_NOT_AVAILABLE"));
        Path dir = Files.createTempDirectory(data, "cli");
        List<String> problems = new ArrayList<>();
        // Two CLI JVMs at a time: more would starve the brokers on a 2-core machine.
        List<Integer> running = new ArrayList<>();
        Process[] procs = new Process[cases.size()];
        long[] startedAt = new long[cases.size()];
        for (int i = 0; i <= cases.size(); i++) {
            while (!running.isEmpty() && (running.size() >= 2 || i == cases.size())) {
                int j = running.remove(0);
                checkCli(
                        cases.get(j).what(),
                        cases.get(j).args(),
                        cases.get(j).expected(),
                        procs[j],
                        dir,
                        j,
                        startedAt[j],
                        bootstrap,
                        problems);
            }
            if (i == cases.size()) {
                break;
            }
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx128m",
                    "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC",
                    "-Dcom.google.protobuf.use_unsafe_pre22_gencode=true",
                    "-cp",
                    System.getProperty("java.class.path"),
                    "io.sluice.cli.SluiceCli"));
            cmd.addAll(cases.get(i).args());
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectOutput(dir.resolve("out-" + i).toFile())
                    .redirectError(dir.resolve("err-" + i).toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().keySet().removeIf(k -> k.startsWith("SLUICE_"));
            startedAt[i] = System.nanoTime();
            procs[i] = pb.start();
            running.add(i);
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertEquals(
                List.of("defaults", TOPIC),
                admin(1).listTopics(ListTopicsRequest.getDefaultInstance()).getTopicsList().stream()
                        .map(t -> t.getName())
                        .sorted()
                        .toList(),
                "the CLI created no topic");
    }

    /** Waits for one CLI process and records what is wrong with its exit code and output. */
    private static void checkCli(
            String what,
            List<String> args,
            String expected,
            Process p,
            Path dir,
            int i,
            long startedAt,
            String bootstrap,
            List<String> problems)
            throws Exception {
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                problems.add(what + ": still running after 60 s; stderr so far: "
                        + Files.readString(dir.resolve("err-" + i)) + "\n" + threadDump(p));
                return;
            }
        } finally {
            p.destroyForcibly();
        }
        String stdout = Files.readString(dir.resolve("out-" + i));
        List<String> stderr = Files.readAllLines(dir.resolve("err-" + i)).stream()
                .filter(l -> !l.isBlank())
                .toList();
        String all = stdout + String.join("\n", stderr);
        if (p.exitValue() != 1) {
            problems.add(what + ": exit code " + p.exitValue() + ", stdout " + stdout + ", stderr " + stderr);
        } else if (stderr.size() != 1) {
            problems.add(what + ": " + stderr.size() + " lines on stderr: " + stderr);
        } else if (all.contains("\tat ") || all.contains("Exception in thread")) {
            problems.add(what + ": a stack trace: " + all);
        } else if (!stderr.get(0).contains(expected)) {
            problems.add(what + ": '" + stderr.get(0) + "' does not mention " + expected);
        } else {
            System.out.printf(
                    "[BadInputIT] sluice %s -> exit 1 in %.1f s: %s%n",
                    String.join(" ", args).replace(bootstrap, "--bootstrap=..."),
                    (System.nanoTime() - startedAt) / 1e9,
                    stderr.get(0));
        }
    }

    /** The threads of a hung child JVM, for the failure message. */
    private static String threadDump(Process p) {
        try {
            Process jcmd = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "jcmd")
                                    .toString(),
                            Long.toString(p.pid()),
                            "Thread.print")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            jcmd.waitFor(20, TimeUnit.SECONDS);
            return out;
        } catch (IOException | InterruptedException e) {
            return "(no thread dump: " + e + ")";
        }
    }

    // ------------------------------------------------------------------ unharmed

    @Test
    @Order(8)
    void everyBrokerStillProducesAndConsumesNormally() {
        for (int b = 1; b <= 3; b++) {
            assertTrue(cluster.isAlive(b), "broker " + b + " is alive");
            assertTrue(cluster.isReady(b), "broker " + b + " is ready");
        }
        List<TopicPartition> tps =
                List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1), new TopicPartition(TOPIC, 2));
        List<RecordPosition> sent = new ArrayList<>();
        try (Producer p = client.newProducer().create()) {
            List<CompletableFuture<RecordPosition>> fs = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                fs.add(p.sendAsync(Record.of(TOPIC, "after" + i, "after" + i)));
            }
            p.flush();
            for (var f : fs) {
                sent.add(f.join());
            }
        }
        // Every partition's leader served some of them (keys spread over the 3 partitions, led by 3 brokers).
        assertEquals(3, sent.stream().map(RecordPosition::partition).distinct().count());
        try (Consumer c = client.newConsumer().create()) {
            c.assign(tps);
            for (TopicPartition tp : tps) {
                long first = sent.stream()
                        .filter(s -> s.partition() == tp.partition())
                        .mapToLong(RecordPosition::offset)
                        .min()
                        .orElseThrow();
                c.seek(tp, first);
            }
            List<ConsumedRecord> got = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (got.stream()
                            .filter(r -> r.valueAsString().startsWith("after"))
                            .count()
                    < 300) {
                got.addAll(c.poll(Duration.ofMillis(200)));
                assertTrue(System.nanoTime() < deadline, "read back " + got.size() + " of 300 in 30 s");
            }
            for (ConsumedRecord r : got) {
                assertEquals(r.keyAsString(), r.valueAsString());
            }
        }
        for (int b = 1; b <= 3; b++) {
            assertTrue(cluster.isAlive(b), "broker " + b + " is alive at the end");
            assertNotEquals(0, cluster.pid(b));
        }
        assertEquals(List.of(), cluster.internalErrors(), "no bad input made a broker fail with INTERNAL (a bug)");
    }

    // ------------------------------------------------------------------ what only a broker process does

    @Test
    @Order(9)
    void brokerProcessesRunTheirJitCompilersAtTheDefaultNiceValue() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux /proc");
        for (int b = 1; b <= 3; b++) {
            Path tasks = Path.of("/proc", Long.toString(cluster.pid(b)), "task");
            List<Long> compilers = CompilerThreads.find(tasks);
            assertFalse(compilers.isEmpty(), "broker " + b + " has compiler threads");
            for (long tid : compilers) {
                assertEquals(
                        OptionalInt.of(10),
                        CompilerThreads.niceOf(tasks.resolve(Long.toString(tid))),
                        "broker " + b + " compiler thread " + tid + " (jit.compiler.nice defaults to 10)");
            }
        }
    }
}
