package io.sluice.broker.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sluice.broker.internal.metrics.RequestMetrics;
import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.OffsetOutOfRangeException;
import io.sluice.logstore.record.BatchHeader;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.FetchRequest;
import io.sluice.proto.v1.FetchResponse;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.FetchStart;
import io.sluice.proto.v1.ListOffsetsQuery;
import io.sluice.proto.v1.ListOffsetsRequest;
import io.sluice.proto.v1.ListOffsetsResponse;
import io.sluice.proto.v1.ListOffsetsResult;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Fetch service (credit-based bidi stream of committed batches) and ListOffsets.
 *
 * <p>A fetch stream sends stored batch bytes untouched, up to the high watermark. It sends only while it holds
 * credit AND the transport is ready ({@code isReady}, with the onReady threshold set to {@code
 * fetch.max.buffered.bytes.per.stream}), so a consumer that stops reading costs the broker at most that many queued
 * bytes plus one response. When caught up it sends nothing until the partition's listener reports a high-watermark
 * advance; no thread polls. All sends of a stream happen in one drain loop at a time (a work-in-progress counter),
 * on the request executor, never on a network or Raft thread.
 *
 * <p>Thread-safe.
 */
public final class FetchServiceImpl extends FetchServiceGrpc.FetchServiceImplBase {
    /** Record bytes of one response when the client does not say (its SDK asks for the same). */
    static final int DEFAULT_MAX_BYTES = 256 * 1024;

    /**
     * The most one log read allocates: a response larger than this is read in pieces and sent as one rope. Each read
     * copies into a new heap array, and G1 makes an array of half a region or more (512 KiB on heaps up to 2 GiB) a
     * humongous object: allocated outside the young generation, in regions the JVM may never have touched, so the
     * kernel faults and zeroes their pages: 13.6 % of a cold broker's CPU while it served 1 MiB reads to a consumer
     * reading from the start (docs/benchmarks.md, fourth sitting).
     */
    static final int READ_PIECE_BYTES = 256 * 1024;

    private final PartitionLookup lookup;
    private final Executor executor;
    private final int maxBytesCap;
    private final int bufferedBytes;
    private final AtomicLong bytesSent = new AtomicLong();
    private final RequestMetrics metrics;

    public FetchServiceImpl(BrokerBackend backend, Executor executor, int maxBytesCap, int bufferedBytes) {
        this(backend, executor, maxBytesCap, bufferedBytes, RequestMetrics.NONE);
    }

    public FetchServiceImpl(
            BrokerBackend backend, Executor executor, int maxBytesCap, int bufferedBytes, RequestMetrics metrics) {
        this.lookup = new PartitionLookup(backend);
        this.executor = executor;
        this.maxBytesCap = maxBytesCap;
        this.bufferedBytes = bufferedBytes;
        this.metrics = metrics;
    }

    /** Data records in stored batches (from the headers only; control batches excluded). */
    static int dataRecords(ByteBuffer batches) {
        int records = 0;
        int pos = batches.position();
        int end = batches.limit();
        while (pos + BatchHeader.HEADER_SIZE <= end) {
            if ((batches.getShort(pos + BatchHeader.ATTRIBUTES_OFFSET) & BatchHeader.ATTR_CONTROL) == 0) {
                records += batches.getInt(pos + BatchHeader.RECORD_COUNT_OFFSET);
            }
            pos += BatchHeader.LOG_OVERHEAD + batches.getInt(pos + BatchHeader.BATCH_LENGTH_OFFSET);
        }
        return records;
    }

    /** Record bytes handed to gRPC by all fetch streams so far (for tests and metrics). */
    public long bytesSent() {
        return bytesSent.get();
    }

    @Override
    public StreamObserver<FetchRequest> fetch(StreamObserver<FetchResponse> responseObserver) {
        ServerCallStreamObserver<FetchResponse> out = (ServerCallStreamObserver<FetchResponse>) responseObserver;
        FetchStream s = new FetchStream(out);
        out.setOnReadyThreshold(bufferedBytes);
        out.setOnReadyHandler(s::scheduleDrain);
        out.setOnCancelHandler(s::close);
        return s;
    }

    @Override
    public void listOffsets(ListOffsetsRequest request, StreamObserver<ListOffsetsResponse> responseObserver) {
        ListOffsetsResponse.Builder resp = ListOffsetsResponse.newBuilder();
        for (ListOffsetsQuery q : request.getQueriesList()) {
            ListOffsetsResult.Builder r =
                    ListOffsetsResult.newBuilder().setTopic(q.getTopic()).setPartition(q.getPartition());
            try {
                PartitionHandle h = lookup.leader(q.getTopic(), q.getPartition());
                switch (q.getSpecCase()) {
                    case BOUNDARY -> {
                        switch (q.getBoundary()) {
                            case LOG_BOUNDARY_EARLIEST -> r.setOffset(h.logStartOffset());
                            case LOG_BOUNDARY_LATEST -> r.setOffset(h.highWatermark());
                            default ->
                                throw BrokerException.invalidRequest("boundary", "boundary must be EARLIEST or LATEST");
                        }
                    }
                    case TIMESTAMP_MS -> {
                        checkTimestamp(q.getTimestampMs());
                        h.offsetForTimestamp(q.getTimestampMs())
                                .ifPresent(to -> r.setOffset(to.offset()).setTimestampMs(to.timestampMs()));
                    }
                    default -> throw BrokerException.invalidRequest("spec", "set boundary or timestamp_ms");
                }
            } catch (RuntimeException e) {
                r.clearOffset().clearTimestampMs().setError(Errors.toErrorInfo(e));
            }
            resp.addResults(r);
        }
        responseObserver.onNext(resp.build());
        responseObserver.onCompleted();
    }

    private static void checkTimestamp(long ts) {
        if (ts < 0) {
            throw BrokerException.badRequest(
                    ErrorCode.ERROR_CODE_INVALID_TIMESTAMP, "timestamp_ms", "timestamp " + ts + " is negative");
        }
    }

    private final class FetchStream implements StreamObserver<FetchRequest> {
        private final ServerCallStreamObserver<FetchResponse> out;
        private final Object lock = new Object();
        private final AtomicInteger wip = new AtomicInteger();
        // Guarded by lock.
        private PartitionHandle handle;
        private PartitionHandle.Subscription subscription;
        private long credits;
        private boolean closed;
        // Touched only by the drain loop (and by start, before the first drain is scheduled).
        private long nextOffset;
        private int maxBytes;
        // A batch read for the last response that did not fit in it, starting at nextOffset: it leads the next one.
        private LogReadResult carried;

        FetchStream(ServerCallStreamObserver<FetchResponse> out) {
            this.out = out;
        }

        @Override
        public void onNext(FetchRequest req) {
            try {
                handle(req);
            } catch (RuntimeException e) {
                fail(e);
            }
        }

        private void handle(FetchRequest req) {
            switch (req.getKindCase()) {
                case START -> start(req.getStart());
                case CREDIT -> {
                    int n = req.getCredit().getCredits();
                    synchronized (lock) {
                        if (closed) {
                            return;
                        }
                        if (handle == null) {
                            throw BrokerException.invalidRequest("credit", "the first message must be start");
                        }
                        if (n < 1) {
                            throw BrokerException.invalidRequest("credit.credits", "credits must be >= 1");
                        }
                        credits = Math.min(Integer.MAX_VALUE, credits + Integer.toUnsignedLong(n));
                    }
                    scheduleDrain();
                }
                default -> throw BrokerException.invalidRequest("kind", "set start or credit");
            }
        }

        private void start(FetchStart s) {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                if (handle != null) {
                    throw BrokerException.invalidRequest("start", "start may only be the first message");
                }
            }
            PartitionHandle h = lookup.leader(s.getTopic(), s.getPartition());
            long position =
                    switch (s.getPositionCase()) {
                        case OFFSET -> {
                            long o = s.getOffset();
                            long start = h.logStartOffset();
                            long hw = h.highWatermark();
                            if (o < start || o > hw) {
                                throw new BrokerException(
                                        Errors.toErrorInfo(new OffsetOutOfRangeException(o, start, hw)).toBuilder()
                                                .setMessage("offset " + o + " is outside the readable range [" + start
                                                        + ", " + hw + "] of " + s.getTopic() + "-" + s.getPartition())
                                                .build());
                            }
                            yield o;
                        }
                        case TIMESTAMP_MS -> {
                            checkTimestamp(s.getTimestampMs());
                            yield h.offsetForTimestamp(s.getTimestampMs())
                                    .map(PartitionHandle.TimestampOffset::offset)
                                    .orElseGet(h::highWatermark);
                        }
                        case BOUNDARY ->
                            switch (s.getBoundary()) {
                                case LOG_BOUNDARY_EARLIEST -> h.logStartOffset();
                                case LOG_BOUNDARY_LATEST -> h.highWatermark();
                                default ->
                                    throw BrokerException.invalidRequest(
                                            "start.boundary", "boundary must be EARLIEST or LATEST");
                            };
                        default ->
                            throw BrokerException.invalidRequest(
                                    "start.position", "set offset, timestamp_ms or boundary");
                    };
            nextOffset = position;
            maxBytes = s.getMaxBytes() == 0
                    ? Math.min(DEFAULT_MAX_BYTES, maxBytesCap)
                    : Math.min(s.getMaxBytes(), maxBytesCap);
            synchronized (lock) {
                if (closed) {
                    return;
                }
                handle = h;
                credits = s.getInitialCredits();
                out.onNext(FetchResponse.newBuilder()
                        .setTopic(h.topic())
                        .setPartition(h.partition())
                        .setHighWatermark(h.highWatermark())
                        .setLogStartOffset(h.logStartOffset())
                        .setNextOffset(position)
                        .build());
                subscription = h.subscribe(this::scheduleDrain);
            }
            scheduleDrain();
        }

        void scheduleDrain() {
            if (wip.getAndIncrement() == 0) {
                executor.execute(this::drainLoop);
            }
        }

        private void drainLoop() {
            int missed = 1;
            while (true) {
                try {
                    drain();
                } catch (RuntimeException e) {
                    fail(e);
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        private void drain() {
            while (true) {
                PartitionHandle h;
                synchronized (lock) {
                    if (closed || handle == null) {
                        return;
                    }
                    h = handle;
                    if (!h.isLeader()) {
                        throw lookup.notLeader(h.topic(), h.partition(), h);
                    }
                    if (credits <= 0 || !out.isReady()) {
                        return;
                    }
                }
                long started = System.nanoTime();
                LogReadResult r = carried;
                carried = null;
                if (r == null) {
                    r = h.read(nextOffset, Math.min(maxBytes, READ_PIECE_BYTES));
                }
                if (r.isEmpty()) {
                    return;
                }
                // The log hands over buffers it never touches again, so they are sent without a copy.
                ByteString batches = UnsafeByteOperations.unsafeWrap(r.records());
                int records = dataRecords(r.records());
                long next = r.nextOffset();
                while (maxBytes - batches.size() >= BatchHeader.HEADER_SIZE) {
                    int room = maxBytes - batches.size();
                    LogReadResult more;
                    try {
                        more = h.read(next, Math.min(room, READ_PIECE_BYTES));
                    } catch (OffsetOutOfRangeException e) {
                        break; // retention moved past what was just read; the next drain reports it
                    }
                    if (more.isEmpty()) {
                        break; // caught up
                    }
                    if (more.sizeInBytes() > room) {
                        carried = more; // the next batch alone does not fit: it leads the next response
                        break;
                    }
                    batches = batches.concat(UnsafeByteOperations.unsafeWrap(more.records()));
                    records += dataRecords(more.records());
                    next = more.nextOffset();
                }
                FetchResponse resp = FetchResponse.newBuilder()
                        .setTopic(h.topic())
                        .setPartition(h.partition())
                        .setRecords(batches)
                        .setHighWatermark(h.highWatermark())
                        .setLogStartOffset(r.logStartOffset())
                        .setNextOffset(next)
                        .build();
                synchronized (lock) {
                    if (closed) {
                        return;
                    }
                    out.onNext(resp);
                    credits--;
                }
                int bytes = resp.getRecords().size();
                bytesSent.addAndGet(bytes);
                metrics.fetched(h.topic(), records, bytes, System.nanoTime() - started);
                nextOffset = next;
            }
        }

        private void fail(Throwable e) {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                close();
                out.onError(Errors.toStatusException(e));
            }
        }

        void close() {
            PartitionHandle.Subscription sub;
            synchronized (lock) {
                closed = true;
                sub = subscription;
                subscription = null;
            }
            if (sub != null) {
                sub.close();
            }
        }

        @Override
        public void onError(Throwable t) {
            close();
        }

        @Override
        public void onCompleted() {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                close();
                out.onCompleted();
            }
        }
    }
}
