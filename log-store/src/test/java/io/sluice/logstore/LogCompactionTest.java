package io.sluice.logstore;

import static io.sluice.logstore.TestSupport.keyed;
import static io.sluice.logstore.TestSupport.string;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.TestSupport.MutableClock;
import io.sluice.logstore.record.ControlRecord;
import io.sluice.logstore.record.ControlRecordType;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compaction: latest record per key, numbering preserved, tombstones, lag, merging, crash-safe swap. */
class LogCompactionTest {
    @TempDir
    Path root;

    Path dir;
    FsyncScheduler fsync;
    MutableClock clock = new MutableClock(Duration.ofDays(100).toMillis());
    LogConfig config = LogConfig.builder()
            .segmentBytes(6000)
            .indexIntervalBytes(128)
            .cleanupPolicy(CleanupPolicy.COMPACT)
            .deleteRetentionMs(Duration.ofHours(1).toMillis())
            .build();

    @BeforeEach
    void start() {
        fsync = FsyncScheduler.start("test-fsync");
        dir = root.resolve("p");
    }

    @AfterEach
    void stop() {
        fsync.close();
    }

    /** Every batch of the log, in order, read through the public API. */
    private static List<RecordBatch> allBatches(Log log) {
        List<RecordBatch> out = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            LogReadResult r = log.read(next, 1 << 16);
            out.addAll(TestSupport.batches(r.records()));
            next = r.nextOffset();
        }
        return out;
    }

    private static Map<String, String> latestValues(Log log) {
        Map<String, String> m = new HashMap<>();
        for (RecordBatch b : allBatches(log)) {
            if (b.isControl()) {
                continue;
            }
            for (Record r : b) {
                if (r.key() != null) {
                    m.put(string(r.key()), string(r.value()));
                }
            }
        }
        return m;
    }

    @Test
    void keepsTheLatestRecordPerKeyAndPreservesNumbering() throws Exception {
        try (Log log = Log.open(dir, config, fsync, clock)) {
            long ts = clock.millis();
            Map<String, String> expected = new HashMap<>();
            for (int i = 0; i < 300; i++) {
                String k1 = "key" + (i % 10);
                String k2 = "key" + ((i * 7) % 13);
                log.append(keyed(ts, new String[] {k1, k2, null}, new String[] {pad("a" + i), pad("b" + i), "n" + i}));
                expected.put(k1, pad("a" + i));
                expected.put(k2, pad("b" + i));
            }
            List<RecordBatch> before = allBatches(log);
            int segmentsBefore = log.segmentCount();
            long sizeBefore = log.sizeInBytes();
            long end = log.logEndOffset();

            CompactionResult result = log.compact();
            assertFalse(result.aborted());
            assertTrue(result.segmentsReplaced() > 1);
            assertTrue(result.recordsRemoved() > 0);
            assertTrue(result.bytesAfter() < result.bytesBefore());
            assertTrue(log.sizeInBytes() < sizeBefore);
            // later passes merge the shrunk segments until nothing is left to do
            int passes = 0;
            while (log.compact().segmentsReplaced() > 0) {
                assertTrue(++passes < 10, "compaction converges");
            }
            assertTrue(passes > 0);
            assertTrue(log.segmentCount() < segmentsBefore, "small cleaned segments are merged");

            // numbering unchanged: every batch survives, offsets, entry indexes, terms, timestamps kept
            List<RecordBatch> after = allBatches(log);
            assertEquals(before.size(), after.size());
            for (int i = 0; i < before.size(); i++) {
                RecordBatch b = before.get(i);
                RecordBatch a = after.get(i);
                assertEquals(b.baseOffset(), a.baseOffset());
                assertEquals(b.lastOffset(), a.lastOffset());
                assertEquals(b.entryIndex(), a.entryIndex());
                assertEquals(b.raftTerm(), a.raftTerm());
                assertEquals(b.maxTimestamp(), a.maxTimestamp());
                assertEquals(b.firstTimestamp(), a.firstTimestamp());
                a.ensureValid();
            }
            assertEquals(end, log.logEndOffset());
            assertEquals(300, log.lastEntryIndex());
            for (long e = 1; e <= 300; e++) {
                assertEquals(e, RecordBatch.wrap(log.readEntry(e).orElseThrow()).entryIndex());
            }
            // the latest value per key survives; keyless records all survive
            assertEquals(expected, withoutNull(latestValues(log)));
            long keyless = after.stream()
                    .flatMap(b -> b.records().stream())
                    .filter(r -> r.key() == null)
                    .count();
            assertEquals(300, keyless);
            // each surviving keyed record is the latest for its key within the cleaned part or in the active one
            long activeBase = log.segments().get(log.segmentCount() - 1).baseOffset();
            Map<String, Integer> counts = new HashMap<>();
            for (RecordBatch b : after) {
                if (b.baseOffset() >= activeBase) {
                    continue;
                }
                for (Record r : b) {
                    if (r.key() != null) {
                        counts.merge(string(r.key()), 1, Integer::sum);
                    }
                }
            }
            counts.values().forEach(c -> assertEquals(1, c));
        }
        try (Log log = Log.open(dir, config, fsync, clock)) {
            assertEquals(300, log.lastEntryIndex());
            assertTrue(log.corruptSegments().isEmpty());
            allBatches(log).forEach(RecordBatch::ensureValid);
        }
    }

    private static Map<String, String> withoutNull(Map<String, String> m) {
        return m;
    }

    /** A value long enough that dropping it frees much more than an empty batch's header. */
    private static String pad(String s) {
        return s + ".".repeat(300);
    }

    @Test
    void batchesThatLoseEveryRecordStayAsEmptyBatches() throws Exception {
        try (Log log = Log.open(dir, config, fsync, clock)) {
            long ts = clock.millis();
            for (int i = 0; i < 100; i++) {
                log.append(keyed(ts, new String[] {"same", "same"}, new String[] {"x" + i, "y" + i}));
            }
            log.compact();
            List<RecordBatch> after = allBatches(log);
            assertEquals(100, after.size());
            long empty = after.stream().filter(b -> b.recordCount() == 0).count();
            assertTrue(empty > 50, "empty batches: " + empty);
            for (int i = 0; i < after.size(); i++) {
                assertEquals(2L * i, after.get(i).baseOffset());
                assertEquals(2L * i + 1, after.get(i).lastOffset(), "an empty batch keeps its offsets");
            }
            // reading from an offset inside an emptied batch still works
            assertEquals(10, log.read(11, 1).firstBatchBaseOffset());
        }
    }

    @Test
    void tombstonesStayForDeleteRetentionThenGo() throws Exception {
        try (Log log = Log.open(dir, config, fsync, clock)) {
            long ts = clock.millis();
            for (int i = 0; i < 60; i++) {
                log.append(keyed(ts, new String[] {"k" + i % 5}, new String[] {"v" + i}));
            }
            log.append(keyed(ts, new String[] {"k0"}, new String[] {null})); // delete k0
            for (int i = 0; i < 60; i++) {
                log.append(keyed(ts, new String[] {"filler" + i % 3}, new String[] {"f" + i}));
            }
            CompactionResult r1 = log.compact();
            assertEquals(0, r1.tombstonesRemoved());
            Map<String, String> m = latestValues(log);
            assertTrue(m.containsKey("k0"));
            assertEquals(null, m.get("k0"), "the tombstone is still there");
            clock.advance(Duration.ofHours(2));
            CompactionResult r2 = log.compact();
            assertEquals(1, r2.tombstonesRemoved());
            assertFalse(latestValues(log).containsKey("k0"));
        }
    }

    @Test
    void minCompactionLagLeavesYoungSegmentsAlone() throws Exception {
        LogConfig lagged = config.toBuilder()
                .minCompactionLagMs(Duration.ofHours(1).toMillis())
                .build();
        try (Log log = Log.open(dir, lagged, fsync, clock)) {
            long ts = clock.millis();
            for (int i = 0; i < 100; i++) {
                log.append(keyed(ts, new String[] {"k"}, new String[] {"v" + i}));
            }
            CompactionResult young = log.compact();
            assertEquals(0, young.segmentsRead());
            clock.advance(Duration.ofHours(2));
            CompactionResult old = log.compact();
            assertTrue(old.segmentsReplaced() > 0);
        }
    }

    @Test
    void controlBatchesAndTimestampLookupsSurvive() throws Exception {
        try (Log log = Log.open(dir, config, fsync, clock)) {
            long ts = clock.millis();
            List<ByteBuffer> controls = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                if (i % 10 == 0) {
                    ByteBuffer c = ControlRecord.buildBatch(ControlRecordType.values()[0], ts + i, new byte[] {1, 2});
                    log.append(c);
                    controls.add(c);
                } else {
                    log.append(keyed(ts + i, new String[] {"k"}, new String[] {"v" + i}));
                }
            }
            log.compact();
            int i = 0;
            for (RecordBatch b : allBatches(log)) {
                if (b.isControl()) {
                    assertArrayEquals(LogTest.toArray(controls.get(i++)), LogTest.toArray(b.buffer()));
                }
            }
            assertEquals(10, i);
            // timestamps of the surviving records: the lookup lands on a record at or after the target
            OptionalLong o = log.offsetForTimestamp(ts + 55);
            assertTrue(o.isPresent());
            assertTrue(o.getAsLong() >= 55);
        }
    }

    @Test
    void deletePolicyDoesNotCompact() throws Exception {
        LogConfig delete =
                config.toBuilder().cleanupPolicy(CleanupPolicy.DELETE).build();
        try (Log log = Log.open(dir, delete, fsync, clock)) {
            for (int i = 0; i < 100; i++) {
                log.append(keyed(clock.millis(), new String[] {"k"}, new String[] {"v" + i}));
            }
            assertEquals(CompactionResult.NOTHING, log.compact());
        }
    }

    @Test
    void interruptedCompactionIsCleanedUpOrFinishedOnOpen() throws Exception {
        try (Log log = Log.open(dir, config, fsync, clock)) {
            for (int i = 0; i < 200; i++) {
                log.append(keyed(clock.millis(), new String[] {"k" + i % 4}, new String[] {pad("v" + i)}));
            }
        }
        // (1) a pass that died while writing: .cleaned files are dropped, the log is untouched
        Files.write(dir.resolve("00000000000000000000.log.cleaned"), new byte[100]);
        Files.write(dir.resolve("00000000000000000000.index.cleaned"), new byte[12]);
        Map<String, String> expected;
        List<SegmentInfo> segs;
        try (Log log = Log.open(dir, config, fsync, clock)) {
            expected = latestValues(log);
            segs = log.segments();
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".cleaned")));
        }
        // (2) a pass that died after committing: simulate by compacting a copy and leaving its output as .swap
        Path copy = root.resolve("copy");
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        try (Log log = Log.open(copy, config, fsync, clock)) {
            CompactionResult r = log.compact();
            log.compact();
            assertTrue(log.segmentCount() < segs.size(), r + " " + log.segments());
        }
        Path cleanedFirst = copy.resolve("00000000000000000000.log");
        long coveredEnd;
        try (Log log = Log.open(copy, config, fsync, clock)) {
            coveredEnd = log.segments().get(0).nextOffset();
        }
        Files.copy(cleanedFirst, dir.resolve("00000000000000000000.log.swap"));
        try (Log log = Log.open(dir, config, fsync, clock)) {
            assertEquals(coveredEnd, log.segments().get(0).nextOffset(), "the swap replaced the segments it covers");
            assertEquals(expected, latestValues(log));
            assertEquals(200, log.lastEntryIndex());
            assertTrue(log.corruptSegments().isEmpty());
            assertTrue(segs.size() > log.segmentCount());
        }
        assertFalse(Files.exists(dir.resolve("00000000000000000000.log.swap")));
    }
}
