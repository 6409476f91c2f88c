package io.sluice.logstore.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ControlRecordTest {
    @Test
    void idsAreStable() {
        assertEquals(1, ControlRecordType.RAFT_CONFIGURATION.id());
        assertEquals(2, ControlRecordType.RAFT_NO_OP.id());
        assertEquals(Optional.of(ControlRecordType.RAFT_NO_OP), ControlRecordType.forId(2));
        assertEquals(Optional.empty(), ControlRecordType.forId(0));
        assertEquals(Optional.empty(), ControlRecordType.forId(3));
    }

    @Test
    void roundTripsTypeAndPayload() {
        byte[] payload = {1, 2, 3, 4, 5};
        ByteBuffer built = ControlRecord.buildBatch(ControlRecordType.RAFT_CONFIGURATION, 123L, payload);
        RecordBatch batch = RecordBatch.wrap(built);
        batch.ensureValid();
        assertTrue(batch.isControl());
        assertEquals(1, batch.recordCount());
        ControlRecord cr = ControlRecord.read(batch);
        assertEquals(ControlRecordType.RAFT_CONFIGURATION, cr.type());
        assertArrayEquals(payload, cr.payloadBytes());

        ControlRecord noOp = ControlRecord.read(
                RecordBatch.wrap(ControlRecord.buildBatch(ControlRecordType.RAFT_NO_OP, 1L, new byte[0])));
        assertEquals(ControlRecordType.RAFT_NO_OP, noOp.type());
        assertEquals(0, noOp.payload().remaining());
    }

    @Test
    void controlBatchesAreSkippedByDataRecords() {
        ByteBuffer data = RecordBatchBuilder.create(CompressionType.NONE)
                .append(1L, null, new byte[] {9})
                .build();
        ByteBuffer control = ControlRecord.buildBatch(ControlRecordType.RAFT_NO_OP, 1L, new byte[0]);
        ByteBuffer both = ByteBuffer.allocate(data.remaining() + control.remaining());
        both.put(control.duplicate()).put(data.duplicate()).flip();
        List<Record> records = RecordBatches.dataRecords(both);
        assertEquals(1, records.size());
        assertArrayEquals(new byte[] {9}, records.get(0).valueBytes());
    }

    private static RecordBatch controlBatchWithKey(byte[] key, byte[] value, int records) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE).control(true);
        for (int i = 0; i < records; i++) {
            b.append(1L, key, value);
        }
        return RecordBatch.wrap(b.build());
    }

    @Test
    void malformedControlRecordsAreCorrupt() {
        assertThrows(
                IllegalArgumentException.class,
                () -> ControlRecord.read(RecordBatch.wrap(RecordBatchBuilder.create(CompressionType.NONE)
                        .append(1L, null, null)
                        .build())));
        assertThrows(
                CorruptRecordException.class,
                () -> ControlRecord.read(controlBatchWithKey(new byte[] {0, 0, 0, 2}, new byte[0], 2)));
        assertThrows(
                CorruptRecordException.class,
                () -> ControlRecord.read(controlBatchWithKey(new byte[] {0, 0, 2}, new byte[0], 1)));
        assertThrows(CorruptRecordException.class, () -> ControlRecord.read(controlBatchWithKey(null, new byte[0], 1)));
        CorruptRecordException unknown = assertThrows(
                CorruptRecordException.class,
                () -> ControlRecord.read(controlBatchWithKey(new byte[] {0, 0, 0, 99}, new byte[0], 1)));
        assertTrue(unknown.getMessage().contains("unknown control record type id 99"), unknown.getMessage());
        assertThrows(
                CorruptRecordException.class,
                () -> ControlRecord.read(controlBatchWithKey(new byte[] {0, 1, 0, 2}, new byte[0], 1)));
        assertThrows(
                CorruptRecordException.class,
                () -> ControlRecord.read(controlBatchWithKey(new byte[] {0, 0, 0, 2}, null, 1)));
    }
}
