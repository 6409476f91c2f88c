package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.JRaftUtils;
import com.alipay.sofa.jraft.core.Scheduler;
import com.alipay.sofa.jraft.util.timer.RaftTimerFactory;
import com.alipay.sofa.jraft.util.timer.Timer;
import io.sluice.replication.Conditions;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class WheelTimerFactoryTest {
    private static final RaftTimerFactory FACTORY = JRaftUtils.raftTimerFactory();

    @Test
    void jraftLoadsTheWheelFactory() {
        assertInstanceOf(WheelTimerFactory.class, FACTORY);
    }

    @Test
    void aScheduledTaskRunsOnceOnTheWheelThreadAfterItsDelay() throws Exception {
        Scheduler s = FACTORY.getRaftScheduler(true, 1, "test");
        try {
            CountDownLatch ran = new CountDownLatch(1);
            AtomicReference<String> thread = new AtomicReference<>();
            AtomicInteger runs = new AtomicInteger();
            long start = System.nanoTime();
            ScheduledFuture<?> f = s.schedule(
                    () -> {
                        thread.set(Thread.currentThread().getName());
                        runs.incrementAndGet();
                        ran.countDown();
                    },
                    50,
                    TimeUnit.MILLISECONDS);
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            f.get(10, TimeUnit.SECONDS);
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(50), "not before its delay");
            assertTrue(thread.get().startsWith("sluice-timer-replicator"), thread.get());
            assertTrue(f.isDone());
            assertFalse(f.cancel(false), "a task that ran cannot be cancelled");
            assertEquals(1, runs.get());
        } finally {
            s.shutdown();
        }
    }

    @Test
    void aCancelledTaskNeverRuns() throws Exception {
        Scheduler s = FACTORY.getRaftScheduler(true, 1, "test");
        try {
            AtomicInteger runs = new AtomicInteger();
            ScheduledFuture<?> cancelled = s.schedule(runs::incrementAndGet, 100, TimeUnit.MILLISECONDS);
            assertTrue(cancelled.getDelay(TimeUnit.MILLISECONDS) > 0);
            assertTrue(cancelled.cancel(true));
            assertTrue(cancelled.isCancelled());
            // a later task on the same wheel runs, so the wheel has passed the cancelled one's tick
            CountDownLatch later = new CountDownLatch(1);
            s.schedule(later::countDown, 300, TimeUnit.MILLISECONDS);
            assertTrue(later.await(10, TimeUnit.SECONDS));
            assertEquals(0, runs.get());
        } finally {
            s.shutdown();
        }
    }

    @Test
    void repeatingTasksRepeatUntilCancelled() throws Exception {
        Scheduler s = FACTORY.getRaftScheduler(true, 1, "test");
        try {
            for (boolean fixedRate : new boolean[] {true, false}) {
                AtomicInteger runs = new AtomicInteger();
                ScheduledFuture<?> f = fixedRate
                        ? s.scheduleAtFixedRate(runs::incrementAndGet, 0, 20, TimeUnit.MILLISECONDS)
                        : s.scheduleWithFixedDelay(runs::incrementAndGet, 0, 20, TimeUnit.MILLISECONDS);
                Conditions.waitFor(() -> runs.get() >= 3, Duration.ofSeconds(10), "three runs");
                assertTrue(f.cancel(false));
                int after = runs.get();
                CountDownLatch passed = new CountDownLatch(1);
                s.schedule(passed::countDown, 100, TimeUnit.MILLISECONDS);
                assertTrue(passed.await(10, TimeUnit.SECONDS));
                assertTrue(runs.get() <= after + 1, "at most the run under way when it was cancelled");
            }
            assertThrows(
                    IllegalArgumentException.class,
                    () -> s.scheduleWithFixedDelay(() -> {}, 0, 0, TimeUnit.MILLISECONDS));
        } finally {
            s.shutdown();
        }
    }

    @Test
    void sharedTimersAreReferenceCountedAndStopOnlyWithTheirLastUser() throws Exception {
        int[] before = WheelTimerFactory.users();
        Timer election = FACTORY.getElectionTimer(true, "e");
        Timer vote = FACTORY.getVoteTimer(true, "v");
        Scheduler scheduler = FACTORY.getRaftScheduler(true, 1, "s");
        int[] during = WheelTimerFactory.users();
        assertEquals(before[0] + 1, during[0]);
        assertEquals(before[1] + 2, during[1], "election and vote timers share a wheel");

        election.stop();
        election.stop(); // a second stop of the same user releases nothing more
        assertEquals(before[1] + 1, WheelTimerFactory.users()[1]);
        CountDownLatch fired = new CountDownLatch(1);
        vote.newTimeout(t -> fired.countDown(), 10, TimeUnit.MILLISECONDS);
        assertTrue(fired.await(10, TimeUnit.SECONDS), "the wheel still runs for its other user");

        vote.stop();
        scheduler.shutdown();
        assertEquals(before[0], WheelTimerFactory.users()[0]);
        assertEquals(before[1], WheelTimerFactory.users()[1]);
        if (before[1] == 0) {
            // nobody else uses it: the wheel has stopped, and a new user gets a new one
            assertThrows(IllegalStateException.class, () -> vote.newTimeout(t -> {}, 10, TimeUnit.MILLISECONDS));
            Timer again = FACTORY.getElectionTimer(true, "e2");
            CountDownLatch firedAgain = new CountDownLatch(1);
            again.newTimeout(t -> firedAgain.countDown(), 10, TimeUnit.MILLISECONDS);
            assertTrue(firedAgain.await(10, TimeUnit.SECONDS));
            again.stop();
        }
    }

    @Test
    void unsharedTimersAreJraftsOwn() {
        Timer own = FACTORY.getElectionTimer(false, "own");
        try {
            assertFalse(own.getClass().getName().startsWith(WheelTimerFactory.class.getName()));
        } finally {
            own.stop();
        }
    }
}
