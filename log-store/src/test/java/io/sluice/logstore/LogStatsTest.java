package io.sluice.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Logs report append and fsync timings to the {@link LogStats} of their scheduler; a failing sink fails nothing. */
class LogStatsTest {
    @TempDir
    Path dir;

    /** Records every callback. */
    static final class Recording implements LogStats {
        final List<Integer> appendBatches = new CopyOnWriteArrayList<>();
        final List<Long> appendNanos = new CopyOnWriteArrayList<>();
        final List<Long> fsyncNanos = new CopyOnWriteArrayList<>();

        @Override
        public void onAppend(int batches, long nanos) {
            appendBatches.add(batches);
            appendNanos.add(nanos);
        }

        @Override
        public void onFsync(long nanos) {
            fsyncNanos.add(nanos);
        }
    }

    private static Log open(Path dir, DurabilityPolicy policy, FsyncScheduler fsync) throws Exception {
        return Log.open(dir, LogConfig.builder().durability(policy).build(), fsync, Clock.systemUTC());
    }

    @Test
    void groupedAppendsAndTheirFsyncAreReported() throws Exception {
        Recording stats = new Recording();
        try (FsyncScheduler fsync = FsyncScheduler.start("stats-fsync", stats);
                Log log = open(dir.resolve("grouped"), DurabilityPolicy.GROUPED, fsync)) {
            assertTrue(fsync.stats() == stats);
            log.append(TestSupport.batch(3, 1000));
            log.appendAll(List.of(TestSupport.batch(1, 1001), TestSupport.batch(2, 1002)));
            assertEquals(List.of(1, 2), stats.appendBatches);
            assertTrue(stats.appendNanos.stream().allMatch(n -> n >= 0), stats.appendNanos.toString());
            assertTrue(stats.fsyncNanos.isEmpty(), "no fsync before one is asked for");
            log.flushAsync().get(10, TimeUnit.SECONDS);
            assertEquals(1, stats.fsyncNanos.size(), "one grouped fsync covers both appends");
            assertTrue(stats.fsyncNanos.get(0) >= 0);
        }
    }

    @Test
    void fsyncPerAppendReportsOneFsyncPerAppend() throws Exception {
        Recording stats = new Recording();
        try (FsyncScheduler fsync = FsyncScheduler.start("stats-fsync", stats);
                Log log = open(dir.resolve("per-append"), DurabilityPolicy.FSYNC_PER_APPEND, fsync)) {
            log.append(TestSupport.batch(1, 1000));
            log.append(TestSupport.batch(1, 1001));
            assertEquals(2, stats.appendBatches.size());
            assertEquals(2, stats.fsyncNanos.size());
        }
    }

    @Test
    void aThrowingSinkDoesNotFailTheLog() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        LogStats broken = new LogStats() {
            @Override
            public void onAppend(int batches, long nanos) {
                calls.incrementAndGet();
                throw new IllegalStateException("broken sink");
            }

            @Override
            public void onFsync(long nanos) {
                calls.incrementAndGet();
                throw new IllegalStateException("broken sink");
            }
        };
        try (FsyncScheduler fsync = FsyncScheduler.start("stats-fsync", broken);
                Log log = open(dir.resolve("broken"), DurabilityPolicy.GROUPED, fsync)) {
            log.append(TestSupport.batch(2, 1000));
            log.flushAsync().get(10, TimeUnit.SECONDS);
            assertEquals(2, log.logEndOffset());
            assertEquals(2, log.durableEndOffset());
            assertEquals(2, calls.get());
        }
    }
}
