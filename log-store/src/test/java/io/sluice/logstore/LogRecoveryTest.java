package io.sluice.logstore;

import static io.sluice.logstore.TestSupport.batch;
import static io.sluice.logstore.TestSupport.records;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.TestSupport.MutableClock;
import io.sluice.logstore.internal.LogTestHooks;
import io.sluice.logstore.record.BatchHeader;
import io.sluice.logstore.record.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes, torn writes and damaged files: what recovery keeps, truncates, rebuilds or reports. */
class LogRecoveryTest {
    @TempDir
    Path root;

    Path dir;
    FsyncScheduler fsync;
    MutableClock clock = new MutableClock(1_000_000L);
    LogConfig config =
            LogConfig.builder().segmentBytes(4096).indexIntervalBytes(200).build();
    List<ByteBuffer> written = new ArrayList<>();

    @BeforeEach
    void start() {
        fsync = FsyncScheduler.start("test-fsync");
        dir = root.resolve("p0");
    }

    @AfterEach
    void stop() {
        fsync.close();
    }

    private Log open() throws IOException {
        return Log.open(dir, config, fsync, clock);
    }

    /** Appends {@code n} batches of 1..3 records and remembers their bytes. */
    private void fill(Log log, int n) {
        for (int i = 0; i < n; i++) {
            ByteBuffer b = batch(1 + written.size() % 3, 10_000 + written.size() * 10L, 1);
            log.append(b);
            written.add(b);
        }
    }

    /** Checks that the log holds exactly the first {@code n} written batches, byte for byte. */
    private void assertHolds(Log log, int n) {
        assertEquals(n, log.lastEntryIndex());
        long offset = 0;
        for (int i = 0; i < n; i++) {
            ByteBuffer e = log.readEntry(i + 1).orElseThrow(() -> new AssertionError("entry missing"));
            assertArrayEquals(LogTest.toArray(written.get(i)), LogTest.toArray(e), "entry " + (i + 1));
            RecordBatch b = RecordBatch.wrap(written.get(i));
            assertEquals(b.baseOffset(), log.read(b.baseOffset(), 1).firstBatchBaseOffset());
            assertEquals(b.baseOffset(), log.read(b.lastOffset(), 1).firstBatchBaseOffset());
            offset = b.nextOffset();
        }
        assertEquals(offset, log.logEndOffset());
    }

    private static List<Integer> batchPositions(Path logFile) throws IOException {
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(logFile));
        List<Integer> out = new ArrayList<>();
        int p = 0;
        while (p < all.limit()) {
            out.add(p);
            p += RecordBatch.sizeAt(all, p);
        }
        return out;
    }

    private static void flipByte(Path file, long pos) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, pos);
            b.put(0, (byte) (b.get(0) ^ 0x40));
            b.rewind();
            ch.write(b, pos);
        }
    }

    private static void truncateFile(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    private static void appendBytes(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes, StandardOpenOption.APPEND);
    }

    private Path lastLogFile(Log log) {
        List<SegmentInfo> s = log.segments();
        return s.get(s.size() - 1).logFile();
    }

    @Test
    void cleanShutdownWritesAMarkerAndUncleanOpenScansTheTail() throws IOException {
        try (Log log = open()) {
            fill(log, 40);
        }
        assertTrue(Files.exists(dir.resolve(".clean-shutdown")));
        try (Log log = open()) {
            assertHolds(log, 40);
            fill(log, 5);
            LogTestHooks.crash(log);
        }
        assertFalse(Files.exists(dir.resolve(".clean-shutdown")));
        try (Log log = open()) {
            assertHolds(log, 45);
        }
    }

    @Test
    void tornTailIsTruncated() throws IOException {
        Path last;
        try (Log log = open()) {
            fill(log, 30);
            last = lastLogFile(log);
            LogTestHooks.crash(log);
        }
        List<Integer> pos = batchPositions(last);
        int cut = pos.get(pos.size() - 1) + 20; // inside the last batch
        truncateFile(last, cut);
        try (Log log = open()) {
            assertHolds(log, 29);
            assertEquals(pos.get(pos.size() - 1), (int) Files.size(last));
            fill(log, 3); // entries 30..32 again, with new bytes
            written.remove(29);
        }
    }

    @Test
    void tornHeaderAndGarbageAfterTheTailAreTruncated() throws IOException {
        Path last;
        try (Log log = open()) {
            fill(log, 30);
            last = lastLogFile(log);
            LogTestHooks.crash(log);
        }
        long size = Files.size(last);
        appendBytes(last, new byte[] {0, 0, 0, 0, 0, 0, 0, 1, 0, 0}); // less than a header
        try (Log log = open()) {
            assertHolds(log, 30);
            LogTestHooks.crash(log);
        }
        assertEquals(size, Files.size(last));
        byte[] junk = new byte[3000];
        new Random(42).nextBytes(junk);
        appendBytes(last, junk);
        try (Log log = open()) {
            assertHolds(log, 30);
            LogTestHooks.crash(log);
        }
        appendBytes(last, new byte[8192]); // zeros, as a preallocated or lost page reads
        try (Log log = open()) {
            assertHolds(log, 30);
            fill(log, 1);
            assertHolds(log, 31);
        }
    }

    @Test
    void flippedByteInTheTailBatchTruncatesIt() throws IOException {
        Path last;
        try (Log log = open()) {
            fill(log, 30);
            last = lastLogFile(log);
            LogTestHooks.crash(log);
        }
        List<Integer> pos = batchPositions(last);
        flipByte(last, pos.get(pos.size() - 1) + BatchHeader.RECORDS_OFFSET + 2);
        try (Log log = open()) {
            assertHolds(log, 29);
        }
    }

    @Test
    void flippedByteInTheMiddleOfTheTailSegmentTruncatesFromThere() throws IOException {
        Path last;
        int before;
        try (Log log = open()) {
            fill(log, 30);
            last = lastLogFile(log);
            before = (int) log.segments().get(log.segmentCount() - 1).baseEntryIndex() - 1;
            LogTestHooks.crash(log);
        }
        List<Integer> pos = batchPositions(last);
        assertTrue(pos.size() >= 3);
        flipByte(last, pos.get(1) + BatchHeader.RECORDS_OFFSET + 1);
        try (Log log = open()) {
            // Everything from the first bad batch of the unflushed tail is dropped (Raft re-fetches it).
            assertHolds(log, before + 1);
        }
    }

    @Test
    void flippedByteInAClosedSegmentIsReportedNeverServed() throws IOException {
        SegmentInfo first;
        try (Log log = open()) {
            fill(log, 120);
            assertTrue(log.segmentCount() >= 3);
            first = log.segments().get(0);
        }
        List<Integer> pos = batchPositions(first.logFile());
        int badPos = pos.get(pos.size() / 2);
        flipByte(first.logFile(), badPos + BatchHeader.RECORDS_OFFSET + 3);
        Files.delete(first.offsetIndexFile()); // forces a CRC scan of the closed segment
        try (Log log = open()) {
            List<CorruptSegmentException> bad = log.corruptSegments();
            assertEquals(1, bad.size());
            assertEquals(first.logFile(), bad.get(0).file());
            assertEquals(badPos, bad.get(0).position());
            assertTrue(bad.get(0).reason().contains("CRC"), bad.get(0).reason());
            // the numbering is intact and the rest of the log is served
            assertEquals(120, log.lastEntryIndex());
            assertEquals(first.nextOffset(), log.segments().get(1).baseOffset());
            assertThrows(CorruptSegmentException.class, () -> log.read(0, 100));
            assertThrows(CorruptSegmentException.class, () -> log.readEntry(1));
            assertThrows(CorruptSegmentException.class, () -> log.offsetForTimestamp(0));
            assertFalse(log.read(first.nextOffset(), 100).isEmpty());
            // deleting the segment (e.g. after a snapshot) is the way out
            assertEquals(1, log.deleteSegmentsBefore(first.nextEntryIndex()));
            assertTrue(log.corruptSegments().isEmpty());
        }
    }

    @Test
    void corruptHeaderInAClosedSegmentIsFoundByTheIndexCheck() throws IOException {
        SegmentInfo first;
        try (Log log = open()) {
            fill(log, 120);
            first = log.segments().get(0);
        }
        // Damage the magic byte of the last batch: the walk from the last index entry sees it.
        List<Integer> pos = batchPositions(first.logFile());
        flipByte(first.logFile(), pos.get(pos.size() - 1) + BatchHeader.MAGIC_OFFSET);
        try (Log log = open()) {
            assertEquals(1, log.corruptSegments().size());
            assertEquals(
                    pos.get(pos.size() - 1), (int) log.corruptSegments().get(0).position());
            assertThrows(CorruptSegmentException.class, () -> log.read(first.baseOffset(), 10));
            assertEquals(120, log.lastEntryIndex());
        }
    }

    @Test
    void garbageIndexFilesAreRebuilt() throws IOException {
        List<SegmentInfo> segs;
        try (Log log = open()) {
            fill(log, 150);
            segs = log.segments();
        }
        Random rnd = new Random(7);
        for (int i = 0; i < segs.size(); i++) {
            SegmentInfo s = segs.get(i);
            byte[] junk = new byte[i % 2 == 0 ? 120 : 121]; // whole entries or not
            rnd.nextBytes(junk);
            Files.write(s.offsetIndexFile(), junk);
            rnd.nextBytes(junk);
            Files.write(s.timeIndexFile(), junk);
        }
        try (Log log = open()) {
            assertTrue(log.corruptSegments().isEmpty());
            assertHolds(log, 150);
            assertEquals(OptionalLong.of(0), log.offsetForTimestamp(0));
            RecordBatch b = RecordBatch.wrap(written.get(100));
            assertEquals(OptionalLong.of(b.baseOffset()), log.offsetForTimestamp(b.firstTimestamp()));
        }
    }

    @Test
    void truncatedAndMissingIndexFilesAreRebuilt() throws IOException {
        List<SegmentInfo> segs;
        try (Log log = open()) {
            fill(log, 150);
            segs = log.segments();
        }
        truncateFile(segs.get(0).offsetIndexFile(), Files.size(segs.get(0).offsetIndexFile()) - 5);
        truncateFile(segs.get(1).timeIndexFile(), 0);
        Files.delete(segs.get(2).offsetIndexFile());
        Files.delete(segs.get(segs.size() - 1).timeIndexFile());
        try (Log log = open()) {
            assertHolds(log, 150);
            for (SegmentInfo s : log.segments()) {
                assertTrue(Files.exists(s.offsetIndexFile()));
                assertTrue(Files.exists(s.timeIndexFile()));
            }
            RecordBatch b = RecordBatch.wrap(written.get(60));
            assertEquals(OptionalLong.of(b.baseOffset()), log.offsetForTimestamp(b.firstTimestamp()));
        }
    }

    @Test
    void crashBetweenLogWriteAndIndexWriteRecovers() throws IOException {
        Path last;
        long nextOffset;
        try (Log log = open()) {
            fill(log, 20);
            last = lastLogFile(log);
            nextOffset = log.logEndOffset();
            LogTestHooks.crash(log);
        }
        // Batches that reached the log file but neither the index nor the log's counters.
        for (int i = 0; i < 8; i++) {
            ByteBuffer b = batch(2, 50_000 + i, 3);
            RecordBatch.stampBaseOffset(b, 0, nextOffset);
            RecordBatch.stampEntryIndex(b, 0, 21 + i);
            nextOffset += 2;
            written.add(b);
            appendBytes(last, LogTest.toArray(b));
        }
        try (Log log = open()) {
            assertHolds(log, 28);
            assertEquals(OptionalLong.of(3), log.termOf(28));
            // batch i holds timestamps 50_000+i and 50_001+i: 50_007 first appears as batch 6's second record
            assertEquals(OptionalLong.of(nextOffset - 3), log.offsetForTimestamp(50_007));
            fill(log, 1);
            assertEquals(29, log.lastEntryIndex());
        }
    }

    @Test
    void crashWithAStaleIndexEntryPastTheLogEndRecovers() throws IOException {
        // The index was written (mmap) but the log bytes were lost: entries point past the end.
        Path last;
        try (Log log = open()) {
            fill(log, 25);
            last = lastLogFile(log);
            LogTestHooks.crash(log);
        }
        List<Integer> pos = batchPositions(last);
        truncateFile(last, pos.get(1));
        try (Log log = open()) {
            int kept = (int) log.segments().get(log.segmentCount() - 1).baseEntryIndex();
            assertHolds(log, kept);
            fill(log, 2);
        }
    }

    @Test
    void leftoverFilesAreCleanedUp() throws IOException {
        try (Log log = open()) {
            fill(log, 10);
        }
        Files.write(dir.resolve("00000000000000099999.index"), new byte[24]);
        Files.write(dir.resolve("00000000000000099999.timeindex"), new byte[24]);
        Files.write(dir.resolve("log-start.checkpoint.tmp"), new byte[3]);
        try (Log log = open()) {
            assertHolds(log, 10);
        }
        assertFalse(Files.exists(dir.resolve("00000000000000099999.index")));
        assertFalse(Files.exists(dir.resolve("00000000000000099999.timeindex")));
        assertFalse(Files.exists(dir.resolve("log-start.checkpoint.tmp")));
    }

    @Test
    void interruptedPrefixDeletionIsFinishedOnOpen() throws IOException {
        List<SegmentInfo> segs;
        try (Log log = open()) {
            fill(log, 150);
            segs = log.segments();
        }
        // The checkpoint was moved forward but the crash came before the files were deleted.
        Files.writeString(
                dir.resolve("log-start.checkpoint"),
                "1\n" + segs.get(2).baseOffset() + " " + segs.get(2).baseEntryIndex() + "\n");
        try (Log log = open()) {
            assertEquals(segs.get(2).baseOffset(), log.logStartOffset());
            assertEquals(segs.get(2).baseEntryIndex(), log.firstEntryIndex());
            assertEquals(150, log.lastEntryIndex());
        }
        assertFalse(Files.exists(segs.get(0).logFile()));
        assertFalse(Files.exists(segs.get(1).logFile()));
    }

    @Test
    void unreadableCheckpointIsIgnoredWhenSegmentsSayMore() throws IOException {
        try (Log log = open()) {
            fill(log, 10);
        }
        Files.writeString(dir.resolve("log-start.checkpoint"), "garbage");
        try (Log log = open()) {
            assertHolds(log, 10);
        }
    }

    @Test
    void emptySegmentThatIsNotTheLastIsDropped() throws IOException {
        int segments;
        try (Log log = open()) {
            fill(log, 150);
            segments = log.segmentCount();
        }
        Files.write(dir.resolve("00000000000000000005.log"), new byte[0]);
        try (Log log = open()) {
            assertEquals(segments, log.segmentCount());
            assertHolds(log, 150);
        }
    }

    @Test
    void emptyLastSegmentThatDoesNotContinueTheLogIsDropped() throws IOException {
        try (Log log = open()) {
            fill(log, 10);
        }
        Files.write(dir.resolve("00000000000000000005.log"), new byte[0]);
        try (Log log = open()) {
            assertEquals(1, log.segmentCount());
            assertTrue(log.corruptSegments().isEmpty());
            assertHolds(log, 10);
            fill(log, 5);
            assertHolds(log, 15);
        }
    }

    @Test
    void recoveryAfterCrashOfAReactivatedSegment() throws IOException {
        try (Log log = open()) {
            fill(log, 150);
            SegmentInfo second = log.segments().get(1);
            log.truncateAfterEntry(second.baseEntryIndex() + 3);
            while (written.size() > second.baseEntryIndex() + 3) {
                written.remove(written.size() - 1);
            }
            fill(log, 5);
            LogTestHooks.crash(log);
        }
        try (Log log = open()) {
            assertHolds(log, written.size());
            assertEquals(2, log.segmentCount());
            fill(log, 100);
            assertHolds(log, written.size());
        }
    }

    @Test
    void appendsAfterRecoveryGoOnWithTheRightNumbers() throws IOException {
        Path last;
        try (Log log = open()) {
            fill(log, 33);
            last = lastLogFile(log);
            LogTestHooks.crash(log);
        }
        truncateFile(last, Files.size(last) - 1);
        try (Log log = open()) {
            written.remove(32);
            fill(log, 10);
            assertHolds(log, 42);
            assertEquals(
                    1, records(log.read(log.logEndOffset() - 1, 10).records()).size() > 0 ? 1 : 0);
        }
    }
}
