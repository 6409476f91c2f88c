package io.sluice.replication.metadata.internal;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.LeaderChangeContext;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.error.RaftException;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotReader;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotWriter;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.MetadataError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code __metadata} group's JRaft state machine: decodes each committed entry, applies it to a {@link
 * MetadataState} and publishes the new immutable {@link ClusterMetadata}.
 *
 * <p>Invariants: entries are applied exactly once each, in log order; an entry that does not decode or apply is fatal
 * for this replica ({@code setErrorAndRollback}), never skipped; the published view's version never decreases. The
 * snapshot is the whole state in one small file ({@link MetadataCodec}).
 *
 * <p>Thread safety: JRaft calls every callback on the group's single FSM thread; {@link #view()} may be read from any
 * thread.
 */
final class MetadataStateMachine extends StateMachineAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);

    /** Receives leadership changes of this replica; called on the FSM thread. */
    interface LeaderHooks {
        void leaderStarted(long term);

        void leaderStopped();
    }

    private final String name;
    private final MetadataState state = new MetadataState();
    private final Consumer<ClusterMetadata> publisher;
    private final LeaderHooks hooks;
    private volatile ClusterMetadata view = ClusterMetadata.EMPTY;
    private volatile boolean failed;

    MetadataStateMachine(String name, Consumer<ClusterMetadata> publisher, LeaderHooks hooks) {
        this.name = name;
        this.publisher = publisher;
        this.hooks = hooks;
    }

    ClusterMetadata view() {
        return view;
    }

    boolean failed() {
        return failed;
    }

    @Override
    public void onApply(Iterator it) {
        boolean changed = false;
        try {
            while (it.hasNext()) {
                ApplyResult result;
                try {
                    // A duplicate: on the leader this buffer is also the log entry that replicators still send to
                    // lagging followers and learners; consuming it here would send them empty entries.
                    ByteBuffer data = it.getData().duplicate();
                    byte[] bytes = new byte[data.remaining()];
                    data.get(bytes);
                    result = state.apply(MetadataCodec.decode(bytes), it.getIndex());
                } catch (RuntimeException e) {
                    LOG.error(
                            "{}: committed entry {} (term {}) cannot be applied: fatal for this replica",
                            name,
                            it.getIndex(),
                            it.getTerm(),
                            e);
                    failed = true;
                    it.setErrorAndRollback(
                            1,
                            new Status(
                                    RaftError.ESTATEMACHINE,
                                    "cannot apply metadata entry %d: %s",
                                    it.getIndex(),
                                    e.getMessage()));
                    return;
                }
                changed = true;
                Closure done = it.done();
                if (done instanceof CommandClosure c) {
                    c.result = result;
                }
                if (done != null) {
                    done.run(Status.OK());
                }
                it.next();
            }
        } finally {
            if (changed) {
                publish();
            }
        }
    }

    private void publish() {
        ClusterMetadata v = state.view();
        view = v;
        publisher.accept(v);
    }

    @Override
    public void onSnapshotSave(SnapshotWriter writer, Closure done) {
        byte[] bytes = MetadataCodec.encodeSnapshot(state);
        Path file = Path.of(writer.getPath(), MetadataCodec.SNAPSHOT_FILE);
        try (FileChannel ch = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        } catch (IOException e) {
            LOG.error("{}: cannot write snapshot {}", name, file, e);
            done.run(new Status(RaftError.EIO, "cannot write metadata snapshot: %s", e.getMessage()));
            return;
        }
        if (!writer.addFile(MetadataCodec.SNAPSHOT_FILE)) {
            done.run(new Status(RaftError.EIO, "cannot add metadata snapshot file"));
            return;
        }
        LOG.info("{}: saved snapshot at version {} ({} bytes)", name, state.version(), bytes.length);
        done.run(Status.OK());
    }

    @Override
    public boolean onSnapshotLoad(SnapshotReader reader) {
        Path file = Path.of(reader.getPath(), MetadataCodec.SNAPSHOT_FILE);
        try {
            MetadataState loaded = MetadataCodec.decodeSnapshot(Files.readAllBytes(file));
            state.resetTo(loaded);
        } catch (IOException | CorruptMetadataException e) {
            LOG.error("{}: cannot load snapshot {}", name, file, e);
            return false;
        }
        LOG.info("{}: loaded snapshot at version {}", name, state.version());
        publish();
        return true;
    }

    @Override
    public void onLeaderStart(long term) {
        LOG.info("{}: became controller leader at term {}", name, term);
        hooks.leaderStarted(term);
    }

    @Override
    public void onLeaderStop(Status status) {
        LOG.info("{}: stopped being controller leader: {}", name, status);
        hooks.leaderStopped();
    }

    @Override
    public void onStartFollowing(LeaderChangeContext ctx) {
        LOG.info("{}: following controller leader {} at term {}", name, ctx.getLeaderId(), ctx.getTerm());
    }

    @Override
    public void onConfigurationCommitted(Configuration conf) {
        LOG.info("{}: configuration committed: {}", name, conf);
    }

    @Override
    public void onError(RaftException e) {
        failed = true;
        LOG.error("{}: metadata replica failed: {}", name, e.getStatus(), e);
    }

    /** The closure of a proposal on the leader: completes its future with the apply result or a failure. */
    static final class CommandClosure implements Closure {
        final CompletableFuture<ApplyResult> future = new CompletableFuture<>();
        volatile ApplyResult result;

        @Override
        public void run(Status status) {
            if (status.isOk() && result != null) {
                future.complete(result);
            } else {
                // Not committed by this leader (it stepped down, or the term changed): the entry may still commit
                // under a new leader, so the caller must treat this as ambiguous and retry idempotently.
                future.complete(
                        ApplyResult.failed(MetadataError.NOT_CONTROLLER, "proposal failed: " + status.getErrorMsg()));
            }
        }
    }
}
