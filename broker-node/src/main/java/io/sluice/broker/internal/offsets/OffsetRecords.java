package io.sluice.broker.internal.offsets;

import io.sluice.broker.internal.offsets.OffsetStore.StoredOffset;
import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The byte layouts of committed offsets: the records of the {@code __offsets} log and the entries of the broker's
 * RocksDB. All integers big-endian; strings are UTF-8 with an unsigned 16-bit length (metadata: signed 32-bit).
 *
 * <h2>Record key (log)</h2>
 *
 * <pre>
 * int16  version = 1           (1 = offset commit key; other values are reserved for future record types)
 * uint16 groupLength, group    UTF-8, 1..{@value #MAX_NAME_BYTES} bytes
 * uint16 topicLength, topic    UTF-8, 1..{@value #MAX_NAME_BYTES} bytes
 * int32  partition             >= 0
 * </pre>
 *
 * <h2>Record value (log)</h2>
 *
 * A null value is a tombstone: the group's offset of that partition is deleted (deleteGroup writes one per key). Else:
 *
 * <pre>
 * int16  version = 1
 * int64  offset                >= 0, the next offset the group will consume
 * int64  commitTimeMs          the coordinator's wall clock at the commit
 * int32  metadataLength, metadata   UTF-8, 0..{@value #MAX_METADATA_BYTES} bytes
 * </pre>
 *
 * The record timestamp is the commit time too. Because every commit of a (group, topic, partition) has the same key, a
 * compacted {@code __offsets} keeps exactly the latest commit (or tombstone) per key.
 *
 * <h2>RocksDB (one column family per {@code __offsets} partition)</h2>
 *
 * <pre>
 * key 0x00                                   value int64 appliedOffset (offset after the last applied batch)
 * key 0x01, then the record key minus its version field   value:
 *     int8 version = 1, int64 offset, int64 leaderTerm, int64 commitTimeMs, int32 metadataLength, metadata
 * </pre>
 *
 * {@code leaderTerm} is the Raft term of the entry that carried the commit, i.e. the term of the coordinator that wrote
 * it. Keys of one group share the prefix {@code 0x01, groupLength, group}, so a group is one range scan.
 *
 * <p>Stateless and thread-safe.
 */
public final class OffsetRecords {
    /** Longest group id or topic name, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 0xFFFF;
    /** Longest commit metadata string, in UTF-8 bytes (Kafka's {@code offset.metadata.max.bytes} default). */
    public static final int MAX_METADATA_BYTES = 4096;

    static final short KEY_VERSION = 1;
    static final short VALUE_VERSION = 1;
    static final byte DB_VALUE_VERSION = 1;
    static final byte DB_META = 0x00;
    static final byte DB_OFFSET = 0x01;
    /** RocksDB key of the applied offset. */
    static final byte[] APPLIED_KEY = {DB_META};

    private OffsetRecords() {}

    /** A decoded record key: group, topic, partition. */
    record Key(String group, String topic, int partition) {
        TopicPartitionKey topicPartition() {
            return new TopicPartitionKey(topic, partition);
        }
    }

    /** A decoded record value. */
    record Value(long offset, long commitTimeMs, String metadata) {}

    static byte[] utf8(String s, String what, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > max) {
            throw new IllegalArgumentException(what + " is " + b.length + " bytes of UTF-8, more than " + max);
        }
        return b;
    }

    /** The record key of a group's offset of one partition. */
    public static byte[] encodeKey(String group, String topic, int partition) {
        byte[] g = utf8(group, "group id", MAX_NAME_BYTES);
        byte[] t = utf8(topic, "topic name", MAX_NAME_BYTES);
        if (g.length == 0 || t.length == 0) {
            throw new IllegalArgumentException("group id and topic name must not be empty");
        }
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0: " + partition);
        }
        ByteBuffer b = ByteBuffer.allocate(2 + 2 + g.length + 2 + t.length + 4);
        b.putShort(KEY_VERSION)
                .putShort((short) g.length)
                .put(g)
                .putShort((short) t.length)
                .put(t)
                .putInt(partition);
        return b.array();
    }

    /** The record value of a commit. */
    public static byte[] encodeValue(long offset, long commitTimeMs, String metadata) {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0: " + offset);
        }
        byte[] m = utf8(metadata, "commit metadata", MAX_METADATA_BYTES);
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 8 + 4 + m.length);
        b.putShort(VALUE_VERSION)
                .putLong(offset)
                .putLong(commitTimeMs)
                .putInt(m.length)
                .put(m);
        return b.array();
    }

    /**
     * Decodes a record key.
     *
     * @throws IllegalArgumentException if it is not a version-1 offset key, or malformed
     */
    static Key decodeKey(ByteBuffer key) {
        ByteBuffer b = key.duplicate();
        try {
            short v = b.getShort();
            if (v != KEY_VERSION) {
                throw new IllegalArgumentException("unknown __offsets record key version " + v);
            }
            String group = string(b, Short.toUnsignedInt(b.getShort()));
            String topic = string(b, Short.toUnsignedInt(b.getShort()));
            int partition = b.getInt();
            if (b.hasRemaining() || group.isEmpty() || topic.isEmpty() || partition < 0) {
                throw new IllegalArgumentException("malformed __offsets record key");
            }
            return new Key(group, topic, partition);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated __offsets record key", e);
        }
    }

    /**
     * Decodes a record value (non-null).
     *
     * @throws IllegalArgumentException if it is not a version-1 value, or malformed
     */
    static Value decodeValue(ByteBuffer value) {
        ByteBuffer b = value.duplicate();
        try {
            short v = b.getShort();
            if (v != VALUE_VERSION) {
                throw new IllegalArgumentException("unknown __offsets record value version " + v);
            }
            long offset = b.getLong();
            long time = b.getLong();
            int len = b.getInt();
            if (len < 0 || len > MAX_METADATA_BYTES) {
                throw new IllegalArgumentException("bad metadata length " + len);
            }
            String metadata = string(b, len);
            if (b.hasRemaining() || offset < 0) {
                throw new IllegalArgumentException("malformed __offsets record value");
            }
            return new Value(offset, time, metadata);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated __offsets record value", e);
        }
    }

    private static String string(ByteBuffer b, int len) {
        if (len > b.remaining()) {
            throw new BufferUnderflowException();
        }
        ByteBuffer slice = b.slice();
        slice.limit(len);
        b.position(b.position() + len);
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("invalid UTF-8 in __offsets record", e);
        }
    }

    // ------------------------------------------------------------------ RocksDB

    /** The RocksDB key of a record key: {@code 0x01} then the record key without its version. */
    static byte[] dbKey(ByteBuffer recordKey) {
        ByteBuffer k = recordKey.duplicate();
        k.position(k.position() + 2);
        byte[] out = new byte[1 + k.remaining()];
        out[0] = DB_OFFSET;
        k.get(out, 1, k.remaining());
        return out;
    }

    static byte[] dbKey(String group, String topic, int partition) {
        return dbKey(ByteBuffer.wrap(encodeKey(group, topic, partition)));
    }

    /** The prefix every RocksDB key of {@code group} starts with. */
    static byte[] dbGroupPrefix(String group) {
        byte[] g = utf8(group, "group id", MAX_NAME_BYTES);
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + g.length);
        b.put(DB_OFFSET).putShort((short) g.length).put(g);
        return b.array();
    }

    /** Decodes a RocksDB offset key back to (group, topic, partition). */
    static Key decodeDbKey(byte[] dbKey) {
        if (dbKey.length < 1 || dbKey[0] != DB_OFFSET) {
            throw new IllegalArgumentException("not an offset key");
        }
        ByteBuffer b = ByteBuffer.allocate(dbKey.length + 1);
        b.putShort(KEY_VERSION).put(dbKey, 1, dbKey.length - 1).flip();
        return decodeKey(b);
    }

    static byte[] encodeDbValue(StoredOffset o) {
        byte[] m = o.metadata().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 8 + 4 + m.length);
        b.put(DB_VALUE_VERSION)
                .putLong(o.offset())
                .putLong(o.leaderTerm())
                .putLong(o.commitTimeMs())
                .putInt(m.length)
                .put(m);
        return b.array();
    }

    static StoredOffset decodeDbValue(byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        try {
            byte version = b.get();
            if (version != DB_VALUE_VERSION) {
                throw new IllegalArgumentException("unknown offsets RocksDB value version " + version);
            }
            long offset = b.getLong();
            long term = b.getLong();
            long time = b.getLong();
            int len = b.getInt();
            if (len < 0 || len != b.remaining()) {
                throw new IllegalArgumentException("malformed offsets RocksDB value");
            }
            return new StoredOffset(offset, term, string(b, len), time);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated offsets RocksDB value", e);
        }
    }

    static byte[] encodeLong(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static long decodeLong(byte[] v) {
        if (v.length != 8) {
            throw new IllegalArgumentException("expected 8 bytes, got " + v.length);
        }
        return ByteBuffer.wrap(v).getLong();
    }

    /** The smallest byte string greater than every string starting with {@code prefix}; empty if there is none. */
    static Optional<byte[]> prefixSuccessor(byte[] prefix) {
        byte[] out = prefix.clone();
        for (int i = out.length - 1; i >= 0; i--) {
            if (out[i] != (byte) 0xFF) {
                out[i]++;
                return Optional.of(java.util.Arrays.copyOf(out, i + 1));
            }
        }
        return Optional.empty();
    }
}
