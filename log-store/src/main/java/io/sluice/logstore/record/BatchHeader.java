package io.sluice.logstore.record;

/**
 * The fixed 73-byte header of a Sluice record batch: field positions, sizes and attribute bits.
 *
 * <p>All integers are big-endian. The header is followed by {@code recordCount} records (compressed as
 * a whole when the attributes name a codec). {@code batchLength} counts the bytes after the length
 * field, so a batch occupies {@code LOG_OVERHEAD + batchLength} bytes in total.
 *
 * <pre>
 * offset size field            notes
 *      0    8 baseOffset       int64, offset of the first record; stamped by the log on append
 *      8    4 batchLength      int32, bytes that follow this field
 *     12    8 raftTerm         int64, Raft term of the entry; stamped by the leader
 *     20    8 entryIndex       int64, Raft log index of the entry; stamped by the log on append
 *     28    1 magic            int8, format version, currently 1
 *     29    4 crc              uint32, CRC32C of bytes [33, end of batch)
 *     33    2 attributes       int16, see the ATTR_* constants
 *     35    4 lastOffsetDelta  int32, last record's offset minus baseOffset
 *     39    8 firstTimestamp   int64, ms since epoch of the first record
 *     47    8 maxTimestamp     int64, largest record timestamp in the batch
 *     55    8 producerId       int64, -1 when not idempotent
 *     63    2 producerEpoch    int16, -1 when not idempotent
 *     65    4 baseSequence     int32, -1 when not idempotent
 *     69    4 recordCount      int32
 *     73    - records
 * </pre>
 *
 * <p>The CRC starts at the attributes so that the fields a broker stamps (base offset, term, entry
 * index) can change without recomputing it, as in Kafka's v2 format. The record encoding, compression
 * framing, control batches and a worked hex example are in {@code docs/format.md}.
 *
 * <p>This class holds constants only and is thread-safe.
 */
public final class BatchHeader {
    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int BATCH_LENGTH_OFFSET = 8;
    /** Bytes before and including the length field: what {@code batchLength} does not count. */
    public static final int LOG_OVERHEAD = 12;

    public static final int RAFT_TERM_OFFSET = 12;
    public static final int ENTRY_INDEX_OFFSET = 20;
    public static final int MAGIC_OFFSET = 28;
    public static final int CRC_OFFSET = 29;
    /** The CRC covers the batch from here to its end. */
    public static final int ATTRIBUTES_OFFSET = 33;

    public static final int LAST_OFFSET_DELTA_OFFSET = 35;
    public static final int FIRST_TIMESTAMP_OFFSET = 39;
    public static final int MAX_TIMESTAMP_OFFSET = 47;
    public static final int PRODUCER_ID_OFFSET = 55;
    public static final int PRODUCER_EPOCH_OFFSET = 63;
    public static final int BASE_SEQUENCE_OFFSET = 65;
    public static final int RECORD_COUNT_OFFSET = 69;
    public static final int RECORDS_OFFSET = 73;

    /** Size of the header; the smallest valid batch (no records). */
    public static final int HEADER_SIZE = RECORDS_OFFSET;

    public static final byte CURRENT_MAGIC = 1;

    /** Bits 0-2 of the attributes: the compression codec id (see {@code CompressionType}). */
    public static final int ATTR_COMPRESSION_MASK = 0x07;
    /** Bit 3: timestamps are log-append time (1) rather than create time (0). */
    public static final int ATTR_LOG_APPEND_TIME = 0x08;
    /** Bit 4: a control batch (Raft configuration, Raft no-op, ...), never handed to applications. */
    public static final int ATTR_CONTROL = 0x10;

    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;

    private BatchHeader() {}
}
