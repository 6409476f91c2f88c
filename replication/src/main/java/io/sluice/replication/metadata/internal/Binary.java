package io.sluice.replication.metadata.internal;

import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Big-endian primitives shared by the metadata encodings: fixed-width integers, strings as {@code i32 length + UTF-8
 * bytes}, string maps as {@code i32 count + (key, value)*} sorted by key (so equal maps encode to equal bytes).
 *
 * <p>Writers and readers are single-threaded.
 */
final class Binary {

    /** Strings longer than this are corrupt: no name or config value is anywhere near it. */
    static final int MAX_STRING_BYTES = 1 << 20;

    private Binary() {}

    /** A growable big-endian writer. Not thread-safe. */
    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(128);

        Writer u8(int v) {
            out.write(v);
            return this;
        }

        Writer u16(int v) {
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Writer i32(int v) {
            out.write(v >>> 24);
            out.write(v >>> 16);
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Writer i64(long v) {
            i32((int) (v >>> 32));
            return i32((int) v);
        }

        Writer bool(boolean v) {
            return u8(v ? 1 : 0);
        }

        Writer string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i32(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Writer bytes(byte[] b) {
            i32(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Writer raw(byte[] b) {
            out.write(b, 0, b.length);
            return this;
        }

        Writer stringMap(Map<String, String> map) {
            TreeMap<String, String> sorted = new TreeMap<>(map);
            i32(sorted.size());
            sorted.forEach((k, v) -> {
                string(k);
                string(v);
            });
            return this;
        }

        int size() {
            return out.size();
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    /** A bounds-checked big-endian reader; every malformed input ends in {@link CorruptMetadataException}. */
    static final class Reader {
        private final ByteBuffer buf;

        Reader(byte[] data) {
            this(ByteBuffer.wrap(data));
        }

        Reader(ByteBuffer buf) {
            this.buf = buf.slice();
        }

        int u8() {
            try {
                return buf.get() & 0xFF;
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        int u16() {
            try {
                return buf.getShort() & 0xFFFF;
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        int i32() {
            try {
                return buf.getInt();
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        long i64() {
            try {
                return buf.getLong();
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        boolean bool() {
            int v = u8();
            if (v > 1) {
                throw new CorruptMetadataException("bad boolean " + v + " at " + (buf.position() - 1));
            }
            return v == 1;
        }

        /** A count that must fit the remaining bytes at {@code minBytesEach} per element. */
        int count(int minBytesEach) {
            int n = i32();
            if (n < 0 || (long) n * minBytesEach > buf.remaining()) {
                throw new CorruptMetadataException("bad count " + n + " with " + buf.remaining() + " bytes left");
            }
            return n;
        }

        String string() {
            byte[] b = bytes();
            try {
                return StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(b))
                        .toString();
            } catch (CharacterCodingException e) {
                throw new CorruptMetadataException("string is not UTF-8");
            }
        }

        byte[] bytes() {
            int n = i32();
            if (n < 0 || n > MAX_STRING_BYTES || n > buf.remaining()) {
                throw new CorruptMetadataException("bad length " + n + " with " + buf.remaining() + " bytes left");
            }
            byte[] b = new byte[n];
            buf.get(b);
            return b;
        }

        Map<String, String> stringMap() {
            int n = count(8);
            Map<String, String> m = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                String k = string();
                if (m.put(k, string()) != null) {
                    throw new CorruptMetadataException("duplicate key " + k);
                }
            }
            return m;
        }

        int position() {
            return buf.position();
        }

        int remaining() {
            return buf.remaining();
        }

        void expectEnd() {
            if (buf.hasRemaining()) {
                throw new CorruptMetadataException(buf.remaining() + " trailing bytes");
            }
        }

        private CorruptMetadataException truncated() {
            return new CorruptMetadataException("truncated at " + buf.position());
        }
    }
}
