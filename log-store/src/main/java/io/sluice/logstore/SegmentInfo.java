package io.sluice.logstore;

import java.nio.file.Path;

/**
 * A description of one segment at the time it was listed.
 *
 * <p>Closed segments never change except by compaction, which replaces the files under the same names
 * (atomically, by rename), and by retention or truncation, which delete them. The active segment keeps
 * growing: copy it only through {@code Log.read}, or after the log is closed.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param baseOffset offset of the first batch (also the file name)
 * @param nextOffset offset after the last batch ({@code == baseOffset} when empty)
 * @param baseEntryIndex entry index of the first batch
 * @param nextEntryIndex entry index after the last batch
 * @param sizeInBytes bytes of the {@code .log} file in use
 * @param maxTimestamp the largest batch max timestamp, or -1 when empty
 * @param active true for the segment appends go to
 * @param logFile the {@code .log} file
 * @param offsetIndexFile the {@code .index} file
 * @param timeIndexFile the {@code .timeindex} file
 */
public record SegmentInfo(
        long baseOffset,
        long nextOffset,
        long baseEntryIndex,
        long nextEntryIndex,
        long sizeInBytes,
        long maxTimestamp,
        boolean active,
        Path logFile,
        Path offsetIndexFile,
        Path timeIndexFile) {}
