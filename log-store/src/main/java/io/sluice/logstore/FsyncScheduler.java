package io.sluice.logstore;

import java.io.Flushable;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The force-write thread shared by many logs: one named daemon thread that runs flushes, so that fsyncs
 * never block appending threads and many appends share one fsync (group commit, as in BookKeeper).
 *
 * <p>A log asks for a flush with {@link #requestFlush(Flushable)}. While a target is queued (requested and
 * not yet started) further requests for it are coalesced into the queued one; a request that arrives
 * while the target is being flushed queues it again, so that the bytes appended meanwhile are covered by
 * the next flush. The target itself decides what a flush covers and completes its waiters (see
 * {@link Log#flushAsync()}). The queue holds at most one entry per target, so it is bounded by the number
 * of targets.
 *
 * <p>A broker creates one scheduler and passes it to every {@link Log#open}; tests make their own. A
 * flush that throws is logged and does not stop the thread; the target reports the failure to its own
 * waiters. The scheduler also carries the broker's {@link LogStats}, the one sink every log sharing it
 * reports append and fsync timings to.
 *
 * <p>This class is thread-safe.
 */
public final class FsyncScheduler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FsyncScheduler.class.getName());

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final ArrayDeque<Flushable> queue = new ArrayDeque<>();
    private final Set<Flushable> queued = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Thread thread;
    private final LogStats stats;
    private boolean closed;
    private long flushes;

    private FsyncScheduler(String threadName, LogStats stats) {
        this.stats = stats;
        thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Starts a scheduler whose thread has the given name. */
    public static FsyncScheduler start(String threadName) {
        return start(threadName, LogStats.NONE);
    }

    /**
     * Starts a scheduler whose thread has the given name and whose logs report their append and fsync timings to
     * {@code stats}.
     */
    public static FsyncScheduler start(String threadName, LogStats stats) {
        return new FsyncScheduler(
                Objects.requireNonNull(threadName, "threadName"), Objects.requireNonNull(stats, "stats"));
    }

    /** Starts a scheduler whose thread is named {@code sluice-fsync}. */
    public static FsyncScheduler start() {
        return start("sluice-fsync");
    }

    /**
     * Queues a flush of {@code target} unless one is already queued and not yet started.
     *
     * @throws IllegalStateException if the scheduler is closed
     */
    public void requestFlush(Flushable target) {
        Objects.requireNonNull(target, "target");
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("fsync scheduler " + thread.getName() + " is closed");
            }
            if (queued.add(target)) {
                queue.addLast(target);
                notEmpty.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** True when called on this scheduler's thread (flush targets use it to avoid waiting on themselves). */
    public boolean isSchedulerThread() {
        return Thread.currentThread() == thread;
    }

    /** Flushes run so far (one per dequeued target); for tests and metrics. */
    public long flushCount() {
        lock.lock();
        try {
            return flushes;
        } finally {
            lock.unlock();
        }
    }

    /** Where the logs that share this scheduler report their timings. */
    public LogStats stats() {
        return stats;
    }

    /** The name of the flush thread. */
    public String threadName() {
        return thread.getName();
    }

    private void run() {
        while (true) {
            Flushable target;
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) {
                    notEmpty.awaitUninterruptibly();
                }
                if (queue.isEmpty()) {
                    return;
                }
                target = queue.pollFirst();
                queued.remove(target);
                flushes++;
            } finally {
                lock.unlock();
            }
            try {
                target.flush();
            } catch (Throwable t) {
                LOG.log(Level.ERROR, "flush of " + target + " failed on " + thread.getName(), t);
            }
        }
    }

    /**
     * Runs the flushes already queued, then stops the thread. Later {@link #requestFlush} calls throw.
     * Idempotent.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(60));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
