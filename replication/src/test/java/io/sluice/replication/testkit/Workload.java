package io.sluice.replication.testkit;

import io.sluice.replication.AckMode;
import io.sluice.replication.AppendResult;
import io.sluice.replication.ReplicatedPartition;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A continuous write load on one partition of a {@link MiniCluster}: one thread appends one-record batches with unique
 * values {@code <prefix>-<n>} to whichever running broker currently leads the partition (or to one pinned broker),
 * with up to {@code maxInFlight} appends outstanding, and records every acknowledged value with the offset it got.
 *
 * <p>A value is never written twice (a failed append is not retried with the same value), so a value found twice in a
 * log is a duplicate made by replication. Appends that fail or whose outcome is unknown are counted, not recorded.
 *
 * <p>Thread-safe: started and stopped from the test thread; the accessors may be read at any time.
 */
public final class Workload implements AutoCloseable {

    private final MiniCluster cluster;
    private final String topic;
    private final int partition;
    private final String prefix;
    private final AckMode acks;
    private final Semaphore inFlight;
    private final int maxInFlight;
    private final Map<String, AppendResult> acked = new ConcurrentHashMap<>();
    private final Map<String, Throwable> failed = new ConcurrentHashMap<>();
    private final AtomicLong attempts = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile OptionalInt pinned = OptionalInt.empty();

    private Workload(MiniCluster cluster, String topic, int partition, String prefix, AckMode acks, int maxInFlight) {
        this.cluster = cluster;
        this.topic = topic;
        this.partition = partition;
        this.prefix = prefix;
        this.acks = acks;
        this.maxInFlight = maxInFlight;
        this.inFlight = new Semaphore(maxInFlight);
        this.thread = new Thread(this::run, "workload-" + topic + "-" + partition + "-" + prefix);
        this.thread.setDaemon(true);
    }

    /** Starts a QUORUM-acked load on {@code topic}/{@code partition} with 8 appends in flight. */
    public static Workload start(MiniCluster cluster, String topic, int partition, String prefix) {
        return start(cluster, topic, partition, prefix, AckMode.QUORUM, 8);
    }

    public static Workload start(
            MiniCluster cluster, String topic, int partition, String prefix, AckMode acks, int maxInFlight) {
        Workload w = new Workload(cluster, topic, partition, prefix, acks, maxInFlight);
        w.thread.start();
        return w;
    }

    /** Sends only to broker {@code brokerId} from now on (e.g. an old leader on the minority side). */
    public void pinTo(int brokerId) {
        pinned = OptionalInt.of(brokerId);
    }

    /** Sends to the current leader again. */
    public void unpin() {
        pinned = OptionalInt.empty();
    }

    private void run() {
        long seq = 0;
        while (running) {
            Optional<ReplicatedPartition> target = target();
            if (target.isEmpty()) {
                // No leader right now (election in progress): pace the loop, this is a load generator's idle
                // spin, not a wait for a condition.
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                continue;
            }
            try {
                if (!inFlight.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                    continue;
                }
            } catch (InterruptedException e) {
                return;
            }
            String value = prefix + "-" + seq++;
            attempts.incrementAndGet();
            CompletableFuture<AppendResult> f;
            try {
                f = target.get().append(PartitionData.batch(value), acks);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((r, e) -> {
                if (e == null) {
                    acked.put(value, r);
                } else {
                    failed.put(value, e);
                }
                inFlight.release();
            });
            if (f.isCompletedExceptionally()) {
                // Not the leader any more, overloaded, closed: back off a little before the next try.
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
        }
    }

    private Optional<ReplicatedPartition> target() {
        OptionalInt pin = pinned;
        int broker;
        if (pin.isPresent()) {
            broker = pin.getAsInt();
        } else {
            OptionalInt leader = cluster.currentLeader(topic, partition);
            if (leader.isEmpty()) {
                return Optional.empty();
            }
            broker = leader.getAsInt();
        }
        if (!cluster.isRunning(broker)) {
            return Optional.empty();
        }
        try {
            return cluster.node(broker).partition(topic, partition).filter(ReplicatedPartition::isOpen);
        } catch (IllegalStateException e) {
            return Optional.empty(); // killed meanwhile
        }
    }

    /** Stops sending and waits (bounded) for the outstanding appends to complete one way or the other. */
    public void stop() {
        running = false;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
            inFlight.tryAcquire(maxInFlight, 30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** Acknowledged values and what the append returned. */
    public Map<String, AppendResult> acked() {
        return Map.copyOf(acked);
    }

    public int ackedCount() {
        return acked.size();
    }

    /** Values whose append failed or whose outcome is unknown. */
    public Map<String, Throwable> failed() {
        return Map.copyOf(failed);
    }

    public long attempts() {
        return attempts.get();
    }

    /** The largest acknowledged offset, or -1. */
    public long maxAckedOffset() {
        return acked.values().stream().mapToLong(AppendResult::lastOffset).max().orElse(-1);
    }

    /** Waits until {@code more} further appends are acknowledged (progress check). */
    public void awaitMoreAcks(int more, java.time.Duration timeout) {
        int target = ackedCount() + more;
        MiniCluster.waitFor(
                () -> ackedCount() >= target,
                timeout,
                target + " acknowledged appends on " + topic + "-" + partition + " (have " + ackedCount() + ")");
    }

    public String topic() {
        return topic;
    }

    public int partition() {
        return partition;
    }
}
