package io.sluice.logstore.internal;

import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Names of the files in a partition directory.
 *
 * <p>A segment is three files named by its base offset, 20 decimal digits zero-padded:
 * {@code 00000000000000000000.log}, {@code .index}, {@code .timeindex}. Compaction writes
 * {@code NNN.log.cleaned} (and index {@code .cleaned} files), renames a finished log to
 * {@code NNN.log.swap}, then swaps it in. The directory also holds {@value #CHECKPOINT} and, after a
 * clean close, {@value #CLEAN_SHUTDOWN}. Stateless and thread-safe.
 */
final class SegmentFiles {
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TIME_INDEX_SUFFIX = ".timeindex";
    static final String CLEANED_SUFFIX = ".cleaned";
    static final String SWAP_SUFFIX = ".swap";
    static final String TMP_SUFFIX = ".tmp";
    static final String CHECKPOINT = "log-start.checkpoint";
    static final String CLEAN_SHUTDOWN = ".clean-shutdown";

    private SegmentFiles() {}

    static String name(long baseOffset) {
        return String.format("%020d", baseOffset);
    }

    static Path log(Path dir, long baseOffset) {
        return dir.resolve(name(baseOffset) + LOG_SUFFIX);
    }

    static Path offsetIndex(Path dir, long baseOffset) {
        return dir.resolve(name(baseOffset) + INDEX_SUFFIX);
    }

    static Path timeIndex(Path dir, long baseOffset) {
        return dir.resolve(name(baseOffset) + TIME_INDEX_SUFFIX);
    }

    static Path withSuffix(Path file, String suffix) {
        return file.resolveSibling(file.getFileName() + suffix);
    }

    /** The base offset named by a segment file name with the given suffix, or empty if it is not one. */
    static OptionalLong baseOffsetOf(String fileName, String suffix) {
        if (!fileName.endsWith(suffix)) {
            return OptionalLong.empty();
        }
        String digits = fileName.substring(0, fileName.length() - suffix.length());
        if (digits.length() != 20) {
            return OptionalLong.empty();
        }
        for (int i = 0; i < digits.length(); i++) {
            if (!Character.isDigit(digits.charAt(i))) {
                return OptionalLong.empty();
            }
        }
        try {
            return OptionalLong.of(Long.parseLong(digits));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
