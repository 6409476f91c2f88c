package io.sluice.logstore;

import static io.sluice.logstore.TestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Flushable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The shared fsync thread: naming, coalescing, failure isolation, close. */
class FsyncSchedulerTest {

    @Test
    void runsFlushesOnOneNamedDaemonThread() throws Exception {
        try (FsyncScheduler s = FsyncScheduler.start("my-fsync")) {
            AtomicReference<Thread> ran = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            s.requestFlush(() -> {
                ran.set(Thread.currentThread());
                done.countDown();
            });
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals("my-fsync", ran.get().getName());
            assertTrue(ran.get().isDaemon());
            assertEquals("my-fsync", s.threadName());
        }
    }

    @Test
    void requestsForAQueuedTargetCoalesce() throws Exception {
        try (FsyncScheduler s = FsyncScheduler.start("t")) {
            CountDownLatch blockerRunning = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            s.requestFlush(() -> {
                blockerRunning.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(blockerRunning.await(10, TimeUnit.SECONDS));
            AtomicInteger runs = new AtomicInteger();
            Flushable target = runs::incrementAndGet;
            for (int i = 0; i < 100; i++) {
                s.requestFlush(target);
            }
            release.countDown();
            waitFor(() -> runs.get() == 1, Duration.ofSeconds(10), "the queued target ran");
            // a request after it ran queues it again
            s.requestFlush(target);
            waitFor(() -> runs.get() == 2, Duration.ofSeconds(10), "the target ran again");
            assertEquals(2, runs.get());
        }
    }

    @Test
    void aRequestWhileRunningQueuesTheTargetAgain() throws Exception {
        try (FsyncScheduler s = FsyncScheduler.start("t")) {
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            Flushable target = new Flushable() {
                @Override
                public void flush() {
                    if (runs.incrementAndGet() == 1) {
                        running.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            };
            s.requestFlush(target);
            assertTrue(running.await(10, TimeUnit.SECONDS));
            s.requestFlush(target);
            release.countDown();
            waitFor(() -> runs.get() == 2, Duration.ofSeconds(10), "second run");
        }
    }

    @Test
    void aFailingFlushDoesNotStopTheThread() throws Exception {
        try (FsyncScheduler s = FsyncScheduler.start("t")) {
            s.requestFlush(() -> {
                throw new IOException("disk on fire");
            });
            CountDownLatch ok = new CountDownLatch(1);
            s.requestFlush(ok::countDown);
            assertTrue(ok.await(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void closeRunsQueuedFlushesThenRejects() throws Exception {
        FsyncScheduler s = FsyncScheduler.start("t");
        CountDownLatch release = new CountDownLatch(1);
        s.requestFlush(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        AtomicInteger ran = new AtomicInteger();
        s.requestFlush(ran::incrementAndGet);
        Thread closer = new Thread(s::close);
        closer.start();
        release.countDown();
        closer.join(10_000);
        assertEquals(1, ran.get());
        assertThrows(IllegalStateException.class, () -> s.requestFlush(ran::incrementAndGet));
        s.close();
    }
}
