package io.sluice.logstore.record;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * One decoded record with its absolute offset and timestamp.
 *
 * <p>{@code key} and {@code value} are read-only buffers (positioned at 0 of their content) that may share
 * memory with the batch they were decoded from; either may be {@code null}: a null key is an unkeyed
 * record, a null value is a tombstone (distinct from an empty value). The accessors return independent
 * duplicates, so reading one never disturbs another reader.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param offset absolute offset (batch base offset plus the record's offset delta)
 * @param timestamp ms since the epoch (the batch's max timestamp when it uses log-append time)
 * @param key the key, or null
 * @param value the value, or null for a tombstone
 * @param headers headers in wire order, never null
 */
public record Record(long offset, long timestamp, ByteBuffer key, ByteBuffer value, List<Header> headers) {
    public Record {
        key = normalize(key);
        value = normalize(value);
        headers = List.copyOf(Objects.requireNonNull(headers, "headers"));
    }

    /** Read-only and covering exactly the content; decoders already pass such buffers, so no copy then. */
    private static ByteBuffer normalize(ByteBuffer b) {
        if (b == null || (b.isReadOnly() && b.position() == 0 && b.limit() == b.capacity())) {
            return b;
        }
        return b.slice().asReadOnlyBuffer();
    }

    @Override
    public ByteBuffer key() {
        return key == null ? null : key.duplicate();
    }

    @Override
    public ByteBuffer value() {
        return value == null ? null : value.duplicate();
    }

    /** True when the value is null (a deletion marker for compacted topics). */
    public boolean isTombstone() {
        return value == null;
    }

    /** A copy of the key bytes, or null. */
    public byte[] keyBytes() {
        return toArray(key);
    }

    /** A copy of the value bytes, or null. */
    public byte[] valueBytes() {
        return toArray(value);
    }

    private static byte[] toArray(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Override
    public String toString() {
        return "Record[offset=" + offset + ", timestamp=" + timestamp
                + ", key=" + (key == null ? "null" : key.remaining() + " bytes")
                + ", value=" + (value == null ? "null" : value.remaining() + " bytes")
                + ", headers=" + headers + "]";
    }
}
