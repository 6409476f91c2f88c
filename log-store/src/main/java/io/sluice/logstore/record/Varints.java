package io.sluice.logstore.record;

import java.nio.ByteBuffer;

/**
 * Zigzag variable-length integers as used by protobuf {@code sint32}/{@code sint64} and Kafka's v2
 * records: {@code zigzag(n) = (n << 1) ^ (n >> 31)} (or {@code >> 63}), then 7 bits per byte, least
 * significant group first, high bit set on every byte but the last. Small magnitudes of either sign take
 * one byte: 0 → {@code 00}, -1 → {@code 01}, 1 → {@code 02}, 63 → {@code 7e}, -64 → {@code 7f},
 * 64 → {@code 80 01}, 300 → {@code d8 04}.
 *
 * <p>Decoding is strict: a varint longer than 5 bytes (10 for a varlong) or with bits beyond the value's
 * width is rejected, as is one cut off by the end of the buffer, always with a
 * {@link CorruptRecordException} naming the position.
 *
 * <p>Stateless and thread-safe.
 */
final class Varints {
    static final int MAX_VARINT_BYTES = 5;
    static final int MAX_VARLONG_BYTES = 10;

    private Varints() {}

    /** Bytes needed to encode {@code value} as a zigzag varint. */
    static int sizeOfVarint(int value) {
        int v = (value << 1) ^ (value >> 31);
        // One byte per started group of 7 significant bits, at least one byte.
        return (38 - Integer.numberOfLeadingZeros(v | 1)) / 7;
    }

    /** Bytes needed to encode {@code value} as a zigzag varlong. */
    static int sizeOfVarlong(long value) {
        long v = (value << 1) ^ (value >> 63);
        return (70 - Long.numberOfLeadingZeros(v | 1)) / 7;
    }

    /** Writes {@code value} at {@code off}; returns the offset just past it. */
    static int writeVarint(int value, byte[] dst, int off) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & ~0x7F) != 0) {
            dst[off++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        dst[off++] = (byte) v;
        return off;
    }

    /** Writes {@code value} at {@code off}; returns the offset just past it. */
    static int writeVarlong(long value, byte[] dst, int off) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & ~0x7FL) != 0) {
            dst[off++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        dst[off++] = (byte) v;
        return off;
    }

    /**
     * Reads a zigzag varint at the buffer's position and advances it.
     *
     * @param in the buffer; only bytes up to its limit are read
     * @param base added to buffer positions in error messages so they refer to the caller's coordinates
     */
    static int readVarint(ByteBuffer in, int base) {
        int start = in.position();
        int limit = in.limit();
        int raw = 0;
        for (int i = 0, shift = 0; i < MAX_VARINT_BYTES; i++, shift += 7) {
            int pos = start + i;
            if (pos >= limit) {
                throw new CorruptRecordException(
                        "truncated varint: input ends after " + i + " byte(s), starting at byte " + (base + start));
            }
            int b = in.get(pos);
            if (i == MAX_VARINT_BYTES - 1 && (b & 0xF0) != 0) {
                throw new CorruptRecordException(
                        "varint longer than 5 bytes or beyond 32 bits at byte " + (base + start));
            }
            raw |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                in.position(pos + 1);
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw new AssertionError("unreachable");
    }

    /** Reads a zigzag varlong at the buffer's position and advances it; see {@link #readVarint}. */
    static long readVarlong(ByteBuffer in, int base) {
        int start = in.position();
        int limit = in.limit();
        long raw = 0;
        for (int i = 0, shift = 0; i < MAX_VARLONG_BYTES; i++, shift += 7) {
            int pos = start + i;
            if (pos >= limit) {
                throw new CorruptRecordException(
                        "truncated varlong: input ends after " + i + " byte(s), starting at byte " + (base + start));
            }
            int b = in.get(pos);
            if (i == MAX_VARLONG_BYTES - 1 && (b & 0xFE) != 0) {
                throw new CorruptRecordException(
                        "varlong longer than 10 bytes or beyond 64 bits at byte " + (base + start));
            }
            raw |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                in.position(pos + 1);
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw new AssertionError("unreachable");
    }
}
