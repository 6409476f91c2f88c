package io.sluice.logstore.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The {@code log-start.checkpoint} file: where the log starts, in offsets and entry indexes.
 *
 * <pre>
 * line 1: format version, "1"
 * line 2: "startOffset firstEntryIndex" (decimal)
 * </pre>
 *
 * <p>It matters when the log holds no batch (fresh, after {@code reset}, after truncating everything):
 * then nothing else says which entry index comes next. It is rewritten (write temp file, fsync, rename,
 * fsync the directory) before prefix deletions and resets, so recovery also uses it to finish an
 * interrupted prefix deletion: segments below {@code startOffset} are deleted on open.
 *
 * <p>Instances are immutable and thread-safe.
 */
record LogStartCheckpoint(long startOffset, long firstEntryIndex) {
    private static final System.Logger LOG = System.getLogger(LogStartCheckpoint.class.getName());

    static Optional<LogStartCheckpoint> read(Path dir) {
        Path file = dir.resolve(SegmentFiles.CHECKPOINT);
        try {
            String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\n");
            if (lines.length < 2 || !lines[0].trim().equals("1")) {
                throw new IOException("unknown format");
            }
            String[] f = lines[1].trim().split(" ");
            return Optional.of(new LogStartCheckpoint(Long.parseLong(f[0]), Long.parseLong(f[1])));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "ignoring unreadable " + file + ": " + e);
            return Optional.empty();
        }
    }

    void write(Path dir) throws IOException {
        Path file = dir.resolve(SegmentFiles.CHECKPOINT);
        Path tmp = dir.resolve(SegmentFiles.CHECKPOINT + SegmentFiles.TMP_SUFFIX);
        byte[] bytes = ("1\n" + startOffset + " " + firstEntryIndex + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Dirs.fsync(dir);
    }
}
