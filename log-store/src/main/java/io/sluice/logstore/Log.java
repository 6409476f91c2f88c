package io.sluice.logstore;

import io.sluice.logstore.internal.SegmentedLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * One partition's log: a directory of segments holding record batches back to back, each batch one Raft
 * entry.
 *
 * <h2>Numbering</h2>
 * Every batch occupies the offsets {@code [baseOffset, baseOffset + lastOffsetDelta]} (at least one) and
 * exactly one entry index; both are contiguous across the log. Offsets are what consumers see; entry
 * indexes are what Raft sees (they differ because a batch holds many records). A fresh log starts at entry
 * index 1 and offset 0; {@link #reset} starts it elsewhere.
 *
 * <h2>Threads</h2>
 * Mutating methods ({@code append*}, {@code truncate*}, {@code reset}, {@code deleteSegmentsBefore},
 * {@code applyRetention}, {@code close}) are meant for one writer thread at a time; they are also
 * serialized by an internal lock, so a housekeeping thread may call retention concurrently with the writer.
 * {@link #compact()} does its heavy work without that lock and may run on its own thread while the writer
 * appends. Reads ({@code read}, {@code readEntry}, {@code offsetForTimestamp} and the accessors) are
 * lock-free and may run on any number of threads concurrently with all of the above: a reader always sees
 * whole batches that were completely written, in offset order, and a segment a reader is using stays
 * readable until the reader is done with it, even if retention, truncation or compaction removed it.
 *
 * <h2>Errors</h2>
 * I/O failures surface as {@link UncheckedIOException}; invalid batches as
 * {@link io.sluice.logstore.record.CorruptRecordException}; reads of a segment found corrupt by recovery as
 * {@link CorruptSegmentException}; out-of-range reads as {@link OffsetOutOfRangeException}.
 */
public interface Log extends AutoCloseable {

    /**
     * Opens the log in {@code dir}, creating the directory if missing and recovering whatever a crash left.
     *
     * @param fsync the scheduler that runs {@link DurabilityPolicy#GROUPED} flushes
     * @param clock time for segment age, retention and compaction
     */
    static Log open(Path dir, LogConfig config, FsyncScheduler fsync, Clock clock) throws IOException {
        return SegmentedLog.open(dir, config, fsync, clock);
    }

    /** The directory of this log. */
    Path dir();

    /** The configuration in force. */
    LogConfig config();

    // ---------------------------------------------------------------- appends

    /**
     * Appends one batch: checks its header and CRC (never the records), stamps base offset = log end offset
     * and entry index = {@code lastEntryIndex() + 1} into the buffer in place (the Raft term is left as
     * given), writes it and updates the indexes, rolling the segment first if needed. The buffer's position
     * to limit must hold exactly one batch; its position is not changed.
     *
     * @throws io.sluice.logstore.record.CorruptRecordException if the batch is malformed
     */
    AppendInfo append(ByteBuffer batch);

    /** Appends several batches (e.g. a group of Raft entries) with one write per segment touched. */
    List<AppendInfo> appendAll(List<ByteBuffer> batches);

    /**
     * Completes when every batch appended before this call is on stable storage; concurrent callers share
     * fsyncs. Completes exceptionally if the fsync fails or the log is closed first.
     */
    CompletableFuture<Void> flushAsync();

    /**
     * Forces every batch appended before this call to stable storage on the calling thread, for a caller that would
     * only wait for {@link #flushAsync()}: no hand-off to the fsync thread and back, and logs flushed this way by
     * different threads do not queue behind one another. Waiters of {@link #flushAsync()} that the fsync covers
     * complete too. Returns at once if nothing is waiting to be forced.
     *
     * @throws java.io.UncheckedIOException if the fsync fails
     * @throws IllegalStateException if the log is closed
     */
    void flush();

    /** Every offset below this is on stable storage. */
    long durableEndOffset();

    // ---------------------------------------------------------------- reads

    /**
     * Reads whole stored batches, starting with the one that contains {@code startOffset}, up to about
     * {@code maxBytes}, never including a batch whose last offset is {@code >= maxOffsetExclusive} (the
     * high watermark). At least one whole batch is returned when one is eligible, even if it is larger than
     * {@code maxBytes}. Returns an empty result at the log end or at {@code maxOffsetExclusive}.
     *
     * @throws OffsetOutOfRangeException if {@code startOffset} is below the log start or above the log end
     * @throws CorruptSegmentException if the segment holding {@code startOffset} is corrupt
     */
    LogReadResult read(long startOffset, int maxBytes, long maxOffsetExclusive);

    /** {@code read(startOffset, maxBytes, logEndOffset())}. */
    default LogReadResult read(long startOffset, int maxBytes) {
        return read(startOffset, maxBytes, Long.MAX_VALUE);
    }

    /**
     * The offset of the first record (in offset order) whose timestamp is {@code >= timestampMs}, or empty
     * if there is none.
     */
    OptionalLong offsetForTimestamp(long timestampMs);

    /** Offset of the first batch (the base offset of the oldest segment). */
    long logStartOffset();

    /** The offset the next appended batch gets. */
    long logEndOffset();

    /** Bytes of all segment files in use. */
    long sizeInBytes();

    /** Number of segments, the active one included. */
    int segmentCount();

    // ---------------------------------------------------------------- Raft entry view

    /** Entry index of the first batch (the next index to be assigned when the log is empty). */
    long firstEntryIndex();

    /** Entry index of the last batch; {@code firstEntryIndex() - 1} when empty. */
    long lastEntryIndex();

    /** The whole batch that is entry {@code entryIndex}, or empty if the log does not hold it. */
    Optional<ByteBuffer> readEntry(long entryIndex);

    /** The Raft term stamped in entry {@code entryIndex}, read from its header only; empty if absent. */
    OptionalLong termOf(long entryIndex);

    /** Entry index of the batch containing {@code offset}; empty if the log does not hold it. */
    OptionalLong entryIndexForOffset(long offset);

    /** Base offset of entry {@code entryIndex}; empty if the log does not hold it. */
    OptionalLong offsetForEntryIndex(long entryIndex);

    /**
     * Removes every entry after {@code lastIndexKept} (Raft log conflict). A no-op when nothing follows.
     *
     * @throws IllegalArgumentException if {@code lastIndexKept < firstEntryIndex() - 1}
     */
    void truncateAfterEntry(long lastIndexKept);

    /**
     * Removes every batch whose base offset is {@code >= offset}.
     *
     * @throws IllegalArgumentException if {@code offset} is not a batch's base offset or the log end
     *     offset
     */
    void truncateTo(long offset);

    /**
     * Deletes every closed segment whose entries all come before {@code entryIndex} (whole segments only,
     * never the active one); the log start offset advances to the first remaining segment.
     *
     * @return the number of segments deleted
     */
    int deleteSegmentsBefore(long entryIndex);

    /**
     * Drops everything; the next appended batch gets {@code nextEntryIndex} and {@code nextOffset}. Used
     * when a Raft snapshot is installed.
     */
    void reset(long nextEntryIndex, long nextOffset);

    // ---------------------------------------------------------------- housekeeping

    /**
     * The first entry index that would remain if the closed segments that size/time retention allows to
     * delete were deleted; empty when retention would delete nothing (or the cleanup policy is
     * {@link CleanupPolicy#COMPACT}). The replication layer gates {@link #deleteSegmentsBefore} on a
     * snapshot covering this index.
     */
    OptionalLong retentionBoundary();

    /** {@code deleteSegmentsBefore(retentionBoundary())} for standalone use; returns segments deleted. */
    int applyRetention();

    /**
     * Compacts the closed segments (for the {@code COMPACT} policies; a no-op otherwise): keeps the latest
     * record per key and every record without a key, drops tombstones older than
     * {@code delete.retention.ms}, leaves segments younger than {@code min.compaction.lag.ms} alone.
     * Offsets, entry indexes, terms and timestamps are preserved; a batch that loses all its records stays
     * as an empty batch. Cleaned segments are swapped in atomically.
     */
    CompactionResult compact();

    /** The segments, oldest first. */
    List<SegmentInfo> segments();

    /** The files of every segment ({@code .log}, {@code .index}, {@code .timeindex}), oldest first. */
    List<Path> segmentFiles();

    /** Segments that recovery or a read found corrupt, as the exceptions reads of them throw. */
    List<CorruptSegmentException> corruptSegments();

    /**
     * Flushes everything, writes the clean-shutdown marker and releases files (segments still used by
     * readers are released when they finish). Idempotent.
     */
    @Override
    void close();

    /** Closes the log and deletes its directory. */
    void delete();
}
