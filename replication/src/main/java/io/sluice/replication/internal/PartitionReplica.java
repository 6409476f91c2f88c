package io.sluice.replication.internal;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.EnumOutter.EntryType;
import com.alipay.sofa.jraft.entity.LogEntry;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.error.RaftError;
import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.OffsetOutOfRangeException;
import io.sluice.logstore.record.BatchHeader;
import io.sluice.logstore.record.CorruptRecordException;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.logstore.record.RecordBatches;
import io.sluice.replication.AckMode;
import io.sluice.replication.AppendResult;
import io.sluice.replication.InvalidBatchException;
import io.sluice.replication.NotLeaderException;
import io.sluice.replication.OverloadedException;
import io.sluice.replication.PartitionClosedException;
import io.sluice.replication.PartitionListener;
import io.sluice.replication.PartitionStateExtension;
import io.sluice.replication.ReplicaFailedException;
import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.ReplicationObserver;
import io.sluice.replication.RetriableReplicationException;
import io.sluice.replication.TimestampedOffset;
import io.sluice.replication.TopicPartition;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ReplicatedPartition} of one broker: a JRaft node, its {@link PartitionStateMachine} and its {@link
 * SegmentLogStorage}.
 *
 * <h2>High watermark</h2>
 * {@code hw = max(hw, min(committedEnd, durableEnd))} where {@code committedEnd} is the offset after the last applied
 * entry (trailing control entries included, see {@link #committedEndOffset()}) and {@code durableEnd} the end of the
 * locally fsynced log. Applied entries are committed and, on this replica, matched with the leader's log, so the
 * minimum is always the end of a committed, locally durable prefix; it is recomputed after every apply, every durable
 * append and every log change, so reads bounded by it always find the bytes locally.
 *
 * <p>Thread-safe: appends come from any thread, JRaft callbacks from its state-machine and disk threads.
 */
final class PartitionReplica implements ReplicatedPartition, SegmentLogStorage.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionReplica.class);

    private enum State {
        STARTING,
        OPEN,
        CLOSED,
        FAILED
    }

    private final TopicPartition tp;
    private final ReplicaId self;
    private final String name;
    private final Semaphore inflight;
    private final int maxInflight;
    private final ReplicationObserver observer;
    private final InSyncTracker inSyncTracker;
    private final Map<ByteBuffer, ProposalClosure> leaderAcks = Collections.synchronizedMap(new IdentityHashMap<>());
    private final CopyOnWriteArrayList<PartitionListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong highWatermark = new AtomicLong();
    private final Object notifyLock = new Object();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    private SegmentLogStorage storage;
    private PartitionStateMachine fsm;
    private Optional<PartitionStateExtension> extension = Optional.empty();
    private volatile Node node;
    private volatile State state = State.STARTING;
    private volatile ReplicaFailedException failure;
    private volatile long leaderTerm = -1;
    /** The term this replica led last (for messages after {@link #leaderTerm} was cleared). */
    private volatile long lastLeaderTerm = -1;

    private volatile long term;
    private volatile List<ReplicaId> replicas;
    private volatile CompletableFuture<Void> leadershipLost = new CompletableFuture<>();
    /** The leader's last in-sync set (leader first); meaningful only while leading. */
    private volatile List<ReplicaId> inSyncReplicas = List.of();
    /** Guarded by {@link #notifyLock}. */
    private long notifiedHighWatermark = -1;

    PartitionReplica(
            TopicPartition tp,
            ReplicaId self,
            List<ReplicaId> replicas,
            int maxInflight,
            long replicaLagTimeMaxMs,
            ReplicationObserver observer) {
        this.tp = tp;
        this.self = self;
        this.name = tp + "@" + self.brokerId();
        this.replicas = List.copyOf(replicas);
        this.inflight = new Semaphore(maxInflight);
        this.maxInflight = maxInflight;
        this.observer = observer;
        this.inSyncTracker = new InSyncTracker(replicaLagTimeMaxMs);
    }

    /** Second construction step: the collaborators that need this object. */
    void bind(SegmentLogStorage storage, PartitionStateMachine fsm, Optional<PartitionStateExtension> extension) {
        this.storage = storage;
        this.fsm = fsm;
        this.extension = extension;
    }

    Optional<PartitionStateExtension> extension() {
        return extension;
    }

    static void closeQuietly(PartitionStateExtension e) {
        try {
            e.close();
        } catch (RuntimeException ex) {
            LOG.warn("state extension {} failed to close", e, ex);
        }
    }

    /** Third step: the JRaft node is initialized (it may already have called back). */
    void started(Node n) {
        this.node = n;
        if (state == State.STARTING) {
            state = State.OPEN;
        }
        refreshHighWatermark();
    }

    String name() {
        return name;
    }

    Node node() {
        return node;
    }

    SegmentLogStorage storage() {
        return storage;
    }

    static PeerId toPeer(ReplicaId r) {
        return new PeerId(r.host(), r.raftPort(), r.brokerId());
    }

    static ReplicaId toReplica(PeerId p) {
        return new ReplicaId(p.getIdx(), p.getIp(), p.getPort());
    }

    // ------------------------------------------------------------------------------------------------ API

    @Override
    public TopicPartition topicPartition() {
        return tp;
    }

    @Override
    public ReplicaId self() {
        return self;
    }

    @Override
    public List<ReplicaId> replicas() {
        return replicas;
    }

    @Override
    public boolean isLeader() {
        return state == State.OPEN && leaderTerm > 0;
    }

    @Override
    public Optional<ReplicaId> leader() {
        Node n = node;
        if (n == null || state != State.OPEN) {
            return Optional.empty();
        }
        PeerId p = n.getLeaderId();
        if (p == null || p.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(toReplica(p));
    }

    @Override
    public long term() {
        return term;
    }

    @Override
    public List<ReplicaId> inSyncReplicas() {
        return isLeader() ? inSyncReplicas : List.of();
    }

    @Override
    public long logSizeBytes() {
        if (state == State.CLOSED || storage == null) {
            return 0;
        }
        try {
            return storage.withLog(l -> l.sizeInBytes());
        } catch (IllegalStateException notOpen) {
            return 0;
        }
    }

    /**
     * On the leader: samples every follower's replication progress and recomputes {@link #inSyncReplicas()} (see
     * {@link InSyncTracker}). Called periodically by the host's housekeeping thread; cheap (a map lookup and a short
     * lock per follower).
     */
    void sampleFollowers() {
        Node n = node;
        if (n == null || !isLeader()) {
            return;
        }
        List<ReplicaId> current = replicas;
        List<ReplicaId> inSync = new ArrayList<>(current.size());
        inSync.add(self);
        if (!ReplicatorProbe.available()) {
            // Fallback: JRaft's liveness view (acknowledged within its leader lease), not caught-up-ness.
            List<PeerId> alive;
            try {
                alive = n.listAlivePeers();
            } catch (IllegalStateException notLeader) {
                return;
            }
            for (ReplicaId r : current) {
                if (r.brokerId() != self.brokerId() && alive.contains(toPeer(r))) {
                    inSync.add(r);
                }
            }
        } else {
            long now = ReplicatorProbe.nowMs();
            long leaderLast = n.getLastLogIndex();
            List<InSyncTracker.Progress> progress = new ArrayList<>(current.size());
            for (ReplicaId r : current) {
                if (r.brokerId() != self.brokerId()) {
                    progress.add(ReplicatorProbe.progress(n, toPeer(r), r)
                            .orElse(new InSyncTracker.Progress(r, 0, Long.MIN_VALUE)));
                }
            }
            inSync.addAll(inSyncTracker.sample(now, leaderLast, progress));
        }
        if (isLeader()) {
            inSyncReplicas = List.copyOf(inSync);
        }
    }

    @Override
    public CompletableFuture<AppendResult> append(ByteBuffer batch, AckMode acks) {
        try {
            checkOpen();
            long t = leaderTerm;
            if (t <= 0) {
                throw new NotLeaderException(tp, leader(), "");
            }
            validate(batch);
            if (!inflight.tryAcquire()) {
                throw new OverloadedException(tp + ": " + maxInflight + " appends in flight");
            }
            ByteBuffer owned = batch.isReadOnly() ? copyOf(batch) : batch.slice();
            ProposalClosure proposal = new ProposalClosure(owned, acks, this::toException, inflight::release, observer);
            if (acks == AckMode.LEADER) {
                leaderAcks.put(owned, proposal);
                proposal.future().whenComplete((r, e) -> leaderAcks.remove(owned));
            }
            try {
                node.apply(new Task(owned, proposal, t));
            } catch (RuntimeException e) {
                // JRaft has run (or will run) the closure with an error status; nothing else to undo.
                LOG.debug("{}: apply refused: {}", name, e.toString());
            }
            return proposal.future();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static ByteBuffer copyOf(ByteBuffer b) {
        ByteBuffer c = ByteBuffer.allocate(b.remaining());
        c.put(b.duplicate()).flip();
        return c;
    }

    private void validate(ByteBuffer batch) {
        try {
            int size = RecordBatch.sizeAt(batch, batch.position());
            if (size != batch.remaining()) {
                throw new InvalidBatchException(tp + ": expected exactly one record batch, found " + batch.remaining()
                        + " bytes for a batch of " + size);
            }
            RecordBatch b = RecordBatch.wrap(batch);
            b.ensureValid();
            if (b.isControl()) {
                throw new InvalidBatchException(tp + ": producers may not append control batches");
            }
            if (b.recordCount() <= 0 || b.lastOffsetDelta() < 0) {
                throw new InvalidBatchException(tp + ": a batch must hold at least one record");
            }
        } catch (CorruptRecordException e) {
            throw new InvalidBatchException(tp + ": invalid record batch: " + e.getMessage(), e);
        }
        if (batch.remaining() < BatchHeader.HEADER_SIZE) {
            throw new InvalidBatchException(tp + ": batch shorter than its header");
        }
    }

    @Override
    public long highWatermark() {
        return highWatermark.get();
    }

    @Override
    public long logStartOffset() {
        checkReadable();
        return storage.withLog(l -> l.logStartOffset());
    }

    @Override
    public long logEndOffset() {
        checkReadable();
        return storage.withLog(l -> l.logEndOffset());
    }

    @Override
    public LogReadResult read(long offset, int maxBytes) {
        checkReadable();
        long hw = highWatermark.get();
        return storage.withLog(l -> {
            long start = l.logStartOffset();
            if (offset < start || offset > l.logEndOffset()) {
                throw new OffsetOutOfRangeException(offset, start, hw);
            }
            if (offset >= hw) {
                // Not committed (or not known to be, e.g. on a new leader) yet: nothing readable, not an error.
                return LogReadResult.empty(offset, start, hw);
            }
            LogReadResult r = l.read(offset, maxBytes, hw);
            return new LogReadResult(
                    r.records(), r.firstBatchBaseOffset(), r.nextOffset(), r.batchCount(), r.logStartOffset(), hw);
        });
    }

    @Override
    public OptionalLong offsetForTimestamp(long timestampMs) {
        return offsetAndTimestampFor(timestampMs)
                .map(t -> OptionalLong.of(t.offset()))
                .orElse(OptionalLong.empty());
    }

    @Override
    public Optional<TimestampedOffset> offsetAndTimestampFor(long timestampMs) {
        checkReadable();
        long hw = highWatermark.get();
        OptionalLong start = storage.withLog(l -> l.offsetForTimestamp(timestampMs));
        if (start.isEmpty() || start.getAsLong() >= hw) {
            return Optional.empty();
        }
        // The log's time index also covers control batches (timestamp 0): scan on to the first data record.
        long offset = start.getAsLong();
        while (offset < hw) {
            LogReadResult r = read(offset, 64 * 1024);
            if (r.isEmpty()) {
                break;
            }
            for (java.util.Iterator<RecordBatch> it = RecordBatches.iterate(r.records()); it.hasNext(); ) {
                RecordBatch b = it.next();
                if (b.isControl() || b.lastOffset() < offset || b.maxTimestamp() < timestampMs) {
                    continue;
                }
                for (Record rec : b) {
                    if (rec.offset() >= offset && rec.offset() < hw && rec.timestamp() >= timestampMs) {
                        return Optional.of(new TimestampedOffset(rec.offset(), rec.timestamp()));
                    }
                }
            }
            offset = r.nextOffset();
        }
        return Optional.empty();
    }

    @Override
    public void addListener(PartitionListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(PartitionListener listener) {
        listeners.remove(listener);
    }

    @Override
    public CompletableFuture<Void> transferLeadership(ReplicaId target) {
        try {
            checkOpen();
            if (!isLeader()) {
                throw new NotLeaderException(tp, leader(), "cannot transfer leadership");
            }
            Status st = node.transferLeadershipTo(toPeer(target));
            if (!st.isOk()) {
                throw toException(st);
            }
            LOG.info("{}: transferring leadership of term {} to {}", name, leaderTerm, target);
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Void> changeReplicas(List<ReplicaId> newReplicas) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            checkOpen();
            if (newReplicas.isEmpty()) {
                throw new IllegalArgumentException("a partition needs at least one replica");
            }
            List<PeerId> peers =
                    newReplicas.stream().map(PartitionReplica::toPeer).toList();
            LOG.info("{}: changing replicas to {}", name, newReplicas);
            node.changePeers(new Configuration(peers), st -> complete(f, st));
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    @Override
    public CompletableFuture<Void> snapshot() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            checkOpen();
            node.snapshot(st -> complete(f, st));
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    private void complete(CompletableFuture<Void> f, Status st) {
        if (st.isOk()) {
            f.complete(null);
        } else {
            f.completeExceptionally(toException(st));
        }
    }

    @Override
    public boolean isOpen() {
        return state == State.OPEN;
    }

    // ------------------------------------------------------------------------------------------------ callbacks

    /** The end offset of the applied log, including control entries applied after the last data entry. */
    long committedEndOffset() {
        Node n = node;
        // Read JRaft's applied index before ours: every data entry up to it was applied (and recorded) first, so the
        // entries between the two are control entries, one offset each.
        long raftApplied = 0;
        if (n != null) {
            try {
                raftApplied = n.getLastAppliedLogIndex();
            } catch (IllegalStateException stopping) {
                // JRaft refuses once the node is shutting down; our own applied point is still right.
            }
        }
        PartitionStateMachine.Applied a = fsm.applied();
        return raftApplied > a.index() ? a.endOffset() + (raftApplied - a.index()) : a.endOffset();
    }

    /**
     * Recomputes the high watermark and tells listeners if it moved. Any thread; never throws, because it runs inside
     * JRaft callbacks where an exception would abort JRaft's own bookkeeping.
     */
    void refreshHighWatermark() {
        try {
            doRefreshHighWatermark();
        } catch (RuntimeException e) {
            LOG.warn("{}: high watermark refresh failed", name, e);
        }
    }

    private void doRefreshHighWatermark() {
        if (fsm == null || storage == null) {
            return;
        }
        long candidate =
                Math.min(committedEndOffset(), storage.durablePosition().endOffset());
        long prev;
        do {
            prev = highWatermark.get();
            if (candidate <= prev) {
                return;
            }
        } while (!highWatermark.compareAndSet(prev, candidate));
        synchronized (notifyLock) {
            long v = highWatermark.get();
            if (v > notifiedHighWatermark) {
                notifiedHighWatermark = v;
                notify(l -> l.onHighWatermark(v));
            }
        }
    }

    @Override
    public void onAppended(List<LogEntry> entries, SegmentLogStorage.Position position) {
        if (!leaderAcks.isEmpty()) {
            for (LogEntry e : entries) {
                if (e.getType() != EntryType.ENTRY_TYPE_DATA) {
                    continue;
                }
                ProposalClosure p = leaderAcks.remove(e.getData());
                if (p != null) {
                    // This thread stamped the header while appending: the numbers are there.
                    RecordBatch b = RecordBatch.wrap(e.getData());
                    p.durableOnLeader(new AppendResult(
                            b.baseOffset(),
                            b.lastOffset(),
                            e.getId().getTerm(),
                            e.getId().getIndex()));
                }
            }
        }
        refreshHighWatermark();
    }

    @Override
    public void onLogChanged(SegmentLogStorage.Position position) {
        refreshHighWatermark();
    }

    void onLeaderStart(long newTerm) {
        term = Math.max(term, newTerm);
        leaderTerm = newTerm;
        lastLeaderTerm = newTerm;
        leadershipLost = new CompletableFuture<>();
        List<ReplicaId> all = replicas;
        List<ReplicaId> followers =
                all.stream().filter(r -> r.brokerId() != self.brokerId()).toList();
        inSyncTracker.reset(ReplicatorProbe.nowMs(), followers);
        List<ReplicaId> inSync = new ArrayList<>(all.size());
        inSync.add(self);
        inSync.addAll(followers);
        inSyncReplicas = List.copyOf(inSync);
        LOG.info("{}: leader of term {} (high watermark {})", name, newTerm, highWatermark.get());
        refreshHighWatermark();
        notify(l -> l.onLeaderStart(newTerm));
    }

    void onLeaderStop(Status status) {
        long t = lastLeaderTerm;
        leaderTerm = -1;
        LOG.info("{}: no longer leader of term {}: {}", name, t, status);
        leadershipLost.complete(null);
        notify(l -> l.onLeaderStop(t));
    }

    void onFollowing(PeerId leaderPeer, long newTerm) {
        term = Math.max(term, newTerm);
        Optional<ReplicaId> l =
                leaderPeer == null || leaderPeer.isEmpty() ? Optional.empty() : Optional.of(toReplica(leaderPeer));
        if (l.isPresent()) {
            LOG.info("{}: following {} in term {}", name, l.get(), newTerm);
        } else {
            LOG.info("{}: lost leader in term {}", name, newTerm);
        }
        notify(x -> x.onFollowing(l, newTerm));
    }

    void onConfiguration(List<String> peers) {
        List<ReplicaId> list = new ArrayList<>();
        for (String s : peers) {
            PeerId p = new PeerId();
            if (p.parse(s)) {
                list.add(toReplica(p));
            }
        }
        if (!list.isEmpty() && !list.equals(replicas)) {
            replicas = List.copyOf(list);
            LOG.info("{}: replicas are now {}", name, list);
        }
    }

    void onFatal(String message, Throwable cause) {
        if (state == State.CLOSED || state == State.FAILED) {
            return;
        }
        ReplicaFailedException f = new ReplicaFailedException(message, cause);
        failure = f;
        state = State.FAILED;
        leaderTerm = -1;
        leadershipLost.complete(null);
        LOG.error("{}: replica failed and stopped serving: {}", name, message, cause);
        notify(l -> l.onFailed(f));
    }

    /** Completes when this replica is not the leader (at once if it is not). */
    CompletableFuture<Void> leadershipLost() {
        return isLeader() ? leadershipLost : CompletableFuture.completedFuture(null);
    }

    /** Marks the replica closed: appends and reads fail from now on. */
    void markClosed() {
        if (state != State.FAILED) {
            state = State.CLOSED;
        }
        leaderTerm = -1;
        leadershipLost.complete(null);
        closed.complete(null);
        List<ProposalClosure> pending;
        synchronized (leaderAcks) {
            pending = new ArrayList<>(leaderAcks.values());
            leaderAcks.clear();
        }
        for (ProposalClosure p : pending) {
            p.future().completeExceptionally(new PartitionClosedException(tp + " closed"));
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private void notify(Consumer<PartitionListener> event) {
        for (PartitionListener l : listeners) {
            try {
                event.accept(l);
            } catch (RuntimeException e) {
                LOG.warn("{}: listener {} threw", name, l, e);
            }
        }
    }

    private void checkOpen() {
        switch (state) {
            case OPEN -> {}
            case FAILED -> throw failure;
            case STARTING -> throw new NotLeaderException(tp, Optional.empty(), "replica is starting");
            case CLOSED -> throw new PartitionClosedException(tp + " is closed on broker " + self.brokerId());
        }
    }

    private void checkReadable() {
        if (state == State.CLOSED) {
            throw new PartitionClosedException(tp + " is closed on broker " + self.brokerId());
        }
        if (storage == null) {
            throw new PartitionClosedException(tp + " is not open yet");
        }
    }

    /** Maps a JRaft failure status to the API's exceptions. */
    RuntimeException toException(Status st) {
        if (state == State.CLOSED) {
            return new PartitionClosedException(tp + " closed: " + st.getErrorMsg());
        }
        if (state == State.FAILED) {
            return failure;
        }
        RaftError err = st.getRaftError();
        String msg = st.getErrorMsg() == null ? "" : st.getErrorMsg();
        return switch (err) {
            case EBUSY ->
                msg.contains("transferring")
                        ? new NotLeaderException(tp, leader(), msg)
                        : new OverloadedException(tp + ": " + msg);
            case EPERM,
                    ESTOP,
                    ESHUTDOWN,
                    ENODESHUTDOWN,
                    ELEADERREMOVED,
                    ENEWLEADER,
                    ETRANSFERLEADERSHIP,
                    EHIGHERTERMREQUEST,
                    EHIGHERTERMRESPONSE,
                    ELEADERCONFLICT -> new NotLeaderException(tp, leader(), msg);
            default -> new RetriableReplicationException(tp + ": Raft failed the operation: " + st);
        };
    }

    @Override
    public String toString() {
        return "PartitionReplica[" + name + ", " + state + ", term " + term + ", hw " + highWatermark.get() + "]";
    }
}
