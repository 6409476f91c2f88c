package io.sluice.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.TestSupport.MutableClock;
import io.sluice.logstore.internal.LogTestHooks;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.logstore.record.RecordBatchBuilder;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random appends, reads, truncations, rolls, retention, resets, reopens and crashes, checked after every
 * step against a plain in-memory list of batches. Run with {@code -Dsluice.seed=N} to replay a failure;
 * the seed is printed and named in every failure message.
 */
class LogRandomizedTest {
    private static final int STEPS = Integer.getInteger("sluice.steps", 1500);

    @TempDir
    Path root;

    /** One batch as the model sees it. */
    record Entry(byte[] bytes, long baseOffset, long lastOffset, long entryIndex, long firstTs, int count, long term) {}

    Random rnd;
    FsyncScheduler fsync;
    MutableClock clock = new MutableClock(1_000_000_000L);
    Log log;
    LogConfig config;
    Path dir;

    // the model
    List<Entry> entries = new ArrayList<>();
    long startOffset = 0;
    long firstEntry = 1;
    long nextOffset = 0;
    long nextEntry = 1;
    long term = 1;
    String lastOp = "";

    @Test
    void randomOperationsMatchTheModel() throws Exception {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        System.out.println("LogRandomizedTest seed: " + seed + " (replay with -Dsluice.seed=" + seed + ")");
        rnd = new Random(seed);
        config = LogConfig.builder()
                .segmentBytes(1024 + rnd.nextInt(4096))
                .indexIntervalBytes(rnd.nextInt(600))
                .maxIndexBytes(12 * (4 + rnd.nextInt(60)))
                .durability(DurabilityPolicy.values()[rnd.nextInt(3)])
                .retentionBytes(-1)
                .retentionMs(-1)
                .build();
        dir = root.resolve("p");
        fsync = FsyncScheduler.start("random-fsync");
        int step = 0;
        try {
            log = Log.open(dir, config, fsync, clock);
            for (step = 0; step < STEPS; step++) {
                step();
                checkInvariants();
            }
            log.close();
            log = Log.open(dir, config, fsync, clock);
            checkEverything();
            log.close();
        } catch (Throwable t) {
            throw new AssertionError(
                    "seed " + seed + ", step " + step + ", last operation " + lastOp + ", config " + config + ": " + t,
                    t);
        } finally {
            fsync.close();
        }
    }

    private void step() throws Exception {
        int op = rnd.nextInt(100);
        if (op < 40) {
            append(1);
        } else if (op < 48) {
            append(2 + rnd.nextInt(6));
        } else if (op < 62) {
            randomRead();
        } else if (op < 70) {
            randomEntryRead();
        } else if (op < 74) {
            truncateAfterEntry();
        } else if (op < 77) {
            truncateTo();
        } else if (op < 80) {
            deleteSegmentsBefore();
        } else if (op < 83) {
            sizeRetention();
        } else if (op < 87) {
            timestampLookup();
        } else if (op < 90) {
            lastOp = "reopen";
            log.close();
            log = Log.open(dir, config, fsync, clock);
        } else if (op < 92) {
            lastOp = "crash";
            if (rnd.nextBoolean()) {
                log.flushAsync().get();
            }
            LogTestHooks.crash(log);
            log = Log.open(dir, config, fsync, clock);
        } else if (op < 93) {
            reset();
        } else if (op < 96) {
            lastOp = "clock";
            clock.advance(java.time.Duration.ofMinutes(rnd.nextInt(60 * 24)));
        } else {
            lastOp = "flush";
            log.flushAsync().get();
            assertEquals(log.logEndOffset(), log.durableEndOffset());
        }
    }

    private void append(int n) {
        lastOp = "append " + n;
        List<ByteBuffer> group = new ArrayList<>();
        List<Entry> added = new ArrayList<>();
        long off = nextOffset;
        long ent = nextEntry;
        if (rnd.nextInt(20) == 0) {
            term++;
        }
        for (int i = 0; i < n; i++) {
            int count = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 40 : 5);
            long ts = clock.millis() + rnd.nextInt(1000) - 500;
            RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
            for (int r = 0; r < count; r++) {
                byte[] v = new byte[rnd.nextInt(rnd.nextInt(8) == 0 ? 2000 : 60)];
                rnd.nextBytes(v);
                b.append(ts + r, TestSupport.bytes("k" + rnd.nextInt(20)), v);
            }
            ByteBuffer buf = b.build();
            RecordBatch.stampRaftTerm(buf, 0, term);
            group.add(buf);
            byte[] expect = LogTest.toArray(buf);
            ByteBuffer e = ByteBuffer.wrap(expect);
            RecordBatch.stampBaseOffset(e, 0, off);
            RecordBatch.stampEntryIndex(e, 0, ent);
            added.add(new Entry(expect, off, off + count - 1, ent, ts, count, term));
            off += count;
            ent++;
        }
        List<AppendInfo> infos = n == 1 && rnd.nextBoolean() ? List.of(log.append(group.get(0))) : log.appendAll(group);
        for (int i = 0; i < n; i++) {
            Entry e = added.get(i);
            assertEquals(e.baseOffset(), infos.get(i).baseOffset());
            assertEquals(e.lastOffset(), infos.get(i).lastOffset());
            assertEquals(e.entryIndex(), infos.get(i).entryIndex());
        }
        entries.addAll(added);
        nextOffset = off;
        nextEntry = ent;
        if (config.durability() == DurabilityPolicy.FSYNC_PER_APPEND) {
            assertEquals(nextOffset, log.durableEndOffset());
        }
    }

    private void randomRead() {
        if (rnd.nextInt(10) == 0) {
            long bad = rnd.nextBoolean() ? nextOffset + 1 + rnd.nextInt(5) : startOffset - 1 - rnd.nextInt(5);
            lastOp = "read out of range " + bad;
            if (bad >= 0) {
                assertThrows(OffsetOutOfRangeException.class, () -> log.read(bad, 100));
            }
            return;
        }
        long from = startOffset
                + (nextOffset == startOffset ? 0 : (long) (rnd.nextDouble() * (nextOffset - startOffset + 1)));
        int maxBytes = rnd.nextInt(3000);
        long hw = rnd.nextBoolean() ? Long.MAX_VALUE : from + rnd.nextInt(50);
        lastOp = "read " + from + " max " + maxBytes + " hw " + hw;
        LogReadResult r = log.read(from, maxBytes, hw);
        // expected: batches from the one containing `from`, in one segment, as many as fit
        int i = indexOfOffset(from);
        if (i < 0 || entries.get(i).lastOffset() >= hw) {
            assertTrue(r.isEmpty(), "expected an empty read");
            assertEquals(from, r.nextOffset());
            return;
        }
        List<RecordBatch> got = TestSupport.batches(r.records());
        assertTrue(!got.isEmpty());
        int total = 0;
        for (int k = 0; k < got.size(); k++) {
            Entry e = entries.get(i + k);
            assertArrayEquals(e.bytes(), LogTest.toArray(got.get(k).buffer()), "batch " + k + " of the read");
            assertTrue(e.lastOffset() < hw);
            total += e.bytes().length;
            if (k > 0) {
                assertTrue(total <= maxBytes, "only the first batch may exceed maxBytes");
            }
        }
        assertEquals(entries.get(i + got.size() - 1).lastOffset() + 1, r.nextOffset());
        assertEquals(entries.get(i).baseOffset(), r.firstBatchBaseOffset());
    }

    private void randomEntryRead() {
        long e = firstEntry - 2 + (long) (rnd.nextDouble() * (nextEntry - firstEntry + 4));
        lastOp = "readEntry " + e;
        var got = log.readEntry(e);
        if (e < firstEntry || e >= nextEntry) {
            assertTrue(got.isEmpty());
            assertTrue(log.termOf(e).isEmpty());
            return;
        }
        Entry want = entries.get((int) (e - firstEntry));
        assertArrayEquals(want.bytes(), LogTest.toArray(got.orElseThrow()));
        assertEquals(OptionalLong.of(want.term()), log.termOf(e));
        assertEquals(OptionalLong.of(want.baseOffset()), log.offsetForEntryIndex(e));
        long inside = want.baseOffset() + rnd.nextInt(want.count());
        assertEquals(OptionalLong.of(e), log.entryIndexForOffset(inside));
    }

    private void truncateAfterEntry() {
        long keep = firstEntry - 1 + (long) (rnd.nextDouble() * (nextEntry - firstEntry + 1));
        lastOp = "truncateAfterEntry " + keep;
        log.truncateAfterEntry(keep);
        while (!entries.isEmpty() && entries.get(entries.size() - 1).entryIndex() > keep) {
            entries.remove(entries.size() - 1);
        }
        nextEntry = Math.max(firstEntry, keep + 1);
        nextOffset = entries.isEmpty()
                ? startOffset
                : entries.get(entries.size() - 1).lastOffset() + 1;
    }

    private void truncateTo() {
        if (entries.isEmpty()) {
            return;
        }
        Entry e = entries.get(rnd.nextInt(entries.size()));
        if (e.count() > 1 && rnd.nextInt(3) == 0) {
            lastOp = "truncateTo inside a batch " + (e.baseOffset() + 1);
            assertThrows(IllegalArgumentException.class, () -> log.truncateTo(e.baseOffset() + 1));
            return;
        }
        lastOp = "truncateTo " + e.baseOffset();
        log.truncateTo(e.baseOffset());
        entries.subList((int) (e.entryIndex() - firstEntry), entries.size()).clear();
        nextOffset = e.baseOffset();
        nextEntry = e.entryIndex();
    }

    private void deleteSegmentsBefore() {
        long target = firstEntry + (long) (rnd.nextDouble() * (nextEntry - firstEntry + 2));
        lastOp = "deleteSegmentsBefore " + target;
        List<SegmentInfo> segs = log.segments();
        int k = 0;
        while (k < segs.size() - 1 && segs.get(k).nextEntryIndex() <= target) {
            k++;
        }
        assertEquals(k, log.deleteSegmentsBefore(target));
        dropBefore(segs.get(k));
    }

    private void sizeRetention() throws Exception {
        long limit = rnd.nextInt(20_000);
        lastOp = "size retention " + limit;
        LogConfig retaining = config.toBuilder().retentionBytes(limit).build();
        log.close();
        Log withRetention = Log.open(dir, retaining, fsync, clock);
        List<SegmentInfo> segs = withRetention.segments();
        long remaining = segs.stream().mapToLong(SegmentInfo::sizeInBytes).sum();
        int k = 0;
        while (k < segs.size() - 1 && remaining - segs.get(k).sizeInBytes() >= limit) {
            remaining -= segs.get(k).sizeInBytes();
            k++;
        }
        OptionalLong boundary = withRetention.retentionBoundary();
        assertEquals(k == 0 ? OptionalLong.empty() : OptionalLong.of(segs.get(k).baseEntryIndex()), boundary);
        assertEquals(k, withRetention.applyRetention());
        dropBefore(segs.get(k));
        withRetention.close();
        log = Log.open(dir, config, fsync, clock);
    }

    private void dropBefore(SegmentInfo first) {
        while (!entries.isEmpty() && entries.get(0).entryIndex() < first.baseEntryIndex()) {
            entries.remove(0);
        }
        startOffset = first.baseOffset();
        firstEntry = first.baseEntryIndex();
    }

    private void timestampLookup() {
        long target = clock.millis() + rnd.nextInt(3000) - 1500;
        lastOp = "offsetForTimestamp " + target;
        OptionalLong expected = OptionalLong.empty();
        for (Entry e : entries) {
            if (e.firstTs() + e.count() - 1 >= target) {
                expected = OptionalLong.of(e.baseOffset() + Math.max(0, target - e.firstTs()));
                break;
            }
        }
        assertEquals(expected, log.offsetForTimestamp(target));
    }

    private void reset() {
        long ne = nextEntry + rnd.nextInt(100);
        long no = nextOffset + rnd.nextInt(1000);
        lastOp = "reset " + ne + " " + no;
        log.reset(ne, no);
        entries.clear();
        startOffset = no;
        nextOffset = no;
        firstEntry = ne;
        nextEntry = ne;
    }

    private int indexOfOffset(long offset) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).lastOffset() >= offset) {
                return entries.get(i).baseOffset() <= offset ? i : -1;
            }
        }
        return -1;
    }

    private void checkInvariants() {
        assertEquals(startOffset, log.logStartOffset(), "log start offset");
        assertEquals(nextOffset, log.logEndOffset(), "log end offset");
        assertEquals(firstEntry, log.firstEntryIndex(), "first entry index");
        assertEquals(nextEntry - 1, log.lastEntryIndex(), "last entry index");
        assertTrue(log.durableEndOffset() <= log.logEndOffset());
        List<SegmentInfo> segs = log.segments();
        long size = 0;
        for (int i = 0; i < segs.size(); i++) {
            SegmentInfo s = segs.get(i);
            size += s.sizeInBytes();
            if (i > 0) {
                assertEquals(segs.get(i - 1).nextOffset(), s.baseOffset());
                assertEquals(segs.get(i - 1).nextEntryIndex(), s.baseEntryIndex());
                assertTrue(segs.get(i - 1).sizeInBytes() > 0, "only the last segment may be empty");
            }
            assertEquals(i == segs.size() - 1, s.active());
        }
        assertEquals(size, log.sizeInBytes());
        assertTrue(log.corruptSegments().isEmpty());
    }

    private void checkEverything() {
        checkInvariants();
        for (Entry e : entries) {
            assertArrayEquals(
                    e.bytes(), LogTest.toArray(log.readEntry(e.entryIndex()).orElseThrow()));
        }
        long next = startOffset;
        int i = 0;
        while (next < nextOffset) {
            LogReadResult r = log.read(next, 4096);
            for (RecordBatch b : TestSupport.batches(r.records())) {
                assertArrayEquals(entries.get(i++).bytes(), LogTest.toArray(b.buffer()));
            }
            next = r.nextOffset();
        }
        assertEquals(entries.size(), i);
    }
}
