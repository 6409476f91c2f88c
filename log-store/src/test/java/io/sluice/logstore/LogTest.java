package io.sluice.logstore;

import static io.sluice.logstore.TestSupport.batch;
import static io.sluice.logstore.TestSupport.batches;
import static io.sluice.logstore.TestSupport.records;
import static io.sluice.logstore.TestSupport.sizedBatch;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.TestSupport.MutableClock;
import io.sluice.logstore.record.CorruptRecordException;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public {@link Log} API on healthy logs: appends, reads, rolls, Raft view, truncation, retention, reopen. */
class LogTest {
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

    private Log open(LogConfig config) throws Exception {
        return Log.open(dir.resolve("p0"), config, fsync, clock);
    }

    private static LogConfig small() {
        return LogConfig.builder().segmentBytes(4096).indexIntervalBytes(256).build();
    }

    @Test
    void freshLogStartsAtOffsetZeroAndEntryOne() throws Exception {
        try (Log log = open(LogConfig.defaults())) {
            assertEquals(0, log.logStartOffset());
            assertEquals(0, log.logEndOffset());
            assertEquals(1, log.firstEntryIndex());
            assertEquals(0, log.lastEntryIndex());
            assertEquals(1, log.segmentCount());
            assertTrue(Files.exists(dir.resolve("p0/00000000000000000000.log")));
            assertTrue(Files.exists(dir.resolve("p0/00000000000000000000.index")));
            assertTrue(Files.exists(dir.resolve("p0/00000000000000000000.timeindex")));
            assertTrue(log.read(0, 1000).isEmpty());
        }
    }

    @Test
    void appendStampsOffsetsAndEntryIndexesAndKeepsTerm() throws Exception {
        try (Log log = open(LogConfig.defaults())) {
            ByteBuffer b1 = batch(3, 100, 7);
            AppendInfo a1 = log.append(b1);
            assertEquals(new AppendInfo(0, 2, 1, 102, b1.remaining()), a1);
            assertEquals(0, b1.position(), "the caller's position is untouched");
            assertEquals(0, RecordBatch.wrap(b1).baseOffset(), "stamped in place");
            AppendInfo a2 = log.append(batch(2, 200, 8));
            assertEquals(3, a2.baseOffset());
            assertEquals(4, a2.lastOffset());
            assertEquals(2, a2.entryIndex());
            assertEquals(5, log.logEndOffset());
            assertEquals(2, log.lastEntryIndex());

            LogReadResult r = log.read(0, 1 << 20);
            List<RecordBatch> bs = batches(r.records());
            assertEquals(2, bs.size());
            assertEquals(0, bs.get(0).baseOffset());
            assertEquals(7, bs.get(0).raftTerm());
            assertEquals(1, bs.get(0).entryIndex());
            assertEquals(3, bs.get(1).baseOffset());
            assertEquals(8, bs.get(1).raftTerm());
            assertEquals(2, bs.get(1).entryIndex());
            assertEquals(5, r.nextOffset());
            List<Record> recs = records(r.records());
            assertEquals(5, recs.size());
            for (int i = 0; i < 5; i++) {
                assertEquals(i, recs.get(i).offset());
            }
        }
    }

    @Test
    void appendRejectsInvalidBatches() throws Exception {
        try (Log log = open(LogConfig.defaults())) {
            ByteBuffer bad = batch(2, 100);
            bad.put(bad.limit() - 1, (byte) (bad.get(bad.limit() - 1) ^ 1));
            assertThrows(CorruptRecordException.class, () -> log.append(bad));
            ByteBuffer two = ByteBuffer.allocate(400);
            two.put(batch(1, 1)).put(batch(1, 2)).flip();
            assertThrows(CorruptRecordException.class, () -> log.append(two));
            ByteBuffer shortBuf = batch(2, 100).limit(50);
            assertThrows(CorruptRecordException.class, () -> log.append(shortBuf));
            // A bad batch in a group rejects the whole group before anything is written.
            assertThrows(CorruptRecordException.class, () -> log.appendAll(List.of(batch(1, 1), bad)));
            assertEquals(0, log.logEndOffset());
        }
    }

    @Test
    void readOnlyBuffersAreCopiedNotStamped() throws Exception {
        try (Log log = open(LogConfig.defaults())) {
            log.append(batch(1, 1));
            ByteBuffer ro = batch(1, 2).asReadOnlyBuffer();
            AppendInfo a = log.append(ro);
            assertEquals(1, a.baseOffset());
            assertEquals(1, batches(log.read(1, 1000).records()).get(0).baseOffset());
        }
    }

    @Test
    void readReturnsWholeBatchesFromTheOneContainingTheOffset() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 50; i++) {
                log.append(batch(5, i * 10L));
            }
            // offset 17 is inside the batch at 15..19
            LogReadResult r = log.read(17, 1);
            assertEquals(1, r.batchCount(), "at least one batch even if larger than maxBytes");
            assertEquals(15, r.firstBatchBaseOffset());
            assertEquals(20, r.nextOffset());
            // maxBytes bounds the rest
            int one = r.sizeInBytes();
            LogReadResult r3 = log.read(15, one * 3 + one / 2);
            assertEquals(3, r3.batchCount());
            assertEquals(30, r3.nextOffset());
            // high watermark: never a batch whose last offset >= maxOffsetExclusive
            LogReadResult hw = log.read(15, 1 << 20, 29);
            assertEquals(25, hw.nextOffset());
            assertTrue(log.read(25, 1 << 20, 29).isEmpty(), "the batch 25..29 is not below 29");
            assertTrue(log.read(25, 1 << 20, 25).isEmpty());
            // end of log
            assertTrue(log.read(250, 1000).isEmpty());
            assertEquals(250, log.read(250, 1000).nextOffset());
            OffsetOutOfRangeException e = assertThrows(OffsetOutOfRangeException.class, () -> log.read(251, 1000));
            assertEquals(251, e.requestedOffset());
            assertEquals(0, e.logStartOffset());
            assertEquals(250, e.logEndOffset());
            assertThrows(OffsetOutOfRangeException.class, () -> log.read(-1, 1000));
        }
    }

    @Test
    void readsCrossSegmentsOneCallAtATime() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 200; i++) {
                log.append(batch(3, i));
            }
            assertTrue(log.segmentCount() > 3);
            long next = 0;
            int total = 0;
            while (next < log.logEndOffset()) {
                LogReadResult r = log.read(next, 1000);
                assertFalse(r.isEmpty());
                assertEquals(next, r.firstBatchBaseOffset());
                for (Record rec : records(r.records())) {
                    assertEquals(next + total % 3 - total % 3 + (rec.offset() - next), rec.offset());
                }
                total += records(r.records()).size();
                next = r.nextOffset();
            }
            assertEquals(600, total);
        }
    }

    @Test
    void rollsBySize() throws Exception {
        LogConfig config = LogConfig.builder().segmentBytes(2048).build();
        try (Log log = open(config)) {
            ByteBuffer b = sizedBatch(500, 1);
            int size = b.remaining();
            for (int i = 0; i < 10; i++) {
                log.append(sizedBatch(500, i));
            }
            int perSegment = 2048 / size;
            assertEquals((10 + perSegment - 1) / perSegment, log.segmentCount());
            for (SegmentInfo s : log.segments()) {
                assertTrue(s.sizeInBytes() <= 2048);
            }
            List<SegmentInfo> infos = log.segments();
            for (int i = 1; i < infos.size(); i++) {
                assertEquals(infos.get(i - 1).nextOffset(), infos.get(i).baseOffset());
                assertEquals(infos.get(i - 1).nextEntryIndex(), infos.get(i).baseEntryIndex());
                assertTrue(Files.exists(infos.get(i).logFile()));
                assertEquals(
                        String.format("%020d.log", infos.get(i).baseOffset()),
                        infos.get(i).logFile().getFileName().toString());
            }
            assertTrue(infos.get(infos.size() - 1).active());
            assertFalse(infos.get(0).active());
        }
    }

    @Test
    void batchLargerThanASegmentGetsItsOwnSegment() throws Exception {
        LogConfig config = LogConfig.builder().segmentBytes(1024).build();
        try (Log log = open(config)) {
            log.append(batch(1, 1));
            log.append(sizedBatch(5000, 2));
            log.append(batch(1, 3));
            assertEquals(3, log.segmentCount());
            assertEquals(1, records(log.read(1, 10).records()).size());
            assertEquals(5000, records(log.read(1, 10).records()).get(0).value().remaining());
        }
    }

    @Test
    void rollsByAgeUsingTheClock() throws Exception {
        LogConfig config = LogConfig.builder().segmentMs(60_000).build();
        try (Log log = open(config)) {
            log.append(batch(1, clock.millis()));
            clock.advance(Duration.ofSeconds(59));
            log.append(batch(1, clock.millis()));
            assertEquals(1, log.segmentCount());
            clock.advance(Duration.ofSeconds(1));
            log.append(batch(1, clock.millis()));
            assertEquals(2, log.segmentCount());
            assertEquals(2, log.segments().get(1).baseOffset());
            // An empty active segment never rolls by age.
            clock.advance(Duration.ofDays(1));
            log.append(batch(1, clock.millis()));
            assertEquals(3, log.segmentCount());
            log.append(batch(1, clock.millis()));
            assertEquals(3, log.segmentCount());
        }
    }

    @Test
    void rollsWhenTheIndexIsFull() throws Exception {
        LogConfig config =
                LogConfig.builder().indexIntervalBytes(0).maxIndexBytes(48).build();
        try (Log log = open(config)) {
            for (int i = 0; i < 20; i++) {
                log.append(batch(1, i));
            }
            assertTrue(log.segmentCount() >= 4, "segments: " + log.segmentCount());
            for (long o = 0; o < 20; o++) {
                assertEquals(o, log.read(o, 1).firstBatchBaseOffset());
            }
        }
    }

    @Test
    void appendAllWritesAGroupAcrossARoll() throws Exception {
        LogConfig config = LogConfig.builder().segmentBytes(2048).build();
        try (Log log = open(config)) {
            List<ByteBuffer> group = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                group.add(sizedBatch(300, i));
            }
            List<AppendInfo> infos = log.appendAll(group);
            assertEquals(12, infos.size());
            for (int i = 0; i < 12; i++) {
                assertEquals(i, infos.get(i).baseOffset());
                assertEquals(i + 1, infos.get(i).entryIndex());
            }
            assertTrue(log.segmentCount() > 1);
            for (int i = 0; i < 12; i++) {
                ByteBuffer e = log.readEntry(i + 1).orElseThrow();
                assertEquals(i, RecordBatch.wrap(e).baseOffset());
                e.position(0);
                assertArrayEquals(toArray(group.get(i)), toArray(e));
            }
        }
    }

    @Test
    void raftEntryView() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 100; i++) {
                log.append(batch(1 + i % 4, i, 1 + i / 10));
            }
            assertEquals(1, log.firstEntryIndex());
            assertEquals(100, log.lastEntryIndex());
            long offset = 0;
            for (int i = 0; i < 100; i++) {
                long entry = i + 1;
                ByteBuffer b = log.readEntry(entry).orElseThrow();
                RecordBatch rb = RecordBatch.wrap(b);
                rb.ensureValid();
                assertEquals(entry, rb.entryIndex());
                assertEquals(offset, rb.baseOffset());
                assertEquals(OptionalLong.of(1 + i / 10), log.termOf(entry));
                assertEquals(OptionalLong.of(offset), log.offsetForEntryIndex(entry));
                assertEquals(OptionalLong.of(entry), log.entryIndexForOffset(offset));
                assertEquals(OptionalLong.of(entry), log.entryIndexForOffset(rb.lastOffset()));
                offset = rb.nextOffset();
            }
            assertTrue(log.readEntry(0).isEmpty());
            assertTrue(log.readEntry(101).isEmpty());
            assertTrue(log.termOf(101).isEmpty());
            assertTrue(log.entryIndexForOffset(offset).isEmpty());
        }
    }

    @Test
    void truncateAfterEntryAndAppendAgain() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 300; i++) {
                log.append(batch(2, i, 1));
            }
            int segs = log.segmentCount();
            assertTrue(segs > 3);
            log.truncateAfterEntry(30);
            assertEquals(30, log.lastEntryIndex());
            assertEquals(60, log.logEndOffset());
            assertTrue(log.segmentCount() < segs);
            assertTrue(log.readEntry(31).isEmpty());
            AppendInfo a = log.append(batch(3, 1000, 2));
            assertEquals(60, a.baseOffset());
            assertEquals(31, a.entryIndex());
            assertEquals(OptionalLong.of(2), log.termOf(31));
            assertEquals(OptionalLong.of(1), log.termOf(30));
            // no-op truncations
            log.truncateAfterEntry(31);
            log.truncateAfterEntry(500);
            assertEquals(31, log.lastEntryIndex());
            assertThrows(IllegalArgumentException.class, () -> log.truncateAfterEntry(-1));
            // everything
            log.truncateAfterEntry(0);
            assertEquals(0, log.logEndOffset());
            assertEquals(0, log.lastEntryIndex());
            assertEquals(1, log.append(batch(1, 1)).entryIndex());
        }
    }

    @Test
    void lastEntryTermFollowsAppendsTruncationsResetsAndReopen() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 40; i++) {
                log.append(batch(1, i, 1));
            }
            assertEquals(OptionalLong.of(1), log.termOf(40));
            // The last entry is replaced by one of a later term: its term must not be served from before.
            log.truncateAfterEntry(39);
            assertTrue(log.termOf(40).isEmpty());
            assertEquals(OptionalLong.of(1), log.termOf(39));
            log.append(batch(1, 500, 5));
            assertEquals(OptionalLong.of(5), log.termOf(40));
            assertEquals(OptionalLong.of(1), log.termOf(39));
            // Asked twice after a truncation (read from disk, then remembered), then replaced again.
            log.truncateAfterEntry(38);
            assertEquals(OptionalLong.of(1), log.termOf(38));
            assertEquals(OptionalLong.of(1), log.termOf(38));
            log.append(batch(1, 600, 7));
            assertEquals(OptionalLong.of(7), log.termOf(39));
            log.truncateAfterEntry(38);
            assertTrue(log.termOf(39).isEmpty());
            assertEquals(OptionalLong.of(1), log.termOf(38));
            log.reset(100, 1000);
            assertTrue(log.termOf(38).isEmpty());
            assertTrue(log.termOf(99).isEmpty());
            log.append(batch(1, 700, 9));
            assertEquals(OptionalLong.of(9), log.termOf(100));
        }
        try (Log log = open(small())) {
            assertEquals(OptionalLong.of(9), log.termOf(100));
            assertTrue(log.termOf(101).isEmpty());
        }
    }

    @Test
    void lastEntryReadsFollowTruncationsAndAreCopies() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 20; i++) {
                log.append(batch(1, i, 1));
            }
            ByteBuffer first = log.readEntry(20).orElseThrow();
            ByteBuffer again = log.readEntry(20).orElseThrow();
            assertEquals(first, again);
            assertEquals(1, RecordBatch.wrap(again).raftTerm());
            // A caller may consume or overwrite its buffer: the next reader still gets the stored bytes.
            again.put(0, (byte) 0x7f);
            again.position(again.limit());
            assertEquals(first, log.readEntry(20).orElseThrow());
            // Replaced by an entry of a later term right after it was read (and kept): the new one is read.
            log.truncateAfterEntry(19);
            assertTrue(log.readEntry(20).isEmpty());
            log.append(batch(2, 900, 4));
            ByteBuffer replaced = log.readEntry(20).orElseThrow();
            assertEquals(4, RecordBatch.wrap(replaced).raftTerm());
            assertEquals(2, RecordBatch.wrap(replaced).recordCount());
            assertEquals(replaced, log.readEntry(20).orElseThrow());
            log.reset(50, 500);
            assertTrue(log.readEntry(20).isEmpty());
        }
    }

    @Test
    void lastEntryDeletedWithItsSegmentIsNotServed() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 200; i++) {
                log.append(batch(1, i, 1));
            }
            // Truncate to the start of the second segment: the active segment is empty, the last entry in the first.
            long secondBase = log.segments().get(1).baseEntryIndex();
            log.truncateAfterEntry(secondBase - 1);
            long last = log.lastEntryIndex();
            assertEquals(secondBase - 1, last);
            assertEquals(OptionalLong.of(1), log.termOf(last));
            assertTrue(log.readEntry(last).isPresent());
            log.deleteSegmentsBefore(last + 1);
            assertTrue(log.termOf(last).isEmpty());
            assertTrue(log.readEntry(last).isEmpty());
        }
    }

    @Test
    void truncateToRequiresABatchBoundary() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 10; i++) {
                log.append(batch(3, i));
            }
            assertThrows(IllegalArgumentException.class, () -> log.truncateTo(4));
            assertThrows(IllegalArgumentException.class, () -> log.truncateTo(31));
            log.truncateTo(30);
            assertEquals(30, log.logEndOffset());
            log.truncateTo(9);
            assertEquals(9, log.logEndOffset());
            assertEquals(3, log.lastEntryIndex());
            assertEquals(9, log.read(6, 1000).nextOffset());
        }
    }

    @Test
    void truncationIntoAClosedSegmentReactivatesIt() throws Exception {
        LogConfig config =
                LogConfig.builder().segmentBytes(1024).indexIntervalBytes(0).build();
        try (Log log = open(config)) {
            for (int i = 0; i < 60; i++) {
                log.append(batch(1, i));
            }
            List<SegmentInfo> before = log.segments();
            assertTrue(before.size() >= 4);
            SegmentInfo second = before.get(1);
            long mid = (second.baseOffset() + second.nextOffset()) / 2;
            log.truncateTo(mid);
            assertEquals(2, log.segmentCount());
            assertTrue(log.segments().get(1).active());
            for (int i = 0; i < 60; i++) {
                log.append(batch(1, 100 + i));
            }
            for (long o = 0; o < log.logEndOffset(); o++) {
                assertEquals(o, log.read(o, 1).firstBatchBaseOffset());
                assertEquals(
                        o < mid ? o : 100 + o - mid,
                        records(log.read(o, 1).records()).get(0).timestamp());
            }
        }
        try (Log log = open(config)) {
            assertEquals(mid(log), log.logEndOffset());
        }
    }

    private static long mid(Log log) {
        return log.logEndOffset();
    }

    @Test
    void resetStartsFromGivenNumbersAndSurvivesReopen() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 50; i++) {
                log.append(batch(2, i));
            }
            log.reset(1000, 5000);
            assertEquals(5000, log.logStartOffset());
            assertEquals(5000, log.logEndOffset());
            assertEquals(1000, log.firstEntryIndex());
            assertEquals(999, log.lastEntryIndex());
            assertEquals(1, log.segmentCount());
            assertThrows(OffsetOutOfRangeException.class, () -> log.read(0, 100));
        }
        try (Log log = open(small())) {
            assertEquals(5000, log.logStartOffset());
            assertEquals(1000, log.firstEntryIndex());
            assertEquals(999, log.lastEntryIndex());
            AppendInfo a = log.append(batch(2, 1));
            assertEquals(5000, a.baseOffset());
            assertEquals(1000, a.entryIndex());
        }
        try (Log log = open(small())) {
            assertEquals(1000, log.firstEntryIndex());
            assertEquals(1000, log.lastEntryIndex());
            assertEquals(5002, log.logEndOffset());
        }
    }

    @Test
    void deleteSegmentsBeforeRemovesWholeClosedSegmentsOnly() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 200; i++) {
                log.append(batch(2, i));
            }
            List<SegmentInfo> segs = log.segments();
            assertTrue(segs.size() > 4);
            // an entry in the middle of segment 2: segments 0 and 1 go
            long e = (segs.get(2).baseEntryIndex() + segs.get(2).nextEntryIndex()) / 2;
            assertEquals(2, log.deleteSegmentsBefore(e));
            assertEquals(segs.get(2).baseOffset(), log.logStartOffset());
            assertEquals(segs.get(2).baseEntryIndex(), log.firstEntryIndex());
            assertFalse(Files.exists(segs.get(0).logFile()));
            assertFalse(Files.exists(segs.get(1).offsetIndexFile()));
            assertThrows(OffsetOutOfRangeException.class, () -> log.read(0, 100));
            assertTrue(log.readEntry(1).isEmpty());
            // never the active segment
            log.deleteSegmentsBefore(Long.MAX_VALUE);
            assertEquals(1, log.segmentCount());
            assertEquals(400, log.logEndOffset());
        }
        try (Log log = open(small())) {
            assertEquals(1, log.segmentCount());
            assertEquals(200, log.lastEntryIndex());
        }
    }

    @Test
    void emptyLogAfterPrefixDeletionKeepsItsEntryIndexAcrossReopen() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 100; i++) {
                log.append(batch(2, i));
            }
            SegmentInfo active = log.segments().get(log.segmentCount() - 1);
            log.truncateTo(active.baseOffset());
            log.deleteSegmentsBefore(log.lastEntryIndex() + 1);
            assertEquals(1, log.segmentCount());
            assertEquals(active.baseEntryIndex(), log.firstEntryIndex());
            assertEquals(active.baseEntryIndex() - 1, log.lastEntryIndex());
        }
        try (Log log = open(small())) {
            assertEquals(log.logStartOffset(), log.logEndOffset());
            assertEquals(log.firstEntryIndex() - 1, log.lastEntryIndex());
            assertTrue(log.firstEntryIndex() > 1);
        }
    }

    @Test
    void retentionBySize() throws Exception {
        LogConfig config = LogConfig.builder()
                .segmentBytes(2048)
                .retentionBytes(5000)
                .retentionMs(-1)
                .build();
        try (Log log = open(config)) {
            for (int i = 0; i < 40; i++) {
                log.append(sizedBatch(200, clock.millis()));
            }
            long total = log.sizeInBytes();
            OptionalLong boundary = log.retentionBoundary();
            assertTrue(boundary.isPresent());
            int deleted = log.applyRetention();
            assertTrue(deleted > 0);
            assertTrue(log.sizeInBytes() >= 5000, "keeps at least retention.bytes");
            SegmentInfo first = log.segments().get(0);
            assertTrue(log.sizeInBytes() - first.sizeInBytes() < 5000, "deletes as much as it may");
            assertEquals(boundary.getAsLong(), log.firstEntryIndex());
            assertTrue(total > log.sizeInBytes());
            assertTrue(log.retentionBoundary().isEmpty());
        }
    }

    @Test
    void retentionByTimeUsesTheNewestTimestampOfEachSegment() throws Exception {
        LogConfig config = LogConfig.builder()
                .segmentBytes(2048)
                .retentionMs(Duration.ofHours(1).toMillis())
                .build();
        try (Log log = open(config)) {
            long t0 = clock.millis();
            for (int i = 0; i < 30; i++) {
                log.append(sizedBatch(200, t0 + i * 60_000L));
            }
            assertTrue(log.retentionBoundary().isEmpty());
            clock.set(t0 + 29 * 60_000L + Duration.ofHours(1).toMillis() + 1);
            // every closed segment is now older than an hour except none; the active one stays
            assertEquals(log.segmentCount() - 1, log.applyRetention());
            assertEquals(1, log.segmentCount());
            // COMPACT never deletes by retention
        }
        LogConfig compact =
                config.toBuilder().cleanupPolicy(CleanupPolicy.COMPACT).build();
        try (Log log = Log.open(dir.resolve("p1"), compact, fsync, clock)) {
            for (int i = 0; i < 30; i++) {
                log.append(sizedBatch(200, 0));
            }
            assertTrue(log.retentionBoundary().isEmpty());
        }
    }

    @Test
    void offsetForTimestampFindsTheFirstRecordAtOrAfter() throws Exception {
        try (Log log = open(small())) {
            // batches of 4 records; timestamps rise by 10 per record, with one batch out of order
            long ts = 1000;
            for (int i = 0; i < 100; i++) {
                if (i == 50) {
                    log.append(batch(4, 100)); // old timestamps: 100..103 at offsets 200..203
                } else {
                    log.append(batch(4, ts));
                }
                ts += 4;
            }
            // ts of offset o (o not in 200..203) = 1000 + o
            assertEquals(OptionalLong.of(0), log.offsetForTimestamp(0));
            assertEquals(OptionalLong.of(0), log.offsetForTimestamp(1000));
            assertEquals(OptionalLong.of(37), log.offsetForTimestamp(1037));
            assertEquals(OptionalLong.of(204), log.offsetForTimestamp(1201));
            assertEquals(OptionalLong.of(0), log.offsetForTimestamp(101), "first in offset order, not in time");
            assertEquals(OptionalLong.of(399), log.offsetForTimestamp(1399));
            assertTrue(log.offsetForTimestamp(1400).isEmpty());
            for (long t = 1000; t < 1400; t += 7) {
                long expected = t >= 1200 && t < 1204 ? 204 : t - 1000;
                assertEquals(OptionalLong.of(expected), log.offsetForTimestamp(t), "timestamp " + t);
            }
        }
    }

    @Test
    void reopenAfterCleanCloseKeepsEverything() throws Exception {
        List<ByteBuffer> written = new ArrayList<>();
        try (Log log = open(small())) {
            for (int i = 0; i < 120; i++) {
                ByteBuffer b = batch(1 + i % 3, i, i / 7);
                log.append(b);
                written.add(b);
            }
        }
        assertTrue(Files.exists(dir.resolve("p0/.clean-shutdown")));
        try (Log log = open(small())) {
            assertFalse(Files.exists(dir.resolve("p0/.clean-shutdown")), "marker removed on open");
            assertEquals(120, log.lastEntryIndex());
            for (int i = 0; i < 120; i++) {
                ByteBuffer e = log.readEntry(i + 1).orElseThrow();
                assertArrayEquals(toArray(written.get(i)), toArray(e));
            }
            long o = log.logEndOffset();
            assertEquals(o, log.append(batch(1, 1)).baseOffset());
            assertEquals(121, log.lastEntryIndex());
        }
    }

    @Test
    void closedLogRejectsCalls() throws Exception {
        Log log = open(small());
        log.append(batch(1, 1));
        log.close();
        log.close();
        assertThrows(IllegalStateException.class, () -> log.append(batch(1, 1)));
        assertThrows(IllegalStateException.class, () -> log.read(0, 10));
        assertTrue(log.flushAsync().isDone());
    }

    @Test
    void deleteRemovesTheDirectory() throws Exception {
        Log log = open(small());
        log.append(batch(1, 1));
        log.delete();
        assertFalse(Files.exists(dir.resolve("p0")));
    }

    @Test
    void segmentFilesListsThreeFilesPerSegment() throws Exception {
        try (Log log = open(small())) {
            for (int i = 0; i < 100; i++) {
                log.append(batch(2, i));
            }
            List<Path> files = log.segmentFiles();
            assertEquals(3 * log.segmentCount(), files.size());
            for (Path p : files) {
                assertTrue(Files.exists(p), p.toString());
            }
        }
    }

    static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}
