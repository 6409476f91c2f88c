package io.sluice.replication.testkit;

import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.replication.ReplicatedPartition;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helpers to write and read partition data: one-record batches with a string value, and reads of a replica's
 * committed data records or raw bytes.
 *
 * <p>Stateless and thread-safe.
 */
public final class PartitionData {

    private PartitionData() {}

    /** A batch of one record whose value is {@code value} (UTF-8), key null, timestamp now. */
    public static ByteBuffer batch(String value) {
        return RecordBatchBuilder.create(CompressionType.NONE)
                .append(System.currentTimeMillis(), null, value.getBytes(StandardCharsets.UTF_8))
                .build();
    }

    /** A data record as read back: its offset and value. */
    public record Entry(long offset, String value) {}

    /** Every committed data record of {@code p} from its log start up to its high watermark, in offset order. */
    public static List<Entry> committedRecords(ReplicatedPartition p) {
        return records(p, p.highWatermark());
    }

    /** Data records of {@code p} below {@code endOffset} (which must not exceed its high watermark). */
    public static List<Entry> records(ReplicatedPartition p, long endOffset) {
        List<Entry> out = new ArrayList<>();
        long offset = p.logStartOffset();
        while (offset < endOffset) {
            LogReadResult r = p.read(offset, 1 << 20);
            if (r.isEmpty()) {
                break;
            }
            ByteBuffer buf = r.records();
            int pos = buf.position();
            while (pos < buf.limit()) {
                RecordBatch b = RecordBatch.wrap(buf, pos);
                pos += b.sizeInBytes();
                if (b.baseOffset() >= endOffset) {
                    return out;
                }
                if (b.isControl()) {
                    continue;
                }
                for (Record rec : b) {
                    if (rec.offset() >= endOffset) {
                        return out;
                    }
                    out.add(new Entry(rec.offset(), new String(rec.valueBytes(), StandardCharsets.UTF_8)));
                }
            }
            offset = r.nextOffset();
        }
        return out;
    }

    /**
     * The raw stored bytes of {@code p}'s batches whose base offset is in {@code [fromOffset, endOffset)}, control
     * batches included, exactly as stored (Raft term and entry index stamped in the headers).
     */
    public static byte[] rawBytes(ReplicatedPartition p, long fromOffset, long endOffset) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long offset = fromOffset;
        while (offset < endOffset) {
            LogReadResult r = p.read(offset, 1 << 20);
            if (r.isEmpty()) {
                break;
            }
            ByteBuffer buf = r.records();
            int pos = buf.position();
            while (pos < buf.limit()) {
                RecordBatch b = RecordBatch.wrap(buf, pos);
                int size = b.sizeInBytes();
                if (b.baseOffset() >= endOffset) {
                    return out.toByteArray();
                }
                if (b.baseOffset() >= fromOffset) {
                    byte[] bytes = new byte[size];
                    buf.get(pos, bytes);
                    out.write(bytes, 0, size);
                }
                pos += size;
            }
            offset = r.nextOffset();
        }
        return out.toByteArray();
    }
}
