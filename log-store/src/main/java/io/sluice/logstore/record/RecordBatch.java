package io.sluice.logstore.record;

import static io.sluice.logstore.record.BatchHeader.ATTRIBUTES_OFFSET;
import static io.sluice.logstore.record.BatchHeader.ATTR_COMPRESSION_MASK;
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
import static io.sluice.logstore.record.BatchHeader.NO_SEQUENCE;
import static io.sluice.logstore.record.BatchHeader.PRODUCER_EPOCH_OFFSET;
import static io.sluice.logstore.record.BatchHeader.PRODUCER_ID_OFFSET;
import static io.sluice.logstore.record.BatchHeader.RAFT_TERM_OFFSET;
import static io.sluice.logstore.record.BatchHeader.RECORDS_OFFSET;
import static io.sluice.logstore.record.BatchHeader.RECORD_COUNT_OFFSET;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.zip.CRC32C;

/**
 * An immutable view over one record batch (layout in {@link BatchHeader}, full description in
 * {@code docs/format.md}).
 *
 * <p>Invariant established by {@link #wrap}: the view holds exactly one batch's bytes, at least
 * {@link BatchHeader#HEADER_SIZE} of them, as announced by its length field, so every header accessor is
 * safe on any input. Nothing else is checked until {@link #ensureValid()}, which verifies magic, CRC32C and
 * header consistency without decoding records: that is what a broker does on produce. Decoding
 * ({@link #iterator()}, {@link #records()}) decompresses if needed and checks every record's framing and
 * that the decoded count matches {@code recordCount}.
 *
 * <p>The static helpers ({@link #sizeAt}, {@link #stampBaseOffset}, {@link #stampRaftTerm},
 * {@link #stampEntryIndex}) work on a caller's buffer by absolute index, always big-endian whatever the
 * buffer's byte order, and never move its position or limit.
 *
 * <p>Thread safety: a {@code RecordBatch} is immutable and safe to share, provided nobody writes to the
 * underlying bytes (it shares memory with the buffer it wraps); each iterator is for one thread.
 */
public final class RecordBatch implements Iterable<Record> {
    /** Default bound on a decompressed records section; larger sections are refused as corrupt. */
    public static final int DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

    /** The smallest encoded record: length, attributes, timestamp delta, offset delta, key, value, header count. */
    static final int MIN_RECORD_SIZE = 7;

    private final ByteBuffer buf;

    private RecordBatch(ByteBuffer buf) {
        this.buf = buf;
    }

    /**
     * Wraps the batch starting at {@code buffer.position()}. The buffer's position and limit are not
     * changed; the view covers exactly this batch's bytes even if more follow.
     *
     * @throws CorruptRecordException if fewer bytes remain than the batch header or the batch's declared
     *     size, or the declared length is out of bounds
     */
    public static RecordBatch wrap(ByteBuffer buffer) {
        return wrap(buffer, buffer.position());
    }

    /**
     * Wraps the batch starting at absolute index {@code position} of {@code buffer}; see {@link #wrap(ByteBuffer)}.
     */
    public static RecordBatch wrap(ByteBuffer buffer, int position) {
        int size = sizeAt(buffer, position);
        int available = buffer.limit() - position;
        if (size < 0 || size > available) {
            throw new CorruptRecordException("truncated record batch at byte " + position + ": "
                    + (size < 0 ? "not even the " + LOG_OVERHEAD + "-byte length prefix" : size + " bytes declared")
                    + " but only " + available + " available");
        }
        return new RecordBatch(buffer.slice(position, size).order(ByteOrder.BIG_ENDIAN));
    }

    /**
     * The total size ({@code LOG_OVERHEAD + batchLength}) of the batch starting at absolute index
     * {@code pos}, or -1 if fewer than {@link BatchHeader#LOG_OVERHEAD} bytes remain before the limit so
     * the length cannot be read yet. The size may exceed the bytes available (a partial batch).
     *
     * @throws CorruptRecordException if the length field is smaller than a header or would overflow an int
     * @throws IllegalArgumentException if {@code pos} is outside {@code [0, limit]}
     */
    public static int sizeAt(ByteBuffer buffer, int pos) {
        if (pos < 0 || pos > buffer.limit()) {
            throw new IllegalArgumentException("position " + pos + " outside [0, " + buffer.limit() + "]");
        }
        if (buffer.limit() - pos < LOG_OVERHEAD) {
            return -1;
        }
        int batchLength = getIntBE(buffer, pos + BATCH_LENGTH_OFFSET);
        if (batchLength < HEADER_SIZE - LOG_OVERHEAD || batchLength > Integer.MAX_VALUE - LOG_OVERHEAD) {
            throw new CorruptRecordException("record batch at byte " + pos + " declares batchLength " + batchLength
                    + "; it must be in [" + (HEADER_SIZE - LOG_OVERHEAD) + ", " + (Integer.MAX_VALUE - LOG_OVERHEAD)
                    + "]");
        }
        return LOG_OVERHEAD + batchLength;
    }

    /** Writes the base offset of the batch at absolute index {@code pos}; the CRC stays valid. */
    public static void stampBaseOffset(ByteBuffer buffer, int pos, long baseOffset) {
        putLongBE(buffer, checkHeaderFits(buffer, pos) + BASE_OFFSET_OFFSET, baseOffset);
    }

    /** Writes the Raft term of the batch at absolute index {@code pos}; the CRC stays valid. */
    public static void stampRaftTerm(ByteBuffer buffer, int pos, long raftTerm) {
        putLongBE(buffer, checkHeaderFits(buffer, pos) + RAFT_TERM_OFFSET, raftTerm);
    }

    /** Writes the Raft entry index of the batch at absolute index {@code pos}; the CRC stays valid. */
    public static void stampEntryIndex(ByteBuffer buffer, int pos, long entryIndex) {
        putLongBE(buffer, checkHeaderFits(buffer, pos) + ENTRY_INDEX_OFFSET, entryIndex);
    }

    private static int checkHeaderFits(ByteBuffer buffer, int pos) {
        if (pos < 0 || buffer.limit() - pos < HEADER_SIZE) {
            throw new IllegalArgumentException(
                    "no batch header at position " + pos + " (limit " + buffer.limit() + ")");
        }
        return pos;
    }

    private static int getIntBE(ByteBuffer b, int index) {
        int v = b.getInt(index);
        return b.order() == ByteOrder.BIG_ENDIAN ? v : Integer.reverseBytes(v);
    }

    private static void putLongBE(ByteBuffer b, int index, long v) {
        b.putLong(index, b.order() == ByteOrder.BIG_ENDIAN ? v : Long.reverseBytes(v));
    }

    // ---- header accessors -------------------------------------------------------------------------

    public long baseOffset() {
        return buf.getLong(BASE_OFFSET_OFFSET);
    }

    /** Bytes after the length field; {@code sizeInBytes() - LOG_OVERHEAD}. */
    public int batchLength() {
        return buf.getInt(BATCH_LENGTH_OFFSET);
    }

    public long raftTerm() {
        return buf.getLong(RAFT_TERM_OFFSET);
    }

    public long entryIndex() {
        return buf.getLong(ENTRY_INDEX_OFFSET);
    }

    public byte magic() {
        return buf.get(MAGIC_OFFSET);
    }

    /** The stored CRC32C, as an unsigned value. */
    public long checksum() {
        return Integer.toUnsignedLong(buf.getInt(CRC_OFFSET));
    }

    public short attributes() {
        return buf.getShort(ATTRIBUTES_OFFSET);
    }

    public int lastOffsetDelta() {
        return buf.getInt(LAST_OFFSET_DELTA_OFFSET);
    }

    public long firstTimestamp() {
        return buf.getLong(FIRST_TIMESTAMP_OFFSET);
    }

    public long maxTimestamp() {
        return buf.getLong(MAX_TIMESTAMP_OFFSET);
    }

    /** The producer id, or {@link BatchHeader#NO_PRODUCER_ID}. */
    public long producerId() {
        return buf.getLong(PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return buf.getShort(PRODUCER_EPOCH_OFFSET);
    }

    /** The first record's producer sequence, or {@link BatchHeader#NO_SEQUENCE}. */
    public int baseSequence() {
        return buf.getInt(BASE_SEQUENCE_OFFSET);
    }

    /**
     * The last record's producer sequence ({@code baseSequence + lastOffsetDelta}, wrapping past
     * {@code Integer.MAX_VALUE} to 0 as in Kafka), or {@link BatchHeader#NO_SEQUENCE}.
     */
    public int lastSequence() {
        int base = baseSequence();
        if (base == NO_SEQUENCE) {
            return NO_SEQUENCE;
        }
        long last = (long) base + lastOffsetDelta();
        return (int) (last > Integer.MAX_VALUE ? last - Integer.MAX_VALUE - 1 : last);
    }

    public int recordCount() {
        return buf.getInt(RECORD_COUNT_OFFSET);
    }

    /** {@code baseOffset + lastOffsetDelta}: the offset of the last record. */
    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    /** The offset following this batch: {@code lastOffset() + 1}. */
    public long nextOffset() {
        return lastOffset() + 1;
    }

    /** Total bytes of the batch, header included: {@code LOG_OVERHEAD + batchLength}. */
    public int sizeInBytes() {
        return buf.limit();
    }

    public boolean isControl() {
        return (attributes() & ATTR_CONTROL) != 0;
    }

    /**
     * The codec of the records section.
     *
     * @throws CorruptRecordException if the attributes name an unknown codec
     */
    public CompressionType compression() {
        return CompressionType.forId(attributes() & ATTR_COMPRESSION_MASK);
    }

    public TimestampType timestampType() {
        return (attributes() & ATTR_LOG_APPEND_TIME) != 0 ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME;
    }

    /** A read-only buffer over exactly this batch's bytes (position 0, limit {@link #sizeInBytes()}). */
    public ByteBuffer buffer() {
        return buf.asReadOnlyBuffer();
    }

    // ---- validation -------------------------------------------------------------------------------

    /** CRC32C (Castagnoli) of bytes {@code [ATTRIBUTES_OFFSET, sizeInBytes())}, as an unsigned value. */
    public long computeChecksum() {
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().position(ATTRIBUTES_OFFSET));
        return crc.getValue();
    }

    /** Whether {@link #ensureValid()} would pass. */
    public boolean isValid() {
        try {
            ensureValid();
            return true;
        } catch (CorruptRecordException e) {
            return false;
        }
    }

    /**
     * Checks the batch without decoding its records: length bounds, magic, CRC32C, codec id,
     * {@code recordCount >= 0} and {@code lastOffsetDelta} consistent with it (at least
     * {@code recordCount - 1}; larger after compaction removed records), and, for an uncompressed batch,
     * that the records section can hold {@code recordCount} records at all. Allocation: one CRC32C
     * object, independent of the record count.
     *
     * @throws CorruptRecordException naming the first problem found
     */
    public void ensureValid() {
        int size = sizeInBytes();
        if (size < HEADER_SIZE || batchLength() != size - LOG_OVERHEAD) {
            // wrap() guarantees this; kept so the method states the whole contract.
            throw corrupt("batchLength " + batchLength() + " does not match the " + size + " bytes of the batch");
        }
        if (magic() != CURRENT_MAGIC) {
            throw corrupt(
                    "unsupported magic " + magic() + " at byte " + MAGIC_OFFSET + " (expected " + CURRENT_MAGIC + ")");
        }
        long stored = checksum();
        long computed = computeChecksum();
        if (stored != computed) {
            throw corrupt(String.format(
                    "CRC32C mismatch: stored 0x%08x at byte %d, computed 0x%08x over bytes [%d, %d)",
                    stored, CRC_OFFSET, computed, ATTRIBUTES_OFFSET, size));
        }
        int codec = attributes() & ATTR_COMPRESSION_MASK;
        if (codec > CompressionType.ZSTD.id()) {
            throw corrupt("unknown compression codec id " + codec + " in attributes at byte " + ATTRIBUTES_OFFSET);
        }
        int count = recordCount();
        if (count < 0) {
            throw corrupt("negative recordCount " + count + " at byte " + RECORD_COUNT_OFFSET);
        }
        int lastDelta = lastOffsetDelta();
        if (lastDelta < 0 || lastDelta < count - 1) {
            throw corrupt("lastOffsetDelta " + lastDelta + " at byte " + LAST_OFFSET_DELTA_OFFSET
                    + " is inconsistent with recordCount " + count);
        }
        if (codec == 0 && (long) count * MIN_RECORD_SIZE > size - RECORDS_OFFSET) {
            throw corrupt("recordCount " + count + " cannot fit in the " + (size - RECORDS_OFFSET)
                    + "-byte records section (each record takes at least " + MIN_RECORD_SIZE + " bytes)");
        }
    }

    private CorruptRecordException corrupt(String what) {
        return new CorruptRecordException(describe() + ": " + what);
    }

    private CorruptRecordException corrupt(String what, Throwable cause) {
        return new CorruptRecordException(describe() + ": " + what, cause);
    }

    private String describe() {
        return "record batch (baseOffset " + baseOffset() + ", " + sizeInBytes() + " bytes)";
    }

    // ---- decoding ---------------------------------------------------------------------------------

    /**
     * Decodes the records lazily, decompressing the records section first if needed (bounded by
     * {@link #DEFAULT_MAX_DECOMPRESSED_BYTES}). Does not check the CRC: call {@link #ensureValid()} first
     * for untrusted bytes. Each record is checked as it is decoded; once {@code recordCount} records
     * have been returned, {@code hasNext()} also checks no bytes are left over.
     *
     * @throws CorruptRecordException from this method (bad codec, undecodable data) or from
     *     {@code hasNext()}/{@code next()} (bad record framing, count mismatch)
     */
    @Override
    public Iterator<Record> iterator() {
        return iterator(DEFAULT_MAX_DECOMPRESSED_BYTES);
    }

    /** As {@link #iterator()}, refusing records sections that decompress to more than {@code maxDecompressedBytes}. */
    public Iterator<Record> iterator(int maxDecompressedBytes) {
        if (maxDecompressedBytes < 0 || maxDecompressedBytes > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("maxDecompressedBytes out of range: " + maxDecompressedBytes);
        }
        int count = recordCount();
        if (count < 0) {
            throw corrupt("negative recordCount " + count + " at byte " + RECORD_COUNT_OFFSET);
        }
        CompressionType codec = compressionOrCorrupt();
        ByteBuffer section = buf.duplicate().position(RECORDS_OFFSET);
        // An empty section is how a batch emptied by compaction is stored, whatever its codec.
        if (codec == CompressionType.NONE || !section.hasRemaining()) {
            return new RecordIterator(section, 0, "");
        }
        ByteBuffer plain = Compression.decompress(codec, section.slice(), maxDecompressedBytes, describe());
        return new RecordIterator(plain, 0, " of the decompressed records section");
    }

    /** Decodes all records eagerly; see {@link #iterator()}. */
    public List<Record> records() {
        // recordCount is untrusted: bound the initial capacity by what the bytes could hold.
        List<Record> out = new ArrayList<>(Math.max(0, Math.min(recordCount(), sizeInBytes() / MIN_RECORD_SIZE)));
        for (Iterator<Record> it = iterator(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    /**
     * Rewrites this batch keeping only the records {@code keep} accepts, for compaction: offsets,
     * timestamps, stamped fields, producer fields, attributes and {@code lastOffsetDelta} are preserved
     * (kept records keep their offset deltas, so offsets get gaps); {@code recordCount}, the length and
     * the CRC are recomputed and the records re-compressed with the same codec. A batch that keeps no
     * record becomes an empty batch (recordCount 0, empty records section) that still occupies its
     * offsets. Decodes the records: call {@link #ensureValid()} first for untrusted bytes.
     *
     * @return a new buffer at position 0 holding the rewritten batch, or a read-only view of this batch's
     *     bytes when every record was kept
     * @throws CorruptRecordException if the records cannot be decoded
     */
    public ByteBuffer filter(java.util.function.Predicate<Record> keep) {
        RecordBatchBuilder builder = RecordBatchBuilder.rewriting(this, sizeInBytes());
        long base = baseOffset();
        long first = firstTimestamp();
        int total = 0;
        for (Iterator<Record> it = iterator(); it.hasNext(); ) {
            Record r = it.next();
            total++;
            if (keep.test(r)) {
                builder.appendWithDeltas(
                        r.timestamp() - first, (int) (r.offset() - base), r.key(), r.value(), r.headers());
            }
        }
        if (builder.recordCount() == total) {
            return buffer();
        }
        return builder.build();
    }

    private CompressionType compressionOrCorrupt() {
        int codec = attributes() & ATTR_COMPRESSION_MASK;
        if (codec > CompressionType.ZSTD.id()) {
            throw corrupt("unknown compression codec id " + codec + " in attributes at byte " + ATTRIBUTES_OFFSET);
        }
        return CompressionType.forId(codec);
    }

    /**
     * Decodes one record at a time from {@code in}. Error positions are {@code base + in position}: bytes
     * from the batch start for an uncompressed batch, bytes into the decompressed section otherwise.
     */
    private final class RecordIterator implements Iterator<Record> {
        private final ByteBuffer in;
        private final int base;
        /** Appended to byte positions in messages to say which coordinates they use. */
        private final String unit;

        private final int count = recordCount();
        private final long baseOffset = baseOffset();
        private final int lastOffsetDelta = lastOffsetDelta();
        private final long firstTimestamp = firstTimestamp();
        private final boolean logAppendTime = timestampType() == TimestampType.LOG_APPEND_TIME;
        private final long maxTimestamp = maxTimestamp();
        private int index;
        private int recordStart;
        private int previousOffsetDelta = -1;

        RecordIterator(ByteBuffer in, int base, String unit) {
            this.in = in;
            this.base = base;
            this.unit = unit;
        }

        @Override
        public boolean hasNext() {
            if (index < count) {
                return true;
            }
            if (in.hasRemaining()) {
                throw corrupt(in.remaining() + " byte(s) left over at " + at(in.position()) + " after " + count
                        + " records (recordCount)");
            }
            return false;
        }

        @Override
        public Record next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            recordStart = in.position();
            if (!in.hasRemaining()) {
                throw corrupt("records section ends at " + at(recordStart) + " after " + index + " of " + count
                        + " records (recordCount)");
            }
            int length = varint();
            if (length < MIN_RECORD_SIZE - 1 || length > in.remaining()) {
                throw inRecord("declares length " + length + " but " + in.remaining()
                        + " byte(s) remain (a record body takes at least " + (MIN_RECORD_SIZE - 1) + ")");
            }
            int end = in.position() + length;
            int outerLimit = in.limit();
            in.limit(end); // every field read below is confined to this record
            try {
                Record r = readBody();
                if (in.position() != end) {
                    throw inRecord("declares length " + length + " but its fields end " + (end - in.position())
                            + " byte(s) earlier");
                }
                index++;
                return r;
            } finally {
                in.limit(outerLimit);
            }
        }

        private Record readBody() {
            if (!in.hasRemaining()) {
                throw inRecord("ends before its attributes");
            }
            in.get(); // record attributes: reserved, written as 0
            long timestampDelta = varlong();
            int offsetDelta = varint();
            if (offsetDelta <= previousOffsetDelta || offsetDelta > lastOffsetDelta) {
                throw inRecord("has offset delta " + offsetDelta + "; it must exceed the previous record's ("
                        + previousOffsetDelta + ") and not exceed lastOffsetDelta " + lastOffsetDelta);
            }
            previousOffsetDelta = offsetDelta;
            ByteBuffer key = readNullableBytes("key");
            ByteBuffer value = readNullableBytes("value");
            int headerCount = varint();
            // Each header takes at least 2 bytes; this bounds the array before allocating it.
            if (headerCount < 0 || headerCount > in.remaining() / 2) {
                throw inRecord("declares " + headerCount + " headers but only " + in.remaining() + " byte(s) remain");
            }
            List<Header> headers;
            if (headerCount == 0) {
                headers = List.of();
            } else {
                Header[] hs = new Header[headerCount];
                for (int i = 0; i < headerCount; i++) {
                    hs[i] = readHeader(i);
                }
                headers = List.of(hs);
            }
            long timestamp = logAppendTime ? maxTimestamp : firstTimestamp + timestampDelta;
            return new Record(baseOffset + offsetDelta, timestamp, key, value, headers);
        }

        private ByteBuffer readNullableBytes(String what) {
            int fieldStart = in.position();
            int len = varint();
            if (len == -1) {
                return null;
            }
            checkLength(len, what, fieldStart);
            ByteBuffer slice = in.slice(in.position(), len).asReadOnlyBuffer();
            in.position(in.position() + len);
            return slice;
        }

        private Header readHeader(int h) {
            int fieldStart = in.position();
            int keyLen = varint();
            checkLength(keyLen, "header " + h + " key", fieldStart);
            String key;
            if (in.hasArray()) {
                key = new String(in.array(), in.arrayOffset() + in.position(), keyLen, StandardCharsets.UTF_8);
                in.position(in.position() + keyLen);
            } else {
                byte[] tmp = new byte[keyLen];
                in.get(tmp);
                key = new String(tmp, StandardCharsets.UTF_8);
            }
            fieldStart = in.position();
            int valueLen = varint();
            byte[] value = null;
            if (valueLen != -1) {
                checkLength(valueLen, "header " + h + " value", fieldStart);
                value = new byte[valueLen];
                in.get(value);
            }
            return new Header(key, value);
        }

        private void checkLength(int len, String what, int fieldStart) {
            if (len < 0 || len > in.remaining()) {
                throw inRecord("has " + what + " length " + len + " at " + at(fieldStart) + " but " + in.remaining()
                        + " byte(s) remain in the record" + (len == -1 ? " (null is not allowed here)" : ""));
            }
        }

        private int varint() {
            try {
                return Varints.readVarint(in, base);
            } catch (CorruptRecordException e) {
                throw inRecord(e.getMessage() + unit, e);
            }
        }

        private long varlong() {
            try {
                return Varints.readVarlong(in, base);
            } catch (CorruptRecordException e) {
                throw inRecord(e.getMessage() + unit, e);
            }
        }

        private String at(int pos) {
            return "byte " + (base + pos) + unit;
        }

        private CorruptRecordException inRecord(String what) {
            return inRecord(what, null);
        }

        private CorruptRecordException inRecord(String what, Throwable cause) {
            return corrupt("record " + index + " (starting at " + at(recordStart) + ") " + what, cause);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RecordBatch other && buf.equals(other.buf);
    }

    @Override
    public int hashCode() {
        return buf.hashCode();
    }

    @Override
    public String toString() {
        return "RecordBatch[baseOffset=" + baseOffset() + ", lastOffsetDelta=" + lastOffsetDelta() + ", recordCount="
                + recordCount() + ", sizeInBytes=" + sizeInBytes() + ", raftTerm=" + raftTerm() + ", entryIndex="
                + entryIndex() + ", attributes=0x" + Integer.toHexString(attributes() & 0xFFFF) + ", magic=" + magic()
                + "]";
    }
}
