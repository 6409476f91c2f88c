package io.sluice.replication.internal;

import io.sluice.replication.TopicPartition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Where one partition replica keeps its files, under {@code <dataDir>/<topic>-<partition>/}:
 *
 * <pre>
 * log/                        the segment log: the Raft log and the partition data, one write
 * log.install/                a log being built from an installed snapshot (transient)
 * log.old/                    the log being replaced by an installed snapshot (transient)
 * raft_configuration.index    where the log's Raft configuration entries are (see ConfigurationIndexFile)
 * raft-meta/                  JRaft's term and vote
 * snapshot/                   JRaft's snapshots: a meta file plus hard links of segment files
 * </pre>
 *
 * <p>Replacing the log by an installed snapshot is crash-safe: build {@code log.install/} completely, rename {@code
 * log/} to {@code log.old/}, rename {@code log.install/} to {@code log/}, delete {@code log.old/}; {@link
 * #recoverLogSwap()} finishes or rolls back an interrupted swap. Immutable and thread-safe.
 *
 * @param root the partition directory
 */
record PartitionLayout(Path root) {

    static PartitionLayout of(Path dataDir, TopicPartition tp) {
        return new PartitionLayout(dataDir.resolve(tp.dirName()));
    }

    Path logDir() {
        return root.resolve("log");
    }

    Path logInstallDir() {
        return root.resolve("log.install");
    }

    Path logOldDir() {
        return root.resolve("log.old");
    }

    Path configurationIndexFile() {
        return root.resolve(ConfigurationIndexFile.FILE_NAME);
    }

    Path raftMetaDir() {
        return root.resolve("raft-meta");
    }

    Path snapshotDir() {
        return root.resolve("snapshot");
    }

    /** Creates the directories JRaft expects to exist. */
    void create() throws IOException {
        Files.createDirectories(root);
        Files.createDirectories(raftMetaDir());
        Files.createDirectories(snapshotDir());
    }

    /**
     * Completes or undoes a log replacement that a crash interrupted. A complete {@code log.install/} is only ever
     * renamed after {@code log/} was moved away, so: no {@code log/} but {@code log.install/} means the swap must be
     * finished; both present means it never started.
     */
    void recoverLogSwap() throws IOException {
        Path log = logDir();
        Path install = logInstallDir();
        Path old = logOldDir();
        if (!Files.exists(log) && Files.exists(install)) {
            Files.move(install, log, StandardCopyOption.ATOMIC_MOVE);
            DurableFiles.fsyncDirectory(root);
        } else if (!Files.exists(log) && Files.exists(old)) {
            Files.move(old, log, StandardCopyOption.ATOMIC_MOVE);
            DurableFiles.fsyncDirectory(root);
        }
        DurableFiles.deleteRecursively(install);
        DurableFiles.deleteRecursively(old);
    }

    /** Swaps a fully built {@code log.install/} in place of {@code log/}. */
    void swapInInstalledLog() throws IOException {
        Path log = logDir();
        Path old = logOldDir();
        DurableFiles.deleteRecursively(old);
        if (Files.exists(log)) {
            Files.move(log, old, StandardCopyOption.ATOMIC_MOVE);
        }
        DurableFiles.fsyncDirectory(root);
        Files.move(logInstallDir(), log, StandardCopyOption.ATOMIC_MOVE);
        DurableFiles.fsyncDirectory(root);
        DurableFiles.deleteRecursively(old);
    }
}
