package io.sluice.replication.internal;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.LeaderChangeContext;
import com.alipay.sofa.jraft.entity.RaftOutter.SnapshotMeta;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.error.RaftException;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotReader;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotWriter;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.replication.AppendResult;
import io.sluice.replication.PartitionStateExtension;
import io.sluice.replication.PartitionStateExtension.CommittedBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft state machine of a partition. The log is the state, so applying an entry only moves the committed offset
 * and completes the leader's pending append.
 *
 * <h2>Offsets without reading the log</h2>
 * Offsets are a function of the entry sequence: a data entry takes {@code lastOffsetDelta + 1} offsets, every other
 * entry exactly one. JRaft hands only data entries to {@link #onApply}; the indexes it skips are control entries. So
 * from the last applied point {@code (index a, endOffset e)} a data entry at index {@code i} has base offset {@code e +
 * (i - a - 1)}: the same number the log stamped, on every replica, computed before the leader's own disk write even
 * finished. Snapshots record the point; {@link #onSnapshotLoad} restores it.
 *
 * <p>An entry that cannot be applied (not a record batch, applied twice, refused by the extension) is fatal for this
 * replica: {@code setErrorAndRollback}, never skipped.
 *
 * <h2>Extension</h2>
 * A partition may carry a {@link PartitionStateExtension}: each committed data batch is passed to it (unless it ends
 * below the extension's applied offset, i.e. the extension persisted it before a restart) before the proposer's
 * future completes. Snapshots hold the extension's files next to the segment links, plus {@value
 * #EXTENSION_META_FILE} with the extension's applied offset at the snapshot; loading a snapshot loads the extension's
 * files only when the extension is behind that offset.
 *
 * <p>JRaft calls every method on the group's state-machine thread; {@link #applied()} may be read from any thread.
 * Thread-safe in that sense.
 */
final class PartitionStateMachine extends StateMachineAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionStateMachine.class);
    private static final long SNAPSHOT_DURABLE_WAIT_MS = 30_000;

    /** The last applied entry and the offset after it. Immutable and thread-safe. */
    record Applied(long index, long endOffset) {}

    private final PartitionReplica replica;
    private final SegmentLogStorage storage;
    private final Executor snapshotExecutor;
    private final Optional<PartitionStateExtension> extension;
    private volatile Applied applied = new Applied(0, 0);

    /** Name of the snapshot file holding the extension's applied offset at the snapshot. */
    static final String EXTENSION_META_FILE = "sluice_extension.meta";

    PartitionStateMachine(
            PartitionReplica replica,
            SegmentLogStorage storage,
            Executor snapshotExecutor,
            Optional<PartitionStateExtension> extension) {
        this.replica = replica;
        this.storage = storage;
        this.snapshotExecutor = snapshotExecutor;
        this.extension = extension;
    }

    Applied applied() {
        return applied;
    }

    @Override
    public void onApply(Iterator iter) {
        Applied a = applied;
        while (iter.hasNext()) {
            long index = iter.getIndex();
            long base;
            long last;
            try {
                if (index <= a.index()) {
                    throw new IllegalStateException("entry " + index + " applied after entry " + a.index());
                }
                ByteBuffer data = iter.getData();
                if (data == null) {
                    throw new IllegalStateException("data entry without payload");
                }
                RecordBatch batch = RecordBatch.wrap(data);
                if (batch.sizeInBytes() != data.remaining() || batch.isControl()) {
                    throw new IllegalStateException("data entry is not exactly one non-control record batch");
                }
                base = a.endOffset() + (index - a.index() - 1);
                last = base + batch.lastOffsetDelta();
                if (extension.isPresent()) {
                    applyToExtension(extension.get(), data, base, last, iter.getTerm(), index);
                }
            } catch (RuntimeException e) {
                String msg = replica.name() + ": cannot apply committed entry " + index + ": " + e.getMessage();
                LOG.error("{}", msg, e);
                iter.setErrorAndRollback(1, new Status(RaftError.ESTATEMACHINE, msg));
                replica.onFatal(msg, e);
                break;
            }
            a = new Applied(index, last + 1);
            applied = a;
            Closure done = iter.done();
            if (done instanceof ProposalClosure proposal) {
                proposal.committed(new AppendResult(base, last, iter.getTerm(), index));
            }
            if (done != null) {
                done.run(Status.OK());
            }
            iter.next();
        }
        replica.refreshHighWatermark();
    }

    private void applyToExtension(
            PartitionStateExtension ext, ByteBuffer data, long base, long last, long term, long index) {
        long extApplied = ext.appliedOffset();
        if (extApplied > last) {
            return; // persisted before a restart; Raft replays from its snapshot, which may be older
        }
        if (extApplied > base) {
            throw new IllegalStateException(
                    "the extension's applied offset " + extApplied + " falls inside the batch " + base + ".." + last);
        }
        ext.onCommitted(new CommittedBatch(data.duplicate(), base, last, term, index));
        long after = ext.appliedOffset();
        if (after != last + 1) {
            throw new IllegalStateException(
                    "the extension applied batch " + base + ".." + last + " but reports applied offset " + after);
        }
    }

    @Override
    public void onSnapshotSave(SnapshotWriter writer, Closure done) {
        SnapshotMeta m = writer.getCurrentMeta();
        Applied a = applied;
        if (m == null || m.getLastIncludedIndex() < a.index()) {
            done.run(new Status(RaftError.EINVAL, "snapshot meta %s is behind applied entry %d", m, a.index()));
            return;
        }
        long index = m.getLastIncludedIndex();
        // Entries after the last data entry up to the snapshot point are control entries: one offset each.
        PartitionSnapshotMeta meta =
                new PartitionSnapshotMeta(index, m.getLastIncludedTerm(), a.endOffset() + (index - a.index()));
        List<String> extFiles;
        try {
            // Now, on the state-machine thread: no batch is applied while the extension writes its state.
            extFiles = saveExtension(Path.of(writer.getPath()));
        } catch (IOException | RuntimeException e) {
            LOG.error("{}: extension snapshot at entry {} failed", replica.name(), index, e);
            done.run(new Status(RaftError.EIO, "extension snapshot failed: %s", e));
            return;
        }
        CompletableFuture<Void> durable = storage.whenDurable(index);
        if (durable.isDone() && !durable.isCompletedExceptionally()) {
            writeSnapshot(writer, done, meta, extFiles);
        } else {
            // On a leader an entry can commit (on followers) before its own fsync: link files only once it is local.
            durable.orTimeout(SNAPSHOT_DURABLE_WAIT_MS, TimeUnit.MILLISECONDS)
                    .whenCompleteAsync(
                            (ok, err) -> {
                                if (err != null) {
                                    done.run(new Status(RaftError.EIO, "entry %d not durable locally: %s", index, err));
                                } else {
                                    writeSnapshot(writer, done, meta, extFiles);
                                }
                            },
                            snapshotExecutor);
        }
    }

    /** Writes the extension's files and its meta file; returns every file name to add to the snapshot. */
    private List<String> saveExtension(Path dir) throws IOException {
        if (extension.isEmpty()) {
            return List.of();
        }
        PartitionStateExtension ext = extension.get();
        long extApplied = ext.appliedOffset();
        List<String> files = new ArrayList<>(ext.saveSnapshot(dir));
        for (String f : files) {
            if (!f.startsWith(PartitionStateExtension.SNAPSHOT_FILE_PREFIX) || f.contains("/") || f.contains("\\")) {
                throw new IOException("extension snapshot file name '" + f + "' must be a plain name starting with "
                        + PartitionStateExtension.SNAPSHOT_FILE_PREFIX);
            }
        }
        ByteBuffer b = ByteBuffer.allocate(8 + 8);
        b.putLong(extApplied);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b.array(), 0, 8);
        b.putLong(crc.getValue());
        DurableFiles.writeAtomically(dir.resolve(EXTENSION_META_FILE), b.array());
        files.add(EXTENSION_META_FILE);
        return files;
    }

    private static OptionalLong readExtensionMeta(Path dir) throws IOException {
        Path f = dir.resolve(EXTENSION_META_FILE);
        if (!java.nio.file.Files.exists(f)) {
            return OptionalLong.empty();
        }
        byte[] bytes = java.nio.file.Files.readAllBytes(f);
        if (bytes.length != 16) {
            throw new IOException(f + " has " + bytes.length + " bytes, expected 16");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long extApplied = b.getLong();
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes, 0, 8);
        if (b.getLong() != crc.getValue()) {
            throw new IOException(f + ": CRC mismatch");
        }
        return OptionalLong.of(extApplied);
    }

    /** Loads the extension's part of a snapshot when the extension is behind it. */
    private void loadExtension(Path dir, List<String> snapshotFiles, PartitionSnapshotMeta meta) throws IOException {
        if (extension.isEmpty()) {
            return;
        }
        PartitionStateExtension ext = extension.get();
        OptionalLong saved = readExtensionMeta(dir);
        if (saved.isEmpty()) {
            if (meta.endOffset() > 0 && ext.appliedOffset() < meta.endOffset()) {
                // Entries below the snapshot are gone from the log as far as Raft is concerned: the extension would
                // silently miss them.
                throw new IOException("snapshot at entry " + meta.lastIncludedIndex()
                        + " has no extension state and the extension is behind it (applied offset "
                        + ext.appliedOffset() + " < " + meta.endOffset() + ")");
            }
            return;
        }
        if (ext.appliedOffset() >= saved.getAsLong()) {
            LOG.info(
                    "{}: extension already at offset {} (snapshot has {}): keeping its state",
                    replica.name(),
                    ext.appliedOffset(),
                    saved.getAsLong());
            return;
        }
        List<String> files = new ArrayList<>();
        for (String f : snapshotFiles) {
            if (f.startsWith(PartitionStateExtension.SNAPSHOT_FILE_PREFIX)) {
                files.add(f);
            }
        }
        files.sort(null);
        ext.loadSnapshot(dir, files);
        if (ext.appliedOffset() != saved.getAsLong()) {
            throw new IOException("extension loaded the snapshot but reports applied offset " + ext.appliedOffset()
                    + " instead of " + saved.getAsLong());
        }
        LOG.info("{}: extension state loaded from snapshot (applied offset {})", replica.name(), saved.getAsLong());
    }

    private void writeSnapshot(SnapshotWriter writer, Closure done, PartitionSnapshotMeta meta, List<String> extFiles) {
        try {
            OptionalLong term = storage.termOf(meta.lastIncludedIndex());
            OptionalLong end = storage.endOffsetOf(meta.lastIncludedIndex());
            if (term.isEmpty()
                    || term.getAsLong() != meta.lastIncludedTerm()
                    || end.isEmpty()
                    || end.getAsLong() != meta.endOffset()) {
                String msg = String.format(
                        "%s: the log disagrees with the applied state at entry %d: term %s vs %d, end offset %s vs %d",
                        replica.name(), meta.lastIncludedIndex(), term, meta.lastIncludedTerm(), end, meta.endOffset());
                LOG.error(msg);
                done.run(new Status(RaftError.ESTATEMACHINE, msg));
                replica.onFatal(msg, null);
                return;
            }
            Path dir = Path.of(writer.getPath());
            List<String> files = storage.linkSegmentsInto(dir, meta.lastIncludedIndex());
            for (String f : files) {
                if (!writer.addFile(f)) {
                    throw new IOException("snapshot writer refused file " + f);
                }
            }
            for (String f : extFiles) {
                if (!writer.addFile(f)) {
                    throw new IOException("snapshot writer refused extension file " + f);
                }
            }
            meta.writeTo(dir);
            if (!writer.addFile(PartitionSnapshotMeta.FILE_NAME)) {
                throw new IOException("snapshot writer refused the meta file");
            }
            LOG.info(
                    "{}: snapshot at entry {} (term {}, end offset {}) with {} segment link(s)",
                    replica.name(),
                    meta.lastIncludedIndex(),
                    meta.lastIncludedTerm(),
                    meta.endOffset(),
                    files.size());
            done.run(Status.OK());
        } catch (IOException | RuntimeException e) {
            LOG.error("{}: snapshot at entry {} failed", replica.name(), meta.lastIncludedIndex(), e);
            done.run(new Status(RaftError.EIO, "snapshot failed: %s", e));
        }
    }

    @Override
    public boolean onSnapshotLoad(SnapshotReader reader) {
        Path dir = Path.of(reader.getPath());
        try {
            PartitionSnapshotMeta meta = PartitionSnapshotMeta.readFrom(dir);
            SnapshotMeta raftMeta = reader.load();
            if (raftMeta != null
                    && (raftMeta.getLastIncludedIndex() != meta.lastIncludedIndex()
                            || raftMeta.getLastIncludedTerm() != meta.lastIncludedTerm())) {
                throw new IOException("snapshot meta " + meta + " does not match Raft's " + raftMeta);
            }
            List<String> allFiles = new ArrayList<>(reader.listFiles());
            OptionalLong localTerm = storage.termOf(meta.lastIncludedIndex());
            if (localTerm.isPresent() && localTerm.getAsLong() == meta.lastIncludedTerm()) {
                // Same index and term: by Log Matching, the local prefix is the snapshot's. Keep the local log.
                OptionalLong end = storage.endOffsetOf(meta.lastIncludedIndex());
                if (end.isEmpty() || end.getAsLong() != meta.endOffset()) {
                    throw new IOException("local entry " + meta.lastIncludedIndex() + " ends at offset " + end
                            + " but the snapshot says " + meta.endOffset());
                }
                LOG.info(
                        "{}: loaded snapshot at entry {} (term {}, end offset {}); local log already holds it",
                        replica.name(),
                        meta.lastIncludedIndex(),
                        meta.lastIncludedTerm(),
                        meta.endOffset());
            } else {
                List<String> files = new ArrayList<>();
                for (String f : allFiles) {
                    if (!f.equals(PartitionSnapshotMeta.FILE_NAME)
                            && !f.equals(EXTENSION_META_FILE)
                            && !f.startsWith(PartitionStateExtension.SNAPSHOT_FILE_PREFIX)) {
                        files.add(f);
                    }
                }
                files.sort(null);
                storage.installSnapshot(dir, files, meta);
            }
            loadExtension(dir, allFiles, meta);
            storage.setSnapshotAnchor(meta);
            applied = new Applied(meta.lastIncludedIndex(), meta.endOffset());
            if (raftMeta != null && raftMeta.getPeersCount() > 0) {
                replica.onConfiguration(raftMeta.getPeersList());
            }
            replica.refreshHighWatermark();
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.error("{}: cannot load snapshot {}", replica.name(), dir, e);
            return false;
        }
    }

    // An exception escaping a callback would abort JRaft's FSM task midway (and can drop a queued SHUTDOWN task,
    // hanging Node.join()), so the notification callbacks below never throw.

    @Override
    public void onLeaderStart(long term) {
        guard("onLeaderStart", () -> replica.onLeaderStart(term));
    }

    @Override
    public void onLeaderStop(Status status) {
        guard("onLeaderStop", () -> replica.onLeaderStop(status));
    }

    @Override
    public void onStartFollowing(LeaderChangeContext ctx) {
        guard("onStartFollowing", () -> replica.onFollowing(ctx.getLeaderId(), ctx.getTerm()));
    }

    @Override
    public void onStopFollowing(LeaderChangeContext ctx) {
        guard("onStopFollowing", () -> replica.onFollowing(null, ctx.getTerm()));
    }

    @Override
    public void onConfigurationCommitted(Configuration conf) {
        guard("onConfigurationCommitted", () -> {
            List<String> peers = new ArrayList<>();
            conf.getPeers().forEach(p -> peers.add(p.toString()));
            replica.onConfiguration(peers);
        });
    }

    @Override
    public void onError(RaftException e) {
        guard("onError", () -> replica.onFatal(replica.name() + ": Raft error " + e.getStatus(), e));
    }

    private void guard(String callback, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.error("{}: {} failed", replica.name(), callback, e);
        }
    }

    @Override
    public void onShutdown() {
        LOG.debug("{}: state machine shut down", replica.name());
    }
}
