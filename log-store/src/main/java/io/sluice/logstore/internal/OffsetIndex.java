package io.sluice.logstore.internal;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * The sparse offset index of one segment ({@code NNN.index}): where some batches start, searchable by
 * offset and by entry index.
 *
 * <pre>
 * entry (12 bytes, big-endian), entries back to back, no header:
 *   0  int32 relativeOffset      batch base offset - segment base offset
 *   4  int32 position            byte position of the batch in the .log file
 *   8  int32 relativeEntryIndex  batch entry index - segment base entry index
 * </pre>
 *
 * <p>Invariants: all three columns strictly increase; every entry names the start of a batch of the
 * segment. An entry is added for a batch when more than {@code index.interval.bytes} were appended since
 * the previous entry, so a lookup finds the nearest indexed batch at or before the target and the caller
 * scans forward at most about that many bytes of headers. A batch before the first entry is found from
 * the segment start (position 0), which is not indexed.
 *
 * <p>One writer, many concurrent readers (see {@link AbstractIndex}).
 */
final class OffsetIndex extends AbstractIndex {
    static final int ENTRY_SIZE = 12;

    private final long baseOffset;
    private final long baseEntryIndex;

    OffsetIndex(Path file, long baseOffset, long baseEntryIndex, int capacity, int validEntries, boolean writable)
            throws IOException {
        super(file, ENTRY_SIZE, capacity, validEntries, writable);
        this.baseOffset = baseOffset;
        this.baseEntryIndex = baseEntryIndex;
    }

    long baseOffset() {
        return baseOffset;
    }

    long baseEntryIndex() {
        return baseEntryIndex;
    }

    /** Writer: indexes the batch with the given base offset, position and entry index. */
    void append(long offset, int position, long entryIndex) {
        long rel = offset - baseOffset;
        long relEntry = entryIndex - baseEntryIndex;
        if (rel < 0 || rel > Integer.MAX_VALUE || relEntry < 0 || relEntry > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " / entry " + entryIndex + " outside segment "
                    + baseOffset + " / " + baseEntryIndex);
        }
        int n = entries();
        if (n > 0) {
            MappedByteBuffer b = buffer();
            int at = (n - 1) * ENTRY_SIZE;
            if (b.getInt(at) >= rel || b.getInt(at + 4) >= position || b.getInt(at + 8) >= relEntry) {
                throw new IllegalStateException("index entries must increase: " + lastEntry() + " then " + offset + "@"
                        + position + " entry " + entryIndex);
            }
        }
        MappedByteBuffer b = bufferForAppend();
        int at = n * ENTRY_SIZE;
        b.putInt(at, (int) rel);
        b.putInt(at + 4, position);
        b.putInt(at + 8, (int) relEntry);
        publish();
    }

    /** The last indexed batch at or before {@code offset}; the segment start if none. */
    IndexEntry lookupByOffset(long offset) {
        MappedByteBuffer b = buffer();
        int n = entries();
        long rel = offset - baseOffset;
        int i = floor(b, n, 0, rel);
        return i < 0 ? start() : entryAt(b, i);
    }

    /** The last indexed batch with entry index at or before {@code entryIndex}; the segment start if none. */
    IndexEntry lookupByEntryIndex(long entryIndex) {
        MappedByteBuffer b = buffer();
        int n = entries();
        long rel = entryIndex - baseEntryIndex;
        int i = floor(b, n, 8, rel);
        return i < 0 ? start() : entryAt(b, i);
    }

    /**
     * The position of the last indexed batch that starts at or before {@code position}; 0 (the segment start)
     * if none. Every indexed position is the start of a batch, so a read that stops there ends on a batch boundary.
     */
    int floorPosition(int position) {
        MappedByteBuffer b = buffer();
        int i = floor(b, entries(), 4, position);
        return i < 0 ? 0 : b.getInt(i * ENTRY_SIZE + 4);
    }

    /** The last entry, or the segment start when there is none. */
    IndexEntry lastEntry() {
        MappedByteBuffer b = buffer();
        int n = entries();
        return n == 0 ? start() : entryAt(b, n - 1);
    }

    /** The entry at slot {@code i} (for tests and checks). */
    IndexEntry entry(int i) {
        return entryAt(buffer(), i);
    }

    /** Writer: forgets the entries of batches at or after {@code offset}. */
    void truncateToOffset(long offset) {
        MappedByteBuffer b = buffer();
        int n = entries();
        // first slot whose offset is >= target = floor(target - 1) + 1
        truncateToEntries(floor(b, n, 0, offset - baseOffset - 1) + 1);
    }

    /**
     * Checks the invariants against a log of {@code logSize} bytes; returns a description of the first
     * violation, or an empty string when the index is sound.
     */
    String check(long logSize) {
        MappedByteBuffer b = buffer();
        int n = entries();
        long prevRel = -1;
        long prevPos = -1;
        long prevEntry = -1;
        for (int i = 0; i < n; i++) {
            int at = i * ENTRY_SIZE;
            int rel = b.getInt(at);
            int pos = b.getInt(at + 4);
            int ent = b.getInt(at + 8);
            if (rel <= prevRel || pos <= prevPos || ent <= prevEntry) {
                return "entry " + i + " does not increase";
            }
            if (pos >= logSize) {
                return "entry " + i + " points at position " + pos + " past the log end " + logSize;
            }
            prevRel = rel;
            prevPos = pos;
            prevEntry = ent;
        }
        return "";
    }

    private IndexEntry start() {
        return new IndexEntry(baseOffset, 0, baseEntryIndex);
    }

    private IndexEntry entryAt(MappedByteBuffer b, int i) {
        int at = i * ENTRY_SIZE;
        return new IndexEntry(baseOffset + b.getInt(at), b.getInt(at + 4), baseEntryIndex + b.getInt(at + 8));
    }

    /** Largest slot in [0, n) whose int column at {@code field} is <= key; -1 if none. */
    private static int floor(MappedByteBuffer b, int n, int field, long key) {
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int v = b.getInt(mid * ENTRY_SIZE + field);
            if (v <= key) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }
}
