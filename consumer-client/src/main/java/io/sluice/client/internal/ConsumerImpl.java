package io.sluice.client.internal;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.ConsumerBuilder.OffsetReset;
import io.sluice.client.ErrorCode;
import io.sluice.client.NotLeaderException;
import io.sluice.client.OffsetOutOfRangeException;
import io.sluice.client.OffsetSpec;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.Header;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.proto.v1.FetchCredit;
import io.sluice.proto.v1.FetchRequest;
import io.sluice.proto.v1.FetchResponse;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.FetchStart;
import io.sluice.proto.v1.LogBoundary;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@link Consumer}: one Fetch stream per assigned partition at its leader. gRPC threads put responses and
 * stream failures on one event queue; {@link #poll} (the owning thread) decodes them, skips control batches and
 * records below the position, advances positions and grants one credit back per response with records. Each
 * stream has a generation: a seek or reopen bumps it and events of older generations are dropped.
 *
 * <p>Failover: a failed stream is reopened, after a metadata update (the NOT_LEADER hint, or a refresh), at the
 * offset after the last record handed out (or buffered), so nothing is lost or repeated.
 *
 * <p>Not thread-safe except {@link #wakeup()} and {@link #close()}.
 */
final class ConsumerImpl implements Consumer {
    private static final long RETRY_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final AtomicInteger IDS = new AtomicInteger();

    private final SluiceClientImpl client;
    private final MetadataCache metadata;
    private final int credits;
    private final int maxBytes;
    private final int maxPollRecords;
    private final OffsetReset offsetReset;
    private final Map<TopicPartition, PartitionState> partitions = new LinkedHashMap<>();
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final AtomicBoolean wakeup = new AtomicBoolean();
    private final Map<String, Long> lastRefresh = new LinkedHashMap<>();
    private volatile boolean closed;
    private volatile boolean polling;
    private final AtomicBoolean cleaned = new AtomicBoolean();
    private final int id = IDS.incrementAndGet();

    ConsumerImpl(SluiceClientImpl client, ConsumerBuilderImpl b) {
        this.client = client;
        this.metadata = client.metadata();
        this.credits = b.credits;
        this.maxBytes = b.maxBytesPerResponse;
        this.maxPollRecords = b.maxPollRecords;
        this.offsetReset = b.offsetReset;
    }

    /** What came from a stream. Exactly one of response, error is set, or neither for the wake-up marker. */
    private record Event(PartitionState ps, int generation, FetchResponse response, SluiceException error) {}

    /** Per-partition state; owned by the consuming thread. */
    private final class PartitionState {
        final TopicPartition tp;
        /** Next offset to hand out; null while a seek to a boundary or a time is unresolved. */
        Long position;

        OffsetSpec pendingSpec = OffsetSpec.earliest();
        int generation;
        ClientCallStreamObserver<FetchRequest> stream;
        long reopenAtNanos;
        final Deque<ConsumedRecord> buffered = new ArrayDeque<>();
        /** One past the last offset covered by the buffered response. */
        long bufferedEnd;

        PartitionState(TopicPartition tp) {
            this.tp = tp;
        }

        long fetchOffset() {
            return buffered.isEmpty() ? position : Math.max(position, bufferedEnd);
        }

        void resetStream() {
            generation++;
            if (stream != null) {
                try {
                    stream.cancel("consumer moved or closed the stream", null);
                } catch (RuntimeException e) {
                    // already gone
                }
                stream = null;
            }
            buffered.clear();
            reopenAtNanos = 0;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("consumer is closed");
        }
    }

    private PartitionState state(TopicPartition tp) {
        PartitionState ps = partitions.get(tp);
        if (ps == null) {
            throw new IllegalStateException(tp + " is not assigned to this consumer");
        }
        return ps;
    }

    @Override
    public void assign(Collection<TopicPartition> tps) {
        checkOpen();
        Set<TopicPartition> wanted = new LinkedHashSet<>(tps);
        for (var it = partitions.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!wanted.contains(e.getKey())) {
                e.getValue().resetStream();
                it.remove();
            }
        }
        for (TopicPartition tp : wanted) {
            partitions.computeIfAbsent(tp, PartitionState::new);
        }
    }

    @Override
    public Set<TopicPartition> assignment() {
        return Set.copyOf(partitions.keySet());
    }

    @Override
    public void seek(TopicPartition tp, long offset) {
        checkOpen();
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        }
        PartitionState ps = state(tp);
        ps.resetStream();
        ps.position = offset;
        ps.pendingSpec = null;
    }

    private void seekSpec(TopicPartition tp, OffsetSpec spec) {
        checkOpen();
        PartitionState ps = state(tp);
        ps.resetStream();
        ps.position = null;
        ps.pendingSpec = spec;
    }

    @Override
    public void seekToBeginning(Collection<TopicPartition> tps) {
        tps.forEach(tp -> seekSpec(tp, OffsetSpec.earliest()));
    }

    @Override
    public void seekToEnd(Collection<TopicPartition> tps) {
        tps.forEach(tp -> seekSpec(tp, OffsetSpec.latest()));
    }

    @Override
    public void seekToTimestamp(TopicPartition tp, Instant time) {
        seekSpec(tp, OffsetSpec.forTimestamp(time));
    }

    @Override
    public long position(TopicPartition tp) {
        checkOpen();
        PartitionState ps = state(tp);
        if (ps.position == null) {
            long resolved =
                    client.adminImpl().listOffsets(Map.of(tp, ps.pendingSpec)).get(tp);
            ps.resetStream();
            ps.position = resolved;
            ps.pendingSpec = null;
        }
        return ps.position;
    }

    @Override
    public List<ConsumedRecord> poll(Duration timeout) {
        checkOpen();
        polling = true;
        try {
            long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
            List<ConsumedRecord> out = new ArrayList<>();
            while (true) {
                if (wakeup.getAndSet(false)) {
                    throw new WakeupException();
                }
                if (closed) {
                    return out;
                }
                takeBuffered(out);
                if (out.size() >= maxPollRecords) {
                    return out;
                }
                long now = System.nanoTime();
                openStreams(now);
                Event e;
                while (out.size() < maxPollRecords && (e = events.poll()) != null) {
                    handle(e, out);
                }
                if (!out.isEmpty()) {
                    return out;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return out;
                }
                try {
                    e = events.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new SluiceException(ErrorCode.UNKNOWN, "interrupted", ie);
                }
                if (e != null) {
                    handle(e, out);
                }
            }
        } finally {
            polling = false;
            if (closed) {
                cleanup();
            }
        }
    }

    private void takeBuffered(List<ConsumedRecord> out) {
        for (PartitionState ps : partitions.values()) {
            while (out.size() < maxPollRecords && !ps.buffered.isEmpty()) {
                ConsumedRecord r = ps.buffered.pollFirst();
                out.add(r);
                ps.position = r.offset() + 1;
            }
            if (ps.buffered.isEmpty() && ps.position != null && ps.bufferedEnd > ps.position) {
                ps.position = ps.bufferedEnd;
            }
        }
    }

    private void openStreams(long now) {
        for (PartitionState ps : partitions.values()) {
            if (ps.stream != null || now < ps.reopenAtNanos) {
                continue;
            }
            String leader = metadata.leaderEndpoint(ps.tp).orElse(null);
            if (leader == null) {
                refresh(ps.tp.topic(), now);
                ps.reopenAtNanos = now + RETRY_BACKOFF_NANOS;
                continue;
            }
            open(ps, leader);
        }
    }

    private void refresh(String topic, long now) {
        Long last = lastRefresh.get(topic);
        if (last != null && now - last < RETRY_BACKOFF_NANOS) {
            return;
        }
        lastRefresh.put(topic, now);
        metadata.refresh(List.of(topic)).exceptionally(t -> null);
    }

    private void open(PartitionState ps, String leader) {
        int gen = ++ps.generation;
        FetchStart.Builder start = FetchStart.newBuilder()
                .setTopic(ps.tp.topic())
                .setPartition(ps.tp.partition())
                .setMaxBytes(maxBytes)
                .setInitialCredits(credits);
        if (ps.position != null) {
            start.setOffset(ps.fetchOffset());
        } else if (ps.pendingSpec instanceof OffsetSpec.ForTimestamp ts) {
            start.setTimestampMs(ts.time().toEpochMilli());
        } else if (ps.pendingSpec instanceof OffsetSpec.Latest) {
            start.setBoundary(LogBoundary.LOG_BOUNDARY_LATEST);
        } else {
            start.setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST);
        }
        StreamObserver<FetchResponse> observer = new StreamObserver<>() {
            @Override
            public void onNext(FetchResponse r) {
                events.add(new Event(ps, gen, r, null));
            }

            @Override
            public void onError(Throwable t) {
                events.add(new Event(ps, gen, null, ErrorMapper.map(t)));
            }

            @Override
            public void onCompleted() {
                events.add(new Event(
                        ps,
                        gen,
                        null,
                        new RetriableException(ErrorCode.BROKER_NOT_AVAILABLE, "broker ended the fetch stream")));
            }
        };
        try {
            ps.stream = (ClientCallStreamObserver<FetchRequest>)
                    FetchServiceGrpc.newStub(client.connections().channel(leader))
                            .fetch(observer);
            ps.stream.onNext(FetchRequest.newBuilder().setStart(start).build());
        } catch (RuntimeException e) {
            ps.stream = null;
            metadata.invalidate(ps.tp);
            ps.reopenAtNanos = System.nanoTime() + RETRY_BACKOFF_NANOS;
        }
    }

    private void handle(Event e, List<ConsumedRecord> out) {
        PartitionState ps = e.ps();
        if (ps == null || partitions.get(ps.tp) != ps || e.generation() != ps.generation) {
            return; // wake-up marker, unassigned partition, or a stream replaced by a seek or reopen
        }
        if (e.error() != null) {
            onStreamError(ps, e.error());
            return;
        }
        FetchResponse r = e.response();
        if (r.getRecords().isEmpty()) {
            if (ps.position == null) {
                ps.position = r.getNextOffset();
                ps.pendingSpec = null;
            }
            return;
        }
        ByteBuffer buf = r.getRecords().asReadOnlyByteBuffer();
        if (ps.position == null) {
            ps.position = RecordBatch.wrap(buf, buf.position()).baseOffset();
            ps.pendingSpec = null;
        }
        long from = ps.fetchOffset();
        long end = from;
        List<ConsumedRecord> decoded = new ArrayList<>();
        int pos = buf.position();
        while (pos < buf.limit()) {
            int size = RecordBatch.sizeAt(buf, pos);
            if (size < 0 || size > buf.limit() - pos) {
                break; // the broker sends whole batches; a tail would be a protocol error, ignore it
            }
            RecordBatch batch = RecordBatch.wrap(buf, pos);
            pos += size;
            batch.ensureValid();
            end = Math.max(end, batch.nextOffset());
            if (batch.isControl() || batch.nextOffset() <= from) {
                continue;
            }
            for (Record rec : batch) {
                if (rec.offset() < from) {
                    continue;
                }
                decoded.add(toConsumed(ps.tp, rec));
            }
        }
        // records already handed out must not be repeated even if the broker resent them
        for (ConsumedRecord c : decoded) {
            if (out.size() < maxPollRecords && ps.buffered.isEmpty()) {
                out.add(c);
                ps.position = c.offset() + 1;
            } else {
                ps.buffered.addLast(c);
            }
        }
        ps.bufferedEnd = end;
        if (ps.buffered.isEmpty() && end > ps.position) {
            ps.position = end;
        }
        if (ps.stream != null) {
            ps.stream.onNext(FetchRequest.newBuilder()
                    .setCredit(FetchCredit.newBuilder().setCredits(1))
                    .build());
        }
    }

    private static ConsumedRecord toConsumed(TopicPartition tp, Record rec) {
        List<io.sluice.client.Header> headers = new ArrayList<>(rec.headers().size());
        for (Header h : rec.headers()) {
            headers.add(new io.sluice.client.Header(h.key(), h.value()));
        }
        return new ConsumedRecord(
                tp.topic(), tp.partition(), rec.offset(), rec.timestamp(), rec.keyBytes(), rec.valueBytes(), headers);
    }

    private void onStreamError(PartitionState ps, SluiceException error) {
        ps.stream = null;
        ps.generation++;
        long now = System.nanoTime();
        if (error instanceof NotLeaderException nle) {
            metadata.onNotLeader(ps.tp, nle);
            ps.reopenAtNanos = metadata.leaderEndpoint(ps.tp).isPresent() ? now : now + RETRY_BACKOFF_NANOS;
            if (metadata.leaderEndpoint(ps.tp).isEmpty()) {
                refresh(ps.tp.topic(), now);
            }
            return;
        }
        if (error instanceof RetriableException) {
            metadata.invalidate(ps.tp);
            refresh(ps.tp.topic(), now);
            ps.reopenAtNanos = now + RETRY_BACKOFF_NANOS;
            return;
        }
        if (error instanceof OffsetOutOfRangeException oor && offsetReset != OffsetReset.NONE) {
            ps.buffered.clear();
            ps.position = null;
            ps.pendingSpec = offsetReset == OffsetReset.EARLIEST ? OffsetSpec.earliest() : OffsetSpec.latest();
            ps.reopenAtNanos = now;
            return;
        }
        // not retriable: the partition stays as it is; the application decides (seek, unassign, stop)
        ps.reopenAtNanos = Long.MAX_VALUE;
        throw error;
    }

    @Override
    public void consume(RecordHandler handler) {
        try {
            while (!closed) {
                for (ConsumedRecord r : poll(Duration.ofMillis(100))) {
                    handler.handle(r);
                }
            }
        } catch (WakeupException e) {
            // asked to stop
        }
    }

    @Override
    public CompletableFuture<Void> consumeAsync(RecordHandler handler) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(
                () -> {
                    try {
                        consume(handler);
                        done.complete(null);
                    } catch (Throwable e) {
                        done.completeExceptionally(e);
                    }
                },
                "sluice-consumer-" + id);
        t.setDaemon(true);
        t.start();
        return done;
    }

    @Override
    public void wakeup() {
        wakeup.set(true);
        events.add(new Event(null, 0, null, null));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        events.add(new Event(null, 0, null, null));
        if (!polling) {
            cleanup();
        }
        client.unregister(this);
    }

    private void cleanup() {
        if (!cleaned.compareAndSet(false, true)) {
            return;
        }
        for (PartitionState ps : partitions.values()) {
            ps.resetStream();
        }
    }
}
