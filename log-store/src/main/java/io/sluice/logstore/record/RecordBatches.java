package io.sluice.logstore.record;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Entry points for buffers that hold several concatenated batches.
 *
 * <p>Stateless and thread-safe.
 */
public final class RecordBatches {
    private RecordBatches() {}

    /**
     * Iterates the complete batches from {@code buffer.position()} to its limit; see
     * {@link RecordBatchIterator}. The buffer's position and limit are not changed.
     */
    public static RecordBatchIterator iterate(ByteBuffer buffer) {
        return new RecordBatchIterator(buffer);
    }

    /**
     * Validates ({@link RecordBatch#ensureValid()}) and decodes every complete batch, skipping control
     * batches: what a consumer hands to applications from a fetch response. A trailing partial batch is
     * ignored.
     *
     * @throws CorruptRecordException on the first corrupt batch
     */
    public static List<Record> dataRecords(ByteBuffer buffer) {
        List<Record> out = new ArrayList<>();
        for (Iterator<RecordBatch> it = iterate(buffer); it.hasNext(); ) {
            RecordBatch batch = it.next();
            batch.ensureValid();
            if (!batch.isControl()) {
                batch.iterator().forEachRemaining(out::add);
            }
        }
        return out;
    }
}
