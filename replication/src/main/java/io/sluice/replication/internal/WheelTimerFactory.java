package io.sluice.replication.internal;

import com.alipay.sofa.jraft.core.Scheduler;
import com.alipay.sofa.jraft.util.NamedThreadFactory;
import com.alipay.sofa.jraft.util.SPI;
import com.alipay.sofa.jraft.util.timer.DefaultRaftTimerFactory;
import com.alipay.sofa.jraft.util.timer.HashedWheelTimer;
import com.alipay.sofa.jraft.util.timer.Timeout;
import com.alipay.sofa.jraft.util.timer.Timer;
import com.alipay.sofa.jraft.util.timer.TimerTask;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.Delayed;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * JRaft's shared timers on coarse hashed wheels (loaded by JRaft's SPI, {@code META-INF/services}; it wins over
 * JRaft's default by its priority). Every group of a broker shares them ({@code NodeOptions.setShared*}, which
 * {@code RaftHostImpl} sets); a group that does not ask for shared timers gets JRaft's own.
 *
 * <p>Why: at 1,000 partitions a broker runs ~1,300 heartbeat timers a second (one per replicator every election
 * timeout / {@code raft.election.heartbeats.count}), plus ~700 followers' election and ~350 leaders' step-down checks.
 * JRaft's shared timers are {@code ScheduledThreadPoolExecutor}s: each task waits in a heap and wakes a thread at its
 * own instant, and each is timed by a metrics wrapper. On a wheel that ticks every {@value #TICK_MS} ms, the tasks
 * due in one tick run together on the wheel's thread (100 wake-ups a second, whatever the number of groups), and the
 * heartbeats a leader owes one broker fall due in the same tick, so they leave in the same coalesced batch
 * ({@link HeartbeatCoalescer}). A task fires up to one tick late; the timers it serves are hundreds of milliseconds
 * long.
 *
 * <p>Three wheels, so that a slow task of one kind (a follower's election timeout that starts a pre-vote) does not
 * hold up another (the leaders' heartbeats): replicators (heartbeats, and JRaft's other one-shot replicator and
 * leadership-transfer timers), election and vote, step-down and snapshot. Each wheel starts with its first user and
 * stops when its last user stops (brokers of an in-JVM test cluster come and go). Thread-safe.
 */
@SPI(priority = 100)
public final class WheelTimerFactory extends DefaultRaftTimerFactory {
    /** The wheels' tick: a timer fires up to this late. */
    static final long TICK_MS = 10;

    private static final int TICKS_PER_WHEEL = 512;

    private static final SharedWheel REPLICATOR = new SharedWheel("sluice-timer-replicator");
    private static final SharedWheel ELECTION = new SharedWheel("sluice-timer-election");
    private static final SharedWheel STEP_DOWN = new SharedWheel("sluice-timer-stepdown");

    /** Public, for JRaft's service loader. */
    public WheelTimerFactory() {}

    @Override
    public Timer getElectionTimer(boolean shared, String name) {
        return shared ? ELECTION.acquire() : super.getElectionTimer(false, name);
    }

    @Override
    public Timer getVoteTimer(boolean shared, String name) {
        return shared ? ELECTION.acquire() : super.getVoteTimer(false, name);
    }

    @Override
    public Timer getStepDownTimer(boolean shared, String name) {
        return shared ? STEP_DOWN.acquire() : super.getStepDownTimer(false, name);
    }

    @Override
    public Timer getSnapshotTimer(boolean shared, String name) {
        return shared ? STEP_DOWN.acquire() : super.getSnapshotTimer(false, name);
    }

    @Override
    public Scheduler getRaftScheduler(boolean shared, int workerNum, String name) {
        return shared ? new WheelScheduler(REPLICATOR.acquire()) : super.getRaftScheduler(false, workerNum, name);
    }

    /** Users of the replicator, election and step-down wheels (for tests). */
    static int[] users() {
        return new int[] {REPLICATOR.users(), ELECTION.users(), STEP_DOWN.users()};
    }

    /** One wheel, started by its first user and stopped after its last. */
    private static final class SharedWheel {
        final String name;
        private HashedWheelTimer wheel;
        private int users;

        SharedWheel(String name) {
            this.name = name;
        }

        synchronized int users() {
            return users;
        }

        synchronized Ref acquire() {
            if (wheel == null) {
                wheel = new HashedWheelTimer(
                        new NamedThreadFactory(name + "-", true), TICK_MS, TimeUnit.MILLISECONDS, TICKS_PER_WHEEL);
            }
            users++;
            return new Ref(this, wheel);
        }

        void release(HashedWheelTimer w) {
            synchronized (this) {
                if (w != wheel || --users > 0) {
                    return;
                }
                wheel = null;
            }
            try {
                w.stop();
            } catch (IllegalStateException e) {
                // stop() refuses to run on the wheel's own thread (a group shut down by one of its timers)
                Thread t = new Thread(w::stop, name + "-stop");
                t.setDaemon(true);
                t.start();
            }
        }
    }

    /** One user's handle on a shared wheel: stopping it releases the wheel once. */
    private static final class Ref implements Timer {
        private final SharedWheel owner;
        private final HashedWheelTimer wheel;
        private final AtomicBoolean released = new AtomicBoolean();

        Ref(SharedWheel owner, HashedWheelTimer wheel) {
            this.owner = owner;
            this.wheel = wheel;
        }

        @Override
        public Timeout newTimeout(TimerTask task, long delay, TimeUnit unit) {
            return wheel.newTimeout(task, delay, unit);
        }

        @Override
        public Set<Timeout> stop() {
            if (released.compareAndSet(false, true)) {
                owner.release(wheel);
            }
            return Collections.emptySet();
        }
    }

    /** JRaft's {@link Scheduler} on a wheel: tasks run on the wheel's thread. */
    static final class WheelScheduler implements Scheduler {
        private final Timer wheel;

        WheelScheduler(Timer wheel) {
            this.wheel = wheel;
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return new Task(command, 0, false).arm(delay, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            return new Task(command, unit.toNanos(checkPeriod(period)), true).arm(initialDelay, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(
                Runnable command, long initialDelay, long delay, TimeUnit unit) {
            return new Task(command, unit.toNanos(checkPeriod(delay)), false).arm(initialDelay, unit);
        }

        @Override
        public void shutdown() {
            wheel.stop();
        }

        private static long checkPeriod(long period) {
            if (period <= 0) {
                throw new IllegalArgumentException("period must be > 0, got " + period);
            }
            return period;
        }

        /** A one-shot or repeating task; cancelling never interrupts the wheel's thread. */
        private final class Task extends FutureTask<Void> implements ScheduledFuture<Void>, TimerTask {
            private final long periodNanos;
            private final boolean fixedRate;
            private volatile long dueNanos;
            private volatile Timeout timeout;

            Task(Runnable command, long periodNanos, boolean fixedRate) {
                super(command, null);
                this.periodNanos = periodNanos;
                this.fixedRate = fixedRate;
            }

            Task arm(long delay, TimeUnit unit) {
                long nanos = Math.max(0, unit.toNanos(delay));
                dueNanos = System.nanoTime() + nanos;
                timeout = wheel.newTimeout(this, nanos, TimeUnit.NANOSECONDS);
                if (isCancelled()) {
                    timeout.cancel(); // cancelled between the two lines above
                }
                return this;
            }

            @Override
            public void run(Timeout t) {
                if (periodNanos == 0) {
                    run();
                    return;
                }
                if (!runAndReset()) {
                    return; // cancelled, or the command threw: a repeating task stops, as in the JDK's executor
                }
                long now = System.nanoTime();
                long next = fixedRate ? Math.max(now, dueNanos + periodNanos) : now + periodNanos;
                dueNanos = next;
                try {
                    timeout = wheel.newTimeout(this, next - now, TimeUnit.NANOSECONDS);
                } catch (IllegalStateException e) {
                    super.cancel(false); // the wheel stopped
                }
            }

            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                boolean cancelled = super.cancel(false);
                Timeout t = timeout;
                if (cancelled && t != null) {
                    t.cancel();
                }
                return cancelled;
            }

            @Override
            public long getDelay(TimeUnit unit) {
                return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
            }

            @Override
            public int compareTo(Delayed other) {
                return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
            }
        }
    }
}
