package io.sluice.client.internal;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sluice.client.Acks;
import io.sluice.client.ErrorCode;
import io.sluice.client.NotLeaderException;
import io.sluice.client.Producer;
import io.sluice.client.Record;
import io.sluice.client.RecordPosition;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TimeoutException;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.Header;
import io.sluice.proto.v1.ProduceRequest;
import io.sluice.proto.v1.ProduceResponse;
import io.sluice.proto.v1.ProduceServiceGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Producer}: user threads append to the {@link RecordAccumulator}; one sender thread owns every
 * stream and all retry state, sends ready batches on one pipelined Produce stream per broker (at most
 * {@code maxInFlight} requests awaiting a response per stream) and handles responses, which gRPC's transport
 * threads hand to it through an event queue. Record futures complete on a single callback thread, so per partition
 * they complete in send order.
 *
 * <p>Retry protocol, per partition: a retriable failure mutes the partition (nothing new is sent), waits until
 * every request in flight for it has an outcome, then puts the failed batches back at the front of its queue in
 * their original order after a backoff; NOT_LEADER first applies the hint or invalidates the cached leader, so
 * the resend goes to the new leader.
 *
 * <p>Thread-safe.
 */
final class ProducerImpl implements Producer {
    private static final Logger log = LoggerFactory.getLogger(ProducerImpl.class);
    private static final AtomicInteger IDS = new AtomicInteger();
    /** Slack over the request timeout before the client gives up on a response the broker owes. */
    private static final long RESPONSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** {@link #drainOne}'s answer when it sent a batch. */
    private static final long SENT = Long.MIN_VALUE;

    private final SluiceClientImpl client;
    private final MetadataCache metadata;
    private final RecordAccumulator accumulator;
    private final Partitioners partitioners = new Partitioners();
    private final io.sluice.proto.v1.Acks acks;
    private final int maxInFlight;
    /** Sender thread only: where {@link #drainAll}'s next pass starts in the accumulator's queue list. */
    private int drainNext;

    private final long maxBlockNanos;
    private final int retries;
    private final long deliveryTimeoutNanos;
    private final long requestTimeoutNanos;
    private final long retryBackoffNanos;
    private final int requestTimeoutMs;
    private final boolean lingerZero;

    private final Thread sender;
    private final ExecutorService callbacks;
    private final ConcurrentLinkedQueue<Runnable> events = new ConcurrentLinkedQueue<>();
    private final AtomicInteger forcing = new AtomicInteger();
    private volatile boolean closed;
    private volatile boolean stopping;
    private volatile Thread callbackThread;

    // sender-thread state
    private final Map<String, Stream> streams = new HashMap<>();
    private final Map<String, Long> lastRefresh = new HashMap<>();
    private final Map<String, Boolean> refreshing = new HashMap<>();

    ProducerImpl(SluiceClientImpl client, ProducerBuilderImpl b) {
        this.client = client;
        this.metadata = client.metadata();
        this.accumulator = new RecordAccumulator(
                CompressionType.valueOf(b.compression.name()),
                b.batchSize,
                RecordAccumulator.toNanos(b.linger),
                b.bufferMemory,
                System::nanoTime);
        this.acks = b.acks == Acks.LEADER ? io.sluice.proto.v1.Acks.ACKS_LEADER : io.sluice.proto.v1.Acks.ACKS_QUORUM;
        this.maxInFlight = b.maxInFlight;
        this.maxBlockNanos = RecordAccumulator.toNanos(b.maxBlock);
        this.retries = b.retries;
        this.deliveryTimeoutNanos = RecordAccumulator.toNanos(b.deliveryTimeout);
        this.requestTimeoutNanos = RecordAccumulator.toNanos(b.requestTimeout);
        this.requestTimeoutMs = (int) Math.min(Integer.MAX_VALUE, b.requestTimeout.toMillis());
        this.retryBackoffNanos = RecordAccumulator.toNanos(b.retryBackoff);
        this.lingerZero = b.linger.isZero();
        int id = IDS.incrementAndGet();
        this.sender = new Thread(this::runSender, "sluice-producer-" + id + "-sender");
        this.sender.setDaemon(true);
        this.callbacks = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sluice-producer-" + id + "-callbacks");
            t.setDaemon(true);
            callbackThread = t;
            return t;
        });
    }

    void start() {
        sender.start();
    }

    // ---------------------------------------------------------------- user side

    @Override
    public CompletableFuture<RecordPosition> sendAsync(Record record) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("producer is closed"));
        }
        long deadline = System.nanoTime() + maxBlockNanos;
        try {
            int n = partitionCount(record.topic(), deadline);
            int partition;
            boolean sticky = false;
            if (record.partition().isPresent()) {
                partition = record.partition().getAsInt();
                if (partition >= n) {
                    throw new SluiceException(
                            ErrorCode.UNKNOWN_PARTITION,
                            "topic '" + record.topic() + "' has " + n + " partitions; no partition " + partition);
                }
            } else if (record.key() != null) {
                partition = Partitioners.forKey(record.key(), n);
            } else {
                partition = partitioners.sticky(record.topic(), n);
                sticky = true;
            }
            List<Header> headers = new ArrayList<>(record.headers().size());
            for (io.sluice.client.Header h : record.headers()) {
                headers.add(new Header(h.key(), h.value()));
            }
            long estimate = RecordAccumulator.estimate(record.key(), record.value(), headers);
            accumulator.reserve(estimate, deadline);
            long ts = record.timestamp().orElseGet(System::currentTimeMillis);
            RecordAccumulator.AppendResult r;
            try {
                r = accumulator.append(
                        new TopicPartition(record.topic(), partition),
                        ts,
                        record.key(),
                        record.value(),
                        headers,
                        estimate);
            } catch (RuntimeException e) {
                accumulator.release(estimate);
                throw new SluiceException(ErrorCode.RECORD_TOO_LARGE, "record rejected: " + e.getMessage(), e);
            }
            if (sticky && r.filledBatch()) {
                String topic = record.topic();
                partitioners.onBatchFull(topic, partition, n, p -> accumulator.load(new TopicPartition(topic, p)));
            }
            if (r.newBatch() || r.filledBatch() || lingerZero) {
                wakeup();
            }
            return r.future();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new SluiceException(ErrorCode.UNKNOWN, "interrupted", e));
        } catch (SluiceException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private int partitionCount(String topic, long deadline) throws InterruptedException {
        Optional<Integer> cached = metadata.partitionCount(topic);
        if (cached.isPresent()) {
            return cached.get();
        }
        SluiceException last = null;
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                if (last != null && last.code() == ErrorCode.UNKNOWN_TOPIC) {
                    throw last;
                }
                throw new TimeoutException("metadata for topic '" + topic + "' not available within max block"
                        + (last == null ? "" : ": " + last.getMessage()));
            }
            try {
                return metadata.partitionCountAsync(topic).get(left, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // loop: the deadline check above reports it
            } catch (java.util.concurrent.ExecutionException e) {
                last = ErrorMapper.map(e);
                if (!(last instanceof RetriableException) && last.code() != ErrorCode.UNKNOWN_TOPIC) {
                    throw last;
                }
                // a topic created a moment ago may not be known to every broker yet
                long pause = Math.min(retryBackoffNanos, deadline - System.nanoTime());
                if (pause > 0) {
                    TimeUnit.NANOSECONDS.sleep(pause);
                }
            }
        }
    }

    @Override
    public RecordPosition send(Record record) {
        return Futures.await(sendAsync(record));
    }

    @Override
    public void flush() {
        List<CompletableFuture<Void>> pending = accumulator.incompleteBatches();
        if (pending.isEmpty()) {
            return;
        }
        forcing.incrementAndGet();
        wakeup();
        try {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                    .exceptionally(t -> null)
                    .join();
        } finally {
            forcing.decrementAndGet();
        }
        // record futures complete on the callback thread after their batch is done: wait for those too
        if (Thread.currentThread() != callbackThread) {
            try {
                CompletableFuture.runAsync(() -> {}, callbacks).join();
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closed: nothing more will complete
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            flush();
        } finally {
            stopping = true;
            wakeup();
            try {
                sender.join(TimeUnit.NANOSECONDS.toMillis(deliveryTimeoutNanos) + 5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            callbacks.shutdown();
            try {
                callbacks.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            client.unregister(this);
        }
    }

    private void wakeup() {
        LockSupport.unpark(sender);
    }

    private void post(Runnable event) {
        events.add(event);
        wakeup();
    }

    // ---------------------------------------------------------------- sender thread

    private void runSender() {
        try {
            while (true) {
                Runnable e;
                while ((e = events.poll()) != null) {
                    e.run();
                }
                long now = System.nanoTime();
                if (stopping && !accumulator.hasIncomplete()) {
                    break;
                }
                long wakeAt = now + TimeUnit.MILLISECONDS.toNanos(100);
                boolean force = forcing.get() > 0 || stopping;
                wakeAt = Math.min(wakeAt, drainAll(now, force));
                for (Stream s : List.copyOf(streams.values())) {
                    s.expireOverdue(now);
                }
                long park = wakeAt - System.nanoTime();
                if (park > 0 && events.isEmpty()) {
                    LockSupport.parkNanos(this, park);
                }
            }
        } catch (Throwable t) {
            log.error("producer sender thread failed; failing every pending record", t);
            SluiceException e = new SluiceException(ErrorCode.INTERNAL, "producer sender failed: " + t, t);
            for (RecordAccumulator.PartitionQueue q : accumulator.queues()) {
                ProducerBatch b;
                while ((b = q.pollHead()) != null) {
                    fail(b, e);
                }
            }
        } finally {
            for (Stream s : streams.values()) {
                s.halfClose();
            }
            streams.clear();
        }
    }

    /**
     * Sends what is ready, one batch per partition per pass, each pass starting after the partition that sent last
     * (as Kafka's sender does): partitions that share a broker's stream share its {@code maxInFlight} slots fairly,
     * instead of the first partition in iteration order taking every free slot while the others wait. Returns when
     * the sender should look again.
     */
    private long drainAll(long now, boolean force) {
        List<RecordAccumulator.PartitionQueue> qs = accumulator.queues();
        int n = qs.size();
        long wakeAt = Long.MAX_VALUE;
        boolean sent = true;
        while (sent) {
            sent = false;
            int start = n == 0 ? 0 : Math.floorMod(drainNext, n);
            for (int k = 0; k < n; k++) {
                int i = (start + k) % n;
                long again = drainOne(qs.get(i), now, force);
                if (again == SENT) {
                    sent = true;
                    drainNext = i + 1;
                } else {
                    wakeAt = Math.min(wakeAt, again);
                }
            }
        }
        return wakeAt;
    }

    /**
     * Sends the head batch of one partition if it is ready and a slot is free: {@link #SENT} if it did, else when
     * the sender should look at this partition again.
     */
    private long drainOne(RecordAccumulator.PartitionQueue q, long now, boolean force) {
        if (q.muted) {
            if (q.inFlight > 0) {
                return Long.MAX_VALUE;
            }
            q.muted = false;
            q.requeueFront(q.failed.values());
            q.failed.clear();
        }
        while (true) {
            ProducerBatch head = q.readyHead(now, force);
            if (head == null) {
                return q.nextReadyNanos;
            }
            if (now - head.createdNanos > deliveryTimeoutNanos) {
                q.pollHead();
                fail(
                        head,
                        new TimeoutException("record not acknowledged within the delivery timeout ("
                                + TimeUnit.NANOSECONDS.toMillis(deliveryTimeoutNanos) + " ms) for " + q.tp
                                + (head.attempts > 0 ? " after " + head.attempts + " retries" : "")));
                continue;
            }
            Optional<String> leader = metadata.leaderEndpoint(q.tp);
            if (leader.isEmpty()) {
                requestRefresh(q.tp.topic(), now);
                return now + Math.max(retryBackoffNanos, TimeUnit.MILLISECONDS.toNanos(10));
            }
            Stream s = streams.get(leader.get());
            if (s == null) {
                try {
                    s = new Stream(leader.get());
                } catch (RuntimeException e) {
                    metadata.invalidate(q.tp);
                    requestRefresh(q.tp.topic(), now);
                    return now + retryBackoffNanos;
                }
                streams.put(leader.get(), s);
            }
            if (s.pending.size() >= maxInFlight) {
                return Long.MAX_VALUE; // a response will wake us
            }
            ProducerBatch b = q.pollHead();
            q.inFlight++;
            s.send(b, now);
            return SENT;
        }
    }

    private void requestRefresh(String topic, long now) {
        if (refreshing.getOrDefault(topic, false)) {
            return;
        }
        Long last = lastRefresh.get(topic);
        if (last != null && now - last < retryBackoffNanos) {
            return;
        }
        refreshing.put(topic, true);
        lastRefresh.put(topic, now);
        metadata.refresh(List.of(topic)).whenComplete((r, t) -> post(() -> refreshing.put(topic, false)));
    }

    private RecordAccumulator.PartitionQueue queueOf(TopicPartition tp) {
        for (RecordAccumulator.PartitionQueue q : accumulator.queues()) {
            if (q.tp.equals(tp)) {
                return q;
            }
        }
        throw new IllegalStateException("no queue for " + tp);
    }

    private void onSuccess(ProducerBatch b, long baseOffset) {
        queueOf(b.tp).inFlight--;
        List<CompletableFuture<RecordPosition>> fs = b.futures();
        callbacks.execute(() -> {
            for (int i = 0; i < fs.size(); i++) {
                fs.get(i).complete(new RecordPosition(b.tp.topic(), b.tp.partition(), baseOffset + i));
            }
        });
        accumulator.completed(b);
        b.done.complete(null);
    }

    private void onFailure(ProducerBatch b, SluiceException e) {
        RecordAccumulator.PartitionQueue q = queueOf(b.tp);
        q.inFlight--;
        long now = System.nanoTime();
        boolean retriable = e instanceof RetriableException
                || e.code() == ErrorCode.UNKNOWN_TOPIC
                || e.code() == ErrorCode.UNKNOWN_PARTITION;
        if (retriable) {
            // Correct the route even when this batch is not retried (retries exhausted or 0): later batches of the
            // partition must not keep going to a dead or deposed leader.
            if (e instanceof NotLeaderException nle) {
                metadata.onNotLeader(b.tp, nle);
            } else {
                metadata.invalidate(b.tp);
            }
        }
        if (retriable && b.attempts < retries && now - b.createdNanos < deliveryTimeoutNanos) {
            b.attempts++;
            long backoff = retryBackoffNanos;
            if (e instanceof RetriableException re && re.retryAfter().isPresent()) {
                backoff = Math.max(
                        backoff, RecordAccumulator.toNanos(re.retryAfter().get()));
            }
            b.nextAttemptNanos = now + backoff;
            q.muted = true;
            q.failed.put(b.sequence, b);
            log.debug(
                    "retrying batch of {} ({} records, attempt {}): {}",
                    b.tp,
                    b.recordCount(),
                    b.attempts,
                    e.getMessage());
            return;
        }
        fail(b, e);
    }

    private void fail(ProducerBatch b, SluiceException e) {
        List<CompletableFuture<RecordPosition>> fs = b.futures();
        callbacks.execute(() -> fs.forEach(f -> f.completeExceptionally(e)));
        accumulator.completed(b);
        b.done.complete(null);
    }

    /** One broker's Produce stream. Sender-thread only, except the gRPC observer which posts events. */
    private final class Stream {
        final String endpoint;
        final ClientCallStreamObserver<ProduceRequest> requests;
        final Map<Long, ProducerBatch> pending = new HashMap<>();
        long nextId = 1;
        boolean dead;

        Stream(String endpoint) {
            this.endpoint = endpoint;
            StreamObserver<ProduceResponse> responses = new StreamObserver<>() {
                @Override
                public void onNext(ProduceResponse r) {
                    post(() -> onResponse(r));
                }

                @Override
                public void onError(Throwable t) {
                    SluiceException e = ErrorMapper.map(t);
                    post(() -> onBroken(e));
                }

                @Override
                public void onCompleted() {
                    post(() -> onBroken(new RetriableException(
                            ErrorCode.BROKER_NOT_AVAILABLE, "broker " + endpoint + " ended the produce stream")));
                }
            };
            this.requests = (ClientCallStreamObserver<ProduceRequest>)
                    ProduceServiceGrpc.newStub(client.connections().channel(endpoint))
                            // the observer only posts events, so it runs on the transport's thread: no hand-off
                            .withExecutor(MoreExecutors.directExecutor())
                            .produce(responses);
        }

        void send(ProducerBatch b, long now) {
            long id = nextId++;
            b.sentNanos = now;
            pending.put(id, b);
            requests.onNext(ProduceRequest.newBuilder()
                    .setRequestId(id)
                    .setTopic(b.tp.topic())
                    .setPartition(b.tp.partition())
                    .setAcks(acks)
                    .setTimeoutMs(requestTimeoutMs)
                    .setRecords(UnsafeByteOperations.unsafeWrap(b.bytes()))
                    .build());
        }

        void onResponse(ProduceResponse r) {
            ProducerBatch b = pending.remove(r.getRequestId());
            if (b == null) {
                return;
            }
            if (r.hasError() && r.getError().getCodeValue() != 0) {
                onFailure(b, ErrorMapper.fromErrorInfo(r.getError()));
            } else {
                onSuccess(b, r.getBaseOffset());
            }
        }

        void onBroken(SluiceException e) {
            if (!dead) {
                dead = true;
                if (streams.get(endpoint) == this) {
                    streams.remove(endpoint);
                }
            }
            SluiceException mapped = e instanceof RetriableException
                    ? e
                    : new RetriableException(
                            ErrorCode.BROKER_NOT_AVAILABLE,
                            "produce stream to " + endpoint + " failed: " + e.getMessage(),
                            null,
                            e);
            List<ProducerBatch> failed = new ArrayList<>(pending.values());
            failed.sort((x, y) -> Long.compare(x.sequence, y.sequence));
            pending.clear();
            for (ProducerBatch b : failed) {
                onFailure(b, mapped);
            }
        }

        void expireOverdue(long now) {
            for (Iterator<ProducerBatch> it = pending.values().iterator(); it.hasNext(); ) {
                ProducerBatch b = it.next();
                if (now - b.sentNanos > requestTimeoutNanos + RESPONSE_GRACE_NANOS) {
                    requests.cancel("no response within the request timeout", null);
                    return;
                }
            }
        }

        void halfClose() {
            if (!dead) {
                try {
                    requests.onCompleted();
                } catch (RuntimeException e) {
                    // the stream is going away anyway
                }
            }
        }
    }

    static Duration nanos(long n) {
        return Duration.ofNanos(n);
    }
}
