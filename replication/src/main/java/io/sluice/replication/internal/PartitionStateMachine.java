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
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * <p>An entry that cannot be applied (not a record batch, applied twice) is fatal for this replica: {@code
 * setErrorAndRollback}, never skipped.
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
    private volatile Applied applied = new Applied(0, 0);

    PartitionStateMachine(PartitionReplica replica, SegmentLogStorage storage, Executor snapshotExecutor) {
        this.replica = replica;
        this.storage = storage;
        this.snapshotExecutor = snapshotExecutor;
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
        CompletableFuture<Void> durable = storage.whenDurable(index);
        if (durable.isDone() && !durable.isCompletedExceptionally()) {
            writeSnapshot(writer, done, meta);
        } else {
            // On a leader an entry can commit (on followers) before its own fsync: link files only once it is local.
            durable.orTimeout(SNAPSHOT_DURABLE_WAIT_MS, TimeUnit.MILLISECONDS)
                    .whenCompleteAsync(
                            (ok, err) -> {
                                if (err != null) {
                                    done.run(new Status(RaftError.EIO, "entry %d not durable locally: %s", index, err));
                                } else {
                                    writeSnapshot(writer, done, meta);
                                }
                            },
                            snapshotExecutor);
        }
    }

    private void writeSnapshot(SnapshotWriter writer, Closure done, PartitionSnapshotMeta meta) {
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
                for (String f : reader.listFiles()) {
                    if (!f.equals(PartitionSnapshotMeta.FILE_NAME)) {
                        files.add(f);
                    }
                }
                files.sort(null);
                storage.installSnapshot(dir, files, meta);
            }
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
