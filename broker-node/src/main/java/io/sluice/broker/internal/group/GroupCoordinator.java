package io.sluice.broker.internal.group;

import io.sluice.broker.internal.BrokerBackend;
import io.sluice.broker.internal.BrokerException;
import io.sluice.broker.internal.offsets.NotCoordinatorException;
import io.sluice.broker.internal.offsets.OffsetStore;
import io.sluice.broker.internal.offsets.OffsetStore.OffsetCommitEntry;
import io.sluice.broker.internal.offsets.OffsetStore.StoredOffset;
import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import io.sluice.proto.v1.Broker;
import io.sluice.proto.v1.BrokerState;
import io.sluice.proto.v1.CommitOffsetsRequest;
import io.sluice.proto.v1.CommitOffsetsResponse;
import io.sluice.proto.v1.CommittedOffset;
import io.sluice.proto.v1.DeleteGroupRequest;
import io.sluice.proto.v1.DescribeGroupRequest;
import io.sluice.proto.v1.DescribeGroupResponse;
import io.sluice.proto.v1.Endpoint;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.FetchOffsetsRequest;
import io.sluice.proto.v1.FetchOffsetsResponse;
import io.sluice.proto.v1.GroupDescription;
import io.sluice.proto.v1.GroupState;
import io.sluice.proto.v1.GroupSummary;
import io.sluice.proto.v1.HeartbeatRequest;
import io.sluice.proto.v1.HeartbeatResponse;
import io.sluice.proto.v1.LeaveGroupRequest;
import io.sluice.proto.v1.ListGroupsRequest;
import io.sluice.proto.v1.ListGroupsResponse;
import io.sluice.proto.v1.MemberDescription;
import io.sluice.proto.v1.NotLeaderDetail;
import io.sluice.proto.v1.OffsetCommit;
import io.sluice.proto.v1.OffsetCommitResult;
import io.sluice.proto.v1.OffsetResetPlan;
import io.sluice.proto.v1.PartitionLag;
import io.sluice.proto.v1.ResetOffsetsRequest;
import io.sluice.proto.v1.ResetOffsetsResponse;
import io.sluice.proto.v1.SubscribedTopics;
import io.sluice.proto.v1.TopicPartitions;
import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.TopicInfo;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.PatternSyntaxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group coordinator of one broker: the membership state of the groups whose {@code __offsets} partition this
 * broker leads ({@link ConsumerGroup}, soft state), the rules of every GroupService RPC, session and rebalance timeout
 * expiry, and the deletion of expired groups. Committed offsets live in the {@link OffsetStore}; this class never
 * keeps a copy of them.
 *
 * <p>Until {@link #attach} hands it the broker's offset store, every group RPC fails with COORDINATOR_NOT_AVAILABLE
 * (ListGroups answers an empty list). On coordinator failover ({@link OffsetStore.CoordinatorListener}) the groups of
 * a lost partition are dropped; groups of a gained partition are rebuilt as their members heartbeat: for one session
 * timeout after the election, a heartbeat from an unknown member id is taken as a member of the previous coordinator
 * and adopted with the partitions it reports owning (when no other member holds them), so that consumption goes on
 * without a stop-the-world rebalance.
 *
 * <p>Thread-safe: each group is guarded by its own monitor; calls to the offset store and to partition leaders are
 * made outside it. Requests are expected on request threads (some calls block briefly on remote leaders).
 */
public final class GroupCoordinator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinator.class);
    static final int MAX_GROUP_ID_BYTES = 255;
    static final int MAX_ID_CHARS = 255;
    static final int MAX_METADATA_BYTES = 4096;

    private final BrokerBackend backend;
    private final GroupConfig config;
    private final Clock clock;
    private final LogOffsets logOffsets;
    private final ConcurrentMap<String, ConsumerGroup> groups = new ConcurrentHashMap<>();
    /** __offsets partition → when this broker was elected its leader (opens the adoption window). */
    private final ConcurrentMap<Integer, Long> electedAtMs = new ConcurrentHashMap<>();

    private volatile OffsetStore store;
    private volatile long attachedAtMs;
    private ScheduledExecutorService scheduler;

    public GroupCoordinator(BrokerBackend backend, GroupConfig config, Clock clock, LogOffsets logOffsets) {
        this.backend = backend;
        this.config = config;
        this.clock = clock;
        this.logOffsets = logOffsets;
    }

    /** Starts coordinating with {@code offsetStore}: listens for failovers and starts the expiry timers. */
    public void attach(OffsetStore offsetStore) {
        attach(offsetStore, true);
    }

    /** As {@link #attach(OffsetStore)}; without {@code schedule} the expiry sweeps run only when called (tests). */
    synchronized void attach(OffsetStore offsetStore, boolean schedule) {
        if (store != null) {
            throw new IllegalStateException("an offset store is already attached");
        }
        attachedAtMs = clock.millis();
        offsetStore.addCoordinatorListener(new OffsetStore.CoordinatorListener() {
            @Override
            public void onElected(int offsetsPartition) {
                electedAtMs.put(offsetsPartition, clock.millis());
                dropGroupsOf(offsetsPartition);
                LOG.info(
                        "broker {} coordinates the groups of __offsets partition {}",
                        backend.brokerId(),
                        offsetsPartition);
            }

            @Override
            public void onResigned(int offsetsPartition) {
                electedAtMs.remove(offsetsPartition);
                dropGroupsOf(offsetsPartition);
                LOG.info(
                        "broker {} no longer coordinates the groups of __offsets partition {}",
                        backend.brokerId(),
                        offsetsPartition);
            }
        });
        store = offsetStore;
        if (schedule) {
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sluice-group-coordinator");
                t.setDaemon(true);
                return t;
            });
            long sweepMs = Math.max(50, Math.min(250, config.heartbeatIntervalMs() / 2));
            scheduler.scheduleWithFixedDelay(
                    () -> guarded(this::expireMembers), sweepMs, sweepMs, TimeUnit.MILLISECONDS);
            scheduler.scheduleWithFixedDelay(
                    () -> guarded(this::expireGroups),
                    config.retentionCheckIntervalMs(),
                    config.retentionCheckIntervalMs(),
                    TimeUnit.MILLISECONDS);
        }
    }

    /** The state of a group, for tests. */
    Optional<ConsumerGroup> groupForTest(String groupId) {
        return Optional.ofNullable(groups.get(groupId));
    }

    private static void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // A timer task that throws is cancelled for good; log and keep sweeping.
            LOG.warn("group coordinator sweep failed", e);
        }
    }

    private void dropGroupsOf(int offsetsPartition) {
        OffsetStore s = store;
        if (s == null) {
            return;
        }
        groups.keySet().removeIf(g -> s.partitionFor(g) == offsetsPartition);
    }

    public GroupConfig config() {
        return config;
    }

    // ---- FindCoordinator -------------------------------------------------------------------------------------

    /** The coordinator of a group, with its endpoints. */
    public Broker findCoordinator(String groupId) {
        checkGroupId(groupId);
        OffsetStore s = requireStore();
        int id = s.coordinatorOf(groupId)
                .orElseThrow(() -> BrokerException.of(
                        ErrorCode.ERROR_CODE_COORDINATOR_NOT_AVAILABLE,
                        "group \"" + groupId + "\" has no coordinator yet: __offsets partition "
                                + s.partitionFor(groupId)
                                + " has no leader (election in progress or the topic is being created); retry"));
        ClusterMetadata md = backend.metadata().current();
        BrokerInfo b = md.broker(id)
                .orElseThrow(() -> BrokerException.of(
                        ErrorCode.ERROR_CODE_COORDINATOR_NOT_AVAILABLE,
                        "the coordinator of group \"" + groupId + "\" is broker " + id
                                + ", whose endpoints this broker does not know yet; retry"));
        return Broker.newBuilder()
                .setId(b.id())
                .setHost(b.host())
                .setGrpcPort(b.grpcPort())
                .setRaftPort(b.raftPort())
                .setHttpPort(b.httpPort())
                .setRack(b.rack().orElse(""))
                .setState(md.isAlive(b.id()) ? BrokerState.BROKER_STATE_ALIVE : BrokerState.BROKER_STATE_DEAD)
                .build();
    }

    // ---- Heartbeat / LeaveGroup ------------------------------------------------------------------------------

    /** Handles a heartbeat (join, keep-alive, or leave with epoch -1). */
    public HeartbeatResponse heartbeat(HeartbeatRequest req, String clientHost) {
        String groupId = req.getGroupId();
        checkGroupId(groupId);
        int epoch = req.getMemberEpoch();
        if (epoch < -1) {
            throw BrokerException.invalidRequest(
                    "member_epoch",
                    "member_epoch " + epoch + " is invalid (0 joins, -1 leaves, else the current epoch)");
        }
        if (epoch != 0 && req.getMemberId().isEmpty()) {
            throw BrokerException.invalidRequest("member_id", "member_id is required with a non-zero member_epoch");
        }
        checkLength("member_id", req.getMemberId());
        checkLength("instance_id", req.getInstanceId());
        checkLength("client_id", req.getClientId());
        OffsetStore s = requireCoordinator(groupId);
        long now = clock.millis();
        if (epoch == -1) {
            leaveGroup(groupId, req.getMemberId(), -1, now);
            return HeartbeatResponse.newBuilder()
                    .setMemberId(req.getMemberId())
                    .setMemberEpoch(-1)
                    .setHeartbeatIntervalMs(config.heartbeatIntervalMs())
                    .build();
        }
        Subscription subscription = subscription(req);
        int session = req.getSessionTimeoutMs() == 0 ? config.sessionTimeoutMs() : (int) req.getSessionTimeoutMs();
        if (req.getSessionTimeoutMs() != 0
                && (req.getSessionTimeoutMs() < config.minSessionTimeoutMs()
                        || req.getSessionTimeoutMs() > config.maxSessionTimeoutMs())) {
            throw BrokerException.invalidRequest(
                    "session_timeout_ms",
                    "session timeout " + Integer.toUnsignedString(req.getSessionTimeoutMs()) + " ms is outside the"
                            + " broker's bounds [" + config.minSessionTimeoutMs() + ", " + config.maxSessionTimeoutMs()
                            + "] (group.min.session.timeout.ms, group.max.session.timeout.ms)");
        }
        long rebalance = req.getRebalanceTimeoutMs() == 0
                ? config.rebalanceTimeoutMs()
                : Integer.toUnsignedLong(req.getRebalanceTimeoutMs());
        Optional<Assignor> assignor = Optional.empty();
        if (!req.getAssignor().isBlank()) {
            assignor = Optional.of(Assignors.byName(req.getAssignor())
                    .orElseThrow(() -> BrokerException.badRequest(
                            ErrorCode.ERROR_CODE_UNSUPPORTED_ASSIGNOR,
                            "assignor",
                            "unknown assignor \"" + abbreviate(req.getAssignor()) + "\"; this broker offers "
                                    + Assignors.names())));
        }
        Set<TopicPartitionKey> owned = new HashSet<>();
        for (TopicPartitions tps : req.getOwnedPartitionsList()) {
            for (int p : tps.getPartitionsList()) {
                owned.add(new TopicPartitionKey(tps.getTopic(), p));
            }
        }
        Optional<String> instanceId =
                req.getInstanceId().isEmpty() ? Optional.empty() : Optional.of(req.getInstanceId());
        long adoptUntil = electedAtMs.getOrDefault(s.partitionFor(groupId), attachedAtMs) + session;
        ConsumerGroup.Heartbeat hb = new ConsumerGroup.Heartbeat(
                req.getMemberId(),
                epoch,
                instanceId,
                req.getClientId(),
                clientHost,
                subscription,
                session,
                (int) Math.min(Integer.MAX_VALUE, rebalance),
                assignor,
                owned,
                adoptUntil);
        ClusterMetadata md = backend.metadata().current();
        ConsumerGroup.Assignment a;
        while (true) {
            ConsumerGroup group = groups.computeIfAbsent(groupId, g -> new ConsumerGroup(g, config, now));
            synchronized (group) {
                if (groups.get(groupId) != group) {
                    continue; // dropped or replaced meanwhile (failover, deletion): use the current one
                }
                int before = group.memberCount();
                a = group.heartbeat(hb, md, now);
                if (group.memberCount() != before) {
                    LOG.info(
                            "group {}: member {} joined (epoch {}, {} members, group epoch {})",
                            groupId,
                            a.memberId(),
                            a.memberEpoch(),
                            group.memberCount(),
                            group.groupEpoch());
                }
            }
            break;
        }
        return HeartbeatResponse.newBuilder()
                .setMemberId(a.memberId())
                .setMemberEpoch(a.memberEpoch())
                .setHeartbeatIntervalMs(config.heartbeatIntervalMs())
                .addAllAssignment(toTopicPartitions(a.partitions()))
                .build();
    }

    /** LeaveGroup: the member's partitions become assignable at once. */
    public void leave(LeaveGroupRequest req) {
        checkGroupId(req.getGroupId());
        if (req.getMemberId().isEmpty()) {
            throw BrokerException.invalidRequest("member_id", "member_id is required");
        }
        requireCoordinator(req.getGroupId());
        leaveGroup(req.getGroupId(), req.getMemberId(), req.getMemberEpoch(), clock.millis());
    }

    private void leaveGroup(String groupId, String memberId, int epoch, long now) {
        ConsumerGroup group = groups.get(groupId);
        if (group == null) {
            throw GroupErrors.unknownMember(groupId, memberId);
        }
        synchronized (group) {
            group.leave(memberId, epoch, backend.metadata().current(), now);
            LOG.info(
                    "group {}: member {} left ({} members, group epoch {})",
                    groupId,
                    memberId,
                    group.memberCount(),
                    group.groupEpoch());
        }
    }

    private static Subscription subscription(HeartbeatRequest req) {
        switch (req.getSubscriptionCase()) {
            case TOPICS -> {
                SortedSet<String> names = new TreeSet<>();
                for (String n : req.getTopics().getNamesList()) {
                    if (n.isEmpty()) {
                        throw BrokerException.invalidRequest("topics.names", "a subscribed topic name is empty");
                    }
                    checkLength("topics.names", n);
                    names.add(n);
                }
                return new Subscription.Topics(names);
            }
            case TOPIC_REGEX -> {
                checkLength("topic_regex", req.getTopicRegex());
                try {
                    return Subscription.Regex.compile(req.getTopicRegex());
                } catch (PatternSyntaxException e) {
                    throw BrokerException.invalidRequest(
                            "topic_regex",
                            "invalid regular expression \"" + abbreviate(req.getTopicRegex()) + "\": "
                                    + e.getDescription());
                }
            }
            default ->
                throw BrokerException.invalidRequest("subscription", "set the subscription: topics or topic_regex");
        }
    }

    // ---- Offsets -----------------------------------------------------------------------------------------------

    /** CommitOffsets: validates membership and each entry, then commits the valid entries as one write. */
    public CompletableFuture<CommitOffsetsResponse> commit(CommitOffsetsRequest req) {
        String groupId = req.getGroupId();
        checkGroupId(groupId);
        OffsetStore s = requireCoordinator(groupId);
        ConsumerGroup group = groups.get(groupId);
        if (group != null) {
            synchronized (group) {
                group.checkCommit(req.getMemberId(), req.getMemberEpoch());
            }
        } else if (!req.getMemberId().isEmpty()) {
            if (adoptionOpen(s, groupId)) {
                throw BrokerException.of(
                        ErrorCode.ERROR_CODE_COORDINATOR_LOAD_IN_PROGRESS,
                        "this broker just became the coordinator of group \"" + groupId + "\" and has not heard"
                                + " from member \"" + req.getMemberId() + "\" yet; heartbeat, then commit again");
            }
            throw GroupErrors.unknownMember(groupId, req.getMemberId());
        }
        ClusterMetadata md = backend.metadata().current();
        List<OffsetCommitResult.Builder> results = new ArrayList<>();
        List<OffsetCommitEntry> valid = new ArrayList<>();
        Set<TopicPartitionKey> seen = new HashSet<>();
        for (OffsetCommit c : req.getOffsetsList()) {
            OffsetCommitResult.Builder r =
                    OffsetCommitResult.newBuilder().setTopic(c.getTopic()).setPartition(c.getPartition());
            results.add(r);
            TopicPartitionKey tp = new TopicPartitionKey(c.getTopic(), c.getPartition());
            Optional<ErrorInfo> error = checkCommitEntry(md, c, tp, seen);
            if (error.isPresent()) {
                r.setError(error.get());
            } else {
                valid.add(new OffsetCommitEntry(c.getTopic(), c.getPartition(), c.getOffset(), c.getMetadata()));
            }
        }
        CommitOffsetsResponse.Builder resp = CommitOffsetsResponse.newBuilder();
        if (valid.isEmpty()) {
            results.forEach(resp::addResults);
            return CompletableFuture.completedFuture(resp.build());
        }
        return translate(groupId, s.commit(groupId, valid)).thenApply(v -> {
            results.forEach(resp::addResults);
            return resp.build();
        });
    }

    private Optional<ErrorInfo> checkCommitEntry(
            ClusterMetadata md, OffsetCommit c, TopicPartitionKey tp, Set<TopicPartitionKey> seen) {
        Optional<TopicInfo> t = md.topic(c.getTopic());
        if (t.isEmpty()) {
            return Optional.of(
                    error(ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, "unknown topic \"" + abbreviate(c.getTopic()) + "\""));
        }
        if (c.getPartition() < 0 || c.getPartition() >= t.get().partitionCount()) {
            return Optional.of(error(
                    ErrorCode.ERROR_CODE_UNKNOWN_PARTITION,
                    "topic \"" + c.getTopic() + "\" has no partition " + c.getPartition() + " (it has "
                            + t.get().partitionCount() + ")"));
        }
        if (!seen.add(tp)) {
            return Optional.of(error(
                    ErrorCode.ERROR_CODE_INVALID_REQUEST,
                    c.getTopic() + "-" + c.getPartition() + " is listed more than once in the commit"));
        }
        if (c.getOffset() < 0) {
            return Optional.of(error(
                    ErrorCode.ERROR_CODE_INVALID_OFFSET,
                    "offset " + c.getOffset() + " for " + c.getTopic() + "-" + c.getPartition() + " is negative"));
        }
        if (c.getMetadata().getBytes(StandardCharsets.UTF_8).length > MAX_METADATA_BYTES) {
            return Optional.of(error(
                    ErrorCode.ERROR_CODE_INVALID_REQUEST,
                    "metadata for " + c.getTopic() + "-" + c.getPartition() + " is longer than " + MAX_METADATA_BYTES
                            + " bytes"));
        }
        OptionalLong end = logOffsets.localLogEnd(tp);
        if (end.isPresent() && c.getOffset() > end.getAsLong()) {
            return Optional.of(error(
                    ErrorCode.ERROR_CODE_INVALID_OFFSET,
                    "offset " + c.getOffset() + " for " + c.getTopic() + "-" + c.getPartition()
                            + " is beyond the partition's log end " + end.getAsLong()));
        }
        return Optional.empty();
    }

    /** FetchOffsets: the committed positions of the listed partitions, or of every committed partition. */
    public FetchOffsetsResponse fetch(FetchOffsetsRequest req) {
        String groupId = req.getGroupId();
        checkGroupId(groupId);
        OffsetStore s = requireCoordinator(groupId);
        List<TopicPartitionKey> keys = new ArrayList<>();
        for (TopicPartitions tps : req.getPartitionsList()) {
            for (int p : tps.getPartitionsList()) {
                keys.add(new TopicPartitionKey(tps.getTopic(), p));
            }
        }
        Map<TopicPartitionKey, StoredOffset> stored = s.fetch(groupId, keys);
        FetchOffsetsResponse.Builder b = FetchOffsetsResponse.newBuilder();
        if (keys.isEmpty()) {
            keys = new ArrayList<>(stored.keySet());
            keys.sort(Assignor.PARTITION_ORDER);
        }
        for (TopicPartitionKey tp : keys) {
            CommittedOffset.Builder c =
                    CommittedOffset.newBuilder().setTopic(tp.topic()).setPartition(tp.partition());
            StoredOffset o = stored.get(tp);
            if (o != null) {
                c.setOffset(o.offset()).setMetadata(o.metadata()).setCommitTimestampMs(o.commitTimeMs());
            }
            b.addOffsets(c);
        }
        return b.build();
    }

    // ---- ListGroups / DescribeGroup ----------------------------------------------------------------------------

    /** ListGroups: the groups this broker coordinates (active, or with committed offsets). */
    public ListGroupsResponse list(ListGroupsRequest req) {
        Set<GroupState> states = EnumSet.noneOf(GroupState.class);
        for (GroupState st : req.getStatesList()) {
            if (st == GroupState.GROUP_STATE_UNSPECIFIED || st == GroupState.UNRECOGNIZED) {
                throw BrokerException.invalidRequest("states", "GROUP_STATE_UNSPECIFIED is not a state to filter on");
            }
            states.add(st);
        }
        ListGroupsResponse.Builder b = ListGroupsResponse.newBuilder();
        for (GroupSummary g : summaries()) {
            if (states.isEmpty() || states.contains(g.getState())) {
                b.addGroups(g);
            }
        }
        return b.build();
    }

    private List<GroupSummary> summaries() {
        OffsetStore s = store;
        if (s == null) {
            return List.of();
        }
        SortedMap<String, GroupSummary> out = new TreeMap<>();
        for (ConsumerGroup g : groups.values()) {
            if (!s.isCoordinatorFor(g.groupId())) {
                continue;
            }
            synchronized (g) {
                if (g.isEmpty() && !g.isDead()) {
                    continue; // listed below if it has committed offsets
                }
                out.put(
                        g.groupId(),
                        GroupSummary.newBuilder()
                                .setGroupId(g.groupId())
                                .setState(g.state())
                                .setMemberCount(g.memberCount())
                                .build());
            }
        }
        for (String id : s.groups()) {
            out.putIfAbsent(
                    id,
                    GroupSummary.newBuilder()
                            .setGroupId(id)
                            .setState(GroupState.GROUP_STATE_EMPTY)
                            .build());
        }
        return List.copyOf(out.values());
    }

    /** DescribeGroup: state, members, and per partition the committed offset, high watermark and lag. */
    public DescribeGroupResponse describe(DescribeGroupRequest req) {
        String groupId = req.getGroupId();
        checkGroupId(groupId);
        OffsetStore s = requireCoordinator(groupId);
        GroupDescription.Builder d = GroupDescription.newBuilder().setGroupId(groupId);
        Map<TopicPartitionKey, String> owners = new HashMap<>();
        ConsumerGroup group = groups.get(groupId);
        boolean active = false;
        if (group != null) {
            synchronized (group) {
                d.setState(group.state()).setGroupEpoch(group.groupEpoch()).setAssignor(group.assignorName());
                for (Member m : group.members()) {
                    active = true;
                    MemberDescription.Builder md = MemberDescription.newBuilder()
                            .setMemberId(m.memberId)
                            .setInstanceId(m.instanceId.orElse(""))
                            .setClientId(m.clientId)
                            .setClientHost(m.clientHost)
                            .setMemberEpoch(m.memberEpoch)
                            .addAllAssignment(toTopicPartitions(m.assigned));
                    if (m.subscription instanceof Subscription.Topics t) {
                        md.setTopics(SubscribedTopics.newBuilder().addAllNames(t.names()));
                    } else {
                        md.setTopicRegex(((Subscription.Regex) m.subscription).source());
                    }
                    d.addMembers(md);
                    m.holdings().forEach(tp -> owners.put(tp, m.memberId));
                }
            }
        }
        Map<TopicPartitionKey, StoredOffset> committed = s.fetch(groupId, List.of());
        if (!active && committed.isEmpty() && (group == null || !group.isDead())) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_UNKNOWN_GROUP,
                    "group \"" + groupId + "\" does not exist (no members and no committed offsets)");
        }
        if (group == null) {
            d.setState(GroupState.GROUP_STATE_EMPTY);
        }
        SortedSet<TopicPartitionKey> all = new TreeSet<>(Assignor.PARTITION_ORDER);
        all.addAll(owners.keySet());
        all.addAll(committed.keySet());
        Map<TopicPartitionKey, LogOffsets.Bounds> bounds = logOffsets.bounds(all);
        for (TopicPartitionKey tp : all) {
            PartitionLag.Builder p = PartitionLag.newBuilder()
                    .setTopic(tp.topic())
                    .setPartition(tp.partition())
                    .setMemberId(owners.getOrDefault(tp, ""));
            StoredOffset o = committed.get(tp);
            LogOffsets.Bounds bd = bounds.get(tp);
            if (o != null) {
                p.setCommittedOffset(o.offset());
            }
            if (bd != null) {
                p.setHighWatermark(bd.highWatermark());
            }
            if (o != null && bd != null) {
                p.setLag(bd.highWatermark() - o.offset());
            }
            d.addPartitions(p);
        }
        return DescribeGroupResponse.newBuilder().setGroup(d).build();
    }

    // ---- ResetOffsets / DeleteGroup ----------------------------------------------------------------------------

    /**
     * ResetOffsets: computes the new offset of each partition, clamped to {@code [log start, high watermark]} like
     * {@code kafka-consumer-groups --reset-offsets}, and (without dry run) commits the plan as one write.
     */
    public CompletableFuture<ResetOffsetsResponse> reset(ResetOffsetsRequest req) {
        String groupId = req.getGroupId();
        checkGroupId(groupId);
        OffsetStore s = requireCoordinator(groupId);
        switch (req.getSpecCase()) {
            case BOUNDARY -> {
                if (req.getBoundary() != io.sluice.proto.v1.LogBoundary.LOG_BOUNDARY_EARLIEST
                        && req.getBoundary() != io.sluice.proto.v1.LogBoundary.LOG_BOUNDARY_LATEST) {
                    throw BrokerException.invalidRequest("boundary", "boundary must be EARLIEST or LATEST");
                }
            }
            case OFFSET -> {
                if (req.getOffset() < 0) {
                    throw BrokerException.badRequest(
                            ErrorCode.ERROR_CODE_INVALID_OFFSET,
                            "offset",
                            "offset " + req.getOffset() + " is negative");
                }
            }
            case TIMESTAMP_MS -> {
                if (req.getTimestampMs() < 0) {
                    throw BrokerException.badRequest(
                            ErrorCode.ERROR_CODE_INVALID_TIMESTAMP,
                            "timestamp_ms",
                            "timestamp " + req.getTimestampMs() + " is negative");
                }
            }
            case SHIFT_BY -> {}
            default ->
                throw BrokerException.invalidRequest(
                        "spec", "set where to reset to: boundary, offset, timestamp_ms or shift_by");
        }
        TopicInfo topic = backend.metadata()
                .current()
                .topic(req.getTopic())
                .orElseThrow(() -> BrokerException.of(
                        ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, "unknown topic \"" + abbreviate(req.getTopic()) + "\""));
        ConsumerGroup group = groups.get(groupId);
        if (group != null && !req.getDryRun()) {
            synchronized (group) {
                if (group.isDead()) {
                    throw GroupErrors.deleting(groupId);
                }
                if (!group.isEmpty()) {
                    throw GroupErrors.notEmpty(groupId, group.memberCount(), "resetting offsets");
                }
            }
        }
        Set<Integer> partitions = new LinkedHashSet<>(req.getPartitionsList());
        if (partitions.isEmpty()) {
            for (int p = 0; p < topic.partitionCount(); p++) {
                partitions.add(p);
            }
        }
        List<Integer> sorted = new ArrayList<>(new TreeSet<>(partitions));
        List<TopicPartitionKey> keys = new ArrayList<>();
        for (int p : sorted) {
            if (p >= 0 && p < topic.partitionCount()) {
                keys.add(new TopicPartitionKey(topic.name(), p));
            }
        }
        Map<TopicPartitionKey, StoredOffset> current = keys.isEmpty() ? Map.of() : s.fetch(groupId, keys);
        Map<TopicPartitionKey, LogOffsets.Bounds> bounds = logOffsets.bounds(keys);
        Map<TopicPartitionKey, OptionalLong> byTime = req.getSpecCase() == ResetOffsetsRequest.SpecCase.TIMESTAMP_MS
                ? logOffsets.offsetsForTimestamp(keys, req.getTimestampMs())
                : Map.of();
        ResetOffsetsResponse.Builder resp = ResetOffsetsResponse.newBuilder().setTopic(topic.name());
        List<OffsetCommitEntry> entries = new ArrayList<>();
        for (int p : sorted) {
            OffsetResetPlan.Builder plan = OffsetResetPlan.newBuilder().setPartition(p);
            TopicPartitionKey tp = new TopicPartitionKey(topic.name(), p);
            StoredOffset cur = current.get(tp);
            if (cur != null) {
                plan.setCurrentOffset(cur.offset());
            }
            try {
                long target = planOffset(req, topic, p, cur, bounds.get(tp), byTime.get(tp));
                plan.setNewOffset(target);
                entries.add(new OffsetCommitEntry(topic.name(), p, target, ""));
            } catch (BrokerException e) {
                plan.setError(e.info());
            }
            resp.addPartitions(plan);
        }
        if (req.getDryRun() || entries.isEmpty()) {
            return CompletableFuture.completedFuture(resp.build());
        }
        LOG.info("group {}: resetting offsets of {} partitions of {}", groupId, entries.size(), topic.name());
        return translate(groupId, s.commit(groupId, entries)).thenApply(v -> resp.build());
    }

    private static long planOffset(
            ResetOffsetsRequest req,
            TopicInfo topic,
            int p,
            StoredOffset cur,
            LogOffsets.Bounds bounds,
            OptionalLong byTime) {
        if (p < 0 || p >= topic.partitionCount()) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_UNKNOWN_PARTITION,
                    "topic \"" + topic.name() + "\" has no partition " + p + " (it has " + topic.partitionCount()
                            + ")");
        }
        if (bounds == null) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_NOT_LEADER,
                    "the leader of " + topic.name() + "-" + p + " did not report its log start offset and high"
                            + " watermark (no leader or unreachable); retry");
        }
        long wanted =
                switch (req.getSpecCase()) {
                    case BOUNDARY ->
                        req.getBoundary() == io.sluice.proto.v1.LogBoundary.LOG_BOUNDARY_EARLIEST
                                ? bounds.logStartOffset()
                                : bounds.highWatermark();
                    case OFFSET -> req.getOffset();
                    case TIMESTAMP_MS -> {
                        if (byTime == null) {
                            throw BrokerException.of(
                                    ErrorCode.ERROR_CODE_NOT_LEADER,
                                    "the leader of " + topic.name() + "-" + p
                                            + " did not answer the timestamp lookup; retry");
                        }
                        yield byTime.orElse(bounds.highWatermark());
                    }
                    case SHIFT_BY -> {
                        if (cur == null) {
                            throw BrokerException.of(
                                    ErrorCode.ERROR_CODE_INVALID_OFFSET,
                                    topic.name() + "-" + p + " has no committed offset to shift from");
                        }
                        long shifted = cur.offset() + req.getShiftBy();
                        // Saturate instead of overflowing: the clamp below brings it into range.
                        if (((cur.offset() ^ shifted) & (req.getShiftBy() ^ shifted)) < 0) {
                            shifted = req.getShiftBy() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
                        }
                        yield shifted;
                    }
                    default -> throw new IllegalStateException("spec checked above");
                };
        return Math.max(bounds.logStartOffset(), Math.min(bounds.highWatermark(), wanted));
    }

    /** DeleteGroup: refused while the group has members; deletes its offsets. */
    public CompletableFuture<Void> delete(DeleteGroupRequest req) {
        String groupId = req.getGroupId();
        checkGroupId(groupId);
        OffsetStore s = requireCoordinator(groupId);
        ConsumerGroup group = groups.get(groupId);
        if (group != null) {
            synchronized (group) {
                if (group.isDead()) {
                    throw GroupErrors.deleting(groupId);
                }
                if (!group.isEmpty()) {
                    throw GroupErrors.notEmpty(groupId, group.memberCount(), "deleting the group");
                }
            }
        }
        if (group == null
                && !s.groups().contains(groupId)
                && s.fetch(groupId, List.of()).isEmpty()) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_UNKNOWN_GROUP,
                    "group \"" + groupId + "\" does not exist (no members and no committed offsets)");
        }
        return deleteGroup(s, groupId, "deleted on request");
    }

    private CompletableFuture<Void> deleteGroup(OffsetStore s, String groupId, String why) {
        ConsumerGroup dead = new ConsumerGroup(groupId, config, clock.millis());
        ConsumerGroup group = groups.compute(groupId, (k, g) -> g == null ? dead : g);
        synchronized (group) {
            if (!group.isEmpty() || group.isDead()) {
                return CompletableFuture.failedFuture(
                        group.isDead()
                                ? GroupErrors.deleting(groupId)
                                : GroupErrors.notEmpty(groupId, group.memberCount(), "deleting the group"));
            }
            group.markDead(true);
        }
        return translate(groupId, s.deleteGroup(groupId)).whenComplete((v, e) -> {
            if (e == null) {
                groups.remove(groupId, group);
                LOG.info("group {} {}", groupId, why);
            } else {
                synchronized (group) {
                    group.markDead(false);
                }
            }
        });
    }

    // ---- Timers ------------------------------------------------------------------------------------------------

    /** Removes members whose session or rebalance timeout lapsed; applies metadata changes to idle groups. */
    void expireMembers() {
        OffsetStore s = store;
        if (s == null) {
            return;
        }
        long now = clock.millis();
        ClusterMetadata md = backend.metadata().current();
        for (ConsumerGroup g : groups.values()) {
            synchronized (g) {
                List<String> gone = g.expire(md, now);
                if (!gone.isEmpty()) {
                    LOG.info(
                            "group {}: removed member(s) {} after their session or rebalance timeout ({} members left,"
                                    + " group epoch {})",
                            g.groupId(),
                            gone,
                            g.memberCount(),
                            g.groupEpoch());
                }
                g.onMetadata(md);
            }
        }
    }

    /**
     * Deletes groups without members whose last commit (and the moment they became empty) is older than {@code
     * offsets.retention.ms}, and forgets empty groups that never committed.
     */
    void expireGroups() {
        OffsetStore s = store;
        if (s == null) {
            return;
        }
        long now = clock.millis();
        Set<String> ids = new TreeSet<>(s.groups());
        ids.addAll(groups.keySet());
        for (String id : ids) {
            if (!s.isCoordinatorFor(id)) {
                continue;
            }
            ConsumerGroup g = groups.get(id);
            long emptySince = 0;
            if (g != null) {
                synchronized (g) {
                    if (!g.isEmpty() || g.isDead()) {
                        continue;
                    }
                    emptySince = g.emptySinceMs();
                }
            }
            Map<TopicPartitionKey, StoredOffset> offsets = s.fetch(id, List.of());
            if (offsets.isEmpty()) {
                if (g != null && now - emptySince >= config.maxSessionTimeoutMs()) {
                    groups.remove(id, g);
                }
                continue;
            }
            long last = emptySince;
            for (StoredOffset o : offsets.values()) {
                last = Math.max(last, o.commitTimeMs());
            }
            if (now - last >= config.offsetsRetentionMs()) {
                deleteGroup(
                                s,
                                id,
                                "expired: no member and no commit for " + (now - last) + " ms (offsets.retention.ms)")
                        .exceptionally(e -> {
                            LOG.warn("group {}: could not delete the expired group: {}", id, e.toString());
                            return null;
                        });
            }
        }
    }

    // ---- Metrics -----------------------------------------------------------------------------------------------

    /** Lag of one partition for a group: high watermark minus committed offset. */
    public record PartitionLagSample(String topic, int partition, long lag) {}

    /** Member count and per-partition lag of one coordinated group. */
    public record GroupLagSample(String groupId, int memberCount, List<PartitionLagSample> partitions) {}

    /**
     * Member count and lag of every group this broker coordinates, for metrics. Partitions whose high watermark is
     * unknown (no leader answered) are left out. Blocks briefly on remote leaders.
     */
    public List<GroupLagSample> lagSamples() {
        OffsetStore s = store;
        if (s == null) {
            return List.of();
        }
        List<GroupSummary> summaries = summaries();
        Map<String, Map<TopicPartitionKey, StoredOffset>> committed = new TreeMap<>();
        Set<TopicPartitionKey> all = new HashSet<>();
        for (GroupSummary g : summaries) {
            Map<TopicPartitionKey, StoredOffset> c = s.fetch(g.getGroupId(), List.of());
            committed.put(g.getGroupId(), c);
            all.addAll(c.keySet());
        }
        Map<TopicPartitionKey, LogOffsets.Bounds> bounds = logOffsets.bounds(all);
        List<GroupLagSample> out = new ArrayList<>();
        for (GroupSummary g : summaries) {
            List<PartitionLagSample> lags = new ArrayList<>();
            List<TopicPartitionKey> keys =
                    new ArrayList<>(committed.get(g.getGroupId()).keySet());
            keys.sort(Assignor.PARTITION_ORDER);
            for (TopicPartitionKey tp : keys) {
                LogOffsets.Bounds b = bounds.get(tp);
                if (b != null) {
                    lags.add(new PartitionLagSample(
                            tp.topic(),
                            tp.partition(),
                            b.highWatermark()
                                    - committed.get(g.getGroupId()).get(tp).offset()));
                }
            }
            out.add(new GroupLagSample(g.getGroupId(), g.getMemberCount(), List.copyOf(lags)));
        }
        return out;
    }

    // ---- Helpers -----------------------------------------------------------------------------------------------

    private OffsetStore requireStore() {
        OffsetStore s = store;
        if (s == null) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_COORDINATOR_NOT_AVAILABLE,
                    "consumer groups are not available on this broker yet (its offset storage is starting); retry");
        }
        return s;
    }

    /** The store, if this broker coordinates the group; else NOT_COORDINATOR naming the coordinator when known. */
    private OffsetStore requireCoordinator(String groupId) {
        OffsetStore s = requireStore();
        if (s.isCoordinatorFor(groupId)) {
            return s;
        }
        Optional<Integer> coordinator = s.coordinatorOf(groupId);
        if (coordinator.isPresent() && coordinator.get() == backend.brokerId()) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_COORDINATOR_LOAD_IN_PROGRESS,
                    "this broker just became the coordinator of group \"" + groupId + "\" and is still loading its"
                            + " offsets; retry shortly");
        }
        if (coordinator.isEmpty()) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_COORDINATOR_NOT_AVAILABLE,
                    "group \"" + groupId + "\" has no coordinator yet (__offsets partition " + s.partitionFor(groupId)
                            + " is electing a leader); retry after FindCoordinator");
        }
        throw notCoordinator(groupId, coordinator);
    }

    private BrokerException notCoordinator(String groupId, Optional<Integer> coordinator) {
        NotLeaderDetail.Builder d = NotLeaderDetail.newBuilder();
        Optional<BrokerInfo> b = coordinator.flatMap(backend::broker);
        b.ifPresent(bi -> d.setLeaderId(bi.id())
                .setLeaderEndpoint(Endpoint.newBuilder().setHost(bi.host()).setPort(bi.grpcPort())));
        String where = b.map(bi -> "; the coordinator is broker " + bi.id() + " at " + bi.host() + ":" + bi.grpcPort())
                .orElse(coordinator
                        .map(id -> "; the coordinator is broker " + id)
                        .orElse("; no coordinator is known (election in progress)"));
        return new BrokerException(ErrorInfo.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_NOT_COORDINATOR)
                .setMessage(
                        "broker " + backend.brokerId() + " is not the coordinator of group \"" + groupId + "\"" + where)
                .setNotLeader(d)
                .build());
    }

    /** Maps the store's NotCoordinatorException to the client-facing NOT_COORDINATOR. */
    private <T> CompletableFuture<T> translate(String groupId, CompletableFuture<T> f) {
        return f.handle((v, e) -> {
                    if (e == null) {
                        return CompletableFuture.completedFuture(v);
                    }
                    Throwable c = unwrap(e);
                    if (c instanceof NotCoordinatorException nce) {
                        groups.remove(groupId);
                        return CompletableFuture.<T>failedFuture(notCoordinator(groupId, nce.coordinator()));
                    }
                    return CompletableFuture.<T>failedFuture(c);
                })
                .thenCompose(x -> x);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof java.util.concurrent.CompletionException
                        || e instanceof java.util.concurrent.ExecutionException)
                && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private boolean adoptionOpen(OffsetStore s, String groupId) {
        return clock.millis()
                < electedAtMs.getOrDefault(s.partitionFor(groupId), attachedAtMs) + config.maxSessionTimeoutMs();
    }

    static void checkGroupId(String groupId) {
        int bytes = groupId.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_GROUP_ID_BYTES) {
            throw BrokerException.badRequest(
                    ErrorCode.ERROR_CODE_INVALID_GROUP_ID,
                    "group_id",
                    bytes == 0
                            ? "the group id is empty"
                            : "the group id has " + bytes + " bytes of UTF-8, more than " + MAX_GROUP_ID_BYTES);
        }
    }

    private static void checkLength(String field, String value) {
        if (value.length() > MAX_ID_CHARS) {
            throw BrokerException.invalidRequest(
                    field, "is " + value.length() + " characters long, more than " + MAX_ID_CHARS);
        }
    }

    private static ErrorInfo error(ErrorCode code, String message) {
        return ErrorInfo.newBuilder().setCode(code).setMessage(message).build();
    }

    static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    static List<TopicPartitions> toTopicPartitions(Collection<TopicPartitionKey> partitions) {
        SortedMap<String, SortedSet<Integer>> byTopic = new TreeMap<>();
        for (TopicPartitionKey tp : partitions) {
            byTopic.computeIfAbsent(tp.topic(), k -> new TreeSet<>()).add(tp.partition());
        }
        List<TopicPartitions> out = new ArrayList<>();
        byTopic.forEach((t, ps) -> out.add(
                TopicPartitions.newBuilder().setTopic(t).addAllPartitions(ps).build()));
        return out;
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }
}
