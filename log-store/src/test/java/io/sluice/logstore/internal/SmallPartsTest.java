package io.sluice.logstore.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.TestSupport;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SegmentFiles}, {@link LogStartCheckpoint}, {@link BatchCursor} and {@link BatchHeaders}. */
class SmallPartsTest {
    @TempDir
    Path dir;

    @Test
    void segmentFileNames() {
        assertEquals(
                "00000000000000004711.log",
                SegmentFiles.log(dir, 4711).getFileName().toString());
        assertEquals(
                "00000000000000004711.index",
                SegmentFiles.offsetIndex(dir, 4711).getFileName().toString());
        assertEquals(
                "00000000000000004711.timeindex",
                SegmentFiles.timeIndex(dir, 4711).getFileName().toString());
        assertEquals(OptionalLong.of(4711), SegmentFiles.baseOffsetOf("00000000000000004711.log", ".log"));
        assertEquals(OptionalLong.empty(), SegmentFiles.baseOffsetOf("4711.log", ".log"));
        assertEquals(OptionalLong.empty(), SegmentFiles.baseOffsetOf("0000000000000000471x.log", ".log"));
        assertEquals(OptionalLong.empty(), SegmentFiles.baseOffsetOf("00000000000000004711.index", ".log"));
        assertEquals(
                OptionalLong.of(Long.MAX_VALUE),
                SegmentFiles.baseOffsetOf(SegmentFiles.name(Long.MAX_VALUE) + ".log", ".log"));
    }

    @Test
    void checkpointRoundTripsAndIgnoresGarbage() throws Exception {
        assertEquals(Optional.empty(), LogStartCheckpoint.read(dir));
        new LogStartCheckpoint(4711, 2040).write(dir);
        assertEquals("1\n4711 2040\n", Files.readString(dir.resolve("log-start.checkpoint")));
        assertEquals(Optional.of(new LogStartCheckpoint(4711, 2040)), LogStartCheckpoint.read(dir));
        assertFalse(Files.exists(dir.resolve("log-start.checkpoint.tmp")));
        Files.writeString(dir.resolve("log-start.checkpoint"), "2\n1 2\n");
        assertEquals(Optional.empty(), LogStartCheckpoint.read(dir));
        Files.writeString(dir.resolve("log-start.checkpoint"), "1\nx y\n");
        assertEquals(Optional.empty(), LogStartCheckpoint.read(dir));
    }

    @Test
    void cursorWalksBatchesAcrossBufferRefills() throws Exception {
        Path f = dir.resolve("x.log");
        int total = 0;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 50; i++) {
                ByteBuffer b = TestSupport.batch(1 + i % 4, i);
                total += b.remaining();
                ch.write(b);
            }
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            BatchCursor cur = new BatchCursor(ch, total, 200); // smaller than a few batches
            long pos = 0;
            int n = 0;
            while (pos < total) {
                cur.seek(pos);
                assertTrue(cur.header());
                assertEquals("", BatchHeaders.structuralProblem(cur.buffer(), cur.at(), total - pos));
                int size = BatchHeaders.sizeInBytes(cur.buffer(), cur.at());
                assertTrue(cur.whole(size));
                io.sluice.logstore.record.RecordBatch.wrap(cur.slice(size)).ensureValid();
                assertEquals(n % 4, BatchHeaders.lastOffsetDelta(cur.buffer(), cur.at()));
                pos += size;
                n++;
            }
            assertEquals(50, n);
            cur.seek(total - 10);
            assertFalse(cur.header(), "fewer bytes than a header are not a header");
        }
    }

    @Test
    void structuralChecksNameTheProblem() {
        ByteBuffer b = TestSupport.batch(2, 1);
        assertEquals("", BatchHeaders.structuralProblem(b, 0, b.remaining()));
        assertTrue(BatchHeaders.structuralProblem(b, 0, b.remaining() - 1).contains("runs past the end"));
        ByteBuffer badMagic = TestSupport.batch(2, 1);
        badMagic.put(28, (byte) 9);
        assertTrue(BatchHeaders.structuralProblem(badMagic, 0, 1000).contains("magic"));
        ByteBuffer badCount = TestSupport.batch(2, 1);
        badCount.putInt(69, 5);
        assertTrue(BatchHeaders.structuralProblem(badCount, 0, 1000).contains("record count"));
    }
}
