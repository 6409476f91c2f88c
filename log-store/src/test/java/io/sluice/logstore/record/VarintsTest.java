package io.sluice.logstore.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VarintsTest {
    private static String encodeInt(int v) {
        byte[] b = new byte[5];
        int n = Varints.writeVarint(v, b, 0);
        assertEquals(n, Varints.sizeOfVarint(v), "sizeOfVarint(" + v + ")");
        return HexFormat.of().formatHex(b, 0, n);
    }

    private static String encodeLong(long v) {
        byte[] b = new byte[10];
        int n = Varints.writeVarlong(v, b, 0);
        assertEquals(n, Varints.sizeOfVarlong(v), "sizeOfVarlong(" + v + ")");
        return HexFormat.of().formatHex(b, 0, n);
    }

    @Test
    void encodesTheDocumentedExamples() {
        assertEquals("00", encodeInt(0));
        assertEquals("01", encodeInt(-1));
        assertEquals("02", encodeInt(1));
        assertEquals("7e", encodeInt(63));
        assertEquals("7f", encodeInt(-64));
        assertEquals("8001", encodeInt(64));
        assertEquals("d804", encodeInt(300));
        assertEquals("feffffff0f", encodeInt(Integer.MAX_VALUE));
        assertEquals("ffffffff0f", encodeInt(Integer.MIN_VALUE));
        assertEquals("feffffffffffffffff01", encodeLong(Long.MAX_VALUE));
        assertEquals("ffffffffffffffffff01", encodeLong(Long.MIN_VALUE));
        assertEquals("d804", encodeLong(300));
    }

    @Test
    void roundTripsBoundaryAndRandomValues() {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] ints = {0, 1, -1, 63, 64, -64, -65, 8191, 8192, Integer.MAX_VALUE, Integer.MIN_VALUE};
        for (int i = 0; i < 10_000; i++) {
            int v = i < ints.length ? ints[i] : rnd.nextInt() >> rnd.nextInt(32);
            byte[] b = new byte[5];
            int n = Varints.writeVarint(v, b, 0);
            ByteBuffer in = ByteBuffer.wrap(b, 0, n);
            assertEquals(v, Varints.readVarint(in, 0), "seed " + seed);
            assertEquals(n, in.position());
            long l = rnd.nextLong() >> rnd.nextInt(64);
            byte[] lb = new byte[10];
            int ln = Varints.writeVarlong(l, lb, 0);
            ByteBuffer lin = ByteBuffer.wrap(lb, 0, ln);
            assertEquals(l, Varints.readVarlong(lin, 0), "seed " + seed);
            assertEquals(ln, lin.position());
        }
    }

    @Test
    void rejectsTruncatedVarintsWithPosition() {
        ByteBuffer in = ByteBuffer.wrap(new byte[] {0, (byte) 0x80, (byte) 0x80});
        in.position(1);
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> Varints.readVarint(in, 100));
        assertTrue(e.getMessage().contains("truncated varint") && e.getMessage().contains("byte 101"), e.getMessage());
        assertEquals(1, in.position(), "position untouched on failure");
        assertThrows(CorruptRecordException.class, () -> Varints.readVarlong(ByteBuffer.allocate(0), 0));
    }

    @Test
    void rejectsOverlongVarints() {
        byte[] six = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0};
        assertThrows(CorruptRecordException.class, () -> Varints.readVarint(ByteBuffer.wrap(six), 0));
        byte[] wide = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x1f};
        assertThrows(CorruptRecordException.class, () -> Varints.readVarint(ByteBuffer.wrap(wide), 0));
        byte[] eleven = new byte[11];
        java.util.Arrays.fill(eleven, 0, 10, (byte) 0x80);
        assertThrows(CorruptRecordException.class, () -> Varints.readVarlong(ByteBuffer.wrap(eleven), 0));
        byte[] wideLong = {-1, -1, -1, -1, -1, -1, -1, -1, -1, 0x03};
        assertThrows(CorruptRecordException.class, () -> Varints.readVarlong(ByteBuffer.wrap(wideLong), 0));
    }
}
