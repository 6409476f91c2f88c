package io.sluice.logstore.record;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Compresses and decompresses a batch's records section.
 *
 * <p>LZ4 output is a standard LZ4 frame written directly into the destination array (no intermediate
 * stream buffers): descriptor with version 01, independent blocks, content size present, no checksums
 * (the batch CRC32C already covers these bytes), 64 KiB maximum block size; each block is stored
 * uncompressed (high bit of its size set) when compression would not shrink it. LZ4 input is read with
 * lz4-java's frame decoder, so any conforming frame with independent blocks is accepted.
 *
 * <p>Decompression is always bounded: a records section that would inflate beyond the caller's limit is
 * refused with a {@link CorruptRecordException} before or while it is produced, never after.
 *
 * <p>Stateless and thread-safe (the codec factories are thread-safe singletons).
 */
final class Compression {
    static final int ZSTD_LEVEL = 3;

    private static final int LZ4_MAGIC = 0x184D2204;
    private static final int LZ4_BLOCK_SIZE = 64 * 1024;
    /** FLG: version 01, block independence, content size present. */
    private static final int LZ4_FLG = 0b0110_1000;
    /** BD: block maximum size code 4 (64 KiB). */
    private static final int LZ4_BD = 4 << 4;

    private static final LZ4Factory LZ4_FACTORY = LZ4Factory.fastestInstance();
    private static final LZ4Compressor LZ4_COMPRESSOR = LZ4_FACTORY.fastCompressor();
    private static final LZ4SafeDecompressor LZ4_DECOMPRESSOR = LZ4_FACTORY.safeDecompressor();
    private static final XXHash32 XXHASH32 = XXHashFactory.fastestInstance().hash32();

    private Compression() {}

    /**
     * Returns a new array holding {@code prefixLength} zero bytes (room for the caller's header)
     * followed by {@code src[off, off+len)} compressed with {@code type}, trimmed to size.
     */
    static byte[] compress(CompressionType type, byte[] src, int off, int len, int prefixLength) {
        return switch (type) {
            case NONE -> {
                byte[] out = new byte[prefixLength + len];
                System.arraycopy(src, off, out, prefixLength, len);
                yield out;
            }
            case LZ4 -> compressLz4(src, off, len, prefixLength);
            case ZSTD -> compressZstd(src, off, len, prefixLength);
        };
    }

    private static byte[] compressZstd(byte[] src, int off, int len, int prefixLength) {
        long bound = Zstd.compressBound(len);
        if (bound > Integer.MAX_VALUE - prefixLength) {
            throw new IllegalArgumentException("records section too large to compress: " + len + " bytes");
        }
        byte[] out = new byte[prefixLength + (int) bound];
        long written = Zstd.compressByteArray(out, prefixLength, (int) bound, src, off, len, ZSTD_LEVEL);
        if (Zstd.isError(written)) {
            throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(written));
        }
        return Arrays.copyOf(out, prefixLength + (int) written);
    }

    private static byte[] compressLz4(byte[] src, int off, int len, int prefixLength) {
        int blocks = Math.max(1, (len + LZ4_BLOCK_SIZE - 1) / LZ4_BLOCK_SIZE);
        // Worst case: every block stored raw behind its 4-byte size, plus header (15) and end mark (4).
        long bound = (long) prefixLength + 15 + 4 + (long) blocks * 4 + len;
        if (bound > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("records section too large to compress: " + len + " bytes");
        }
        byte[] out = new byte[(int) bound];
        int p = prefixLength;
        p = putIntLe(out, p, LZ4_MAGIC);
        int descriptorStart = p;
        out[p++] = (byte) LZ4_FLG;
        out[p++] = (byte) LZ4_BD;
        p = putIntLe(out, p, len);
        p = putIntLe(out, p, 0); // content size is 8 bytes; high half of our int length
        out[p] = (byte) ((XXHASH32.hash(out, descriptorStart, p - descriptorStart, 0) >> 8) & 0xFF);
        p++;
        for (int done = 0; done < len; ) {
            int chunk = Math.min(LZ4_BLOCK_SIZE, len - done);
            int sizePos = p;
            p += 4;
            // Only accept output strictly smaller than the input; otherwise store the block raw.
            int max = chunk - 1;
            int compressed = max <= 0 ? 0 : tryCompressLz4(src, off + done, chunk, out, p, max);
            if (compressed > 0) {
                putIntLe(out, sizePos, compressed);
                p += compressed;
            } else {
                putIntLe(out, sizePos, chunk | 0x8000_0000);
                System.arraycopy(src, off + done, out, p, chunk);
                p += chunk;
            }
            done += chunk;
        }
        p = putIntLe(out, p, 0); // end mark
        return Arrays.copyOf(out, p);
    }

    /** Returns the compressed length, or 0 when it does not fit in {@code max} bytes. */
    private static int tryCompressLz4(byte[] src, int off, int len, byte[] dst, int dstOff, int max) {
        try {
            return LZ4_COMPRESSOR.compress(src, off, len, dst, dstOff, max);
        } catch (net.jpountz.lz4.LZ4Exception e) {
            return 0; // does not fit: incompressible
        }
    }

    private static int putIntLe(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
        b[p + 2] = (byte) (v >>> 16);
        b[p + 3] = (byte) (v >>> 24);
        return p + 4;
    }

    /**
     * Decompresses {@code compressed} (its remaining bytes) into a new heap buffer.
     *
     * @param maxBytes largest acceptable decompressed size
     * @param where names the batch in error messages
     * @throws CorruptRecordException if the data is not a valid frame of {@code type}, has trailing bytes,
     *     or inflates beyond {@code maxBytes}
     */
    static ByteBuffer decompress(CompressionType type, ByteBuffer compressed, int maxBytes, String where) {
        byte[] src;
        int off;
        int len = compressed.remaining();
        if (compressed.hasArray()) {
            src = compressed.array();
            off = compressed.arrayOffset() + compressed.position();
        } else {
            src = new byte[len];
            compressed.duplicate().get(src);
            off = 0;
        }
        try {
            return switch (type) {
                case NONE -> ByteBuffer.wrap(src, off, len).slice();
                case LZ4 -> decompressLz4(src, off, len, maxBytes, where);
                case ZSTD -> decompressZstd(src, off, len, maxBytes, where);
            };
        } catch (CorruptRecordException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Codec libraries report garbage through assorted exception types; to callers it is corruption.
            throw new CorruptRecordException(
                    where + ": " + type.displayName() + " records section (" + len + " bytes) cannot be decompressed: "
                            + e,
                    e);
        }
    }

    private static ByteBuffer decompressZstd(byte[] src, int off, int len, int maxBytes, String where)
            throws IOException {
        long declared = Zstd.getFrameContentSize(src, off, len);
        if (declared > maxBytes) {
            throw tooLarge(where, "zstd", "declares " + declared + " bytes", maxBytes);
        }
        if (declared >= 0) {
            byte[] out = new byte[(int) declared];
            // A second frame or trailing garbage makes this fail with "dstSize too small" or a format error.
            long n = Zstd.decompressByteArray(out, 0, out.length, src, off, len);
            if (Zstd.isError(n)) {
                throw new CorruptRecordException(where + ": zstd records section is invalid: " + Zstd.getErrorName(n));
            }
            if (n != declared) {
                throw new CorruptRecordException(where + ": zstd frame declares " + declared + " bytes but holds " + n);
            }
            return ByteBuffer.wrap(out);
        }
        if (declared == -2 || declared < -1) { // ZSTD_CONTENTSIZE_ERROR
            throw new CorruptRecordException(where + ": zstd records section does not start with a valid frame header");
        }
        try (InputStream in = new ZstdInputStreamNoFinalizer(new ByteArrayInputStream(src, off, len))) {
            return readBounded(in, maxBytes, where, "zstd");
        }
    }

    private static ByteBuffer decompressLz4(byte[] src, int off, int len, int maxBytes, String where)
            throws IOException {
        ByteArrayInputStream raw = new ByteArrayInputStream(src, off, len);
        try (LZ4FrameInputStream in = new LZ4FrameInputStream(raw, LZ4_DECOMPRESSOR, XXHASH32, true)) {
            if (in.isExpectedContentSizeDefined() && in.getExpectedContentSize() > maxBytes) {
                throw tooLarge(where, "lz4", "declares " + in.getExpectedContentSize() + " bytes", maxBytes);
            }
            ByteBuffer out = readBounded(in, maxBytes, where, "lz4");
            if (in.isExpectedContentSizeDefined() && in.getExpectedContentSize() != out.remaining()) {
                throw new CorruptRecordException(where + ": lz4 frame declares " + in.getExpectedContentSize()
                        + " bytes but holds " + out.remaining());
            }
            if (raw.available() != 0) {
                throw new CorruptRecordException(
                        where + ": " + raw.available() + " trailing byte(s) after the lz4 frame");
            }
            return out;
        }
    }

    private static ByteBuffer readBounded(InputStream in, int maxBytes, String where, String codec) throws IOException {
        byte[] buf = new byte[Math.min(maxBytes + 1, 16 * 1024)];
        int n = 0;
        while (true) {
            if (n == buf.length) {
                if (n > maxBytes) {
                    throw tooLarge(where, codec, "inflates to more than that", maxBytes);
                }
                buf = Arrays.copyOf(buf, (int) Math.min((long) maxBytes + 1, 2L * buf.length));
            }
            int r = in.read(buf, n, buf.length - n);
            if (r < 0) {
                return ByteBuffer.wrap(buf, 0, n).slice();
            }
            n += r;
        }
    }

    private static CorruptRecordException tooLarge(String where, String codec, String what, int maxBytes) {
        return new CorruptRecordException(where + ": " + codec + " records section " + what
                + "; the limit for a decompressed records section is " + maxBytes + " bytes");
    }
}
