package io.sluice.logstore.record;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/** Helpers for tests that hand-craft or damage batches. */
final class TestBatches {
    private TestBatches() {}

    /** A heap copy of the remaining bytes (position 0). */
    static ByteBuffer copy(ByteBuffer b) {
        ByteBuffer c = ByteBuffer.allocate(b.remaining());
        c.put(b.duplicate()).flip();
        return c;
    }

    /** Recomputes the CRC of the batch at position 0 so that only the deliberate damage is seen. */
    static ByteBuffer fixCrc(ByteBuffer batch) {
        CRC32C crc = new CRC32C();
        crc.update(
                batch.array(),
                batch.arrayOffset() + BatchHeader.ATTRIBUTES_OFFSET,
                batch.limit() - BatchHeader.ATTRIBUTES_OFFSET);
        batch.putInt(BatchHeader.CRC_OFFSET, (int) crc.getValue());
        return batch;
    }

    /**
     * Replaces the records section of {@code batch} (keeping its header otherwise), fixing batchLength and
     * CRC.
     */
    static ByteBuffer withRecordsSection(ByteBuffer batch, byte[] section) {
        ByteBuffer out = ByteBuffer.allocate(BatchHeader.HEADER_SIZE + section.length);
        out.put(batch.duplicate().limit(batch.position() + BatchHeader.HEADER_SIZE));
        out.put(section).flip();
        out.putInt(BatchHeader.BATCH_LENGTH_OFFSET, out.limit() - BatchHeader.LOG_OVERHEAD);
        return fixCrc(out);
    }

    static byte[] recordsSection(ByteBuffer batch) {
        byte[] s = new byte[batch.remaining() - BatchHeader.HEADER_SIZE];
        batch.duplicate().position(batch.position() + BatchHeader.HEADER_SIZE).get(s);
        return s;
    }

    static String hex(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return HexFormat.of().formatHex(a);
    }

    static ByteBuffer fromHex(String hex) {
        return ByteBuffer.wrap(HexFormat.of().parseHex(hex.replaceAll("\\s", "")));
    }
}
