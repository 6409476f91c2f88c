package io.sluice.logstore.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sparse offset index: layout, lookups by offset and entry index, sealing, truncation, checks. */
class OffsetIndexTest {
    @TempDir
    Path dir;

    @Test
    void lookupsByOffsetAndByEntryIndexFindTheFloorEntry() throws Exception {
        OffsetIndex idx = new OffsetIndex(dir.resolve("a.index"), 1000, 50, 100, 0, true);
        // batches at offsets 1010, 1020, ... with entry indexes 52, 54, ... at positions 100, 200, ...
        for (int i = 1; i <= 10; i++) {
            idx.append(1000 + 10L * i, 100 * i, 50 + 2L * i);
        }
        assertEquals(10, idx.entries());
        assertEquals(new IndexEntry(1000, 0, 50), idx.lookupByOffset(1000));
        assertEquals(new IndexEntry(1000, 0, 50), idx.lookupByOffset(1009));
        assertEquals(new IndexEntry(1010, 100, 52), idx.lookupByOffset(1010));
        assertEquals(new IndexEntry(1050, 500, 60), idx.lookupByOffset(1059));
        assertEquals(new IndexEntry(1100, 1000, 70), idx.lookupByOffset(5000));
        assertEquals(new IndexEntry(1000, 0, 50), idx.lookupByEntryIndex(51));
        assertEquals(new IndexEntry(1030, 300, 56), idx.lookupByEntryIndex(57));
        assertEquals(new IndexEntry(1100, 1000, 70), idx.lookupByEntryIndex(1 << 20));
        assertEquals(new IndexEntry(1100, 1000, 70), idx.lastEntry());
        assertEquals("", idx.check(1001));
        assertTrue(idx.check(1000).contains("past the log end"));
        idx.close();
    }

    @Test
    void entriesMustIncreaseAndStayInsideTheSegment() throws Exception {
        OffsetIndex idx = new OffsetIndex(dir.resolve("a.index"), 1000, 50, 100, 0, true);
        idx.append(1010, 100, 51);
        assertThrows(IllegalStateException.class, () -> idx.append(1010, 200, 52));
        assertThrows(IllegalStateException.class, () -> idx.append(1020, 100, 52));
        assertThrows(IllegalStateException.class, () -> idx.append(1020, 200, 51));
        assertThrows(IllegalArgumentException.class, () -> idx.append(999, 200, 52));
        assertThrows(IllegalArgumentException.class, () -> idx.append(1000 + (1L << 31), 200, 52));
        idx.close();
    }

    @Test
    void fullIndexRefusesAppends() throws Exception {
        OffsetIndex idx = new OffsetIndex(dir.resolve("a.index"), 0, 1, 4, 0, true);
        for (int i = 1; i <= 4; i++) {
            idx.append(i, i * 10, 1 + i);
        }
        assertTrue(idx.isFull());
        assertThrows(IllegalStateException.class, () -> idx.append(5, 50, 6));
        idx.close();
    }

    @Test
    void sealCutsTheFileToTheEntriesAndReopenReadsThem() throws Exception {
        Path f = dir.resolve("a.index");
        OffsetIndex idx = new OffsetIndex(f, 0, 1, 1000, 0, true);
        assertEquals(12_000, Files.size(f), "preallocated while writable");
        for (int i = 1; i <= 7; i++) {
            idx.append(i * 3L, i * 100, 1 + i);
        }
        idx.seal();
        assertEquals(7 * 12, Files.size(f));
        assertFalse(idx.isWritable());
        assertEquals(new IndexEntry(9, 300, 4), idx.lookupByOffset(10));
        assertThrows(IllegalStateException.class, () -> idx.append(30, 1000, 20));
        idx.close();

        assertEquals(7, AbstractIndex.entriesInFile(f, 12));
        OffsetIndex again = new OffsetIndex(f, 0, 1, 1000, 7, false);
        assertEquals(new IndexEntry(21, 700, 8), again.lastEntry());
        // Big-endian, 12 bytes per entry, relative values.
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(f));
        assertEquals(3, raw.getInt(0));
        assertEquals(100, raw.getInt(4));
        assertEquals(1, raw.getInt(8));
        again.reactivate();
        again.append(30, 1000, 20);
        assertEquals(8, again.entries());
        again.close();
        assertEquals(8 * 12, Files.size(f));
    }

    @Test
    void truncateToOffsetDropsEntriesAtAndAfterIt() throws Exception {
        OffsetIndex idx = new OffsetIndex(dir.resolve("a.index"), 100, 1, 100, 0, true);
        for (int i = 1; i <= 10; i++) {
            idx.append(100 + 10L * i, 100 * i, 1 + i);
        }
        idx.truncateToOffset(155);
        assertEquals(5, idx.entries());
        idx.truncateToOffset(150);
        assertEquals(4, idx.entries());
        assertEquals(new IndexEntry(140, 400, 5), idx.lastEntry());
        idx.truncateToOffset(100);
        assertEquals(0, idx.entries());
        idx.append(101, 10, 2);
        assertEquals(new IndexEntry(101, 10, 2), idx.lastEntry());
        idx.close();
    }

    @Test
    void checkFindsEntriesThatDoNotIncrease() throws Exception {
        Path f = dir.resolve("a.index");
        ByteBuffer b = ByteBuffer.allocate(36);
        b.putInt(1).putInt(100).putInt(1);
        b.putInt(5).putInt(90).putInt(2);
        b.putInt(6).putInt(200).putInt(3);
        Files.write(f, b.array());
        OffsetIndex idx = new OffsetIndex(f, 0, 1, 100, 3, false);
        assertTrue(idx.check(10_000).contains("entry 1"));
        idx.close();
    }
}
