package io.sluice.logstore.record;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Iterates the whole batches of a buffer holding concatenated batches (a segment slice, a fetch
 * response) without decoding records or checking CRCs: each returned {@link RecordBatch} shares the
 * buffer's memory; call {@link RecordBatch#ensureValid()} on bytes you do not trust.
 *
 * <p>Iteration stops before a trailing partial batch (one whose length prefix or declared size runs past
 * the limit): {@link #partialTailBytes()} then says how many bytes were left, and {@link #position()}
 * where the last complete batch ended (the size of the valid prefix, e.g. for truncating a torn tail).
 * A length field that cannot belong to a batch (smaller than a header) is corruption and throws.
 *
 * <p>The source buffer's position and limit are never changed. Not thread-safe: one iterator per thread.
 */
public final class RecordBatchIterator implements Iterator<RecordBatch> {
    private final ByteBuffer source;
    private final int start;
    private int position;
    private int nextSize = -2; // -2: not yet computed; -1: nothing more

    RecordBatchIterator(ByteBuffer source) {
        this.source = source;
        this.start = source.position();
        this.position = start;
    }

    /**
     * @throws CorruptRecordException if the next length field is out of bounds (see
     *     {@link RecordBatch#sizeAt})
     */
    @Override
    public boolean hasNext() {
        if (nextSize == -2) {
            int size = RecordBatch.sizeAt(source, position);
            nextSize = size < 0 || size > source.limit() - position ? -1 : size;
        }
        return nextSize >= 0;
    }

    @Override
    public RecordBatch next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        RecordBatch batch = RecordBatch.wrap(source, position);
        position += nextSize;
        nextSize = -2;
        return batch;
    }

    /** Absolute index in the source buffer where the next (not yet returned) batch starts. */
    public int position() {
        return position;
    }

    /** Bytes of complete batches returned so far. */
    public int bytesConsumed() {
        return position - start;
    }

    /**
     * Once {@link #hasNext()} has returned false: the number of bytes after the last complete batch
     * (0 when the buffer ended exactly at a batch boundary). Before that, the bytes not yet consumed.
     */
    public int partialTailBytes() {
        return source.limit() - position;
    }
}
