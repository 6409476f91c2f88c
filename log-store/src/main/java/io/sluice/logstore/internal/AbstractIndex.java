package io.sluice.logstore.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A file of fixed-size entries, memory-mapped, appended to by one writer and binary-searched by readers.
 *
 * <p>While <em>writable</em> (the index of the active segment) the file is preallocated to its capacity
 * and mapped read-write; the valid entries are the first {@link #entries()}; the rest is zeros or stale
 * entries past a truncation. When sealed (segment roll, clean close) the file is replaced by one of
 * exactly the valid entries, mapped read-only. A file that may be mapped is never shrunk in place
 * (touching a mapped page past the end of its file crashes the JVM): sealing writes a new file and
 * renames it over, and reactivating a sealed index (a truncation into a closed segment) only grows the
 * file, which is safe for existing mappings.
 *
 * <p>Entries are written with absolute puts and published by a volatile write of the entry count, so a
 * reader that reads the count sees every entry below it. One writer; any number of concurrent readers.
 */
abstract class AbstractIndex {
    private final int entrySize;
    private final int capacity;
    private volatile Path file;
    private volatile MappedByteBuffer mmap;
    private volatile int entries;
    private boolean writable;

    /**
     * Opens {@code file} (creating it if missing) holding {@code validEntries} valid entries.
     *
     * @param capacity entries the file can hold while writable
     */
    AbstractIndex(Path file, int entrySize, int capacity, int validEntries, boolean writable) throws IOException {
        this.entrySize = entrySize;
        this.capacity = Math.max(capacity, validEntries);
        this.file = file;
        this.entries = validEntries;
        if (writable) {
            mapWritable();
        } else {
            try (FileChannel ch = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.truncate((long) validEntries * entrySize);
                mmap = ch.map(FileChannel.MapMode.READ_ONLY, 0, (long) validEntries * entrySize);
            }
        }
    }

    /** Number of whole entries in {@code file}, or -1 if its length is not a multiple of the entry size. */
    static int entriesInFile(Path file, int entrySize) throws IOException {
        long len = Files.size(file);
        if (len % entrySize != 0 || len / entrySize > Integer.MAX_VALUE) {
            return -1;
        }
        return (int) (len / entrySize);
    }

    private void mapWritable() throws IOException {
        try (FileChannel ch =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long bytes = (long) capacity * entrySize;
            if (ch.size() < bytes) {
                // Growing never invalidates an existing mapping; the new tail reads as zeros.
                ch.write(ByteBuffer.allocate(1), bytes - 1);
            }
            mmap = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
        }
        writable = true;
    }

    final int entrySize() {
        return entrySize;
    }

    /** Valid entries. */
    final int entries() {
        return entries;
    }

    /** Entries the file can hold while writable. */
    final int capacity() {
        return capacity;
    }

    final boolean isFull() {
        return entries >= capacity;
    }

    final boolean isWritable() {
        return writable;
    }

    final Path file() {
        return file;
    }

    /** The current mapping; read it once per lookup, together with {@link #entries()}. */
    final MappedByteBuffer buffer() {
        return mmap;
    }

    /** Writer: the buffer to put entry number {@code entries()} into; call {@link #publish()} after. */
    final MappedByteBuffer bufferForAppend() {
        if (!writable) {
            throw new IllegalStateException("index " + file + " is sealed");
        }
        if (entries >= capacity) {
            throw new IllegalStateException("index " + file + " is full (" + capacity + " entries)");
        }
        return mmap;
    }

    /** Writer: makes the entry just written visible to readers. */
    final void publish() {
        entries = entries + 1;
    }

    /** Writer: forgets every entry from {@code n} on. */
    final void truncateToEntries(int n) {
        if (n < 0 || n > entries) {
            throw new IllegalArgumentException(
                    "cannot truncate index " + file + " with " + entries + " entries to " + n);
        }
        entries = n;
    }

    /** Writer: forces the mapped pages to disk (no-op when sealed: sealing already forced them). */
    final void force() {
        if (writable) {
            mmap.force();
        }
    }

    /**
     * Writer: replaces the file by one holding exactly the valid entries (written to a temporary file,
     * forced, renamed over) and maps that read-only. The preallocated file is never cut in place: a
     * reader may still be searching its mapping with an entry count read before a truncation, and
     * touching a page past the end of a mapped file kills the JVM. The old file lives on, unlinked,
     * until its mapping is collected.
     */
    final void seal() throws IOException {
        if (!writable) {
            return;
        }
        int n = entries;
        long bytes = (long) n * entrySize;
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer valid = mmap.slice(0, (int) bytes);
            while (valid.hasRemaining()) {
                ch.write(valid);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            mmap = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes);
        }
        writable = false;
    }

    /** Writer: makes a sealed index writable again (the segment becomes the active one). */
    final void reactivate() throws IOException {
        if (!writable) {
            mapWritable();
        }
    }

    /** Renames the file (compaction swap); the mapping is unaffected. */
    final void renameTo(Path target) throws IOException {
        Files.move(file, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        file = target;
    }

    /**
     * Releases the mapping; only when no reader can touch this index any more. A writable index is sealed
     * first, so that a clean close leaves a file of exactly the valid entries.
     */
    final void close() throws IOException {
        if (writable) {
            seal();
        }
        Unmapper.unmap(mmap);
    }

    /** Releases the mapping without sealing (the file is going away). */
    final void closeWithoutSeal() {
        Unmapper.unmap(mmap);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + file + ", entries=" + entries + "]";
    }
}
