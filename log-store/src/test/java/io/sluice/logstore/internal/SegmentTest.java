package io.sluice.logstore.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.LogConfig;
import io.sluice.logstore.TestSupport;
import io.sluice.logstore.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One segment on its own: append, lookups, reads, seal, truncate, reload and reference counting. */
class SegmentTest {
    @TempDir
    Path dir;

    LogConfig config = LogConfig.builder().indexIntervalBytes(150).build();

    /** Appends {@code n} batches of 2 records starting at offset/entry given; returns their sizes. */
    private static List<Integer> fill(Segment s, int n, long offset, long entry, long ts) {
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ByteBuffer b = TestSupport.batch(2, ts + i);
            RecordBatch.stampBaseOffset(b, 0, offset + 2L * i);
            RecordBatch.stampEntryIndex(b, 0, entry + i);
            sizes.add(b.remaining());
            s.append(
                    new ByteBuffer[] {b},
                    new BatchMeta[] {
                        new BatchMeta(offset + 2L * i, offset + 2L * i + 1, entry + i, ts + i + 1, b.remaining())
                    },
                    1000);
        }
        return sizes;
    }

    @Test
    void appendLookupAndRead() throws Exception {
        Segment s = Segment.create(dir, 100, 10, config);
        List<Integer> sizes = fill(s, 20, 100, 10, 5000);
        assertEquals(140, s.nextOffset());
        assertEquals(30, s.nextEntryIndex());
        assertEquals(sizes.stream().mapToInt(Integer::intValue).sum(), s.size());
        assertTrue(s.offsetIndex().entries() > 0, "sparse entries were written");
        int pos = 0;
        for (int i = 0; i < 20; i++) {
            BatchPosition bp = s.findByOffset(101 + 2L * i, s.size()).orElseThrow();
            assertEquals(pos, bp.position());
            assertEquals(100 + 2L * i, bp.baseOffset());
            assertEquals(10 + i, bp.entryIndex());
            assertEquals(bp, s.findByEntryIndex(10 + i, s.size()).orElseThrow());
            pos += sizes.get(i);
        }
        assertTrue(s.findByOffset(140, s.size()).isEmpty());
        assertTrue(s.findByEntryIndex(30, s.size()).isEmpty());
        assertTrue(s.findByOffset(99, s.size()).isEmpty());
        SegmentRead r = s.read(105, 1, Long.MAX_VALUE);
        assertEquals(1, r.batchCount());
        assertEquals(104, r.firstBaseOffset());
        assertEquals(106, r.nextOffset());
        assertEquals(OptionalLong.of(109), s.offsetForTimestamp(5005), "batch 4 holds 5004 and 5005");
        assertEquals(5020, s.maxTimestamp());
        s.seal();
        assertFalse(s.isActive());
        assertEquals(12L * s.offsetIndex().entries(), Files.size(s.offsetIndexFile()));
        s.release();
    }

    @Test
    void readsStopAtAnIndexedBatchStartInsteadOfReadingAPartialBatch() throws Exception {
        Segment s = Segment.create(
                dir, 0, 1, LogConfig.builder().indexIntervalBytes(0).build());
        List<Integer> sizes = fill(s, 10, 0, 1, 5000);
        int three = sizes.get(0) + sizes.get(1) + sizes.get(2);
        // a window ending inside batch 3: three whole batches come back, and only their bytes were read
        SegmentRead r = s.read(0, three + sizes.get(3) / 2, Long.MAX_VALUE);
        assertEquals(3, r.batchCount());
        assertEquals(6, r.nextOffset());
        assertEquals(three, r.records().remaining());
        assertEquals(three, r.records().array().length, "no partial batch was read");
        // a window smaller than the first batch still returns that batch whole
        SegmentRead one = s.read(6, 1, Long.MAX_VALUE);
        assertEquals(1, one.batchCount());
        assertEquals(sizes.get(3), one.records().remaining());
        // the window reaching the segment end reads to the end
        SegmentRead rest = s.read(6, Integer.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(7, rest.batchCount());
        assertEquals(20, rest.nextOffset());
        // with a sparse index the read still returns whole batches only, up to the window
        Segment sparse = Segment.create(Files.createDirectories(dir.resolve("sparse")), 0, 1, config);
        List<Integer> sz = fill(sparse, 10, 0, 1, 5000);
        SegmentRead rs = sparse.read(0, three + sz.get(3) / 2, Long.MAX_VALUE);
        assertTrue(rs.batchCount() >= 1 && rs.batchCount() <= 3, "whole batches within the window");
        s.release();
        sparse.release();
    }

    @Test
    void sealedSegmentReloadsWithTheSameState() throws Exception {
        Segment s = Segment.create(dir, 0, 1, config);
        fill(s, 30, 0, 1, 7000);
        s.seal();
        int size = s.size();
        int entries = s.offsetIndex().entries();
        s.release();
        Segment again = Segment.load(dir, 0, 1, config, Segment.Mode.TRUST, false, 0);
        assertEquals(size, again.size());
        assertEquals(60, again.nextOffset());
        assertEquals(31, again.nextEntryIndex());
        assertEquals(entries, again.offsetIndex().entries());
        assertEquals(7030, again.maxTimestamp());
        again.release();
        Segment rebuilt = Segment.load(dir, 0, 1, config, Segment.Mode.REBUILD, false, 0);
        assertEquals(entries, rebuilt.offsetIndex().entries(), "a rebuild writes the same sparse entries");
        assertTrue(rebuilt.corruption().isEmpty());
        rebuilt.release();
    }

    @Test
    void truncateReactivatesAndFixesTheIndexesAndMaxTimestamp() throws Exception {
        Segment s = Segment.create(dir, 0, 1, config);
        fill(s, 30, 0, 1, 7000);
        s.seal();
        BatchPosition at = s.findByOffset(20, s.size()).orElseThrow();
        s.truncateTo(at);
        assertTrue(s.isActive());
        assertEquals(at.position(), s.size());
        assertEquals(20, s.nextOffset());
        assertEquals(11, s.nextEntryIndex());
        assertEquals(7010, s.maxTimestamp());
        assertEquals("", s.offsetIndex().check(s.size()));
        assertEquals("", s.timeIndex().check(s.nextOffset()));
        fill(s, 5, 20, 11, 100);
        assertEquals(30, s.nextOffset());
        assertEquals(7010, s.maxTimestamp());
        s.release();
    }

    @Test
    void referencesKeepTheFilesOpenUntilTheLastRelease() throws Exception {
        Segment s = Segment.create(dir, 0, 1, config);
        fill(s, 3, 0, 1, 1);
        assertTrue(s.tryAcquire());
        s.deleteFiles();
        s.release(); // the owner's reference
        assertEquals(1, s.read(0, 1000, Long.MAX_VALUE).batchCount() > 0 ? 1 : 0, "still readable");
        s.release(); // the reader's
        assertFalse(s.tryAcquire());
        assertThrows(IllegalStateException.class, s::release);
    }
}
