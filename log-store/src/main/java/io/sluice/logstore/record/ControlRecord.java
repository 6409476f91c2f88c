package io.sluice.logstore.record;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * The single record of a control batch (attribute bit {@link BatchHeader#ATTR_CONTROL}): Raft
 * configuration and no-op entries that occupy offsets in the log but are never handed to applications.
 *
 * <p>Encoding of the record: key = {@code int16 version (0), int16 type id} (big-endian, 4 bytes),
 * value = the type's payload (never null; empty for {@link ControlRecordType#RAFT_NO_OP}), no headers.
 * A control batch holds exactly one record and is uncompressed when built here (readers accept any codec).
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param type the control record type
 * @param payload the payload, read-only, positioned at 0
 */
public record ControlRecord(ControlRecordType type, ByteBuffer payload) {
    /** The only key version defined so far. */
    public static final short CURRENT_KEY_VERSION = 0;

    static final int KEY_SIZE = 4;

    public ControlRecord {
        Objects.requireNonNull(type, "type");
        payload = payload.slice().asReadOnlyBuffer();
    }

    @Override
    public ByteBuffer payload() {
        return payload.duplicate();
    }

    /** A copy of the payload bytes. */
    public byte[] payloadBytes() {
        byte[] out = new byte[payload.remaining()];
        payload.duplicate().get(out);
        return out;
    }

    /**
     * Builds a control batch holding one control record, ready for the log to stamp like any batch.
     *
     * @param timestamp ms since the epoch
     * @param payload the payload, copied; empty for a no-op
     */
    public static ByteBuffer buildBatch(ControlRecordType type, long timestamp, byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        byte[] key = new byte[KEY_SIZE];
        ByteBuffer.wrap(key).putShort(CURRENT_KEY_VERSION).putShort(type.id());
        return RecordBatchBuilder.create(CompressionType.NONE)
                .control(true)
                .append(timestamp, key, payload, List.of())
                .build();
    }

    /**
     * Reads the control record of a control batch (decoding it; call {@link RecordBatch#ensureValid()}
     * first for untrusted bytes).
     *
     * @throws IllegalArgumentException if the batch is not a control batch
     * @throws CorruptRecordException if it does not hold exactly one well-formed control record of a
     *     known type and key version
     */
    public static ControlRecord read(RecordBatch batch) {
        if (!batch.isControl()) {
            throw new IllegalArgumentException("not a control batch: " + batch);
        }
        Iterator<Record> it = batch.iterator();
        if (!it.hasNext()) {
            throw new CorruptRecordException("control batch " + batch + " holds no record");
        }
        Record r = it.next();
        if (it.hasNext()) {
            throw new CorruptRecordException("control batch " + batch + " holds more than one record");
        }
        ByteBuffer key = r.key();
        if (key == null || key.remaining() != KEY_SIZE) {
            throw new CorruptRecordException("control batch " + batch + ": control record key must be " + KEY_SIZE
                    + " bytes, found " + (key == null ? "null" : key.remaining()));
        }
        short version = key.getShort(key.position());
        short typeId = key.getShort(key.position() + 2);
        if (version != CURRENT_KEY_VERSION) {
            throw new CorruptRecordException(
                    "control batch " + batch + ": unsupported control record key version " + version);
        }
        ControlRecordType type = ControlRecordType.forId(typeId)
                .orElseThrow(() -> new CorruptRecordException(
                        "control batch " + batch + ": unknown control record type id " + typeId));
        ByteBuffer value = r.value();
        if (value == null) {
            throw new CorruptRecordException("control batch " + batch + ": control record value is null");
        }
        return new ControlRecord(type, value);
    }
}
