package io.sluice.replication.internal;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The partition-level part of a Raft snapshot: which entry the snapshot ends with and the offset right after it. The
 * snapshot's data is the segment files next to this file (hard links of the log's segments); only their prefix up to
 * and including entry {@code lastIncludedIndex} is part of the snapshot.
 *
 * <p>File {@value #FILE_NAME}, big-endian:
 *
 * <pre>
 * int32  magic               0x534C534E ("SLSN")
 * int8   version             1
 * int64  lastIncludedIndex   Raft index of the last entry covered
 * int64  lastIncludedTerm    its term
 * int64  endOffset           offset after that entry (the committed offset at the snapshot)
 * int32  crc                 CRC32C of the preceding bytes
 * </pre>
 *
 * <p>Invariants: {@code lastIncludedIndex >= 0}, {@code endOffset >= 0}. Immutable and thread-safe.
 *
 * @param lastIncludedIndex Raft index of the last entry the snapshot covers
 * @param lastIncludedTerm its term
 * @param endOffset the offset right after that entry
 */
record PartitionSnapshotMeta(long lastIncludedIndex, long lastIncludedTerm, long endOffset) {
    static final String FILE_NAME = "sluice_partition_snapshot.meta";
    private static final int MAGIC = 0x534C534E;
    private static final byte VERSION = 1;
    private static final int SIZE = 4 + 1 + 8 + 8 + 8 + 4;

    PartitionSnapshotMeta {
        if (lastIncludedIndex < 0 || lastIncludedTerm < 0 || endOffset < 0) {
            throw new IllegalArgumentException(
                    "invalid snapshot meta " + lastIncludedIndex + "/" + lastIncludedTerm + "/" + endOffset);
        }
    }

    byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(SIZE);
        buf.putInt(MAGIC)
                .put(VERSION)
                .putLong(lastIncludedIndex)
                .putLong(lastIncludedTerm)
                .putLong(endOffset);
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        return buf.array();
    }

    static PartitionSnapshotMeta decode(byte[] bytes) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            if (bytes.length != SIZE || buf.getInt() != MAGIC) {
                throw new IllegalArgumentException("not a partition snapshot meta file");
            }
            byte version = buf.get();
            if (version != VERSION) {
                throw new IllegalArgumentException("unknown partition snapshot meta version " + version);
            }
            long index = buf.getLong();
            long term = buf.getLong();
            long end = buf.getLong();
            CRC32C crc = new CRC32C();
            crc.update(bytes, 0, buf.position());
            if (buf.getInt() != (int) crc.getValue()) {
                throw new IllegalArgumentException("partition snapshot meta CRC mismatch");
            }
            return new PartitionSnapshotMeta(index, term, end);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated partition snapshot meta", e);
        }
    }

    void writeTo(Path dir) throws IOException {
        DurableFiles.writeAtomically(dir.resolve(FILE_NAME), encode());
    }

    static PartitionSnapshotMeta readFrom(Path dir) throws IOException {
        return decode(Files.readAllBytes(dir.resolve(FILE_NAME)));
    }
}
