package io.sluice.logstore.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RecordBatchTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void roundTripsRecordsAndHeaderFields(CompressionType codec) {
        ByteBuffer built = RecordBatchBuilder.create(codec)
                .producer(42L, (short) 3, 7)
                .append(1000L, b("k1"), b("v1"), List.of(new Header("h", b("x")), new Header("n", null)))
                .append(999L, null, b(""))
                .append(1005L, b(""), null)
                .build();
        assertEquals(0, built.position());
        RecordBatch batch = RecordBatch.wrap(built);
        batch.ensureValid();
        assertEquals(codec, batch.compression());
        assertEquals(0L, batch.baseOffset());
        assertEquals(3, batch.recordCount());
        assertEquals(2, batch.lastOffsetDelta());
        assertEquals(1000L, batch.firstTimestamp());
        assertEquals(1005L, batch.maxTimestamp());
        assertEquals(42L, batch.producerId());
        assertEquals(3, batch.producerEpoch());
        assertEquals(7, batch.baseSequence());
        assertEquals(9, batch.lastSequence());
        assertEquals(built.remaining(), batch.sizeInBytes());
        assertFalse(batch.isControl());
        assertEquals(TimestampType.CREATE_TIME, batch.timestampType());

        List<Record> records = batch.records();
        assertEquals(3, records.size());
        Record r0 = records.get(0);
        assertEquals(0L, r0.offset());
        assertEquals(1000L, r0.timestamp());
        assertArrayEquals(b("k1"), r0.keyBytes());
        assertArrayEquals(b("v1"), r0.valueBytes());
        assertEquals(List.of(new Header("h", b("x")), new Header("n", null)), r0.headers());
        Record r1 = records.get(1);
        assertEquals(1L, r1.offset());
        assertEquals(999L, r1.timestamp());
        assertNull(r1.key());
        assertArrayEquals(new byte[0], r1.valueBytes());
        Record r2 = records.get(2);
        assertArrayEquals(new byte[0], r2.keyBytes());
        assertTrue(r2.isTombstone());
    }

    @Test
    void stampingKeepsTheBatchValidAndShowsThroughAccessors() {
        ByteBuffer built = RecordBatchBuilder.create(CompressionType.NONE)
                .append(1L, b("k"), b("v"))
                .append(2L, b("k"), b("v"))
                .build();
        ByteBuffer log = ByteBuffer.allocate(built.remaining() + 10);
        log.position(10);
        log.put(built.duplicate());
        log.flip();
        RecordBatch.stampBaseOffset(log, 10, 1_000L);
        RecordBatch.stampRaftTerm(log, 10, 5L);
        RecordBatch.stampEntryIndex(log, 10, 77L);
        assertEquals(0, log.position());
        RecordBatch batch = RecordBatch.wrap(log, 10);
        batch.ensureValid();
        assertEquals(1_000L, batch.baseOffset());
        assertEquals(5L, batch.raftTerm());
        assertEquals(77L, batch.entryIndex());
        assertEquals(1_001L, batch.lastOffset());
        assertEquals(1_001L, batch.records().get(1).offset());
    }

    @Test
    void stampingIsBigEndianWhateverTheBufferOrder() {
        ByteBuffer built = RecordBatchBuilder.create(CompressionType.NONE)
                .append(1L, null, b("v"))
                .build();
        ByteBuffer little = built.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        RecordBatch.stampBaseOffset(little, 0, 0x0102030405060708L);
        assertEquals(0x0102030405060708L, RecordBatch.wrap(built).baseOffset());
        assertEquals(built.remaining(), RecordBatch.sizeAt(little, 0));
    }

    @Test
    void crcCatchesAFlippedByteAnywhereItCovers() {
        ByteBuffer built = RecordBatchBuilder.create(CompressionType.NONE)
                .append(1L, b("key"), b("value"), List.of(new Header("h", b("hv"))))
                .build();
        for (int i = BatchHeader.ATTRIBUTES_OFFSET; i < built.limit(); i++) {
            ByteBuffer copy = ByteBuffer.allocate(built.limit());
            copy.put(built.duplicate()).flip();
            copy.put(i, (byte) (copy.get(i) ^ 0x01));
            RecordBatch batch = RecordBatch.wrap(copy);
            int at = i;
            CorruptRecordException e =
                    assertThrows(CorruptRecordException.class, batch::ensureValid, () -> "byte " + at);
            assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
        }
    }

    @Test
    void wrapNeverMovesTheCallersBufferAndCoversOnlyOneBatch() {
        ByteBuffer one = RecordBatchBuilder.create(CompressionType.NONE)
                .append(1L, b("k"), b("v"))
                .build();
        ByteBuffer two = ByteBuffer.allocate(one.remaining() * 2 + 3);
        two.position(3);
        two.put(one.duplicate()).put(one.duplicate()).flip().position(3);
        RecordBatch batch = RecordBatch.wrap(two);
        assertEquals(3, two.position());
        assertEquals(two.capacity(), two.limit());
        assertEquals(one.remaining(), batch.sizeInBytes());
        assertEquals(one, batch.buffer());
        assertTrue(batch.buffer().isReadOnly());
        batch.records();
        assertEquals(3, two.position());
    }

    @Test
    void worksOnReadOnlyAndDirectBuffers() {
        ByteBuffer built = RecordBatchBuilder.create(CompressionType.LZ4)
                .append(1L, b("k"), b("v"), List.of(new Header("h", b("x"))))
                .build();
        ByteBuffer direct = ByteBuffer.allocateDirect(built.remaining());
        direct.put(built.duplicate()).flip();
        for (ByteBuffer buf : List.of(built.asReadOnlyBuffer(), direct, direct.asReadOnlyBuffer())) {
            RecordBatch batch = RecordBatch.wrap(buf);
            batch.ensureValid();
            assertEquals(
                    List.of(new Header("h", b("x"))), batch.records().get(0).headers());
            assertEquals(RecordBatch.wrap(built), batch);
        }
    }

    @Test
    void recordBuffersAreIndependentAndReadOnly() {
        RecordBatch batch = RecordBatch.wrap(RecordBatchBuilder.create(CompressionType.NONE)
                .append(1L, b("key"), b("val"))
                .build());
        Record r = batch.records().get(0);
        ByteBuffer k = r.key();
        k.get();
        assertEquals(3, r.key().remaining(), "reading one duplicate must not move another");
        assertTrue(k.isReadOnly());
        assertEquals(r, batch.records().get(0));
    }

    @Test
    void logAppendTimeReportsTheMaxTimestampForEveryRecord() {
        RecordBatch batch = RecordBatch.wrap(RecordBatchBuilder.create(CompressionType.NONE)
                .timestampType(TimestampType.LOG_APPEND_TIME)
                .append(5L, null, null)
                .append(9L, null, null)
                .build());
        batch.ensureValid();
        assertEquals(TimestampType.LOG_APPEND_TIME, batch.timestampType());
        assertEquals(
                List.of(9L, 9L), batch.records().stream().map(Record::timestamp).toList());
    }

    @Test
    void builderRefusesMisuse() {
        assertThrows(IllegalStateException.class, () -> RecordBatchBuilder.create(CompressionType.NONE)
                .build());
        RecordBatchBuilder builder =
                RecordBatchBuilder.create(CompressionType.NONE).append(1L, null, null);
        builder.build();
        assertThrows(IllegalStateException.class, builder::build);
        assertThrows(IllegalStateException.class, () -> builder.append(1L, null, null));
        assertThrows(IllegalArgumentException.class, () -> RecordBatchBuilder.create(CompressionType.NONE, -1));
    }

    @Test
    void compressedBuilderRefusesRecordsBeyondWhatReadersAccept() {
        RecordBatchBuilder builder = RecordBatchBuilder.create(CompressionType.ZSTD);
        byte[] big = new byte[RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES / 2];
        builder.append(1L, null, big);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> builder.append(1L, null, big));
        assertTrue(e.getMessage().contains("exceed"), e.getMessage());
        assertEquals(1, builder.recordCount());
        RecordBatch.wrap(builder.build()).ensureValid();
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void largeValuesRoundTrip(CompressionType codec) {
        byte[] compressible = new byte[3 * 1024 * 1024];
        for (int i = 0; i < compressible.length; i++) {
            compressible[i] = (byte) (i % 251 < 200 ? 'x' : i);
        }
        byte[] random = new byte[300_000];
        new java.util.SplittableRandom(1).nextBytes(random);
        ByteBuffer built = RecordBatchBuilder.create(codec)
                .append(1L, random, compressible)
                .append(2L, compressible, random)
                .build();
        RecordBatch batch = RecordBatch.wrap(built);
        batch.ensureValid();
        if (codec != CompressionType.NONE) {
            assertTrue(batch.sizeInBytes() < compressible.length, "compressed size " + batch.sizeInBytes());
        }
        List<Record> records = batch.records();
        assertArrayEquals(random, records.get(0).keyBytes());
        assertArrayEquals(compressible, records.get(0).valueBytes());
        assertArrayEquals(compressible, records.get(1).keyBytes());
        assertArrayEquals(random, records.get(1).valueBytes());
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void filterKeepsOffsetsAndCanEmptyABatch(CompressionType codec) {
        ByteBuffer built = RecordBatchBuilder.create(codec)
                .producer(9L, (short) 1, 100)
                .append(10L, b("a"), b("1"))
                .append(20L, b("b"), b("2"))
                .append(15L, b("a"), b("3"))
                .build();
        RecordBatch.stampBaseOffset(built, 0, 50L);
        RecordBatch.stampEntryIndex(built, 0, 8L);
        RecordBatch batch = RecordBatch.wrap(built);

        assertEquals(batch.buffer(), batch.filter(r -> true), "nothing removed: same bytes");

        RecordBatch kept = RecordBatch.wrap(batch.filter(r -> r.offset() != 50L));
        kept.ensureValid();
        assertEquals(2, kept.recordCount());
        assertEquals(52L, kept.lastOffset());
        assertEquals(8L, kept.entryIndex());
        assertEquals(100, kept.baseSequence());
        assertEquals(102, kept.lastSequence());
        assertEquals(codec, kept.compression());
        assertEquals(
                List.of(51L, 52L), kept.records().stream().map(Record::offset).toList());
        assertEquals(
                List.of(20L, 15L),
                kept.records().stream().map(Record::timestamp).toList());

        RecordBatch empty = RecordBatch.wrap(batch.filter(r -> false));
        empty.ensureValid();
        assertEquals(0, empty.recordCount());
        assertEquals(BatchHeader.HEADER_SIZE, empty.sizeInBytes());
        assertEquals(52L, empty.lastOffset());
        assertEquals(20L, empty.maxTimestamp());
        assertEquals(List.of(), empty.records());
    }

    @Test
    void sizeAtReportsMissingLengthAsMinusOne() {
        ByteBuffer buf = ByteBuffer.allocate(11);
        assertEquals(-1, RecordBatch.sizeAt(buf, 0));
        assertEquals(-1, RecordBatch.sizeAt(buf, 11));
        assertThrows(IllegalArgumentException.class, () -> RecordBatch.sizeAt(buf, 12));
        assertThrows(IllegalArgumentException.class, () -> RecordBatch.stampBaseOffset(ByteBuffer.allocate(72), 0, 1));
    }
}
