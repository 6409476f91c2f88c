package io.sluice.logstore.record;

import static io.sluice.logstore.record.TestBatches.fromHex;
import static io.sluice.logstore.record.TestBatches.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pins the exact bytes of a small batch. If this fails, the on-disk/wire format changed: that needs a
 * new magic (or a deliberate decision), and docs/format.md's worked example must be regenerated from
 * {@link #GOLDEN_STAMPED}.
 */
class GoldenBatchTest {
    /** As built by the producer: base offset, term and entry index 0. */
    static final String GOLDEN_BUILT = """
            0000000000000000 0000005b 0000000000000000 0000000000000000 01 bce44484
            0000 00000001 0000018bcfe56800 0000018bcfe56805 0000000000000007 0002 0000000a 00000002
            22 00 00 00 04 6b31 0a 68656c6c6f 02 02 68 02 76
            16 00 0a 02 01 0a 776f726c64 00
            """;

    /** The same batch after the log stamped base offset 100, Raft term 3 and entry index 42. */
    static final String GOLDEN_STAMPED = """
            0000000000000064 0000005b 0000000000000003 000000000000002a 01 bce44484
            0000 00000001 0000018bcfe56800 0000018bcfe56805 0000000000000007 0002 0000000a 00000002
            22 00 00 00 04 6b31 0a 68656c6c6f 02 02 68 02 76
            16 00 0a 02 01 0a 776f726c64 00
            """;

    static ByteBuffer buildGolden() {
        return RecordBatchBuilder.create(CompressionType.NONE)
                .producer(7L, (short) 2, 10)
                .append(1_700_000_000_000L, b("k1"), b("hello"), List.of(new Header("h", b("v"))))
                .append(1_700_000_000_005L, null, b("world"))
                .build();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void builderProducesThePinnedBytes() {
        assertEquals(hex(fromHex(GOLDEN_BUILT)), hex(buildGolden()));
    }

    @Test
    void stampingChangesOnlyTheStampedFields() {
        ByteBuffer batch = buildGolden();
        RecordBatch.stampBaseOffset(batch, 0, 100L);
        RecordBatch.stampRaftTerm(batch, 0, 3L);
        RecordBatch.stampEntryIndex(batch, 0, 42L);
        assertEquals(hex(fromHex(GOLDEN_STAMPED)), hex(batch));
    }

    @Test
    void pinnedBytesDecodeAsDocumented() {
        RecordBatch batch = RecordBatch.wrap(fromHex(GOLDEN_STAMPED));
        batch.ensureValid();
        assertEquals(0xbce44484L, batch.checksum());
        assertEquals(100L, batch.baseOffset());
        assertEquals(103, batch.sizeInBytes());
        List<Record> records = batch.records();
        assertEquals(2, records.size());
        assertEquals(100L, records.get(0).offset());
        assertEquals(1_700_000_000_000L, records.get(0).timestamp());
        assertArrayEquals(b("k1"), records.get(0).keyBytes());
        assertEquals(List.of(new Header("h", b("v"))), records.get(0).headers());
        assertEquals(101L, records.get(1).offset());
        assertEquals(1_700_000_000_005L, records.get(1).timestamp());
        assertArrayEquals(b("world"), records.get(1).valueBytes());
    }

    @Test
    void controlBatchBytesArePinned() {
        ByteBuffer noOp = ControlRecord.buildBatch(ControlRecordType.RAFT_NO_OP, 1_700_000_000_000L, new byte[0]);
        String expected = """
                0000000000000000 00000048 0000000000000000 0000000000000000 01 3fee6fe8
                0010 00000000 0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001
                14 00 00 00 08 00000002 00 00
                """;
        assertEquals(hex(fromHex(expected)), hex(noOp));
    }
}
