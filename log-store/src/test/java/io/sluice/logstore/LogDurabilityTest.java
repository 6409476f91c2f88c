package io.sluice.logstore;

import static io.sluice.logstore.TestSupport.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.TestSupport.MutableClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The durability policies, group commit through {@link FsyncScheduler} and {@code durableEndOffset}. */
class LogDurabilityTest {
    @TempDir
    Path dir;

    FsyncScheduler fsync;
    MutableClock clock = new MutableClock(1_000_000L);

    @BeforeEach
    void start() {
        fsync = FsyncScheduler.start("test-fsync");
    }

    @AfterEach
    void stop() {
        fsync.close();
    }

    /** Occupies the fsync thread with a flush of its own until the returned latch is counted down. */
    private CountDownLatch holdFsyncThread() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        fsync.requestFlush(() -> {
            blocked.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(blocked.await(10, TimeUnit.SECONDS), "the fsync thread picked up the holding flush");
        return release;
    }

    private Log open(DurabilityPolicy policy) throws Exception {
        return Log.open(
                dir.resolve(policy.name()),
                LogConfig.builder().durability(policy).build(),
                fsync,
                clock);
    }

    @Test
    void fsyncPerAppendIsDurableOnReturn() throws Exception {
        try (Log log = open(DurabilityPolicy.FSYNC_PER_APPEND)) {
            long before = fsync.flushCount();
            for (int i = 0; i < 5; i++) {
                AppendInfo a = log.append(batch(2, i));
                assertEquals(a.nextOffset(), log.durableEndOffset());
            }
            log.appendAll(List.of(batch(1, 1), batch(1, 2)));
            assertEquals(log.logEndOffset(), log.durableEndOffset());
            assertTrue(log.flushAsync().isDone());
            assertEquals(before, fsync.flushCount(), "no work for the fsync thread");
        }
    }

    @Test
    void groupedReturnsAtOnceAndFlushAsyncMakesItDurable() throws Exception {
        try (Log log = open(DurabilityPolicy.GROUPED)) {
            log.append(batch(3, 1));
            assertEquals(0, log.durableEndOffset());
            CompletableFuture<Void> f = log.flushAsync();
            f.get(10, TimeUnit.SECONDS);
            assertEquals(3, log.durableEndOffset());
            assertTrue(log.flushAsync().isDone(), "nothing new to flush");
        }
    }

    @Test
    void flushForcesOnTheCallingThreadAndCompletesWaitersItCovers() throws Exception {
        // The fsync thread is held: flush() must not need it, and a flushAsync() waiter it covers completes anyway.
        try (Log log = open(DurabilityPolicy.GROUPED)) {
            CountDownLatch release = holdFsyncThread();
            log.append(batch(2, 1));
            CompletableFuture<Void> waiter = log.flushAsync();
            log.append(batch(3, 2));
            long before = fsync.flushCount();
            log.flush();
            assertEquals(5, log.durableEndOffset());
            assertTrue(waiter.isDone(), "the waiter for offsets below 2 is covered");
            log.flush(); // nothing new: returns at once
            assertEquals(before, fsync.flushCount(), "no work for the fsync thread");
            release.countDown();
        }
    }

    @Test
    void flushAfterATruncationCoversWhatIsLeftAndWhatFollows() throws Exception {
        try (Log log = open(DurabilityPolicy.GROUPED)) {
            log.append(batch(4, 1));
            log.append(batch(3, 2));
            log.flush();
            assertEquals(7, log.durableEndOffset());
            log.truncateAfterEntry(log.firstEntryIndex()); // keeps the first batch, offsets 0..3
            assertEquals(4, log.durableEndOffset());
            log.append(batch(2, 3));
            log.flush();
            assertEquals(6, log.logEndOffset());
            assertEquals(6, log.durableEndOffset());
        }
    }

    @Test
    void flushOfAClosedLogFails() throws Exception {
        Log log = open(DurabilityPolicy.GROUPED);
        log.append(batch(1, 1));
        log.close();
        assertThrows(IllegalStateException.class, log::flush);
    }

    @Test
    void concurrentFlushRequestsShareFsyncs() throws Exception {
        // Hold the fsync thread so that many requests pile up, then count the flushes.
        try (Log log = open(DurabilityPolicy.GROUPED)) {
            CountDownLatch release = holdFsyncThread();
            long before = fsync.flushCount();
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                log.append(batch(1, i));
                futures.add(log.flushAsync());
            }
            release.countDown();
            CompletableFuture.allOf(futures.toArray(CompletableFuture<?>[]::new))
                    .get(10, TimeUnit.SECONDS);
            assertEquals(200, log.durableEndOffset());
            assertEquals(1, fsync.flushCount() - before, "200 requests, one fsync");
        }
    }

    @Test
    void durableEndOffsetAdvancesWithFlushesFromManyThreads() throws Exception {
        try (Log log = open(DurabilityPolicy.GROUPED)) {
            int threads = 4;
            int perThread = 100;
            List<Thread> ts = new ArrayList<>();
            List<Throwable> errors = new ArrayList<>();
            Object appendLock = new Object();
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(() -> {
                    try {
                        for (int i = 0; i < perThread; i++) {
                            AppendInfo a;
                            synchronized (appendLock) {
                                a = log.append(batch(1, i));
                            }
                            log.flushAsync().get(10, TimeUnit.SECONDS);
                            assertTrue(log.durableEndOffset() >= a.nextOffset());
                        }
                    } catch (Throwable e) {
                        synchronized (errors) {
                            errors.add(e);
                        }
                    }
                });
                ts.add(th);
                th.start();
            }
            for (Thread th : ts) {
                th.join(60_000);
            }
            assertTrue(errors.isEmpty(), errors.toString());
            assertEquals(threads * perThread, log.durableEndOffset());
            assertTrue(fsync.flushCount() <= threads * perThread);
        }
    }

    @Test
    void noneFlushesOnlyOnRollCloseAndRequest() throws Exception {
        LogConfig config = LogConfig.builder()
                .durability(DurabilityPolicy.NONE)
                .segmentBytes(2048)
                .build();
        try (Log log = Log.open(dir.resolve("none"), config, fsync, clock)) {
            log.append(batch(1, 1));
            assertEquals(0, log.durableEndOffset());
            while (log.segmentCount() == 1) {
                log.append(batch(1, 1));
            }
            // the roll forced everything before the new segment
            long base = log.segments().get(1).baseOffset();
            assertEquals(base, log.durableEndOffset());
            log.append(batch(1, 1));
            log.flushAsync().get(10, TimeUnit.SECONDS);
            assertEquals(log.logEndOffset(), log.durableEndOffset());
        }
    }

    @Test
    void truncationLowersTheDurableEnd() throws Exception {
        try (Log log = open(DurabilityPolicy.GROUPED)) {
            for (int i = 0; i < 10; i++) {
                log.append(batch(1, i));
            }
            log.flushAsync().get(10, TimeUnit.SECONDS);
            assertEquals(10, log.durableEndOffset());
            log.truncateTo(5);
            assertEquals(5, log.durableEndOffset());
            log.append(batch(1, 1));
            assertEquals(5, log.durableEndOffset());
            log.flushAsync().get(10, TimeUnit.SECONDS);
            assertEquals(6, log.durableEndOffset());
        }
    }

    @Test
    void closeCompletesPendingFlushesAndLaterOnesFail() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Log log = open(DurabilityPolicy.GROUPED);
        fsync.requestFlush(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        log.append(batch(1, 1));
        CompletableFuture<Void> pending = log.flushAsync();
        log.close(); // forces and completes the waiter itself
        pending.get(10, TimeUnit.SECONDS);
        release.countDown();
        assertTrue(log.flushAsync().isDone());
    }

    @Test
    void flushFailsWhenTheSchedulerIsClosed() throws Exception {
        try (Log log = open(DurabilityPolicy.GROUPED)) {
            log.append(batch(1, 1));
            fsync.close();
            CompletableFuture<Void> f = log.flushAsync();
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalStateException);
        }
    }
}
