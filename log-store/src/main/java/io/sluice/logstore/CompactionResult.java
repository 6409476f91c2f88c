package io.sluice.logstore;

/**
 * What one {@code Log.compact()} pass did.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param segmentsRead closed segments whose records were examined
 * @param segmentsReplaced segments that were replaced by cleaned ones
 * @param segmentsWritten cleaned segments swapped in (fewer than replaced when small ones were merged)
 * @param bytesBefore size of the replaced segments
 * @param bytesAfter size of the cleaned segments
 * @param recordsRemoved records dropped because a later record has the same key
 * @param tombstonesRemoved tombstones dropped because they were older than {@code delete.retention.ms}
 * @param aborted true when a concurrent truncation or deletion changed the segments and the pass threw its
 *     work away (nothing changed on disk)
 */
public record CompactionResult(
        int segmentsRead,
        int segmentsReplaced,
        int segmentsWritten,
        long bytesBefore,
        long bytesAfter,
        long recordsRemoved,
        long tombstonesRemoved,
        boolean aborted) {

    /** A pass that did nothing. */
    public static final CompactionResult NOTHING = new CompactionResult(0, 0, 0, 0, 0, 0, 0, false);
}
