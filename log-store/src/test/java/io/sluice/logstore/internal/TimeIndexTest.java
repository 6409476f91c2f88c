package io.sluice.logstore.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sparse time index: layout, rising timestamps, search start, truncation, checks. */
class TimeIndexTest {
    @TempDir
    Path dir;

    @Test
    void keepsOnlyRisingTimestampsAndFindsTheSearchStart() throws Exception {
        TimeIndex idx = new TimeIndex(dir.resolve("a.timeindex"), 500, 100, 0, true);
        idx.maybeAppend(1000, 500);
        idx.maybeAppend(1000, 510); // not higher: ignored
        idx.maybeAppend(900, 520); // lower: ignored
        idx.maybeAppend(2000, 530);
        idx.maybeAppend(3000, 560);
        assertEquals(3, idx.entries());
        assertEquals(3000, idx.lastTimestamp());
        assertEquals(560, idx.lastOffset());
        // the last entry with timestamp < target
        assertEquals(500, idx.searchStart(0));
        assertEquals(500, idx.searchStart(1000));
        assertEquals(500, idx.searchStart(1001));
        assertEquals(530, idx.searchStart(2001));
        assertEquals(560, idx.searchStart(5000));
        assertEquals("", idx.check(561));
        assertTrue(idx.check(560).contains("past the segment end"));
        idx.truncateToOffset(530);
        assertEquals(1, idx.entries());
        assertEquals(1000, idx.lastTimestamp());
        idx.close();
    }

    @Test
    void layoutIsTimestampThenRelativeOffsetBigEndian() throws Exception {
        Path f = dir.resolve("a.timeindex");
        TimeIndex idx = new TimeIndex(f, 500, 100, 0, true);
        idx.maybeAppend(0x0102030405L, 507);
        idx.close();
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(f));
        assertEquals(12, raw.limit());
        assertEquals(0x0102030405L, raw.getLong(0));
        assertEquals(7, raw.getInt(8));
    }

    @Test
    void checkFindsFallingTimestamps() throws Exception {
        Path f = dir.resolve("a.timeindex");
        ByteBuffer b = ByteBuffer.allocate(24);
        b.putLong(2000).putInt(1);
        b.putLong(1000).putInt(2);
        Files.write(f, b.array());
        TimeIndex idx = new TimeIndex(f, 0, 100, 2, false);
        assertTrue(idx.check(100).contains("entry 1"));
        idx.close();
    }
}
