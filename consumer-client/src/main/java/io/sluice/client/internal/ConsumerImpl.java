package io.sluice.client.internal;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sluice.client.CommitFailedException;
import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.ConsumerBuilder.OffsetReset;
import io.sluice.client.ErrorCode;
import io.sluice.client.NotLeaderException;
import io.sluice.client.OffsetOutOfRangeException;
import io.sluice.client.OffsetSpec;
import io.sluice.client.RebalanceListener;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.Header;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.proto.v1.CommitOffsetsRequest;
import io.sluice.proto.v1.CommitOffsetsResponse;
import io.sluice.proto.v1.CommittedOffset;
import io.sluice.proto.v1.FetchCredit;
import io.sluice.proto.v1.FetchOffsetsRequest;
import io.sluice.proto.v1.FetchOffsetsResponse;
import io.sluice.proto.v1.FetchRequest;
import io.sluice.proto.v1.FetchResponse;
import io.sluice.proto.v1.FetchStart;
import io.sluice.proto.v1.LogBoundary;
import io.sluice.proto.v1.OffsetCommit;
import io.sluice.proto.v1.OffsetCommitResult;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Consumer}: one Fetch stream per assigned partition at its leader. gRPC threads put responses and
 * stream failures on one event queue; {@link #poll} (the owning thread) decodes them, skips control batches and
 * records below the position, advances positions and grants one credit back per response with records. Each
 * stream has a generation: a seek or reopen bumps it and events of older generations are dropped.
 *
 * <p>Failover: a failed stream is reopened, after a metadata update (the NOT_LEADER hint, or a refresh), at the
 * offset after the last record handed out (or buffered), so nothing is lost or repeated.
 *
 * <p>Groups: a {@link GroupMember} heartbeats on its own thread and posts a wake-up event when the assignment
 * changes; {@link #poll} reconciles at the top of each round (revoke: stop streams, auto-commit, listener, drop,
 * report; then add), resolves the committed offsets of new partitions with one asynchronous FetchOffsets whose
 * answer comes back as an event, and auto-commits on its interval. A partition waiting for its committed offset
 * has no stream.
 *
 * <p>Not thread-safe except {@link #wakeup()} and {@link #close()}.
 */
final class ConsumerImpl implements Consumer {
    private static final Logger log = LoggerFactory.getLogger(ConsumerImpl.class);
    private static final long RETRY_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final AtomicInteger IDS = new AtomicInteger();

    private enum Mode {
        NONE,
        ASSIGNED,
        SUBSCRIBED
    }

    private final SluiceClientImpl client;
    private final MetadataCache metadata;
    private final int credits;
    /**
     * Responses handled before their credits go back in one message: a quarter of {@link #credits}, so the broker
     * always holds at least three quarters of them (and at least one) while a message per response is saved.
     */
    private final int creditBatch;

    private final int maxBytes;
    private final int maxPollRecords;
    private final OffsetReset offsetReset;
    private final Optional<String> groupId;
    private final Optional<String> instanceId;
    private final Optional<GroupMember> member;
    private final boolean autoCommit;
    private final long autoCommitIntervalNanos;
    private final OffsetReset autoOffsetReset;
    private Mode mode = Mode.NONE;
    private RebalanceListener listener = RebalanceListener.NONE;
    private long appliedTargetVersion = -1;
    private long nextAutoCommitNanos;
    private boolean autoCommitInFlight;
    private boolean committedLookupInFlight;
    private long committedLookupNotBefore;
    private volatile Thread pollThread;
    private volatile boolean closingGroup;
    /** The latest commit; each commit starts when the previous one has an outcome. */
    private volatile CompletableFuture<Void> commitChain = CompletableFuture.completedFuture(null);

    private final CountDownLatch cleanedLatch = new CountDownLatch(1);
    private final Map<TopicPartition, PartitionState> partitions = new LinkedHashMap<>();
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final AtomicBoolean wakeup = new AtomicBoolean();
    private final Map<String, Long> lastRefresh = new LinkedHashMap<>();
    private volatile boolean closed;
    private volatile boolean polling;
    private final AtomicBoolean cleaned = new AtomicBoolean();
    private final int id = IDS.incrementAndGet();

    ConsumerImpl(SluiceClientImpl client, ConsumerBuilderImpl b) {
        this.client = client;
        this.metadata = client.metadata();
        this.credits = b.credits;
        this.creditBatch = Math.max(1, b.credits / 4);
        this.maxBytes = b.maxBytesPerResponse;
        this.maxPollRecords = b.maxPollRecords;
        this.groupId = b.groupId;
        this.instanceId = b.instanceId;
        this.autoCommit = b.autoCommit;
        this.autoCommitIntervalNanos = b.autoCommitInterval.toNanos();
        this.autoOffsetReset = b.autoOffsetReset;
        this.offsetReset = b.offsetReset.orElse(groupId.isPresent() ? b.autoOffsetReset : OffsetReset.NONE);
        this.member = groupId.map(g -> new GroupMember(
                client.groupCalls(),
                g,
                b.instanceId,
                "sluice-java-consumer-" + id,
                (int) b.sessionTimeout.toMillis(),
                b.assignor,
                this::wakeForGroup));
    }

    /**
     * What came from a stream or the group. Exactly one of response, error, task is set, or none for the wake-up
     * marker.
     */
    private record Event(
            PartitionState ps, int generation, FetchResponse response, SluiceException error, Runnable task) {
        Event(PartitionState ps, int generation, FetchResponse response, SluiceException error) {
            this(ps, generation, response, error, null);
        }

        static Event task(Runnable task) {
            return new Event(null, 0, null, null, task);
        }
    }

    private void wakeForGroup() {
        events.add(new Event(null, 0, null, null));
    }

    /** Per-partition state; owned by the consuming thread. */
    private final class PartitionState {
        final TopicPartition tp;
        /** Next offset to hand out; null while a seek to a boundary or a time is unresolved. */
        Long position;

        OffsetSpec pendingSpec = OffsetSpec.earliest();
        /** True until the group's committed offset (or the reset policy) gives the start position. */
        boolean awaitingCommitted;

        int generation;
        ClientCallStreamObserver<FetchRequest> stream;
        /** Responses of the current stream handled whose credits have not been returned yet. */
        int uncredited;

        long reopenAtNanos;
        final Deque<ConsumedRecord> buffered = new ArrayDeque<>();
        /** One past the last offset covered by the buffered response. */
        long bufferedEnd;

        PartitionState(TopicPartition tp) {
            this.tp = tp;
        }

        long fetchOffset() {
            return buffered.isEmpty() ? position : Math.max(position, bufferedEnd);
        }

        void resetStream() {
            generation++;
            if (stream != null) {
                try {
                    stream.cancel("consumer moved or closed the stream", null);
                } catch (RuntimeException e) {
                    // already gone
                }
                stream = null;
            }
            buffered.clear();
            reopenAtNanos = 0;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("consumer is closed");
        }
    }

    /** Commits and look-ups stay allowed while close() runs the rebalance listener. */
    private void checkOpenOrClosing() {
        if (closed && !closingGroup) {
            throw new IllegalStateException("consumer is closed");
        }
    }

    private PartitionState state(TopicPartition tp) {
        PartitionState ps = partitions.get(tp);
        if (ps == null) {
            throw new IllegalStateException(tp + " is not assigned to this consumer");
        }
        return ps;
    }

    @Override
    public void assign(Collection<TopicPartition> tps) {
        checkOpen();
        if (mode == Mode.SUBSCRIBED) {
            throw new IllegalStateException("consumer is subscribed to a group; call unsubscribe() before assign()");
        }
        Set<TopicPartition> wanted = new LinkedHashSet<>(tps);
        for (var it = partitions.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!wanted.contains(e.getKey())) {
                e.getValue().resetStream();
                it.remove();
            }
        }
        for (TopicPartition tp : wanted) {
            partitions.computeIfAbsent(tp, this::newPartition);
        }
        if (mode == Mode.NONE && !wanted.isEmpty()) {
            nextAutoCommitNanos = System.nanoTime() + autoCommitIntervalNanos;
        }
        mode = wanted.isEmpty() ? Mode.NONE : Mode.ASSIGNED;
    }

    private PartitionState newPartition(TopicPartition tp) {
        PartitionState ps = new PartitionState(tp);
        ps.awaitingCommitted = groupId.isPresent();
        return ps;
    }

    private String requireGroup() {
        return groupId.orElseThrow(() -> new IllegalStateException(
                "this consumer has no group id: set ConsumerBuilder.groupId(...) to subscribe or commit"));
    }

    @Override
    public void subscribe(Collection<String> topics, RebalanceListener listener) {
        List<String> names = new ArrayList<>(new LinkedHashSet<>(topics));
        if (names.isEmpty() || names.stream().anyMatch(t -> t == null || t.isBlank())) {
            throw new IllegalArgumentException("subscribe needs at least one topic, and no blank topic names");
        }
        subscribe(new GroupMember.Subscription(List.copyOf(names), Optional.empty()), listener);
    }

    @Override
    public void subscribe(Pattern pattern, RebalanceListener listener) {
        subscribe(new GroupMember.Subscription(List.of(), Optional.of(pattern.pattern())), listener);
    }

    private void subscribe(GroupMember.Subscription subscription, RebalanceListener l) {
        checkOpen();
        requireGroup();
        if (mode == Mode.ASSIGNED) {
            throw new IllegalStateException("consumer has assigned partitions; call unsubscribe() before subscribe()");
        }
        this.listener = java.util.Objects.requireNonNull(l, "listener");
        if (mode == Mode.NONE) {
            nextAutoCommitNanos = System.nanoTime() + autoCommitIntervalNanos;
        }
        mode = Mode.SUBSCRIBED;
        member.orElseThrow().subscribe(subscription);
    }

    @Override
    public void unsubscribe() {
        checkOpen();
        if (mode == Mode.ASSIGNED) {
            assign(List.of());
            return;
        }
        if (mode != Mode.SUBSCRIBED) {
            return;
        }
        GroupMember m = member.orElseThrow();
        RuntimeException failure = null;
        if (!m.view().lost()) {
            failure = revoke(new LinkedHashSet<>(partitions.keySet()), true);
        }
        for (PartitionState ps : partitions.values()) {
            ps.resetStream();
        }
        partitions.clear();
        m.leave(true, false);
        mode = Mode.NONE;
        listener = RebalanceListener.NONE;
        appliedTargetVersion = -1;
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Gives up {@code revoked}: stops their streams, commits their positions (auto-commit), tells the listener and
     * drops them. Returns the listener's exception, if any, for the caller to rethrow once its work is done.
     */
    private RuntimeException revoke(Set<TopicPartition> revoked, boolean callListener) {
        if (revoked.isEmpty()) {
            return null;
        }
        for (TopicPartition tp : revoked) {
            partitions.get(tp).resetStream();
        }
        if (autoCommit) {
            Map<TopicPartition, Long> positions = positions(revoked);
            try {
                Futures.await(commit(groupId.orElseThrow(), positions, true));
            } catch (SluiceException e) {
                log.warn(
                        "group {}: committing revoked partitions {} failed: {}",
                        groupId.get(),
                        revoked,
                        e.getMessage());
            }
        }
        RuntimeException failure = null;
        if (callListener) {
            try {
                listener.onPartitionsRevoked(Set.copyOf(revoked));
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        for (TopicPartition tp : revoked) {
            partitions.remove(tp);
        }
        return failure;
    }

    /** Resolved positions of these partitions (those still waiting for a start position are left out). */
    private Map<TopicPartition, Long> positions(Collection<TopicPartition> tps) {
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        for (TopicPartition tp : tps) {
            PartitionState ps = partitions.get(tp);
            if (ps != null && !ps.awaitingCommitted && ps.position != null) {
                out.put(tp, ps.position);
            }
        }
        return out;
    }

    /** Group work at the top of a poll round: assignment changes, committed-offset look-ups, auto-commit. */
    private void groupWork(long now) {
        if (groupId.isEmpty()) {
            return;
        }
        if (mode == Mode.SUBSCRIBED) {
            reconcile();
        }
        resolveCommitted(now);
        maybeAutoCommit(now);
    }

    private void reconcile() {
        GroupMember m = member.orElseThrow();
        GroupMember.View v = m.view();
        if (v.fatal().isPresent()) {
            SluiceException f = v.fatal().get();
            throw new SluiceException(f.code(), "group '" + groupId.get() + "': " + f.getMessage(), f);
        }
        if (v.lost()) {
            Set<TopicPartition> lost = new LinkedHashSet<>(partitions.keySet());
            for (PartitionState ps : partitions.values()) {
                ps.resetStream();
            }
            partitions.clear();
            m.lostHandled();
            if (!lost.isEmpty()) {
                listener.onPartitionsLost(Set.copyOf(lost));
            }
            return;
        }
        if (v.targetVersion() == appliedTargetVersion) {
            return;
        }
        appliedTargetVersion = v.targetVersion();
        Set<TopicPartition> revoked = new LinkedHashSet<>(partitions.keySet());
        revoked.removeAll(v.target());
        Set<TopicPartition> added = new LinkedHashSet<>(v.target());
        added.removeAll(partitions.keySet());
        if (revoked.isEmpty() && added.isEmpty()) {
            return;
        }
        RuntimeException failure = revoke(revoked, true);
        for (TopicPartition tp : added) {
            partitions.put(tp, newPartition(tp));
        }
        m.owned(partitions.keySet());
        if (!added.isEmpty()) {
            try {
                listener.onPartitionsAssigned(Set.copyOf(added));
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Starts one FetchOffsets for the partitions waiting for their committed offset; its answer is an event. */
    private void resolveCommitted(long now) {
        if (committedLookupInFlight || now < committedLookupNotBefore) {
            return;
        }
        Map<TopicPartition, PartitionState> waiting = new LinkedHashMap<>();
        partitions.forEach((tp, ps) -> {
            if (ps.awaitingCommitted) {
                waiting.put(tp, ps);
            }
        });
        if (waiting.isEmpty()) {
            return;
        }
        committedLookupInFlight = true;
        fetchCommitted(groupId.orElseThrow(), waiting.keySet())
                .whenComplete((committed, t) -> events.add(Event.task(() -> {
                    committedLookupInFlight = false;
                    if (t != null) {
                        SluiceException e = ErrorMapper.map(t);
                        if (!(e instanceof RetriableException)) {
                            throw e;
                        }
                        committedLookupNotBefore = System.nanoTime() + RETRY_BACKOFF_NANOS;
                        return;
                    }
                    waiting.forEach((tp, ps) -> {
                        if (partitions.get(tp) == ps && ps.awaitingCommitted) {
                            applyCommitted(ps, Optional.ofNullable(committed.get(tp)));
                        }
                    });
                })));
    }

    private void applyCommitted(PartitionState ps, Optional<Long> committed) {
        ps.awaitingCommitted = false;
        ps.resetStream();
        if (committed.isPresent()) {
            ps.position = committed.get();
            ps.pendingSpec = null;
        } else {
            ps.position = null;
            ps.pendingSpec = autoOffsetReset == OffsetReset.LATEST ? OffsetSpec.latest() : OffsetSpec.earliest();
        }
    }

    private void maybeAutoCommit(long now) {
        if (!autoCommit || autoCommitInFlight || mode == Mode.NONE || now < nextAutoCommitNanos) {
            return;
        }
        nextAutoCommitNanos = now + autoCommitIntervalNanos;
        if (member.isPresent() && mode == Mode.SUBSCRIBED && member.get().view().lost()) {
            return;
        }
        Map<TopicPartition, Long> positions = positions(partitions.keySet());
        if (positions.isEmpty()) {
            return;
        }
        autoCommitInFlight = true;
        commit(groupId.orElseThrow(), positions, true).whenComplete((v, t) -> {
            if (t != null) {
                log.warn(
                        "group {}: auto-commit failed: {}",
                        groupId.get(),
                        ErrorMapper.map(t).getMessage());
            }
            events.add(Event.task(() -> autoCommitInFlight = false));
        });
    }

    /** The group's committed offsets of {@code tps}; partitions without one are absent. */
    private CompletableFuture<Map<TopicPartition, Long>> fetchCommitted(String group, Collection<TopicPartition> tps) {
        FetchOffsetsRequest req = FetchOffsetsRequest.newBuilder()
                .setGroupId(group)
                .addAllPartitions(GroupMember.toProto(tps))
                .build();
        return client.groupCalls()
                .<FetchOffsetsResponse>call(group, true, (s, f) -> s.fetchOffsets(req, Futures.unary(f)))
                .thenApply(r -> {
                    Map<TopicPartition, Long> out = new HashMap<>();
                    for (CommittedOffset c : r.getOffsetsList()) {
                        TopicPartition tp = new TopicPartition(c.getTopic(), c.getPartition());
                        if (c.hasError() && c.getError().getCodeValue() != 0) {
                            SluiceException e = ErrorMapper.fromErrorInfo(c.getError());
                            if (e instanceof RetriableException) {
                                throw e;
                            }
                            continue; // e.g. a deleted topic: nothing committed that could be used
                        }
                        if (c.hasOffset()) {
                            out.put(tp, c.getOffset());
                        }
                    }
                    return out;
                });
    }

    @Override
    public Map<TopicPartition, Long> committed(Set<TopicPartition> tps) {
        checkOpenOrClosing();
        String g = requireGroup();
        if (tps.isEmpty()) {
            return Map.of();
        }
        return Map.copyOf(Futures.await(fetchCommitted(g, tps)));
    }

    @Override
    public void commitSync() {
        commitSync(positionsForCommit());
    }

    @Override
    public void commitSync(Map<TopicPartition, Long> offsets) {
        Futures.await(commitAsync(offsets));
    }

    @Override
    public CompletableFuture<Void> commitAsync() {
        return commitAsync(positionsForCommit());
    }

    private Map<TopicPartition, Long> positionsForCommit() {
        checkOpenOrClosing();
        requireGroup();
        return positions(partitions.keySet());
    }

    @Override
    public CompletableFuture<Void> commitAsync(Map<TopicPartition, Long> offsets) {
        checkOpenOrClosing();
        String g = requireGroup();
        offsets.forEach((tp, o) -> {
            if (o == null || o < 0) {
                throw new IllegalArgumentException("offset to commit for " + tp + " must be >= 0, got " + o);
            }
        });
        return commit(g, Map.copyOf(offsets), true);
    }

    /** Commits as the member (when subscribed) or without membership (assign mode). */
    private CompletableFuture<Void> commit(String group, Map<TopicPartition, Long> offsets, boolean retryStale) {
        if (offsets.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Optional<GroupMember> m = mode == Mode.SUBSCRIBED ? member : Optional.empty();
        // one commit at a time: concurrent unary calls may be applied out of order, and an older auto-commit
        // landing after a newer commit would move the group's offsets back
        CompletableFuture<Void> next =
                commitChain.handle((v, t) -> null).thenCompose(x -> commit(group, offsets, m, retryStale));
        commitChain = next;
        return next;
    }

    private CompletableFuture<Void> commit(
            String group, Map<TopicPartition, Long> offsets, Optional<GroupMember> m, boolean retryStale) {
        GroupMember.View v = m.map(GroupMember::view).orElse(null);
        CommitOffsetsRequest.Builder req = CommitOffsetsRequest.newBuilder().setGroupId(group);
        if (v != null) {
            req.setMemberId(v.memberId()).setMemberEpoch(v.epoch());
        }
        offsets.forEach((tp, o) -> req.addOffsets(OffsetCommit.newBuilder()
                .setTopic(tp.topic())
                .setPartition(tp.partition())
                .setOffset(o)));
        CommitOffsetsRequest request = req.build();
        return client.groupCalls()
                .<CommitOffsetsResponse>call(group, true, (s, f) -> s.commitOffsets(request, Futures.unary(f)))
                .thenApply(r -> {
                    for (OffsetCommitResult res : r.getResultsList()) {
                        if (res.hasError() && res.getError().getCodeValue() != 0) {
                            SluiceException e = ErrorMapper.fromErrorInfo(res.getError());
                            throw new SluiceException(
                                    e.code(),
                                    "commit of " + res.getTopic() + "-" + res.getPartition() + " failed: "
                                            + e.getMessage());
                        }
                    }
                    return (Void) null;
                })
                .exceptionallyCompose(t -> {
                    SluiceException e = ErrorMapper.map(t);
                    if (m.isEmpty() || !isFencing(e.code())) {
                        return CompletableFuture.failedFuture(e);
                    }
                    CompletableFuture<Void> heartbeat = m.get()
                            .heartbeatSoon()
                            .copy()
                            .completeOnTimeout(null, client.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    if (e.code() == ErrorCode.STALE_MEMBER_EPOCH && retryStale) {
                        // the epoch moved on since this commit was built: learn it and try once more
                        return heartbeat.thenCompose(x -> commit(group, offsets, m, false));
                    }
                    return CompletableFuture.failedFuture(new CommitFailedException(
                            e.code(),
                            "group '" + group + "' refused the commit of " + offsets.size()
                                    + " offsets: this consumer is no longer a member owning them (member "
                                    + (v == null ? "?" : v.memberId() + " epoch " + v.epoch()) + "): "
                                    + e.getMessage() + "; its partitions go to other members, which will read "
                                    + "again from the last committed offsets"));
                });
    }

    private static boolean isFencing(ErrorCode code) {
        return code == ErrorCode.FENCED_MEMBER_EPOCH
                || code == ErrorCode.STALE_MEMBER_EPOCH
                || code == ErrorCode.UNKNOWN_MEMBER;
    }

    @Override
    public Set<TopicPartition> assignment() {
        return Set.copyOf(partitions.keySet());
    }

    @Override
    public void seek(TopicPartition tp, long offset) {
        checkOpen();
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        }
        PartitionState ps = state(tp);
        ps.resetStream();
        ps.awaitingCommitted = false;
        ps.position = offset;
        ps.pendingSpec = null;
    }

    private void seekSpec(TopicPartition tp, OffsetSpec spec) {
        checkOpen();
        PartitionState ps = state(tp);
        ps.resetStream();
        ps.awaitingCommitted = false;
        ps.position = null;
        ps.pendingSpec = spec;
    }

    @Override
    public void seekToBeginning(Collection<TopicPartition> tps) {
        tps.forEach(tp -> seekSpec(tp, OffsetSpec.earliest()));
    }

    @Override
    public void seekToEnd(Collection<TopicPartition> tps) {
        tps.forEach(tp -> seekSpec(tp, OffsetSpec.latest()));
    }

    @Override
    public void seekToTimestamp(TopicPartition tp, Instant time) {
        seekSpec(tp, OffsetSpec.forTimestamp(time));
    }

    @Override
    public long position(TopicPartition tp) {
        checkOpen();
        PartitionState ps = state(tp);
        if (ps.awaitingCommitted) {
            Map<TopicPartition, Long> committed = Futures.await(fetchCommitted(groupId.orElseThrow(), List.of(tp)));
            applyCommitted(ps, Optional.ofNullable(committed.get(tp)));
        }
        if (ps.position == null) {
            long resolved =
                    client.adminImpl().listOffsets(Map.of(tp, ps.pendingSpec)).get(tp);
            ps.resetStream();
            ps.position = resolved;
            ps.pendingSpec = null;
        }
        return ps.position;
    }

    @Override
    public List<ConsumedRecord> poll(Duration timeout) {
        checkOpen();
        pollThread = Thread.currentThread();
        polling = true;
        try {
            long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
            List<ConsumedRecord> out = new ArrayList<>();
            while (true) {
                if (wakeup.getAndSet(false)) {
                    throw new WakeupException();
                }
                if (closed) {
                    return out;
                }
                // out is empty here: revoking cannot strand records that poll has not returned yet
                groupWork(System.nanoTime());
                takeBuffered(out);
                if (out.size() >= maxPollRecords) {
                    return out;
                }
                long now = System.nanoTime();
                openStreams(now);
                Event e;
                while (out.size() < maxPollRecords && (e = events.poll()) != null) {
                    handle(e, out);
                }
                if (!out.isEmpty()) {
                    return out;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return out;
                }
                try {
                    e = events.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new SluiceException(ErrorCode.UNKNOWN, "interrupted", ie);
                }
                if (e != null) {
                    handle(e, out);
                }
            }
        } finally {
            polling = false;
            if (closed) {
                cleanup();
            }
        }
    }

    private void takeBuffered(List<ConsumedRecord> out) {
        for (PartitionState ps : partitions.values()) {
            while (out.size() < maxPollRecords && !ps.buffered.isEmpty()) {
                ConsumedRecord r = ps.buffered.pollFirst();
                out.add(r);
                ps.position = r.offset() + 1;
            }
            if (ps.buffered.isEmpty() && ps.position != null && ps.bufferedEnd > ps.position) {
                ps.position = ps.bufferedEnd;
            }
        }
    }

    private void openStreams(long now) {
        for (PartitionState ps : partitions.values()) {
            if (ps.stream != null || ps.awaitingCommitted || now < ps.reopenAtNanos) {
                continue;
            }
            String leader = metadata.leaderEndpoint(ps.tp).orElse(null);
            if (leader == null) {
                refresh(ps.tp.topic(), now);
                ps.reopenAtNanos = now + RETRY_BACKOFF_NANOS;
                continue;
            }
            open(ps, leader);
        }
    }

    private void refresh(String topic, long now) {
        Long last = lastRefresh.get(topic);
        if (last != null && now - last < RETRY_BACKOFF_NANOS) {
            return;
        }
        lastRefresh.put(topic, now);
        metadata.refresh(List.of(topic)).exceptionally(t -> null);
    }

    private void open(PartitionState ps, String leader) {
        int gen = ++ps.generation;
        ps.uncredited = 0; // the new stream starts with all its credits
        FetchStart.Builder start = FetchStart.newBuilder()
                .setTopic(ps.tp.topic())
                .setPartition(ps.tp.partition())
                .setMaxBytes(maxBytes)
                .setInitialCredits(credits);
        if (ps.position != null) {
            start.setOffset(ps.fetchOffset());
        } else if (ps.pendingSpec instanceof OffsetSpec.ForTimestamp ts) {
            start.setTimestampMs(ts.time().toEpochMilli());
        } else if (ps.pendingSpec instanceof OffsetSpec.Latest) {
            start.setBoundary(LogBoundary.LOG_BOUNDARY_LATEST);
        } else {
            start.setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST);
        }
        StreamObserver<FetchResponse> observer = new StreamObserver<>() {
            @Override
            public void onNext(FetchResponse r) {
                events.add(new Event(ps, gen, r, null));
            }

            @Override
            public void onError(Throwable t) {
                events.add(new Event(ps, gen, null, ErrorMapper.map(t)));
            }

            @Override
            public void onCompleted() {
                events.add(new Event(
                        ps,
                        gen,
                        null,
                        new RetriableException(ErrorCode.BROKER_NOT_AVAILABLE, "broker ended the fetch stream")));
            }
        };
        try {
            ps.stream = (ClientCallStreamObserver<FetchRequest>)
                    FetchCall.open(client.connections().channel(leader), observer);
            ps.stream.onNext(FetchRequest.newBuilder().setStart(start).build());
        } catch (RuntimeException e) {
            ps.stream = null;
            metadata.invalidate(ps.tp);
            ps.reopenAtNanos = System.nanoTime() + RETRY_BACKOFF_NANOS;
        }
    }

    private void handle(Event e, List<ConsumedRecord> out) {
        if (e.task() != null) {
            e.task().run();
            return;
        }
        PartitionState ps = e.ps();
        if (ps == null || partitions.get(ps.tp) != ps || e.generation() != ps.generation) {
            return; // wake-up marker, unassigned partition, or a stream replaced by a seek or reopen
        }
        if (e.error() != null) {
            onStreamError(ps, e.error());
            return;
        }
        FetchResponse r = e.response();
        if (r.getRecords().isEmpty()) {
            if (ps.position == null) {
                ps.position = r.getNextOffset();
                ps.pendingSpec = null;
            }
            return;
        }
        ByteBuffer buf = FetchCall.records(r);
        if (ps.position == null) {
            ps.position = RecordBatch.wrap(buf, buf.position()).baseOffset();
            ps.pendingSpec = null;
        }
        long from = ps.fetchOffset();
        long end = from;
        List<ConsumedRecord> decoded = new ArrayList<>();
        int pos = buf.position();
        while (pos < buf.limit()) {
            int size = RecordBatch.sizeAt(buf, pos);
            if (size < 0 || size > buf.limit() - pos) {
                break; // the broker sends whole batches; a tail would be a protocol error, ignore it
            }
            RecordBatch batch = RecordBatch.wrap(buf, pos);
            pos += size;
            batch.ensureValid();
            end = Math.max(end, batch.nextOffset());
            if (batch.isControl() || batch.nextOffset() <= from) {
                continue;
            }
            for (Record rec : batch) {
                if (rec.offset() < from) {
                    continue;
                }
                decoded.add(toConsumed(ps.tp, rec));
            }
        }
        // records already handed out must not be repeated even if the broker resent them
        for (ConsumedRecord c : decoded) {
            if (out.size() < maxPollRecords && ps.buffered.isEmpty()) {
                out.add(c);
                ps.position = c.offset() + 1;
            } else {
                ps.buffered.addLast(c);
            }
        }
        ps.bufferedEnd = end;
        if (ps.buffered.isEmpty() && end > ps.position) {
            ps.position = end;
        }
        if (ps.stream != null && ++ps.uncredited >= creditBatch) {
            ps.stream.onNext(FetchRequest.newBuilder()
                    .setCredit(FetchCredit.newBuilder().setCredits(ps.uncredited))
                    .build());
            ps.uncredited = 0;
        }
    }

    private static ConsumedRecord toConsumed(TopicPartition tp, Record rec) {
        List<Header> in = rec.headers();
        List<io.sluice.client.Header> headers;
        if (in.isEmpty()) {
            headers = List.of();
        } else {
            io.sluice.client.Header[] hs = new io.sluice.client.Header[in.size()];
            for (int i = 0; i < hs.length; i++) {
                hs[i] = new io.sluice.client.Header(in.get(i).key(), in.get(i).value());
            }
            headers = List.of(hs); // immutable already: ConsumedRecord keeps it without a copy
        }
        return new ConsumedRecord(
                tp.topic(), tp.partition(), rec.offset(), rec.timestamp(), rec.keyBytes(), rec.valueBytes(), headers);
    }

    private void onStreamError(PartitionState ps, SluiceException error) {
        ps.stream = null;
        ps.generation++;
        long now = System.nanoTime();
        if (error instanceof NotLeaderException nle) {
            metadata.onNotLeader(ps.tp, nle);
            ps.reopenAtNanos = metadata.leaderEndpoint(ps.tp).isPresent() ? now : now + RETRY_BACKOFF_NANOS;
            if (metadata.leaderEndpoint(ps.tp).isEmpty()) {
                refresh(ps.tp.topic(), now);
            }
            return;
        }
        if (error instanceof RetriableException) {
            metadata.invalidate(ps.tp);
            refresh(ps.tp.topic(), now);
            ps.reopenAtNanos = now + RETRY_BACKOFF_NANOS;
            return;
        }
        if (error instanceof OffsetOutOfRangeException oor && offsetReset != OffsetReset.NONE) {
            ps.buffered.clear();
            ps.position = null;
            ps.pendingSpec = offsetReset == OffsetReset.EARLIEST ? OffsetSpec.earliest() : OffsetSpec.latest();
            ps.reopenAtNanos = now;
            return;
        }
        // not retriable: the partition stays as it is; the application decides (seek, unassign, stop)
        ps.reopenAtNanos = Long.MAX_VALUE;
        throw error;
    }

    @Override
    public void consume(RecordHandler handler) {
        try {
            while (!closed) {
                for (ConsumedRecord r : poll(Duration.ofMillis(100))) {
                    handler.handle(r);
                }
            }
        } catch (WakeupException e) {
            // asked to stop
        }
    }

    @Override
    public CompletableFuture<Void> consumeAsync(RecordHandler handler) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(
                () -> {
                    try {
                        consume(handler);
                        done.complete(null);
                    } catch (Throwable e) {
                        done.completeExceptionally(e);
                    }
                },
                "sluice-consumer-" + id);
        t.setDaemon(true);
        t.start();
        return done;
    }

    @Override
    public void wakeup() {
        wakeup.set(true);
        events.add(new Event(null, 0, null, null));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        events.add(new Event(null, 0, null, null));
        if (!polling) {
            cleanup();
        } else if (Thread.currentThread() != pollThread) {
            // the polling thread owns the positions: let it commit and leave, and wait for it
            try {
                if (!cleanedLatch.await(client.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                    log.warn("consumer {}: the polling thread did not finish closing in time", id);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        client.unregister(this);
    }

    private void cleanup() {
        if (!cleaned.compareAndSet(false, true)) {
            return;
        }
        try {
            if (groupId.isPresent()) {
                closeGroup();
            }
        } finally {
            for (PartitionState ps : partitions.values()) {
                ps.resetStream();
            }
            cleanedLatch.countDown();
        }
    }

    private void closeGroup() {
        GroupMember m = member.orElseThrow();
        boolean lost = mode == Mode.SUBSCRIBED && m.view().lost();
        closingGroup = true;
        if (mode != Mode.NONE && !lost) {
            for (PartitionState ps : partitions.values()) {
                ps.resetStream();
            }
            if (autoCommit) {
                try {
                    Futures.await(commit(groupId.get(), positions(partitions.keySet()), true));
                } catch (SluiceException e) {
                    log.warn("group {}: commit on close failed: {}", groupId.get(), e.getMessage());
                }
            }
            if (mode == Mode.SUBSCRIBED && !partitions.isEmpty()) {
                try {
                    listener.onPartitionsRevoked(Set.copyOf(partitions.keySet()));
                } catch (RuntimeException e) {
                    log.warn("group {}: the rebalance listener failed on close: {}", groupId.get(), e.toString());
                }
            }
        }
        closingGroup = false;
        // a static member stays in the group so that its restart takes its partitions back without a rebalance
        m.leave(mode == Mode.SUBSCRIBED && instanceId.isEmpty(), true);
    }
}
