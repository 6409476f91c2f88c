package io.sluice.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.TestSupport.MutableClock;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readers racing a writer, retention and compaction: a reader always gets whole valid batches in offset
 * order, continuing where the previous read ended, or a clean out-of-range error when retention removed
 * what it wanted.
 */
class LogConcurrencyTest {
    @TempDir
    Path dir;

    FsyncScheduler fsync;
    MutableClock clock = new MutableClock(1_000_000L);
    final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void start() {
        fsync = FsyncScheduler.start("test-fsync");
    }

    @AfterEach
    void stop() {
        fsync.close();
    }

    /** Batch i holds (i % 5) + 1 records whose values are their own offset, as decimal text. */
    private static ByteBuffer numbered(long firstOffset, int i) {
        return numbered(firstOffset, i, "k" + (i % 7));
    }

    private static ByteBuffer numbered(long firstOffset, int i, String key) {
        int n = i % 5 + 1;
        var b = io.sluice.logstore.record.RecordBatchBuilder.create(io.sluice.logstore.record.CompressionType.NONE);
        for (int r = 0; r < n; r++) {
            b.append(1000 + i, TestSupport.bytes(key), TestSupport.bytes(Long.toString(firstOffset + r)));
        }
        return b.build();
    }

    /** Reads from {@code from} to the end the writer reaches, checking every batch; returns batches seen. */
    private long tail(Log log, AtomicBoolean writerDone, boolean tolerateRetention, long from) {
        long next = from;
        long lastEntry = -1;
        long batches = 0;
        while (true) {
            boolean done = writerDone.get();
            long end = log.logEndOffset();
            if (next >= end) {
                if (done) {
                    return batches;
                }
                Thread.yield(); // caught up: let the writer run (2 cores)
                continue;
            }
            LogReadResult r;
            try {
                r = log.read(next, 1 + (int) (batches % 3000), end);
            } catch (OffsetOutOfRangeException e) {
                assertTrue(tolerateRetention, "unexpected " + e);
                assertTrue(e.logStartOffset() > next, "out of range only below the start: " + e);
                next = e.logStartOffset();
                lastEntry = -1;
                continue;
            }
            if (r.isEmpty()) {
                continue;
            }
            assertTrue(r.firstBatchBaseOffset() <= next);
            ByteBuffer buf = r.records();
            int pos = 0;
            long expected = r.firstBatchBaseOffset();
            while (pos < buf.limit()) {
                RecordBatch b = RecordBatch.wrap(buf, pos);
                b.ensureValid();
                assertEquals(expected, b.baseOffset(), "batches in offset order without gaps");
                if (lastEntry >= 0) {
                    assertEquals(lastEntry + 1, b.entryIndex(), "entry indexes without gaps");
                }
                lastEntry = b.entryIndex();
                for (Record rec : b) {
                    if (rec.value() != null) {
                        assertEquals(Long.toString(rec.offset()), TestSupport.string(rec.value()));
                    }
                }
                expected = b.nextOffset();
                pos += b.sizeInBytes();
                batches++;
            }
            assertEquals(r.nextOffset(), expected);
            next = r.nextOffset();
        }
    }

    private List<Thread> startReaders(
            int n, Log log, AtomicBoolean writerDone, boolean tolerateRetention, AtomicLong seen) {
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            Thread th = new Thread(
                    () -> {
                        try {
                            seen.addAndGet(tail(log, writerDone, tolerateRetention, log.logStartOffset()));
                        } catch (Throwable e) {
                            errors.add(e);
                        }
                    },
                    "reader-" + t);
            th.start();
            readers.add(th);
        }
        return readers;
    }

    private void join(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.join(120_000);
            assertTrue(!t.isAlive(), t.getName() + " did not finish");
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " reader errors; first: " + errors.peek());
            errors.forEach(e::addSuppressed);
            throw e;
        }
    }

    @Test
    void readersRacingAWriterSeeWholeBatchesInOrder() throws Exception {
        LogConfig config = LogConfig.builder()
                .segmentBytes(32 * 1024)
                .indexIntervalBytes(300)
                .durability(DurabilityPolicy.NONE)
                .build();
        try (Log log = Log.open(dir.resolve("p"), config, fsync, clock)) {
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong seen = new AtomicLong();
            List<Thread> readers = startReaders(2, log, done, false, seen);
            Thread entryReader = new Thread(() -> {
                try {
                    while (!done.get()) {
                        long last = log.lastEntryIndex();
                        if (last >= 1) {
                            long e = 1 + (long) (Math.random() * last);
                            Optional<ByteBuffer> b = log.readEntry(e);
                            RecordBatch rb = RecordBatch.wrap(b.orElseThrow());
                            rb.ensureValid();
                            assertEquals(e, rb.entryIndex());
                        }
                        Thread.yield();
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
            entryReader.start();
            long offset = 0;
            for (int i = 0; i < 4000; i++) {
                if (i % 10 == 0) {
                    List<ByteBuffer> group = new ArrayList<>();
                    for (int g = 0; g < 4; g++, i++) {
                        ByteBuffer b = numbered(offset, i);
                        offset += i % 5 + 1;
                        group.add(b);
                    }
                    log.appendAll(group);
                    i--;
                } else {
                    log.append(numbered(offset, i));
                    offset += i % 5 + 1;
                }
            }
            done.set(true);
            readers.add(entryReader);
            join(readers);
            assertTrue(log.segmentCount() > 10);
            assertTrue(seen.get() >= 2 * 4000L, "every reader saw every batch: " + seen.get());
        }
    }

    @Test
    void readersRacingRetentionGetBatchesOrAnOutOfRangeError() throws Exception {
        LogConfig config = LogConfig.builder()
                .segmentBytes(16 * 1024)
                .retentionBytes(40_000)
                .retentionMs(-1)
                .durability(DurabilityPolicy.NONE)
                .build();
        try (Log log = Log.open(dir.resolve("p"), config, fsync, clock)) {
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong seen = new AtomicLong();
            List<Thread> readers = startReaders(3, log, done, true, seen);
            Thread retention = new Thread(() -> {
                try {
                    while (!done.get()) {
                        log.applyRetention();
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
            retention.start();
            long offset = 0;
            for (int i = 0; i < 4000; i++) {
                log.append(numbered(offset, i));
                offset += i % 5 + 1;
            }
            done.set(true);
            readers.add(retention);
            join(readers);
            log.applyRetention();
            assertTrue(log.sizeInBytes() < 60_000);
            assertTrue(log.logStartOffset() > 0);
        }
    }

    @Test
    void readersRacingCompactionSeeTheSameNumberingAndValidBatches() throws Exception {
        LogConfig config = LogConfig.builder()
                .segmentBytes(16 * 1024)
                .cleanupPolicy(CleanupPolicy.COMPACT)
                .durability(DurabilityPolicy.NONE)
                .build();
        try (Log log = Log.open(dir.resolve("p"), config, fsync, clock)) {
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong seen = new AtomicLong();
            AtomicLong passes = new AtomicLong();
            List<Thread> readers = startReaders(3, log, done, false, seen);
            Thread cleaner = new Thread(() -> {
                try {
                    while (!done.get()) {
                        CompactionResult r = log.compact();
                        if (r.segmentsReplaced() > 0) {
                            passes.incrementAndGet();
                        }
                        Thread.yield();
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
            cleaner.start();
            long offset = 0;
            for (int i = 0; i < 4000; i++) {
                if (i == 3000) {
                    // A starved cleaner thread may not finish a pass before the writer ends: the race needs one.
                    TestSupport.waitFor(() -> passes.get() > 0, Duration.ofSeconds(30), "a compaction pass");
                }
                log.append(numbered(offset, i, "key" + (i % 20)));
                offset += i % 5 + 1;
            }
            done.set(true);
            readers.add(cleaner);
            join(readers);
            assertTrue(passes.get() > 0, "compaction ran while readers read");
            assertTrue(seen.get() >= 3 * 4000L);
            // after the race, a full read still sees every batch with contiguous numbering
            AtomicBoolean finished = new AtomicBoolean(true);
            assertEquals(4000, tail(log, finished, false, 0));
        }
    }
}
