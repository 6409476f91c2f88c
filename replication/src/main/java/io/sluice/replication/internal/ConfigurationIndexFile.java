package io.sluice.replication.internal;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * A sidecar of the partition log listing where its Raft configuration entries are, so that opening a log does not
 * scan it to rebuild JRaft's configuration history.
 *
 * <p>Invariant (a superset): every configuration entry in the log with an index above {@code floor} is listed, as
 * {@code index -> term}. It is kept by writing the file <em>before</em> the log append of a configuration entry (a
 * crash in between leaves a listing without an entry, never the reverse). Listings may be stale (truncated entries);
 * readers verify each one against the log. Configuration entries at or below {@code floor} may be missing: {@code
 * floor} is set when a snapshot replaces the log, and the snapshot carries the configuration at its index.
 *
 * <p>File {@value #FILE_NAME}, big-endian: {@code int32 magic 0x534C4349 ("SLCI"), int8 version 1, int64 floor,
 * int32 count, count x (int64 index, int64 term), int32 CRC32C of the preceding bytes}. Replaced atomically.
 *
 * <p>Not thread-safe: owned by {@link SegmentLogStorage}, which serializes access.
 */
final class ConfigurationIndexFile {
    static final String FILE_NAME = "raft_configuration.index";
    private static final int MAGIC = 0x534C4349;
    private static final byte VERSION = 1;

    private final Path file;
    private long floor;
    private final NavigableMap<Long, Long> entries = new TreeMap<>();

    private ConfigurationIndexFile(Path file, long floor, Map<Long, Long> entries) {
        this.file = file;
        this.floor = floor;
        this.entries.putAll(entries);
    }

    /** Reads the file; empty when it is missing or unreadable (the caller rebuilds it by scanning the log). */
    static Optional<ConfigurationIndexFile> read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            if (buf.getInt() != MAGIC || buf.get() != VERSION) {
                return Optional.empty();
            }
            long floor = buf.getLong();
            int count = buf.getInt();
            if (count < 0 || count > buf.remaining() / 16) {
                return Optional.empty();
            }
            Map<Long, Long> entries = new TreeMap<>();
            for (int i = 0; i < count; i++) {
                entries.put(buf.getLong(), buf.getLong());
            }
            CRC32C crc = new CRC32C();
            crc.update(bytes, 0, buf.position());
            if (buf.getInt() != (int) crc.getValue() || buf.hasRemaining()) {
                return Optional.empty();
            }
            return Optional.of(new ConfigurationIndexFile(file, floor, entries));
        } catch (BufferUnderflowException e) {
            return Optional.empty();
        }
    }

    /** A new listing (not yet written). */
    static ConfigurationIndexFile create(Path file, long floor, Map<Long, Long> entries) {
        return new ConfigurationIndexFile(file, floor, entries);
    }

    long floor() {
        return floor;
    }

    /** The listed configuration entries, {@code index -> term}, ascending. */
    NavigableMap<Long, Long> entries() {
        return java.util.Collections.unmodifiableNavigableMap(entries);
    }

    /** Lists (or relists) a configuration entry; call {@link #write()} before appending it to the log. */
    void put(long index, long term) {
        entries.put(index, term);
    }

    /** Forgets listings below {@code firstIndexKept} (they are gone from the log). */
    void removeBefore(long firstIndexKept) {
        entries.headMap(firstIndexKept, false).clear();
    }

    /** Forgets listings after {@code lastIndexKept}. */
    void removeAfter(long lastIndexKept) {
        entries.tailMap(lastIndexKept, false).clear();
    }

    /** Replaces everything: used when a snapshot replaced the log. */
    void reset(long newFloor) {
        floor = newFloor;
        entries.clear();
    }

    void write() throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4 + 1 + 8 + 4 + entries.size() * 16 + 4);
        buf.putInt(MAGIC).put(VERSION).putLong(floor).putInt(entries.size());
        for (Map.Entry<Long, Long> e : entries.entrySet()) {
            buf.putLong(e.getKey()).putLong(e.getValue());
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        DurableFiles.writeAtomically(file, buf.array());
    }
}
