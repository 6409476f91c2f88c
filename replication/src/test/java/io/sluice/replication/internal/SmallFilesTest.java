package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The snapshot meta file, the configuration index file and the crash-safe log swap. */
class SmallFilesTest {
    @TempDir
    Path dir;

    @Test
    void snapshotMetaRoundTripsAndDetectsCorruption() throws Exception {
        PartitionSnapshotMeta m = new PartitionSnapshotMeta(42, 7, 1234);
        m.writeTo(dir);
        assertEquals(m, PartitionSnapshotMeta.readFrom(dir));
        byte[] bytes = m.encode();
        for (int i = 0; i < bytes.length; i++) {
            byte[] bad = bytes.clone();
            bad[i] ^= 0x40;
            assertThrows(IllegalArgumentException.class, () -> PartitionSnapshotMeta.decode(bad), "flipped byte " + i);
        }
    }

    @Test
    void configurationIndexRoundTripsAndReadsCorruptAsMissing() throws Exception {
        Path f = dir.resolve(ConfigurationIndexFile.FILE_NAME);
        assertTrue(ConfigurationIndexFile.read(f).isEmpty());
        ConfigurationIndexFile idx = ConfigurationIndexFile.create(f, 5, Map.of(7L, 2L, 9L, 3L));
        idx.put(12, 4);
        idx.write();
        ConfigurationIndexFile back = ConfigurationIndexFile.read(f).orElseThrow();
        assertEquals(5, back.floor());
        assertEquals(Map.of(7L, 2L, 9L, 3L, 12L, 4L), back.entries());
        back.removeAfter(8);
        back.removeBefore(7);
        assertEquals(Map.of(7L, 2L), back.entries());
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length - 6] ^= 1;
        Files.write(f, bytes);
        assertTrue(ConfigurationIndexFile.read(f).isEmpty());
    }

    @Test
    void interruptedLogSwapsAreFinishedOrUndone() throws Exception {
        PartitionLayout layout = new PartitionLayout(dir.resolve("p"));
        layout.create();
        // Crash after log/ moved away, before log.install/ moved in: finish the swap.
        Files.createDirectories(layout.logInstallDir());
        Files.writeString(layout.logInstallDir().resolve("new"), "n");
        Files.createDirectories(layout.logOldDir());
        layout.recoverLogSwap();
        assertTrue(Files.exists(layout.logDir().resolve("new")));
        assertFalse(Files.exists(layout.logOldDir()));
        // Crash while log.install/ was being built: drop it, keep log/.
        Files.createDirectories(layout.logInstallDir());
        Files.writeString(layout.logInstallDir().resolve("partial"), "p");
        layout.recoverLogSwap();
        assertTrue(Files.exists(layout.logDir().resolve("new")));
        assertFalse(Files.exists(layout.logInstallDir()));
        // A complete swap.
        Files.createDirectories(layout.logInstallDir());
        Files.writeString(layout.logInstallDir().resolve("next"), "x");
        layout.swapInInstalledLog();
        assertTrue(Files.exists(layout.logDir().resolve("next")));
        assertFalse(Files.exists(layout.logDir().resolve("new")));
    }
}
