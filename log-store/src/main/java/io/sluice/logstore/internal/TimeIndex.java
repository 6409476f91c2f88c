package io.sluice.logstore.internal;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * The sparse time index of one segment ({@code NNN.timeindex}): how far record timestamps have risen at
 * some points of the segment.
 *
 * <pre>
 * entry (12 bytes, big-endian), entries back to back, no header:
 *   0  int64 timestamp       the largest batch max timestamp in the segment up to here (ms)
 *   8  int32 relativeOffset  base offset of the batch that first reached it - segment base offset
 * </pre>
 *
 * <p>Invariants: timestamps strictly increase, offsets never decrease; no record at an offset before the
 * entry's batch has a timestamp larger than the entry's. So for a target {@code T}, the last entry with
 * timestamp {@code < T} names a batch before which no record reaches {@code T}: the search for the first
 * record with timestamp {@code >= T} starts at that batch. The segment's largest timestamp is always the
 * last entry once the segment is sealed (the writer appends it on roll and close).
 *
 * <p>One writer, many concurrent readers (see {@link AbstractIndex}).
 */
final class TimeIndex extends AbstractIndex {
    static final int ENTRY_SIZE = 12;

    private final long baseOffset;

    TimeIndex(Path file, long baseOffset, int capacity, int validEntries, boolean writable) throws IOException {
        super(file, ENTRY_SIZE, capacity, validEntries, writable);
        this.baseOffset = baseOffset;
    }

    /** Writer: records that the max timestamp reached {@code timestamp} at the batch {@code offset}. */
    void maybeAppend(long timestamp, long offset) {
        int n = entries();
        if (n > 0) {
            MappedByteBuffer b = buffer();
            long lastTs = b.getLong((n - 1) * ENTRY_SIZE);
            if (timestamp <= lastTs) {
                return;
            }
        }
        long rel = offset - baseOffset;
        if (rel < 0 || rel > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " outside segment " + baseOffset);
        }
        if (isFull()) {
            return;
        }
        MappedByteBuffer b = bufferForAppend();
        int at = n * ENTRY_SIZE;
        b.putLong(at, timestamp);
        b.putInt(at + 8, (int) rel);
        publish();
    }

    /** The batch offset to start searching for the first record with timestamp {@code >= target}. */
    long searchStart(long target) {
        MappedByteBuffer b = buffer();
        int n = entries();
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (b.getLong(mid * ENTRY_SIZE) < target) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? baseOffset : baseOffset + b.getInt(found * ENTRY_SIZE + 8);
    }

    /** The last entry's timestamp, or -1 when empty. */
    long lastTimestamp() {
        int n = entries();
        return n == 0 ? -1 : buffer().getLong((n - 1) * ENTRY_SIZE);
    }

    /** The last entry's offset, or the segment base offset when empty. */
    long lastOffset() {
        int n = entries();
        return n == 0 ? baseOffset : baseOffset + buffer().getInt((n - 1) * ENTRY_SIZE + 8);
    }

    /** The timestamp of slot {@code i}. */
    long timestampAt(int i) {
        return buffer().getLong(i * ENTRY_SIZE);
    }

    /** The offset of slot {@code i}. */
    long offsetAt(int i) {
        return baseOffset + buffer().getInt(i * ENTRY_SIZE + 8);
    }

    /** Writer: forgets the entries of batches at or after {@code offset}. */
    void truncateToOffset(long offset) {
        MappedByteBuffer b = buffer();
        int n = entries();
        long rel = offset - baseOffset;
        int keep = n;
        while (keep > 0 && b.getInt((keep - 1) * ENTRY_SIZE + 8) >= rel) {
            keep--;
        }
        truncateToEntries(keep);
    }

    /**
     * Checks the invariants against a segment whose batches end at {@code nextOffset}; returns a
     * description of the first violation, or an empty string when sound.
     */
    String check(long nextOffset) {
        MappedByteBuffer b = buffer();
        int n = entries();
        long prevTs = Long.MIN_VALUE;
        long prevRel = -1;
        for (int i = 0; i < n; i++) {
            int at = i * ENTRY_SIZE;
            long ts = b.getLong(at);
            int rel = b.getInt(at + 8);
            if ((i > 0 && ts <= prevTs) || rel < prevRel || rel < 0) {
                return "entry " + i + " does not increase";
            }
            if (baseOffset + rel >= nextOffset) {
                return "entry " + i + " names offset " + (baseOffset + rel) + " past the segment end " + nextOffset;
            }
            prevTs = ts;
            prevRel = rel;
        }
        return "";
    }
}
