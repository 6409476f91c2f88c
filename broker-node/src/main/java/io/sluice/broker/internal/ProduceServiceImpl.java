package io.sluice.broker.internal;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sluice.broker.internal.metrics.RequestMetrics;
import io.sluice.logstore.record.BatchHeader;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ProduceRequest;
import io.sluice.proto.v1.ProduceResponse;
import io.sluice.proto.v1.ProduceServiceGrpc;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The Produce service: a pipelined bidi stream of one-batch requests. Each request is validated (topic, partition,
 * leadership, size limits, header and CRC) before it is proposed; responses for one partition leave in request order
 * (a per-partition queue of pending requests, drained from its head), different partitions interleave. The in-flight
 * bound is gRPC inbound flow control: the stream starts with {@code produce.max.inflight.per.stream} requested messages
 * and asks for one more per response sent, so a fast producer is slowed, never refused. A client that stops reading
 * its responses stops being read too (requests are re-admitted only while the response stream is ready), so unread
 * responses cannot pile up.
 *
 * <p>Thread-safe: each stream's state is guarded by its own lock; completions hop to the request executor.
 */
public final class ProduceServiceImpl extends ProduceServiceGrpc.ProduceServiceImplBase {
    private final PartitionLookup lookup;
    private final Executor executor;
    private final int maxInflight;
    private final int maxBatchBytes;
    private final int defaultTimeoutMs;
    private final RequestMetrics metrics;

    public ProduceServiceImpl(
            BrokerBackend backend, Executor executor, int maxInflight, int maxBatchBytes, int defaultTimeoutMs) {
        this(backend, executor, maxInflight, maxBatchBytes, defaultTimeoutMs, RequestMetrics.NONE);
    }

    public ProduceServiceImpl(
            BrokerBackend backend,
            Executor executor,
            int maxInflight,
            int maxBatchBytes,
            int defaultTimeoutMs,
            RequestMetrics metrics) {
        this.lookup = new PartitionLookup(backend);
        this.executor = executor;
        this.maxInflight = maxInflight;
        this.maxBatchBytes = maxBatchBytes;
        this.defaultTimeoutMs = defaultTimeoutMs;
        this.metrics = metrics;
    }

    @Override
    public StreamObserver<ProduceRequest> produce(StreamObserver<ProduceResponse> responseObserver) {
        ServerCallStreamObserver<ProduceResponse> out = (ServerCallStreamObserver<ProduceResponse>) responseObserver;
        out.disableAutoRequest();
        Stream s = new Stream(out);
        out.setOnCancelHandler(s::cancelled);
        out.setOnReadyHandler(s::ready);
        out.request(maxInflight);
        return s;
    }

    /** Validates a request's batch and returns it in a writable buffer of its own. */
    ByteBuffer validateBatch(ProduceRequest req) {
        ByteString records = req.getRecords();
        int size = records.size();
        if (size == 0) {
            throw BrokerException.invalidRequest("records", "the request carries no record batch");
        }
        if (size > maxBatchBytes) {
            int count = size >= BatchHeader.HEADER_SIZE
                    ? records.substring(BatchHeader.RECORD_COUNT_OFFSET, BatchHeader.RECORD_COUNT_OFFSET + 4)
                            .asReadOnlyByteBuffer()
                            .getInt()
                    : 0;
            ErrorCode code = count == 1 ? ErrorCode.ERROR_CODE_RECORD_TOO_LARGE : ErrorCode.ERROR_CODE_BATCH_TOO_LARGE;
            throw BrokerException.of(
                    code,
                    "the record batch has " + size + " bytes, more than produce.max.batch.bytes (" + maxBatchBytes + ")"
                            + (count == 1 ? "; its single record can never be written" : ""));
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        records.copyTo(buf);
        buf.flip();
        RecordBatch batch = RecordBatch.wrap(buf);
        if (batch.sizeInBytes() != size) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_CORRUPT_BATCH,
                    "records must hold exactly one batch: the batch declares " + batch.sizeInBytes() + " bytes but "
                            + size + " were sent");
        }
        if (batch.magic() != BatchHeader.CURRENT_MAGIC) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION,
                    "unsupported record batch magic " + batch.magic() + " (this broker writes magic "
                            + BatchHeader.CURRENT_MAGIC + ")");
        }
        batch.ensureValid();
        if (batch.isControl()) {
            throw BrokerException.invalidRequest("records", "control batches are written by the broker only");
        }
        if (batch.recordCount() == 0) {
            throw BrokerException.invalidRequest("records", "the batch holds no record");
        }
        return buf;
    }

    private record PartitionKey(String topic, int partition) {}

    private static final class Pending {
        final long requestId;
        final long receivedNanos = System.nanoTime();
        // Set once the batch is validated (for metrics).
        int records;
        int bytes;
        boolean quorum;
        ProduceResponse response;

        Pending(long requestId) {
            this.requestId = requestId;
        }
    }

    private final class Stream implements StreamObserver<ProduceRequest> {
        private final ServerCallStreamObserver<ProduceResponse> out;
        private final Object lock = new Object();
        private final Set<Long> inflightIds = new HashSet<>();
        private final Map<PartitionKey, ArrayDeque<Pending>> queues = new HashMap<>();
        private boolean halfClosed;
        private boolean done;
        // Requests to re-admit once the client reads its responses again (it may stop reading them).
        private int owed;

        Stream(ServerCallStreamObserver<ProduceResponse> out) {
            this.out = out;
        }

        void cancelled() {
            synchronized (lock) {
                done = true;
            }
        }

        @Override
        public void onNext(ProduceRequest req) {
            PartitionKey key = new PartitionKey(req.getTopic(), req.getPartition());
            Pending p = new Pending(req.getRequestId());
            synchronized (lock) {
                if (done) {
                    return;
                }
                if (!inflightIds.add(req.getRequestId())) {
                    done = true;
                    out.onError(Errors.toStatusException(BrokerException.invalidRequest(
                            "request_id",
                            "request id " + req.getRequestId() + " is already in flight on this stream")));
                    return;
                }
                queues.computeIfAbsent(key, k -> new ArrayDeque<>()).add(p);
            }
            CompletableFuture<PartitionHandle.AppendResult> appended;
            try {
                if (TopicNames.isInternal(req.getTopic())) {
                    throw BrokerException.badRequest(
                            ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME,
                            "topic",
                            "\"" + req.getTopic() + "\" is an internal topic (names starting with \"__\" are"
                                    + " reserved); only the broker writes to it");
                }
                boolean quorum =
                        switch (req.getAcks()) {
                            case ACKS_UNSPECIFIED, ACKS_QUORUM -> true;
                            case ACKS_LEADER -> false;
                            default ->
                                throw BrokerException.invalidRequest(
                                        "acks", "unknown acks value " + req.getAcksValue());
                        };
                PartitionHandle h = lookup.leader(req.getTopic(), req.getPartition());
                ByteBuffer batch = validateBatch(req);
                p.records = batch.getInt(batch.position() + BatchHeader.RECORD_COUNT_OFFSET);
                p.bytes = batch.remaining();
                p.quorum = quorum;
                int timeoutMs = req.getTimeoutMs() > 0 ? req.getTimeoutMs() : defaultTimeoutMs;
                appended = h.append(batch, quorum).orTimeout(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (RuntimeException e) {
                appended = CompletableFuture.failedFuture(e);
            }
            appended.whenCompleteAsync((r, e) -> complete(key, p, req, r, e), executor);
        }

        private void complete(
                PartitionKey key, Pending p, ProduceRequest req, PartitionHandle.AppendResult r, Throwable e) {
            ProduceResponse.Builder b = ProduceResponse.newBuilder()
                    .setRequestId(req.getRequestId())
                    .setTopic(req.getTopic())
                    .setPartition(req.getPartition());
            if (e == null) {
                b.setBaseOffset(r.baseOffset()).setLastOffset(r.lastOffset());
                metrics.produced(req.getTopic(), p.records, p.bytes, p.quorum, System.nanoTime() - p.receivedNanos);
            } else {
                b.setError(Errors.toErrorInfo(e));
                metrics.produceFailed(req.getTopic(), b.getError().getCode());
            }
            synchronized (lock) {
                p.response = b.build();
                ArrayDeque<Pending> q = queues.get(key);
                int sent = 0;
                while (q != null && !q.isEmpty() && q.peek().response != null) {
                    Pending head = q.poll();
                    inflightIds.remove(head.requestId);
                    if (!done) {
                        out.onNext(head.response);
                    }
                    sent++;
                }
                if (q != null && q.isEmpty()) {
                    queues.remove(key);
                }
                if (done) {
                    return;
                }
                if (halfClosed) {
                    if (inflightIds.isEmpty()) {
                        done = true;
                        out.onCompleted();
                    }
                } else if (sent > 0) {
                    owed += sent;
                    admitOwed();
                }
            }
        }

        /** Re-admits requests only while the client reads responses, so unread responses stay bounded. */
        private void admitOwed() {
            if (owed > 0 && out.isReady()) {
                out.request(owed);
                owed = 0;
            }
        }

        void ready() {
            synchronized (lock) {
                if (!done && !halfClosed) {
                    admitOwed();
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            cancelled();
        }

        @Override
        public void onCompleted() {
            synchronized (lock) {
                halfClosed = true;
                if (!done && inflightIds.isEmpty()) {
                    done = true;
                    out.onCompleted();
                }
            }
        }
    }
}
