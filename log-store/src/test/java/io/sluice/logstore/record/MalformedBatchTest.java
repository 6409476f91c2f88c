package io.sluice.logstore.record;

import static io.sluice.logstore.record.TestBatches.copy;
import static io.sluice.logstore.record.TestBatches.fixCrc;
import static io.sluice.logstore.record.TestBatches.recordsSection;
import static io.sluice.logstore.record.TestBatches.withRecordsSection;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every kind of malformed input must surface as a CorruptRecordException that says what and where. */
class MalformedBatchTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ByteBuffer sample(CompressionType codec) {
        return RecordBatchBuilder.create(codec)
                .append(10L, b("key-1"), b("value-1"), List.of(new Header("h", b("x"))))
                .append(11L, null, b("value-2"))
                .append(12L, b("key-3"), null)
                .build();
    }

    private static CorruptRecordException corrupt(Executable e, String expectedFragment) {
        CorruptRecordException ex = assertThrows(CorruptRecordException.class, e);
        assertTrue(
                ex.getMessage().contains(expectedFragment),
                () -> "expected '" + expectedFragment + "' in: " + ex.getMessage());
        return ex;
    }

    /** Fully decodes; used where the header is fine but the records are not. */
    private static void decodeAll(ByteBuffer batch) {
        RecordBatch rb = RecordBatch.wrap(batch);
        rb.ensureValid();
        rb.records();
    }

    @Test
    void truncatedBufferIsCorruptForWrapAndAPartialTailForIteration() {
        ByteBuffer full = sample(CompressionType.NONE);
        for (int len = 0; len < full.limit(); len++) {
            ByteBuffer cut = copy(full).limit(len);
            corrupt(() -> RecordBatch.wrap(cut), "truncated record batch at byte 0");
            RecordBatchIterator it = RecordBatches.iterate(cut);
            assertTrue(!it.hasNext());
            assertEquals(len, it.partialTailBytes());
            assertEquals(0, it.position());
            if (len < BatchHeader.LOG_OVERHEAD) {
                assertEquals(-1, RecordBatch.sizeAt(cut, 0));
            } else {
                assertEquals(full.limit(), RecordBatch.sizeAt(cut, 0));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(
            ints = {Integer.MIN_VALUE, -1, 0, 60, Integer.MAX_VALUE - 12, Integer.MAX_VALUE - 11, Integer.MAX_VALUE})
    void lengthFieldOutOfBoundsIsCorrupt(int batchLength) {
        ByteBuffer batch = copy(sample(CompressionType.NONE));
        batch.putInt(BatchHeader.BATCH_LENGTH_OFFSET, batchLength);
        String fragment = batchLength == Integer.MAX_VALUE - 12 ? "truncated" : "declares batchLength " + batchLength;
        corrupt(() -> RecordBatch.wrap(batch), fragment);
        if (batchLength == Integer.MAX_VALUE - 12) {
            // A plausible length that runs past the buffer is a partial tail, not corruption.
            RecordBatchIterator it = RecordBatches.iterate(batch);
            assertTrue(!it.hasNext());
            assertEquals(batch.limit(), it.partialTailBytes());
        } else {
            corrupt(() -> RecordBatches.iterate(batch).hasNext(), "at byte 0");
        }
    }

    @Test
    void lengthLargerThanContentsButFittingTheBufferIsCaughtByCrc() {
        ByteBuffer batch = copy(sample(CompressionType.NONE));
        ByteBuffer bigger = ByteBuffer.allocate(batch.limit() + 5);
        bigger.put(batch).flip();
        bigger.limit(bigger.capacity());
        bigger.putInt(BatchHeader.BATCH_LENGTH_OFFSET, bigger.limit() - BatchHeader.LOG_OVERHEAD);
        corrupt(() -> RecordBatch.wrap(bigger).ensureValid(), "CRC32C mismatch");
    }

    @Test
    void badMagicIsCorrupt() {
        ByteBuffer batch = copy(sample(CompressionType.NONE));
        batch.put(BatchHeader.MAGIC_OFFSET, (byte) 2);
        corrupt(() -> RecordBatch.wrap(batch).ensureValid(), "unsupported magic 2 at byte 28");
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 4, 5, 6, 7})
    void unknownCodecIsCorrupt(int codecId) {
        ByteBuffer batch = copy(sample(CompressionType.NONE));
        batch.putShort(BatchHeader.ATTRIBUTES_OFFSET, (short) codecId);
        fixCrc(batch);
        RecordBatch rb = RecordBatch.wrap(batch);
        corrupt(rb::ensureValid, "unknown compression codec id " + codecId);
        corrupt(rb::iterator, "unknown compression codec id " + codecId);
        corrupt(rb::compression, "unknown compression codec id " + codecId);
        corrupt(() -> CompressionType.forId(codecId), "unknown compression codec id");
    }

    @Test
    void inconsistentCountsAreCaughtWithoutDecoding() {
        ByteBuffer negative = copy(sample(CompressionType.NONE));
        negative.putInt(BatchHeader.RECORD_COUNT_OFFSET, -1);
        corrupt(() -> RecordBatch.wrap(fixCrc(negative)).ensureValid(), "negative recordCount -1 at byte 69");

        ByteBuffer lastDelta = copy(sample(CompressionType.NONE));
        lastDelta.putInt(BatchHeader.LAST_OFFSET_DELTA_OFFSET, 1);
        corrupt(() -> RecordBatch.wrap(fixCrc(lastDelta)).ensureValid(), "lastOffsetDelta 1 at byte 35");

        ByteBuffer tooMany = copy(sample(CompressionType.NONE));
        tooMany.putInt(BatchHeader.RECORD_COUNT_OFFSET, 1_000_000);
        tooMany.putInt(BatchHeader.LAST_OFFSET_DELTA_OFFSET, 999_999);
        corrupt(() -> RecordBatch.wrap(fixCrc(tooMany)).ensureValid(), "cannot fit");
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void recordCountMismatchIsCaughtWhenDecoding(CompressionType codec) {
        ByteBuffer fewer = copy(sample(codec));
        fewer.putInt(BatchHeader.RECORD_COUNT_OFFSET, 4);
        fewer.putInt(BatchHeader.LAST_OFFSET_DELTA_OFFSET, 3);
        corrupt(() -> decodeAll(fixCrc(fewer)), "after 3 of 4 records");

        ByteBuffer more = copy(sample(codec));
        more.putInt(BatchHeader.RECORD_COUNT_OFFSET, 2);
        corrupt(() -> decodeAll(fixCrc(more)), "left over");
    }

    /** A records section holding one record with the given body bytes (after its length varint). */
    private static byte[] oneRecord(byte[] body) {
        byte[] out = new byte[5 + body.length];
        int p = Varints.writeVarint(body.length, out, 0);
        System.arraycopy(body, 0, out, p, body.length);
        return Arrays.copyOf(out, p + body.length);
    }

    private static ByteBuffer singleRecordBatch(byte[] section) {
        ByteBuffer base = RecordBatchBuilder.create(CompressionType.NONE)
                .append(1L, null, null)
                .build();
        return withRecordsSection(base, section);
    }

    @Test
    void badRecordFramingIsCorruptWithPosition() {
        // A record length varint that never ends.
        byte[] endless = new byte[7];
        Arrays.fill(endless, (byte) 0x80);
        corrupt(() -> decodeAll(singleRecordBatch(endless)), "varint longer than 5 bytes or beyond 32 bits at byte 73");
        // Negative record length (-1) and one larger than the section.
        corrupt(() -> decodeAll(singleRecordBatch(new byte[] {1, 0, 0, 0, 1, 1, 0})), "declares length -1");
        corrupt(() -> decodeAll(singleRecordBatch(new byte[] {100, 0, 0, 0, 1, 1, 0})), "declares length 50");
        // attributes, tsDelta 0, offsetDelta 0, key length -2 (03), ...
        corrupt(() -> decodeAll(singleRecordBatch(oneRecord(new byte[] {0, 0, 0, 3, 1, 0}))), "key length -2");
        // key length 1000 in a 6-byte record
        corrupt(
                () -> decodeAll(singleRecordBatch(oneRecord(new byte[] {0, 0, 0, (byte) 0xd0, 0x0f, 1, 0}))),
                "key length 1000");
        // huge header count
        corrupt(
                () -> decodeAll(singleRecordBatch(oneRecord(new byte[] {0, 0, 0, 1, 1, (byte) 0xfe, 0x0f, 0, 0}))),
                "declares 1023 headers");
        // null header key
        corrupt(
                () -> decodeAll(singleRecordBatch(oneRecord(new byte[] {0, 0, 0, 1, 1, 2, 1, 1}))),
                "header 0 key length -1");
        // offset delta beyond lastOffsetDelta (0)
        corrupt(() -> decodeAll(singleRecordBatch(oneRecord(new byte[] {0, 0, 2, 1, 1, 0}))), "offset delta 1");
        // record length says 7 but fields take 6: a spare byte inside the record
        corrupt(() -> decodeAll(singleRecordBatch(oneRecord(new byte[] {0, 0, 0, 1, 1, 0, 0}))), "fields end 1 byte");
        // truncated varlong timestamp inside the record: record ends first
        CorruptRecordException e = corrupt(
                () -> decodeAll(singleRecordBatch(
                        oneRecord(new byte[] {0, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80}))),
                "truncated varlong");
        assertTrue(e.getMessage().contains("starting at byte 75"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(
            value = CompressionType.class,
            names = {"LZ4", "ZSTD"})
    void garbageOrTruncatedCompressedDataIsCorrupt(CompressionType codec) {
        ByteBuffer valid = sample(codec);
        byte[] section = recordsSection(valid);
        SplittableRandom rnd = new SplittableRandom(7);
        byte[] garbage = new byte[64];
        rnd.nextBytes(garbage);
        corrupt(() -> decodeAll(withRecordsSection(valid, garbage)), codec.displayName());
        for (int cut = 0; cut < section.length; cut++) {
            byte[] truncated = Arrays.copyOf(section, cut);
            assertThrows(
                    CorruptRecordException.class,
                    () -> decodeAll(withRecordsSection(valid, truncated)),
                    "cut at " + cut);
        }
        byte[] trailing = Arrays.copyOf(section, section.length + 3);
        trailing[section.length] = 1;
        assertThrows(CorruptRecordException.class, () -> decodeAll(withRecordsSection(valid, trailing)));
    }

    private static byte[] zeros() {
        return new byte[RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES + 1];
    }

    @Test
    void zstdBombIsRefused() throws IOException {
        byte[] zeros = zeros();
        ByteBuffer valid = sample(CompressionType.ZSTD);
        corrupt(() -> decodeAll(withRecordsSection(valid, Zstd.compress(zeros))), "limit for a decompressed");

        ByteArrayOutputStream streamed = new ByteArrayOutputStream();
        try (ZstdOutputStream out = new ZstdOutputStream(streamed)) {
            for (int i = 0; i < 65; i++) {
                out.write(zeros, 0, 1 << 20);
            }
        }
        assertEquals(-1, Zstd.getFrameContentSize(streamed.toByteArray()), "frame without content size");
        corrupt(() -> decodeAll(withRecordsSection(valid, streamed.toByteArray())), "limit for a decompressed");
    }

    @Test
    void lz4BombIsRefused() throws IOException {
        byte[] zeros = zeros();
        ByteBuffer valid = sample(CompressionType.LZ4);
        for (boolean withSize : new boolean[] {true, false}) {
            ByteArrayOutputStream compressed = new ByteArrayOutputStream();
            try (LZ4FrameOutputStream out = withSize
                    ? new LZ4FrameOutputStream(
                            compressed,
                            LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB,
                            zeros.length,
                            LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
                            LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE)
                    : new LZ4FrameOutputStream(compressed, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB)) {
                out.write(zeros);
            }
            corrupt(() -> decodeAll(withRecordsSection(valid, compressed.toByteArray())), "limit for a decompressed");
        }
    }

    @Test
    void smallerDecompressionLimitIsHonoured() {
        ByteBuffer batch = RecordBatchBuilder.create(CompressionType.ZSTD)
                .append(1L, null, new byte[10_000])
                .build();
        RecordBatch rb = RecordBatch.wrap(batch);
        rb.ensureValid();
        corrupt(() -> rb.iterator(5_000), "limit for a decompressed records section is 5000 bytes");
    }

    /**
     * Mutates valid batches at random (then fixes the CRC so decoding is reached) and checks that decoding
     * either succeeds or throws CorruptRecordException, never anything else.
     */
    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void randomDamageOnlyEverYieldsCorruptRecordException(CompressionType codec) {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        ByteBuffer valid = RecordBatchBuilder.create(codec)
                .append(5L, b("a"), b("alpha"), List.of(new Header("h1", b("1")), new Header("h2", null)))
                .append(6L, null, null)
                .append(7L, b("ccc"), new byte[300], List.of(new Header("", new byte[0])))
                .build();
        for (int i = 0; i < 3_000; i++) {
            ByteBuffer damaged = copy(valid);
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips; f++) {
                // Damage the header fields after the CRC or the records, then re-seal with a valid CRC.
                int pos = BatchHeader.ATTRIBUTES_OFFSET + rnd.nextInt(damaged.limit() - BatchHeader.ATTRIBUTES_OFFSET);
                damaged.put(pos, (byte) rnd.nextInt(256));
            }
            fixCrc(damaged);
            try {
                RecordBatch rb = RecordBatch.wrap(damaged);
                rb.ensureValid();
                rb.records();
            } catch (CorruptRecordException expected) {
                // fine
            } catch (RuntimeException | Error other) {
                fail("seed " + seed + " iteration " + i + " (-Dsluice.seed=" + seed + "): " + other, other);
            }
        }
    }
}
