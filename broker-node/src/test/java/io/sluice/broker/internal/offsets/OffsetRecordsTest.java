package io.sluice.broker.internal.offsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.broker.internal.offsets.OffsetStore.StoredOffset;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The byte layouts of {@link OffsetRecords}, pinned, and their refusal of malformed input. */
class OffsetRecordsTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void keyLayoutIsPinned() {
        byte[] k = OffsetRecords.encodeKey("g", "tp", 3);
        // version 1, "g" (1 byte), "tp" (2 bytes), partition 3
        assertEquals("0001" + "0001" + "67" + "0002" + "7470" + "00000003", HEX.formatHex(k));
        assertEquals(new OffsetRecords.Key("g", "tp", 3), OffsetRecords.decodeKey(ByteBuffer.wrap(k)));
    }

    @Test
    void valueLayoutIsPinned() {
        byte[] v = OffsetRecords.encodeValue(42, 1000, "m");
        assertEquals("0001" + "000000000000002a" + "00000000000003e8" + "00000001" + "6d", HEX.formatHex(v));
        assertEquals(new OffsetRecords.Value(42, 1000, "m"), OffsetRecords.decodeValue(ByteBuffer.wrap(v)));
    }

    @Test
    void roundTripsUnicodeAndEmptyMetadata() {
        byte[] k = OffsetRecords.encodeKey("gr\u00fcppe", "t\u00f6pic", 0);
        assertEquals(
                new OffsetRecords.Key("gr\u00fcppe", "t\u00f6pic", 0), OffsetRecords.decodeKey(ByteBuffer.wrap(k)));
        byte[] v = OffsetRecords.encodeValue(0, -1, "");
        assertEquals(new OffsetRecords.Value(0, -1, ""), OffsetRecords.decodeValue(ByteBuffer.wrap(v)));
    }

    @Test
    void dbKeysShareTheGroupPrefixAndDecodeBack() {
        byte[] db = OffsetRecords.dbKey("g", "tp", 3);
        assertEquals("01" + "0001" + "67" + "0002" + "7470" + "00000003", HEX.formatHex(db));
        byte[] prefix = OffsetRecords.dbGroupPrefix("g");
        assertEquals("01000167", HEX.formatHex(prefix));
        assertEquals(new OffsetRecords.Key("g", "tp", 3), OffsetRecords.decodeDbKey(db));
        // "g" and "gg" do not share a prefix: the length comes first.
        assertTrue(!HEX.formatHex(OffsetRecords.dbKey("gg", "tp", 3)).startsWith(HEX.formatHex(prefix)));
        StoredOffset o = new StoredOffset(7, 3, "meta", 99);
        assertEquals(o, OffsetRecords.decodeDbValue(OffsetRecords.encodeDbValue(o)));
    }

    @Test
    void prefixSuccessorIsTheNextRange() {
        assertArrayEquals(
                new byte[] {1, 0, 2},
                OffsetRecords.prefixSuccessor(new byte[] {1, 0, 1}).orElseThrow());
        assertArrayEquals(
                new byte[] {2},
                OffsetRecords.prefixSuccessor(new byte[] {1, (byte) 0xFF}).orElseThrow());
        assertTrue(OffsetRecords.prefixSuccessor(new byte[] {(byte) 0xFF}).isEmpty());
    }

    @Test
    void malformedInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> OffsetRecords.encodeKey("", "t", 0));
        assertThrows(IllegalArgumentException.class, () -> OffsetRecords.encodeKey("g", "t", -1));
        assertThrows(IllegalArgumentException.class, () -> OffsetRecords.encodeValue(-1, 0, ""));
        assertThrows(IllegalArgumentException.class, () -> OffsetRecords.encodeValue(0, 0, "x".repeat(4097)));
        byte[] k = OffsetRecords.encodeKey("g", "tp", 3);
        for (int cut = 0; cut < k.length; cut++) {
            ByteBuffer b = ByteBuffer.wrap(k, 0, cut);
            assertThrows(IllegalArgumentException.class, () -> OffsetRecords.decodeKey(b), "cut at " + cut);
        }
        byte[] v2 = k.clone();
        v2[1] = 2;
        assertThrows(IllegalArgumentException.class, () -> OffsetRecords.decodeKey(ByteBuffer.wrap(v2)));
        byte[] trailing = ByteBuffer.allocate(k.length + 1).put(k).array();
        assertThrows(IllegalArgumentException.class, () -> OffsetRecords.decodeKey(ByteBuffer.wrap(trailing)));
        byte[] badUtf8 = OffsetRecords.encodeKey("g", "tp", 3);
        badUtf8[4] = (byte) 0xC3; // a lone UTF-8 lead byte as the group id
        assertThrows(IllegalArgumentException.class, () -> OffsetRecords.decodeKey(ByteBuffer.wrap(badUtf8)));
        byte[] v = OffsetRecords.encodeValue(1, 2, "abc");
        ByteBuffer.wrap(v).putInt(18, 5000);
        assertThrows(IllegalArgumentException.class, () -> OffsetRecords.decodeValue(ByteBuffer.wrap(v)));
    }
}
