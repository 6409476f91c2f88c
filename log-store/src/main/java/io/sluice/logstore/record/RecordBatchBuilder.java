package io.sluice.logstore.record;

import static io.sluice.logstore.record.BatchHeader.ATTRIBUTES_OFFSET;
import static io.sluice.logstore.record.BatchHeader.ATTR_CONTROL;
import static io.sluice.logstore.record.BatchHeader.ATTR_LOG_APPEND_TIME;
import static io.sluice.logstore.record.BatchHeader.BASE_OFFSET_OFFSET;
import static io.sluice.logstore.record.BatchHeader.BASE_SEQUENCE_OFFSET;
import static io.sluice.logstore.record.BatchHeader.BATCH_LENGTH_OFFSET;
import static io.sluice.logstore.record.BatchHeader.CRC_OFFSET;
import static io.sluice.logstore.record.BatchHeader.CURRENT_MAGIC;
import static io.sluice.logstore.record.BatchHeader.ENTRY_INDEX_OFFSET;
import static io.sluice.logstore.record.BatchHeader.FIRST_TIMESTAMP_OFFSET;
import static io.sluice.logstore.record.BatchHeader.HEADER_SIZE;
import static io.sluice.logstore.record.BatchHeader.LAST_OFFSET_DELTA_OFFSET;
import static io.sluice.logstore.record.BatchHeader.LOG_OVERHEAD;
import static io.sluice.logstore.record.BatchHeader.MAGIC_OFFSET;
import static io.sluice.logstore.record.BatchHeader.MAX_TIMESTAMP_OFFSET;
import static io.sluice.logstore.record.BatchHeader.NO_PRODUCER_EPOCH;
import static io.sluice.logstore.record.BatchHeader.NO_PRODUCER_ID;
import static io.sluice.logstore.record.BatchHeader.NO_SEQUENCE;
import static io.sluice.logstore.record.BatchHeader.PRODUCER_EPOCH_OFFSET;
import static io.sluice.logstore.record.BatchHeader.PRODUCER_ID_OFFSET;
import static io.sluice.logstore.record.BatchHeader.RAFT_TERM_OFFSET;
import static io.sluice.logstore.record.BatchHeader.RECORD_COUNT_OFFSET;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Builds one record batch: records are encoded straight into a growable byte array behind a reserved
 * header; {@link #build()} compresses the records section if asked, writes the header and computes the
 * CRC32C once. The result has base offset, Raft term and entry index 0, for the log to stamp.
 *
 * <pre>{@code
 * ByteBuffer batch = RecordBatchBuilder.create(CompressionType.ZSTD)
 *         .producer(producerId, epoch, sequence)
 *         .append(now, key, value, List.of())
 *         .build();
 * }</pre>
 *
 * <p>Records get offset deltas 0..n-1 in append order. The batch's first timestamp is the first
 * record's; its max timestamp the largest appended. Uncompressed records sections are limited by the
 * int batch length; compressed ones by {@link RecordBatch#DEFAULT_MAX_DECOMPRESSED_BYTES}, which is what
 * readers accept ({@link #append} refuses a record that would cross the limit).
 *
 * <p>Not thread-safe: one builder per thread, used for one batch ({@link #build()} may be called once).
 */
public final class RecordBatchBuilder {
    private static final int INITIAL_CAPACITY = 512;
    /** Leaves room for the codec's framing overhead within an int-sized batch. */
    private static final int MAX_UNCOMPRESSED_BATCH = Integer.MAX_VALUE - 1024;

    private final CompressionType compression;
    private final int maxRecordsSectionBytes;
    private long producerId = NO_PRODUCER_ID;
    private short producerEpoch = NO_PRODUCER_EPOCH;
    private int baseSequence = NO_SEQUENCE;
    private boolean control;
    private TimestampType timestampType = TimestampType.CREATE_TIME;

    private byte[] buf;
    private int pos = HEADER_SIZE;
    private int count;
    private long firstTimestamp;
    private long maxTimestamp;
    private boolean built;
    /** Header of the batch being rewritten by {@link RecordBatch#filter}, or null for a new batch. */
    private final byte[] template;

    private RecordBatchBuilder(CompressionType compression, int initialCapacity) {
        this(compression, initialCapacity, null);
    }

    private RecordBatchBuilder(CompressionType compression, int initialCapacity, byte[] template) {
        this.template = template;
        this.compression = Objects.requireNonNull(compression, "compression");
        this.maxRecordsSectionBytes = compression == CompressionType.NONE
                ? MAX_UNCOMPRESSED_BATCH - HEADER_SIZE
                : RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES;
        this.buf = new byte[Math.max(HEADER_SIZE, initialCapacity)];
    }

    /** A builder for a batch whose records section is compressed with {@code compression}. */
    public static RecordBatchBuilder create(CompressionType compression) {
        return new RecordBatchBuilder(compression, INITIAL_CAPACITY);
    }

    /**
     * As {@link #create(CompressionType)}, pre-sizing the buffer for about {@code expectedBytes} bytes
     * (e.g. the producer's batch size) so building does not need to grow it.
     */
    public static RecordBatchBuilder create(CompressionType compression, int expectedBytes) {
        if (expectedBytes < 0) {
            throw new IllegalArgumentException("expectedBytes must be >= 0: " + expectedBytes);
        }
        return new RecordBatchBuilder(compression, HEADER_SIZE + Math.min(expectedBytes, 1 << 26));
    }

    /**
     * A builder that rewrites {@code original} with a subset of its records: the header is kept as is
     * (offsets, stamped fields, timestamps, producer fields, attributes, codec) except batchLength,
     * recordCount and CRC; records are added with their original deltas; an empty result is allowed.
     */
    static RecordBatchBuilder rewriting(RecordBatch original, int expectedBytes) {
        byte[] header = new byte[HEADER_SIZE];
        original.buffer().get(header);
        return new RecordBatchBuilder(original.compression(), HEADER_SIZE + Math.min(expectedBytes, 1 << 26), header);
    }

    /** Sets the idempotent-producer fields; defaults are -1 (not idempotent). */
    public RecordBatchBuilder producer(long producerId, short producerEpoch, int baseSequence) {
        checkNotBuilt();
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.baseSequence = baseSequence;
        return this;
    }

    /** Marks the batch as a control batch (see {@link ControlRecord}); default false. */
    public RecordBatchBuilder control(boolean control) {
        checkNotBuilt();
        this.control = control;
        return this;
    }

    /** Sets the timestamp type; default {@link TimestampType#CREATE_TIME}. */
    public RecordBatchBuilder timestampType(TimestampType timestampType) {
        checkNotBuilt();
        this.timestampType = Objects.requireNonNull(timestampType, "timestampType");
        return this;
    }

    /** Appends a record without headers; see {@link #append(long, byte[], byte[], List)}. */
    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value) {
        return append(timestamp, key, value, List.of());
    }

    /**
     * Appends a record. The key and value bytes are copied; either may be null (a null value is a
     * tombstone). Header keys are encoded as UTF-8 (unpaired surrogates become {@code ?}).
     *
     * @throws IllegalStateException if the batch would exceed its size limit or was already built
     */
    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value, List<Header> headers) {
        return appendObjects(timestamp, key, value, headers);
    }

    /**
     * As {@link #append(long, byte[], byte[], List)}, reading the remaining bytes of {@code key} and
     * {@code value} (copied; their positions are not changed).
     */
    public RecordBatchBuilder append(long timestamp, ByteBuffer key, ByteBuffer value, List<Header> headers) {
        return appendObjects(timestamp, key, value, headers);
    }

    private RecordBatchBuilder appendObjects(long timestamp, Object key, Object value, List<Header> headers) {
        checkNotBuilt();
        if (template != null) {
            throw new IllegalStateException("a rewriting builder only takes records with their original deltas");
        }
        long first = count == 0 ? timestamp : firstTimestamp;
        // Wraps symmetrically with the reader's first + delta, so any pair of longs round-trips.
        encode(timestamp - first, count, key, value, headers);
        if (count == 1) {
            firstTimestamp = timestamp;
            maxTimestamp = timestamp;
        } else if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        return this;
    }

    /** For {@link RecordBatch#filter}: re-encodes a kept record with its original deltas. */
    void appendWithDeltas(
            long timestampDelta, int offsetDelta, ByteBuffer key, ByteBuffer value, List<Header> headers) {
        checkNotBuilt();
        encode(timestampDelta, offsetDelta, key, value, headers);
    }

    /** Encodes one record at the end of the buffer; key and value are byte[], ByteBuffer or null. */
    private void encode(long timestampDelta, int offsetDelta, Object key, Object value, List<Header> headers) {
        Objects.requireNonNull(headers, "headers");
        if (count == Integer.MAX_VALUE - 1) {
            throw new IllegalStateException("batch already holds the maximum number of records");
        }
        int keyLen = length(key);
        int valueLen = length(value);
        long body = 1L
                + Varints.sizeOfVarlong(timestampDelta)
                + Varints.sizeOfVarint(offsetDelta)
                + Varints.sizeOfVarint(keyLen)
                + Math.max(keyLen, 0)
                + Varints.sizeOfVarint(valueLen)
                + Math.max(valueLen, 0)
                + Varints.sizeOfVarint(headers.size());
        for (int i = 0; i < headers.size(); i++) {
            Header h = headers.get(i);
            int hk = Utf8.encodedLength(h.key());
            int hv = h.value() == null ? -1 : h.value().length;
            body += Varints.sizeOfVarint(hk) + hk + Varints.sizeOfVarint(hv) + Math.max(hv, 0);
        }
        if (body > Integer.MAX_VALUE - 8 || (pos - HEADER_SIZE) + body + 5 > maxRecordsSectionBytes) {
            throw new IllegalStateException("record of about " + body + " bytes would make the records section exceed "
                    + maxRecordsSectionBytes + " bytes (" + compression.displayName() + ")");
        }
        int total = Varints.sizeOfVarint((int) body) + (int) body;
        ensureCapacity(total);

        int p = Varints.writeVarint((int) body, buf, pos);
        buf[p++] = 0; // record attributes: reserved
        p = Varints.writeVarlong(timestampDelta, buf, p);
        p = Varints.writeVarint(offsetDelta, buf, p);
        p = writeBytes(key, keyLen, p);
        p = writeBytes(value, valueLen, p);
        p = Varints.writeVarint(headers.size(), buf, p);
        for (int i = 0; i < headers.size(); i++) {
            Header h = headers.get(i);
            p = Varints.writeVarint(Utf8.encodedLength(h.key()), buf, p);
            p = Utf8.encode(h.key(), buf, p);
            byte[] hv = h.value();
            p = writeBytes(hv, hv == null ? -1 : hv.length, p);
        }
        assert p == pos + total : "record size computed as " + total + " but wrote " + (p - pos);
        pos = p;
        count++;
    }

    private static int length(Object bytes) {
        if (bytes == null) {
            return -1;
        }
        return bytes instanceof byte[] a ? a.length : ((ByteBuffer) bytes).remaining();
    }

    private int writeBytes(Object bytes, int len, int p) {
        p = Varints.writeVarint(len, buf, p);
        if (bytes instanceof byte[] a) {
            System.arraycopy(a, 0, buf, p, len);
        } else if (bytes != null) {
            ((ByteBuffer) bytes).get(((ByteBuffer) bytes).position(), buf, p, len);
        }
        return p + Math.max(len, 0);
    }

    private void ensureCapacity(int more) {
        long needed = (long) pos + more;
        if (needed > buf.length) {
            long grown = Math.max(needed, Math.min((long) buf.length * 2, MAX_UNCOMPRESSED_BATCH));
            buf = Arrays.copyOf(buf, (int) grown);
        }
    }

    /** Records appended so far. */
    public int recordCount() {
        return count;
    }

    public boolean isEmpty() {
        return count == 0;
    }

    /**
     * The batch size if built now. Exact for {@link CompressionType#NONE}; for a codec it is the
     * uncompressed size, an upper estimate for compressible data, so size-based batching never
     * overshoots its target.
     */
    public int estimatedSizeInBytes() {
        return pos;
    }

    /**
     * Builds the batch: a buffer at position 0 holding exactly one complete, valid batch.
     *
     * @throws IllegalStateException if no record was appended or the builder was already built
     */
    public ByteBuffer build() {
        checkNotBuilt();
        if (count == 0 && template == null) {
            throw new IllegalStateException("cannot build an empty record batch");
        }
        built = true;
        byte[] out;
        int size;
        if (compression == CompressionType.NONE || count == 0) {
            out = buf;
            size = pos;
        } else {
            out = Compression.compress(compression, buf, HEADER_SIZE, pos - HEADER_SIZE, HEADER_SIZE);
            size = out.length;
        }
        buf = null; // the builder is spent; the uncompressed bytes may now be the result

        int attributes = compression.id()
                | (timestampType == TimestampType.LOG_APPEND_TIME ? ATTR_LOG_APPEND_TIME : 0)
                | (control ? ATTR_CONTROL : 0);
        ByteBuffer b = ByteBuffer.wrap(out, 0, size).slice();
        if (template != null) {
            System.arraycopy(template, 0, out, 0, HEADER_SIZE);
            b.putInt(BATCH_LENGTH_OFFSET, size - LOG_OVERHEAD);
            b.putInt(RECORD_COUNT_OFFSET, count);
            return seal(b, out, size);
        }
        b.putLong(BASE_OFFSET_OFFSET, 0L);
        b.putInt(BATCH_LENGTH_OFFSET, size - LOG_OVERHEAD);
        b.putLong(RAFT_TERM_OFFSET, 0L);
        b.putLong(ENTRY_INDEX_OFFSET, 0L);
        b.put(MAGIC_OFFSET, CURRENT_MAGIC);
        b.putShort(ATTRIBUTES_OFFSET, (short) attributes);
        b.putInt(LAST_OFFSET_DELTA_OFFSET, count - 1);
        b.putLong(FIRST_TIMESTAMP_OFFSET, firstTimestamp);
        b.putLong(MAX_TIMESTAMP_OFFSET, maxTimestamp);
        b.putLong(PRODUCER_ID_OFFSET, producerId);
        b.putShort(PRODUCER_EPOCH_OFFSET, producerEpoch);
        b.putInt(BASE_SEQUENCE_OFFSET, baseSequence);
        b.putInt(RECORD_COUNT_OFFSET, count);
        return seal(b, out, size);
    }

    private static ByteBuffer seal(ByteBuffer b, byte[] out, int size) {
        CRC32C crc = new CRC32C();
        crc.update(out, ATTRIBUTES_OFFSET, size - ATTRIBUTES_OFFSET);
        b.putInt(CRC_OFFSET, (int) crc.getValue());
        return b;
    }

    private void checkNotBuilt() {
        if (built) {
            throw new IllegalStateException("this builder has already built its batch");
        }
    }
}
