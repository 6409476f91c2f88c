package io.sluice.replication.internal;

import com.alipay.sofa.jraft.rpc.InvokeCallback;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.util.Endpoint;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending side of coalesced heartbeats: every Raft group a broker leads sends each follower an empty AppendEntries
 * request each election timeout / {@code raft.election.heartbeats.count}; instead of one RPC each, the heartbeats a broker sends to one other broker within
 * a short window ({@code raft.heartbeat.coalesce.ms}) travel as one {@link HeartbeatBatch.Request}, and each group's
 * callback gets its own answer from the batch's response. 1,000 partitions at RF=3 on 3 brokers send 2,667 heartbeats
 * a second (every 750 ms by default); coalesced over 25 ms they are at most 240 RPCs.
 *
 * <p>Only heartbeats are coalesced (no entries and no data field: JRaft's probes carry an empty data field and take
 * part in the pipelined request order, so they are not). Raft semantics are unchanged: each group's node still
 * handles its own heartbeat on the follower, in the same way JRaft's processor would, and each leader's replicator
 * still gets its own answer (all of a batch's answers are delivered on one pooled thread). A heartbeat waits at most the window before it is
 * sent, which is small next to the election timeout. If the batch fails or times out, every heartbeat in it gets
 * that error, as they would have one by one over the same connection.
 *
 * <p>Batches are keyed by (destination, sender endpoint): one broker per process in production; in an in-JVM test
 * cluster, per broker pair, so a cut link drops exactly the heartbeats that would have crossed it. Thread-safe.
 */
final class HeartbeatCoalescer {
    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatCoalescer.class);

    /** One heartbeat waiting for its batch. */
    private record Item(AppendEntriesRequest request, InvokeCallback callback, long timeoutMs) {}

    private record Key(Endpoint destination, String sender) {}

    /** The heartbeats waiting for one destination. */
    private static final class Pending {
        final Key key;
        List<Item> items = new ArrayList<>();

        Pending(Key key) {
            this.key = key;
        }
    }

    /** The timeout of a batch whose heartbeats name none (JRaft's default RPC timeout). */
    private static final long DEFAULT_TIMEOUT_MS = 5000;

    private final RpcClient client;
    private final long windowNanos;
    private final ScheduledExecutorService timer;
    /**
     * Sends the batches: bolt connects synchronously when a destination has no connection, so each flush runs on a
     * pooled thread of its own and a silent destination holds up only its own heartbeats, not every broker's.
     */
    private final ExecutorService senders;

    private final ConcurrentHashMap<Key, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong heartbeats = new AtomicLong();

    /**
     * @param client the shared RPC client batches go through
     * @param windowMs how long the first heartbeat of a batch waits for others (&gt; 0)
     */
    HeartbeatCoalescer(RpcClient client, long windowMs) {
        if (windowMs <= 0) {
            throw new IllegalArgumentException("window must be > 0 ms, got " + windowMs);
        }
        this.client = client;
        this.windowNanos = TimeUnit.MILLISECONDS.toNanos(windowMs);
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "sluice-raft-heartbeats");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        AtomicInteger n = new AtomicInteger();
        this.senders =
                new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
                    Thread th = new Thread(r, "sluice-raft-heartbeats-send-" + n.incrementAndGet());
                    th.setDaemon(true);
                    return th;
                });
    }

    /** Whether JRaft sends {@code request} as a heartbeat (not a probe, not entries). */
    static boolean isHeartbeat(Object request) {
        return request instanceof AppendEntriesRequest r && r.getEntriesCount() == 0 && !r.hasData();
    }

    /** Queues a heartbeat for {@code destination}; {@code callback} gets its answer or the batch's error. */
    void submit(Endpoint destination, AppendEntriesRequest request, InvokeCallback callback, long timeoutMs) {
        Key key = new Key(destination, FaultInjectingRpcServer.hostPort(request.getServerId()));
        Pending p = pending.computeIfAbsent(key, Pending::new);
        boolean first;
        synchronized (p) {
            p.items.add(new Item(request, callback, timeoutMs));
            first = p.items.size() == 1;
        }
        if (first) {
            // Never more than a tenth of the heartbeat's own timeout (half the election timeout), whatever the window.
            long delay =
                    timeoutMs > 0 ? Math.min(windowNanos, TimeUnit.MILLISECONDS.toNanos(timeoutMs) / 10) : windowNanos;
            try {
                timer.schedule(() -> send(p), delay, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // Shut down: the heartbeat fails like one sent on a closed client (on the sender pool's thread, never
                // on the caller's, which holds its replicator's lock).
                answerLater(p, new IllegalStateException("heartbeat coalescer is shut down"));
            }
        }
    }

    /** Batches sent and heartbeats they carried, since the start (for tests and diagnostics). */
    long[] counts() {
        return new long[] {batches.get(), heartbeats.get()};
    }

    private void send(Pending p) {
        try {
            senders.execute(() -> flush(p));
        } catch (RejectedExecutionException e) {
            answer(take(p), null, new IllegalStateException("heartbeat coalescer is shut down"));
        }
    }

    private void answerLater(Pending p, Throwable err) {
        try {
            senders.execute(() -> answer(take(p), null, err));
        } catch (RejectedExecutionException e) {
            java.util.concurrent.CompletableFuture.runAsync(() -> answer(take(p), null, err));
        }
    }

    private static List<Item> take(Pending p) {
        synchronized (p) {
            List<Item> items = p.items;
            p.items = new ArrayList<>();
            return items;
        }
    }

    private void flush(Pending p) {
        List<Item> items = take(p);
        if (items.isEmpty()) {
            return;
        }
        long timeoutMs = Long.MAX_VALUE;
        List<AppendEntriesRequest> requests = new ArrayList<>(items.size());
        for (Item i : items) {
            requests.add(i.request());
            if (i.timeoutMs() > 0) {
                timeoutMs = Math.min(timeoutMs, i.timeoutMs());
            }
        }
        batches.incrementAndGet();
        heartbeats.addAndGet(items.size());
        try {
            client.invokeAsync(
                    p.key.destination(),
                    new HeartbeatBatch.Request(p.key.sender(), requests),
                    null,
                    new InvokeCallback() {
                        @Override
                        public void complete(Object result, Throwable err) {
                            answer(items, result, err);
                        }

                        @Override
                        public Executor executor() {
                            // one hand-off per batch; its answers are then delivered on that thread
                            return senders;
                        }
                    },
                    timeoutMs == Long.MAX_VALUE ? DEFAULT_TIMEOUT_MS : timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer(items, null, e);
        } catch (Exception e) {
            answer(items, null, e);
        }
    }

    /**
     * Gives each heartbeat its answer, on the calling thread (a pooled one, never bolt's I/O thread or a replicator's
     * caller): one hand-off per batch instead of one per heartbeat. A replicator has at most one heartbeat in flight,
     * and JRaft's answer handler takes the replicator's own lock, so answers of different groups need no order.
     */
    private static void answer(List<Item> items, Object result, Throwable err) {
        List<Message> answers = null;
        if (err == null) {
            if (result instanceof HeartbeatBatch.Response r && r.responses().size() == items.size()) {
                answers = r.responses();
            } else {
                err = new IllegalStateException("bad answer to " + items.size() + " heartbeats: "
                        + (result == null ? "null" : result.getClass().getName()));
                LOG.warn("{}", err.getMessage());
            }
        }
        for (int i = 0; i < items.size(); i++) {
            complete(items.get(i).callback(), answers == null ? null : answers.get(i), err);
        }
    }

    private static void complete(InvokeCallback cb, Object answer, Throwable error) {
        try {
            cb.complete(answer, error);
        } catch (RuntimeException e) {
            LOG.warn("heartbeat callback failed: {}", e.toString());
        }
    }

    /** Sends what it holds (the client must still be running) and stops; later heartbeats fail at once. */
    void shutdown() {
        timer.shutdownNow();
        for (Pending p : pending.values()) {
            flush(p);
        }
        senders.shutdown();
        try {
            if (!senders.awaitTermination(5, TimeUnit.SECONDS)) {
                senders.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            senders.shutdownNow();
        }
    }
}
