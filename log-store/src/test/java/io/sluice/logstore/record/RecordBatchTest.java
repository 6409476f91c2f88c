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
}
