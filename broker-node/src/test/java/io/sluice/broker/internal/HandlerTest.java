package io.sluice.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.sluice.logstore.LogConfig;
import io.sluice.logstore.record.BatchHeader;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.logstore.record.RecordBatches;
import io.sluice.proto.v1.Acks;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.CreateTopicRequest;
import io.sluice.proto.v1.DeleteTopicRequest;
import io.sluice.proto.v1.DescribeClusterRequest;
import io.sluice.proto.v1.DescribeTopicRequest;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.FetchCredit;
import io.sluice.proto.v1.FetchRequest;
import io.sluice.proto.v1.FetchResponse;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.FetchStart;
import io.sluice.proto.v1.GetMetadataRequest;
import io.sluice.proto.v1.GetMetadataResponse;
import io.sluice.proto.v1.ListOffsetsQuery;
import io.sluice.proto.v1.ListOffsetsRequest;
import io.sluice.proto.v1.ListOffsetsResult;
import io.sluice.proto.v1.ListTopicsRequest;
import io.sluice.proto.v1.LogBoundary;
import io.sluice.proto.v1.ProduceRequest;
import io.sluice.proto.v1.ProduceResponse;
import io.sluice.proto.v1.ProduceServiceGrpc;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Handler tests over the in-process transport against an in-memory backend: happy paths and the bad-input table. */
class HandlerTest {
    static final int MAX_BATCH = 64 * 1024;

    InMemoryBackend backend;
    final Recorded recorded = new Recorded();
    ExecutorService executor;
    Server server;
    ManagedChannel channel;

    @BeforeEach
    void setUp() throws Exception {
        backend = new InMemoryBackend(1, 3);
        executor = Executors.newFixedThreadPool(4);
        String name = InProcessServerBuilder.generateName();
        ErrorMappingInterceptor i = new ErrorMappingInterceptor();
        server = InProcessServerBuilder.forName(name)
                .executor(executor)
                .addService(ServerInterceptors.intercept(
                        new ProduceServiceImpl(backend, executor, 8, MAX_BATCH, 5000, recorded), i))
                .addService(ServerInterceptors.intercept(
                        new FetchServiceImpl(backend, executor, 1 << 20, 1 << 20, recorded), i))
                .addService(
                        ServerInterceptors.intercept(new AdminServiceImpl(backend, LogConfig.defaults(), 100, 1, 3), i))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        backend.createTopic("t", 2, 3, java.util.Map.of()).join();
    }

    @AfterEach
    void tearDown() throws Exception {
        channel.shutdownNow();
        server.shutdownNow();
        executor.shutdownNow();
        assertTrue(channel.awaitTermination(5, TimeUnit.SECONDS));
    }

    static ByteBuffer batch(int records, int valueBytes, long timestamp) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        for (int i = 0; i < records; i++) {
            byte[] v = new byte[valueBytes];
            v[0] = (byte) i;
            b.append(timestamp + i, ("k" + i).getBytes(StandardCharsets.UTF_8), v);
        }
        return b.build();
    }

    static ProduceRequest req(long id, String topic, int partition, ByteBuffer batch) {
        return ProduceRequest.newBuilder()
                .setRequestId(id)
                .setTopic(topic)
                .setPartition(partition)
                .setAcks(Acks.ACKS_QUORUM)
                .setRecords(ByteString.copyFrom(batch.duplicate()))
                .build();
    }

    /** Sends the requests on one stream, half-closes, and returns the responses (and the final status). */
    List<ProduceResponse> produce(List<ProduceRequest> reqs) throws Exception {
        LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
        StreamObserver<ProduceRequest> s = ProduceServiceGrpc.newStub(channel).produce(new StreamObserver<>() {
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
        reqs.forEach(s::onNext);
        s.onCompleted();
        List<ProduceResponse> out = new ArrayList<>();
        while (true) {
            Object o = q.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "timed out waiting for produce responses");
            if (o instanceof ProduceResponse r) {
                out.add(r);
            } else if (o instanceof StatusRuntimeException e) {
                throw e;
            } else {
                return out;
            }
        }
    }

    ProduceResponse produceOne(ProduceRequest r) throws Exception {
        List<ProduceResponse> rs = produce(List.of(r));
        assertEquals(1, rs.size());
        return rs.get(0);
    }

    static ErrorInfo trailerError(StatusRuntimeException e) {
        assertNotNull(e.getTrailers(), "trailers");
        byte[] b = e.getTrailers().get(Errors.ERROR_TRAILER);
        assertNotNull(b, "no sluice-error-bin trailer on " + e.getStatus());
        try {
            return ErrorInfo.parseFrom(b);
        } catch (Exception ex) {
            throw new AssertionError(ex);
        }
    }

    /** What the services reported to their metrics. */
    static final class Recorded implements io.sluice.broker.internal.metrics.RequestMetrics {
        final java.util.concurrent.atomic.AtomicLong producedRecords = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong producedBytes = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong fetchedRecords = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong fetchedBytes = new java.util.concurrent.atomic.AtomicLong();
        final List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void produced(String topic, int records, int bytes, boolean quorum, long nanos) {
            assertTrue(quorum && nanos >= 0 && topic.equals("t"));
            producedRecords.addAndGet(records);
            producedBytes.addAndGet(bytes);
        }

        @Override
        public void produceFailed(String topic, io.sluice.proto.v1.ErrorCode code) {
            failures.add(topic + ":" + code.name());
        }

        @Override
        public void fetched(String topic, int records, int bytes, long nanos) {
            assertTrue(nanos >= 0 && topic.equals("t"));
            fetchedBytes.addAndGet(bytes);
            fetchedRecords.addAndGet(records); // the test waits on this one: written last
        }
    }

    @Test
    void produceThenFetchRoundTripInOrderPerPartition() throws Exception {
        List<ProduceRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            reqs.add(req(i + 1, "t", i % 2, batch(3, 10, 1000 + i)));
        }
        List<ProduceResponse> rs = produce(reqs);
        assertEquals(20, rs.size());
        long[] next = new long[2];
        for (ProduceResponse r : rs) {
            assertFalse(r.hasError(), r.toString());
            assertEquals(next[r.getPartition()], r.getBaseOffset());
            assertEquals(r.getBaseOffset() + 2, r.getLastOffset());
            next[r.getPartition()] = r.getLastOffset() + 1;
        }
        List<FetchResponse> fs = fetch(
                FetchStart.newBuilder()
                        .setTopic("t")
                        .setPartition(0)
                        .setOffset(0)
                        .setInitialCredits(100)
                        .build(),
                2);
        assertEquals(0, fs.get(0).getRecords().size(), "the first response reports the position only");
        assertEquals(30, fs.get(0).getHighWatermark());
        int records = RecordBatches.dataRecords(fs.get(1).getRecords().asReadOnlyByteBuffer())
                .size();
        assertEquals(30, records);
        assertEquals(30, fs.get(1).getNextOffset());
        // What the metrics saw: every acknowledged batch, and the records and bytes sent.
        assertEquals(60, recorded.producedRecords.get());
        assertEquals(20L * batch(3, 10, 1000).remaining(), recorded.producedBytes.get());
        TestUtil.waitFor(
                () -> recorded.fetchedRecords.get() == 30,
                java.time.Duration.ofSeconds(10),
                "the fetch response is recorded");
        assertEquals(fs.get(1).getRecords().size(), recorded.fetchedBytes.get());
        assertEquals(List.of(), recorded.failures);
        produce(List.of(req(99, "t", 7, batch(1, 10, 1000))));
        assertEquals(List.of("t:ERROR_CODE_UNKNOWN_PARTITION"), recorded.failures);
    }

    @Test
    void largeResponsesAreReadInPiecesAndHoldWholeBatchesUpToMaxBytes() throws Exception {
        List<ProduceRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            reqs.add(req(i + 1, "t", 0, batch(1, 50_000, 1000 + i)));
        }
        for (ProduceResponse r : produce(reqs)) {
            assertFalse(r.hasError(), r.toString());
        }
        int batchBytes = batch(1, 50_000, 1000).remaining();
        int maxBytes = 11 * batchBytes + batchBytes / 2;
        List<FetchResponse> fs = fetch(
                FetchStart.newBuilder()
                        .setTopic("t")
                        .setPartition(0)
                        .setOffset(0)
                        .setMaxBytes(maxBytes)
                        .setInitialCredits(10)
                        .build(),
                3);
        FetchResponse big = fs.get(1);
        assertTrue(
                big.getRecords().size() > FetchServiceImpl.READ_PIECE_BYTES,
                "pieces are joined into one response: " + big.getRecords().size());
        assertEquals(11 * batchBytes, big.getRecords().size(), "whole batches only, up to max_bytes");
        assertEquals(11, big.getNextOffset());
        List<io.sluice.logstore.record.Record> got =
                new ArrayList<>(RecordBatches.dataRecords(big.getRecords().asReadOnlyByteBuffer()));
        got.addAll(RecordBatches.dataRecords(fs.get(2).getRecords().asReadOnlyByteBuffer()));
        assertEquals(12, got.size());
        for (int i = 0; i < got.size(); i++) {
            assertEquals(i, got.get(i).offset());
        }
        assertEquals(12, fs.get(2).getNextOffset());
        assertTrue(backend.local("t", 0).largestRead() <= FetchServiceImpl.READ_PIECE_BYTES, "no read above a piece");
        assertEquals(
                12L * batchBytes,
                backend.local("t", 0).bytesRead(),
                "each batch read once: the 12th, read while filling the first response, leads the second");

        // Without max_bytes the broker's default applies.
        List<FetchResponse> dflt = fetch(
                FetchStart.newBuilder()
                        .setTopic("t")
                        .setPartition(0)
                        .setOffset(0)
                        .setInitialCredits(1)
                        .build(),
                2);
        assertEquals(
                FetchServiceImpl.DEFAULT_MAX_BYTES / batchBytes * batchBytes,
                dflt.get(1).getRecords().size());
    }

    /** Opens a fetch stream, waits for {@code n} responses, then cancels it. */
    List<FetchResponse> fetch(FetchStart start, int n) throws Exception {
        LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
        StreamObserver<FetchRequest> s = FetchServiceGrpc.newStub(channel).fetch(collect(q));
        s.onNext(FetchRequest.newBuilder().setStart(start).build());
        List<FetchResponse> out = new ArrayList<>();
        while (out.size() < n) {
            Object o = q.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "timed out waiting for fetch responses; got " + out);
            if (o instanceof StatusRuntimeException e) {
                s.onError(e);
                throw e;
            }
            if (o instanceof FetchResponse r) {
                out.add(r);
            }
        }
        s.onError(Status.CANCELLED.asRuntimeException());
        return out;
    }

    static <T> StreamObserver<T> collect(LinkedBlockingQueue<Object> q) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T r) {
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
        };
    }

    StatusRuntimeException fetchError(FetchRequest... msgs) throws Exception {
        LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
        StreamObserver<FetchRequest> s = FetchServiceGrpc.newStub(channel).fetch(collect(q));
        for (FetchRequest m : msgs) {
            s.onNext(m);
        }
        while (true) {
            Object o = q.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "timed out waiting for the fetch stream to fail");
            if (o instanceof StatusRuntimeException e) {
                return e;
            }
            assertFalse("done".equals(o), "stream ended OK");
        }
    }

    @Test
    void tailingFetchIsPushedNewBatchesAndHonoursCredits() throws Exception {
        LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
        StreamObserver<FetchRequest> s = FetchServiceGrpc.newStub(channel).fetch(collect(q));
        s.onNext(FetchRequest.newBuilder()
                .setStart(FetchStart.newBuilder()
                        .setTopic("t")
                        .setPartition(1)
                        .setBoundary(LogBoundary.LOG_BOUNDARY_LATEST)
                        .setInitialCredits(1))
                .build());
        FetchResponse first = (FetchResponse) q.poll(10, TimeUnit.SECONDS);
        assertEquals(0, first.getNextOffset());
        produceOne(req(1, "t", 1, batch(2, 5, 1)));
        FetchResponse pushed = (FetchResponse) q.poll(10, TimeUnit.SECONDS);
        assertNotNull(pushed, "a tailing fetch receives new batches");
        assertEquals(2, pushed.getNextOffset());
        produceOne(req(2, "t", 1, batch(2, 5, 1)));
        assertEquals(null, q.poll(300, TimeUnit.MILLISECONDS), "no credit left: nothing is sent");
        s.onNext(FetchRequest.newBuilder()
                .setCredit(FetchCredit.newBuilder().setCredits(1))
                .build());
        FetchResponse afterCredit = (FetchResponse) q.poll(10, TimeUnit.SECONDS);
        assertNotNull(afterCredit);
        assertEquals(4, afterCredit.getNextOffset());
        s.onCompleted();
        assertEquals("done", q.poll(10, TimeUnit.SECONDS));
    }

    // ---- the bad-input table: each gives a clear typed error and leaves the broker serving ----

    @Test
    void produceBadInputTable() throws Exception {
        ByteBuffer good = batch(2, 10, 1);
        ByteBuffer badCrc = batch(2, 10, 1);
        badCrc.put(badCrc.limit() - 1, (byte) (badCrc.get(badCrc.limit() - 1) ^ 0x55));
        ByteBuffer twoBatches = ByteBuffer.allocate(good.remaining() * 2);
        twoBatches.put(good.duplicate()).put(good.duplicate()).flip();
        ByteBuffer badMagic = batch(1, 1, 1);
        badMagic.put(BatchHeader.MAGIC_OFFSET, (byte) 9);
        ByteBuffer truncated = good.duplicate().limit(good.remaining() - 3).slice();
        record Case(String what, ProduceRequest req, ErrorCode code) {}
        List<Case> cases = List.of(
                new Case("unknown topic", req(1, "nope", 0, good), ErrorCode.ERROR_CODE_UNKNOWN_TOPIC),
                new Case("unknown partition", req(2, "t", 7, good), ErrorCode.ERROR_CODE_UNKNOWN_PARTITION),
                new Case("negative partition", req(3, "t", -1, good), ErrorCode.ERROR_CODE_UNKNOWN_PARTITION),
                new Case("wrong CRC", req(4, "t", 0, badCrc), ErrorCode.ERROR_CODE_CORRUPT_BATCH),
                new Case("two batches", req(5, "t", 0, twoBatches), ErrorCode.ERROR_CODE_CORRUPT_BATCH),
                new Case("truncated batch", req(6, "t", 0, truncated), ErrorCode.ERROR_CODE_CORRUPT_BATCH),
                new Case("unknown magic", req(7, "t", 0, badMagic), ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION),
                new Case("empty records", req(8, "t", 0, ByteBuffer.allocate(0)), ErrorCode.ERROR_CODE_INVALID_REQUEST),
                new Case("junk", req(9, "t", 0, ByteBuffer.wrap(new byte[100])), ErrorCode.ERROR_CODE_CORRUPT_BATCH),
                new Case(
                        "oversized batch",
                        req(10, "t", 0, batch(4, MAX_BATCH / 3, 1)),
                        ErrorCode.ERROR_CODE_BATCH_TOO_LARGE),
                new Case(
                        "oversized record",
                        req(11, "t", 0, batch(1, MAX_BATCH + 1, 1)),
                        ErrorCode.ERROR_CODE_RECORD_TOO_LARGE),
                new Case("internal topic", req(12, "__offsets", 0, good), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("empty topic", req(13, "", 0, good), ErrorCode.ERROR_CODE_INVALID_REQUEST));
        for (Case c : cases) {
            ProduceResponse r = produceOne(c.req);
            assertEquals(
                    c.code, r.getError().getCode(), c.what + ": " + r.getError().getMessage());
            assertFalse(r.getError().getMessage().isEmpty(), c.what + " has a message");
            assertFalse(r.getError().getMessage().contains("\tat "), c.what + " leaks a stack trace");
        }
        // Nothing was appended, and the broker still serves.
        assertEquals(0, backend.local("t", 0).logEndOffset());
        assertFalse(produceOne(req(100, "t", 0, good)).hasError());
    }

    @Test
    void produceToFollowerIsNotLeaderWithTheLeadersEndpoint() throws Exception {
        backend.local("t", 0).setLeader(false, OptionalInt.of(2));
        ProduceResponse r = produceOne(req(1, "t", 0, batch(1, 1, 1)));
        assertEquals(ErrorCode.ERROR_CODE_NOT_LEADER, r.getError().getCode());
        assertEquals(2, r.getError().getNotLeader().getLeaderId());
        assertEquals(7071, r.getError().getNotLeader().getLeaderEndpoint().getPort());
        assertEquals(
                "127.0.0.1", r.getError().getNotLeader().getLeaderEndpoint().getHost());
    }

    @Test
    void inflightLimitStopsReadingTheStreamUntilResponsesAreSent() throws Exception {
        InMemoryPartition p = backend.local("t", 0);
        p.setAutoCommit(false);
        LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
        StreamObserver<ProduceRequest> s = ProduceServiceGrpc.newStub(channel).produce(collect(q));
        for (int i = 1; i <= 20; i++) {
            s.onNext(req(i, "t", 0, batch(1, 1, 1)));
        }
        // The handler was built with an in-flight limit of 8: it reads 8 requests, then stops reading.
        TestUtil.waitFor(() -> p.appendCount() == 8, Duration.ofSeconds(5), "8 requests admitted");
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        while (System.nanoTime() < until) {
            assertEquals(8, p.appendCount(), "no request beyond the in-flight limit is read");
            Thread.yield();
        }
        p.setAutoCommit(true);
        p.commitAll();
        s.onCompleted();
        List<Long> ids = new ArrayList<>();
        while (true) {
            Object o = q.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "timed out; got " + ids);
            if (o instanceof ProduceResponse r) {
                assertFalse(r.hasError());
                ids.add(r.getRequestId());
            } else {
                assertEquals("done", o);
                break;
            }
        }
        assertEquals(20, ids.size());
        for (int i = 0; i < 20; i++) {
            assertEquals(i + 1, ids.get(i), "responses of one partition in request order");
        }
    }

    @Test
    void duplicateInflightRequestIdFailsTheStream() throws Exception {
        InMemoryPartition p = backend.local("t", 0);
        p.setAutoCommit(false);
        // Acks quorum never completes while nothing commits, so request 1 stays in flight.
        StatusRuntimeException e = assertThrows(
                StatusRuntimeException.class,
                () -> produce(List.of(req(1, "t", 0, batch(1, 1, 1)), req(1, "t", 0, batch(1, 1, 1)))));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(ErrorCode.ERROR_CODE_INVALID_REQUEST, trailerError(e).getCode());
    }

    @Test
    void fetchBadInputTable() throws Exception {
        produceOne(req(1, "t", 0, batch(5, 1, 1)));
        record Case(String what, FetchRequest[] msgs, Status.Code status, ErrorCode code) {}
        List<Case> cases = List.of(
                new Case(
                        "negative offset",
                        fs(start("t", 0).setOffset(-1)),
                        Status.Code.OUT_OF_RANGE,
                        ErrorCode.ERROR_CODE_OFFSET_OUT_OF_RANGE),
                new Case(
                        "offset past HW",
                        fs(start("t", 0).setOffset(6)),
                        Status.Code.OUT_OF_RANGE,
                        ErrorCode.ERROR_CODE_OFFSET_OUT_OF_RANGE),
                new Case(
                        "unknown topic",
                        fs(start("x", 0).setOffset(0)),
                        Status.Code.NOT_FOUND,
                        ErrorCode.ERROR_CODE_UNKNOWN_TOPIC),
                new Case(
                        "unknown partition",
                        fs(start("t", 9).setOffset(0)),
                        Status.Code.NOT_FOUND,
                        ErrorCode.ERROR_CODE_UNKNOWN_PARTITION),
                new Case(
                        "no position",
                        fs(start("t", 0)),
                        Status.Code.INVALID_ARGUMENT,
                        ErrorCode.ERROR_CODE_INVALID_REQUEST),
                new Case(
                        "negative timestamp",
                        fs(start("t", 0).setTimestampMs(-5)),
                        Status.Code.INVALID_ARGUMENT,
                        ErrorCode.ERROR_CODE_INVALID_TIMESTAMP),
                new Case(
                        "boundary unset",
                        fs(start("t", 0).setBoundary(LogBoundary.LOG_BOUNDARY_UNSPECIFIED)),
                        Status.Code.INVALID_ARGUMENT,
                        ErrorCode.ERROR_CODE_INVALID_REQUEST),
                new Case(
                        "credit first",
                        new FetchRequest[] {credit(1)},
                        Status.Code.INVALID_ARGUMENT,
                        ErrorCode.ERROR_CODE_INVALID_REQUEST),
                new Case(
                        "zero credit",
                        new FetchRequest[] {fs(start("t", 0).setOffset(0))[0], credit(0)},
                        Status.Code.INVALID_ARGUMENT,
                        ErrorCode.ERROR_CODE_INVALID_REQUEST),
                new Case(
                        "second start",
                        new FetchRequest[] {
                            fs(start("t", 0).setOffset(0))[0], fs(start("t", 0).setOffset(0))[0]
                        },
                        Status.Code.INVALID_ARGUMENT,
                        ErrorCode.ERROR_CODE_INVALID_REQUEST),
                new Case(
                        "empty message",
                        new FetchRequest[] {FetchRequest.getDefaultInstance()},
                        Status.Code.INVALID_ARGUMENT,
                        ErrorCode.ERROR_CODE_INVALID_REQUEST));
        for (Case c : cases) {
            StatusRuntimeException e = fetchError(c.msgs);
            assertEquals(c.status, e.getStatus().getCode(), c.what + ": " + e.getStatus());
            ErrorInfo info = trailerError(e);
            assertEquals(c.code, info.getCode(), c.what);
            if (c.code == ErrorCode.ERROR_CODE_OFFSET_OUT_OF_RANGE) {
                assertEquals(5, info.getOffsetRange().getHighWatermark(), c.what);
            }
        }
        InMemoryPartition p0 = backend.local("t", 0);
        TestUtil.waitFor(
                () -> p0.listenerCount() == 0, Duration.ofSeconds(5), "failed streams leave no listener behind");
        backend.local("t", 0).setLeader(false, OptionalInt.of(3));
        StatusRuntimeException e = fetchError(fs(start("t", 0).setOffset(0)));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertEquals(3, trailerError(e).getNotLeader().getLeaderId());
    }

    static FetchStart.Builder start(String topic, int partition) {
        return FetchStart.newBuilder().setTopic(topic).setPartition(partition).setInitialCredits(10);
    }

    static FetchRequest[] fs(FetchStart.Builder s) {
        return new FetchRequest[] {FetchRequest.newBuilder().setStart(s).build()};
    }

    static FetchRequest credit(int n) {
        return FetchRequest.newBuilder()
                .setCredit(FetchCredit.newBuilder().setCredits(n))
                .build();
    }

    @Test
    void listOffsetsAnswersPerPartitionWithInBandErrors() throws Exception {
        produceOne(req(1, "t", 0, batch(3, 1, 1000)));
        List<ListOffsetsResult> rs = FetchServiceGrpc.newBlockingStub(channel)
                .listOffsets(ListOffsetsRequest.newBuilder()
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic("t")
                                .setPartition(0)
                                .setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST))
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic("t")
                                .setPartition(0)
                                .setBoundary(LogBoundary.LOG_BOUNDARY_LATEST))
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic("t")
                                .setPartition(0)
                                .setTimestampMs(1001))
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic("t")
                                .setPartition(0)
                                .setTimestampMs(5000))
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic("t")
                                .setPartition(0)
                                .setTimestampMs(-1))
                        .addQueries(ListOffsetsQuery.newBuilder()
                                .setTopic("t")
                                .setPartition(5)
                                .setBoundary(LogBoundary.LOG_BOUNDARY_LATEST))
                        .addQueries(ListOffsetsQuery.newBuilder().setTopic("t").setPartition(0))
                        .build())
                .getResultsList();
        assertEquals(0, rs.get(0).getOffset());
        assertEquals(3, rs.get(1).getOffset());
        assertEquals(1, rs.get(2).getOffset());
        assertEquals(1001, rs.get(2).getTimestampMs());
        assertFalse(rs.get(3).hasOffset());
        assertFalse(rs.get(3).hasError());
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_TIMESTAMP, rs.get(4).getError().getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_PARTITION, rs.get(5).getError().getCode());
        assertEquals(ErrorCode.ERROR_CODE_INVALID_REQUEST, rs.get(6).getError().getCode());
    }

    @Test
    void adminBadInputTable() {
        AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel);
        record Case(String what, CreateTopicRequest req, ErrorCode code) {}
        List<Case> cases = List.of(
                new Case("empty name", create("", 1, 1), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("dot", create(".", 1, 1), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("dotdot", create("..", 1, 1), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("slash", create("a/b", 1, 1), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("space", create("a b", 1, 1), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("unicode", create("caf\u00e9", 1, 1), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("too long", create("x".repeat(250), 1, 1), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("reserved", create("__offsets", 1, 1), ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME),
                new Case("negative partitions", create("a", -1, 1), ErrorCode.ERROR_CODE_INVALID_PARTITION_COUNT),
                new Case("huge partitions", create("a", 1_000_000, 1), ErrorCode.ERROR_CODE_INVALID_PARTITION_COUNT),
                new Case("rf above brokers", create("a", 1, 4), ErrorCode.ERROR_CODE_INVALID_REPLICATION_FACTOR),
                new Case("negative rf", create("a", 1, -1), ErrorCode.ERROR_CODE_INVALID_REPLICATION_FACTOR),
                new Case("exists", create("t", 1, 1), ErrorCode.ERROR_CODE_TOPIC_ALREADY_EXISTS),
                new Case(
                        "bad config",
                        create("a", 1, 1).toBuilder()
                                .putConfigs("retention.ms", "soon")
                                .build(),
                        ErrorCode.ERROR_CODE_INVALID_CONFIG),
                new Case(
                        "unknown config",
                        create("a", 1, 1).toBuilder()
                                .putConfigs("colour", "red")
                                .build(),
                        ErrorCode.ERROR_CODE_INVALID_CONFIG));
        for (Case c : cases) {
            StatusRuntimeException e =
                    assertThrows(StatusRuntimeException.class, () -> admin.createTopic(c.req), c.what);
            assertEquals(c.code, trailerError(e).getCode(), c.what + ": " + e.getStatus());
            assertEquals(Errors.statusOf(c.code).getCode(), e.getStatus().getCode(), c.what);
        }
        assertEquals(
                List.of("t"),
                admin.listTopics(ListTopicsRequest.getDefaultInstance()).getTopicsList().stream()
                        .map(t -> t.getName())
                        .toList());
        // Zero means "the broker default" (1 partition, RF lowered to the live brokers).
        var created = admin.createTopic(create("a.b_c-1", 0, 0));
        assertEquals(1, created.getPartitions());
        assertEquals(3, created.getReplicationFactor());
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_TOPIC,
                trailerError(assertThrows(
                                StatusRuntimeException.class,
                                () -> admin.deleteTopic(DeleteTopicRequest.newBuilder()
                                        .setName("zz")
                                        .build())))
                        .getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_TOPIC,
                trailerError(assertThrows(
                                StatusRuntimeException.class,
                                () -> admin.describeTopic(DescribeTopicRequest.newBuilder()
                                        .setName("zz")
                                        .build())))
                        .getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME,
                trailerError(assertThrows(
                                StatusRuntimeException.class,
                                () -> admin.deleteTopic(DeleteTopicRequest.newBuilder()
                                        .setName("__offsets")
                                        .build())))
                        .getCode());
        admin.deleteTopic(DeleteTopicRequest.newBuilder().setName("a.b_c-1").build());
    }

    static CreateTopicRequest create(String name, int partitions, int rf) {
        return CreateTopicRequest.newBuilder()
                .setName(name)
                .setPartitions(partitions)
                .setReplicationFactor(rf)
                .build();
    }

    @Test
    void metadataAndDescribeNameLeadersAndEndpoints() {
        AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel);
        GetMetadataResponse m = admin.getMetadata(GetMetadataRequest.newBuilder()
                .addTopics("t")
                .addTopics("missing")
                .addTopics("bad name")
                .build());
        assertEquals(3, m.getBrokersCount());
        assertEquals(7070, m.getBrokers(0).getGrpcPort());
        assertEquals("bad name", m.getTopics(0).getName());
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME,
                m.getTopics(0).getError().getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, m.getTopics(1).getError().getCode());
        assertEquals(2, m.getTopics(2).getPartitionsCount());
        assertEquals(1, m.getTopics(2).getPartitions(0).getLeaderId());
        assertEquals(List.of(1, 2, 3), m.getTopics(2).getPartitions(0).getReplicasList());
        var d = admin.describeTopic(
                DescribeTopicRequest.newBuilder().setName("t").build());
        assertEquals(2, d.getTopic().getPartitionsCount());
        assertTrue(d.getTopic().getPartitions(0).hasHighWatermark());
        assertFalse(d.getTopic().getConfigsList().isEmpty());
        assertEquals(
                1,
                admin.describeCluster(DescribeClusterRequest.getDefaultInstance())
                        .getControllerId());
    }

    @Test
    void unexpectedExceptionIsInternalWithAnErrorIdAndNoStackTrace() {
        Metadata unused = new Metadata();
        assertNotNull(unused);
        StatusRuntimeException e = Errors.toStatusException(new IllegalStateException("boom"));
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
        ErrorInfo info = trailerError(e);
        assertEquals(ErrorCode.ERROR_CODE_INTERNAL, info.getCode());
        assertFalse(info.getInternal().getErrorId().isEmpty());
        assertFalse(e.getStatus().getDescription().contains("boom"), "the bug's message stays in the broker log");
    }
}
