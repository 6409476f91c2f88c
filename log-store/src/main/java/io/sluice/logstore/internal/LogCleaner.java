package io.sluice.logstore.internal;

import io.sluice.logstore.CompactionResult;
import io.sluice.logstore.LogConfig;
import java.io.IOException;
import java.nio.file.Path;

/** Compaction (stub). */
final class LogCleaner {
    private final SegmentedLog log;

    LogCleaner(SegmentedLog log) {
        this.log = log;
    }

    static void completeInterruptedSwaps(Path dir, LogConfig config) throws IOException {}

    CompactionResult clean() throws IOException {
        return CompactionResult.NOTHING;
    }
}
