package io.sluice.client.internal;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.proto.v1.*;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * An in-process stand-in for the group coordinator, implementing GroupService just enough to test the SDK's
 * membership protocol: one coordinator broker (movable; the others answer NOT_COORDINATOR), members with ids and
 * epochs, a round-robin target assignment handed out incrementally (a partition is never given to a member while
 * another member still reports owning it), epoch checks on heartbeats and commits, injectable fencing, and a log of
 * what happened for assertions. Thread-safe (one lock).
 */
final class FakeGroups {
    /** A commit as the coordinator saw it: who, and what that member reported owning at the time. */
    record CommitEvent(String group, String memberId, TopicPartition tp, long offset) {}

    /** A heartbeat as received. */
    record HeartbeatEvent(int broker, String memberId, int epoch, Set<TopicPartition> owned) {}

    static final class Member {
        final String id;
        final String instanceId;
        int epoch;
        int previousEpoch = -1;
        List<String> topics = List.of();
        String regex = "";
        String assignor = "";
        Set<TopicPartition> owned = Set.of();
        Set<TopicPartition> assigned = Set.of();

        Member(String id, String instanceId) {
            this.id = id;
            this.instanceId = instanceId;
        }
    }

    static final class Group {
        final Map<String, Member> members = new TreeMap<>();
        final Map<TopicPartition, Long> offsets = new TreeMap<>(
                java.util.Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        int groupEpoch;
        String assignor = "";
    }

    private final FakeCluster cluster;
    final Map<String, Group> groups = new TreeMap<>();
    volatile int coordinatorId = 1;
    volatile int heartbeatIntervalMs = 30;
    final Set<String> fenceNext = new HashSet<>();
    final Set<String> fencedInstances = new HashSet<>();
    final List<CommitEvent> commits = new CopyOnWriteArrayList<>();
    final List<HeartbeatEvent> heartbeats = new CopyOnWriteArrayList<>();
    final List<String> leaves = new CopyOnWriteArrayList<>();
    final AtomicInteger joins = new AtomicInteger();
    final AtomicInteger fenced = new AtomicInteger();
    final AtomicInteger findCoordinator = new AtomicInteger();
    final AtomicInteger notCoordinator = new AtomicInteger();
    /** Times two members reported owning the same partition at once: the protocol must keep this 0. */
    final AtomicInteger doubleOwnership = new AtomicInteger();

    private int memberIds;

    FakeGroups(FakeCluster cluster) {
        this.cluster = cluster;
    }

    synchronized void commit(String group, TopicPartition tp, long offset) {
        groups.computeIfAbsent(group, g -> new Group()).offsets.put(tp, offset);
    }

    synchronized Long committed(String group, TopicPartition tp) {
        Group g = groups.get(group);
        return g == null ? null : g.offsets.get(tp);
    }

    synchronized void fence(String memberId) {
        fenceNext.add(memberId);
    }

    synchronized List<String> memberIds(String group) {
        Group g = groups.get(group);
        return g == null ? List.of() : new ArrayList<>(g.members.keySet());
    }

    static io.grpc.StatusRuntimeException error(Status status, ErrorCode code, String message) {
        return FakeCluster.failure(
                status, ErrorInfo.newBuilder().setCode(code).setMessage(message).build());
    }

    private Set<TopicPartition> subscribed(Member m) {
        Set<TopicPartition> out = new LinkedHashSet<>();
        synchronized (cluster) {
            cluster.topics.forEach((t, n) -> {
                boolean match = m.regex.isEmpty() ? m.topics.contains(t) : Pattern.matches(m.regex, t);
                if (match) {
                    for (int p = 0; p < n; p++) {
                        out.add(new TopicPartition(t, p));
                    }
                }
            });
        }
        return out;
    }

    /** Round-robin of every subscribed partition over the members (sorted by id). Guarded by this. */
    private Map<String, Set<TopicPartition>> targets(Group g) {
        Map<String, Set<TopicPartition>> out = new LinkedHashMap<>();
        List<Member> ms = new ArrayList<>(g.members.values());
        for (Member m : ms) {
            out.put(m.id, new LinkedHashSet<>());
        }
        Set<TopicPartition> all = new java.util.TreeSet<>(
                java.util.Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        for (Member m : ms) {
            all.addAll(subscribed(m));
        }
        int i = 0;
        for (TopicPartition tp : all) {
            for (int k = 0; k < ms.size(); k++) {
                Member m = ms.get((i + k) % ms.size());
                if (subscribed(m).contains(tp)) {
                    out.get(m.id).add(tp);
                    break;
                }
            }
            i++;
        }
        return out;
    }

    private boolean notCoordinator(int broker, StreamObserver<?> obs) {
        if (broker == coordinatorId) {
            return false;
        }
        notCoordinator.incrementAndGet();
        obs.onError(error(
                Status.UNAVAILABLE,
                ErrorCode.ERROR_CODE_NOT_COORDINATOR,
                "broker " + broker + " does not coordinate this group"));
        return true;
    }

    long offsetForTime(TopicPartition tp, long ts) {
        for (ByteBuffer b : cluster.log(tp)) {
            for (Record r : RecordBatch.wrap(b)) {
                if (r.timestamp() >= ts) {
                    return r.offset();
                }
            }
        }
        return cluster.logEnd(tp);
    }

    final class Service extends GroupServiceGrpc.GroupServiceImplBase {
        final int id;

        Service(int id) {
            this.id = id;
        }

        @Override
        public void findCoordinator(FindCoordinatorRequest req, StreamObserver<FindCoordinatorResponse> obs) {
            findCoordinator.incrementAndGet();
            int c = coordinatorId;
            if (c == 0) {
                obs.onError(error(
                        Status.UNAVAILABLE, ErrorCode.ERROR_CODE_COORDINATOR_NOT_AVAILABLE, "no coordinator yet"));
                return;
            }
            obs.onNext(FindCoordinatorResponse.newBuilder()
                    .setCoordinator(
                            Broker.newBuilder().setId(c).setHost("b" + c).setGrpcPort(1))
                    .build());
            obs.onCompleted();
        }

        @Override
        public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatResponse> obs) {
            if (notCoordinator(id, obs)) {
                return;
            }
            HeartbeatResponse response;
            synchronized (FakeGroups.this) {
                Set<TopicPartition> owned = GroupMember.fromProto(req.getOwnedPartitionsList());
                heartbeats.add(new HeartbeatEvent(id, req.getMemberId(), req.getMemberEpoch(), owned));
                Group g = groups.computeIfAbsent(req.getGroupId(), k -> new Group());
                if (!g.members.isEmpty() && !g.assignor.equals(req.getAssignor())) {
                    obs.onError(error(
                            Status.FAILED_PRECONDITION,
                            ErrorCode.ERROR_CODE_INCONSISTENT_ASSIGNOR,
                            "the group uses another assignor"));
                    return;
                }
                if (req.getAssignor().equals("bogus")) {
                    obs.onError(error(
                            Status.INVALID_ARGUMENT,
                            ErrorCode.ERROR_CODE_UNSUPPORTED_ASSIGNOR,
                            "unknown assignor 'bogus'"));
                    return;
                }
                Member m;
                if (req.getMemberId().isEmpty()) {
                    joins.incrementAndGet();
                    m = new Member("m" + (++memberIds), req.getInstanceId());
                    if (!req.getInstanceId().isEmpty()) {
                        for (Member old : List.copyOf(g.members.values())) {
                            if (old.instanceId.equals(req.getInstanceId())) {
                                g.members.remove(old.id);
                                fencedInstances.add(old.id);
                                m.assigned = old.assigned;
                                m.owned = old.assigned;
                            }
                        }
                    }
                    g.members.put(m.id, m);
                    g.groupEpoch++;
                } else {
                    m = g.members.get(req.getMemberId());
                    if (m == null) {
                        ErrorCode code = fencedInstances.contains(req.getMemberId())
                                ? ErrorCode.ERROR_CODE_FENCED_INSTANCE_ID
                                : ErrorCode.ERROR_CODE_UNKNOWN_MEMBER;
                        obs.onError(error(
                                Status.FAILED_PRECONDITION,
                                code,
                                "member " + req.getMemberId() + " is not in the group"));
                        return;
                    }
                    boolean epochOk = req.getMemberEpoch() == m.epoch
                            || (req.getMemberEpoch() == m.previousEpoch && m.assigned.containsAll(owned));
                    if (fenceNext.remove(m.id) || !epochOk) {
                        g.members.remove(m.id);
                        g.groupEpoch++;
                        fenced.incrementAndGet();
                        obs.onError(error(
                                Status.FAILED_PRECONDITION,
                                ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH,
                                "member " + m.id + " epoch " + req.getMemberEpoch() + " is fenced"));
                        return;
                    }
                    m.owned = owned;
                }
                g.assignor = req.getAssignor();
                m.topics = req.hasTopics() ? req.getTopics().getNamesList() : List.of();
                m.regex = req.hasTopicRegex() ? req.getTopicRegex() : "";
                for (Member other : g.members.values()) {
                    if (other != m) {
                        for (TopicPartition tp : m.owned) {
                            if (other.owned.contains(tp)) {
                                doubleOwnership.incrementAndGet();
                            }
                        }
                    }
                }
                Map<String, Set<TopicPartition>> targets = targets(g);
                Set<TopicPartition> next = new LinkedHashSet<>();
                for (TopicPartition tp : targets.get(m.id)) {
                    boolean ownedElsewhere = g.members.values().stream()
                            .anyMatch(o -> o != m && (o.owned.contains(tp) || o.assigned.contains(tp)));
                    if (!ownedElsewhere) {
                        next.add(tp);
                    }
                }
                if (!next.equals(m.assigned) || m.epoch == 0) {
                    m.previousEpoch = m.epoch;
                    m.epoch = m.epoch + 1;
                    m.assigned = next;
                }
                response = HeartbeatResponse.newBuilder()
                        .setMemberId(m.id)
                        .setMemberEpoch(m.epoch)
                        .setHeartbeatIntervalMs(heartbeatIntervalMs)
                        .addAllAssignment(GroupMember.toProto(m.assigned))
                        .build();
            }
            obs.onNext(response);
            obs.onCompleted();
        }

        @Override
        public void leaveGroup(LeaveGroupRequest req, StreamObserver<LeaveGroupResponse> obs) {
            if (notCoordinator(id, obs)) {
                return;
            }
            synchronized (FakeGroups.this) {
                Group g = groups.get(req.getGroupId());
                if (g == null || g.members.remove(req.getMemberId()) == null) {
                    obs.onError(error(Status.FAILED_PRECONDITION, ErrorCode.ERROR_CODE_UNKNOWN_MEMBER, "unknown"));
                    return;
                }
                g.groupEpoch++;
                leaves.add(req.getMemberId());
            }
            obs.onNext(LeaveGroupResponse.getDefaultInstance());
            obs.onCompleted();
        }

        @Override
        public void commitOffsets(CommitOffsetsRequest req, StreamObserver<CommitOffsetsResponse> obs) {
            if (notCoordinator(id, obs)) {
                return;
            }
            CommitOffsetsResponse.Builder r = CommitOffsetsResponse.newBuilder();
            synchronized (FakeGroups.this) {
                Group g = groups.computeIfAbsent(req.getGroupId(), k -> new Group());
                if (req.getMemberId().isEmpty()) {
                    if (!g.members.isEmpty()) {
                        obs.onError(error(
                                Status.FAILED_PRECONDITION, ErrorCode.ERROR_CODE_GROUP_NOT_EMPTY, "group has members"));
                        return;
                    }
                } else {
                    Member m = g.members.get(req.getMemberId());
                    if (m == null) {
                        obs.onError(error(
                                Status.FAILED_PRECONDITION,
                                ErrorCode.ERROR_CODE_UNKNOWN_MEMBER,
                                "member " + req.getMemberId() + " is not in the group"));
                        return;
                    }
                    if (req.getMemberEpoch() != m.epoch) {
                        ErrorCode code = req.getMemberEpoch() < m.epoch
                                ? ErrorCode.ERROR_CODE_STALE_MEMBER_EPOCH
                                : ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH;
                        obs.onError(error(
                                Status.FAILED_PRECONDITION,
                                code,
                                "epoch " + req.getMemberEpoch() + " is not the member's epoch " + m.epoch));
                        return;
                    }
                }
                for (OffsetCommit c : req.getOffsetsList()) {
                    TopicPartition tp = new TopicPartition(c.getTopic(), c.getPartition());
                    g.offsets.put(tp, c.getOffset());
                    commits.add(new CommitEvent(req.getGroupId(), req.getMemberId(), tp, c.getOffset()));
                    r.addResults(OffsetCommitResult.newBuilder()
                            .setTopic(c.getTopic())
                            .setPartition(c.getPartition()));
                }
            }
            obs.onNext(r.build());
            obs.onCompleted();
        }

        @Override
        public void fetchOffsets(FetchOffsetsRequest req, StreamObserver<FetchOffsetsResponse> obs) {
            if (notCoordinator(id, obs)) {
                return;
            }
            FetchOffsetsResponse.Builder r = FetchOffsetsResponse.newBuilder();
            synchronized (FakeGroups.this) {
                Group g = groups.get(req.getGroupId());
                Map<TopicPartition, Long> offsets = g == null ? Map.of() : g.offsets;
                Iterable<TopicPartition> asked = req.getPartitionsCount() == 0
                        ? offsets.keySet()
                        : GroupMember.fromProto(req.getPartitionsList());
                for (TopicPartition tp : asked) {
                    CommittedOffset.Builder c =
                            CommittedOffset.newBuilder().setTopic(tp.topic()).setPartition(tp.partition());
                    Long o = offsets.get(tp);
                    if (o != null) {
                        c.setOffset(o).setCommitTimestampMs(1);
                    }
                    r.addOffsets(c);
                }
            }
            obs.onNext(r.build());
            obs.onCompleted();
        }

        @Override
        public void listGroups(ListGroupsRequest req, StreamObserver<ListGroupsResponse> obs) {
            ListGroupsResponse.Builder r = ListGroupsResponse.newBuilder();
            if (id == coordinatorId) {
                synchronized (FakeGroups.this) {
                    groups.forEach((name, g) -> r.addGroups(GroupSummary.newBuilder()
                            .setGroupId(name)
                            .setState(state(g))
                            .setMemberCount(g.members.size())));
                }
            }
            obs.onNext(r.build());
            obs.onCompleted();
        }

        private GroupState state(Group g) {
            if (g.members.isEmpty()) {
                return GroupState.GROUP_STATE_EMPTY;
            }
            Map<String, Set<TopicPartition>> targets = targets(g);
            for (Member m : g.members.values()) {
                if (!m.assigned.equals(targets.get(m.id)) || !m.owned.equals(m.assigned)) {
                    return GroupState.GROUP_STATE_RECONCILING;
                }
            }
            return GroupState.GROUP_STATE_STABLE;
        }

        @Override
        public void describeGroup(DescribeGroupRequest req, StreamObserver<DescribeGroupResponse> obs) {
            if (notCoordinator(id, obs)) {
                return;
            }
            GroupDescription.Builder d;
            synchronized (FakeGroups.this) {
                Group g = groups.get(req.getGroupId());
                if (g == null) {
                    obs.onError(error(
                            Status.NOT_FOUND,
                            ErrorCode.ERROR_CODE_UNKNOWN_GROUP,
                            "group '" + req.getGroupId() + "' does not exist"));
                    return;
                }
                d = GroupDescription.newBuilder()
                        .setGroupId(req.getGroupId())
                        .setState(state(g))
                        .setGroupEpoch(g.groupEpoch)
                        .setAssignor(g.members.isEmpty() ? "" : g.assignor.isEmpty() ? "uniform" : g.assignor);
                Map<TopicPartition, String> owners = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::topic)
                        .thenComparingInt(TopicPartition::partition));
                for (Member m : g.members.values()) {
                    MemberDescription.Builder md = MemberDescription.newBuilder()
                            .setMemberId(m.id)
                            .setInstanceId(m.instanceId)
                            .setClientId("client-" + m.id)
                            .setClientHost("127.0.0.1")
                            .setMemberEpoch(m.epoch)
                            .addAllAssignment(GroupMember.toProto(m.assigned));
                    if (m.regex.isEmpty()) {
                        md.setTopics(SubscribedTopics.newBuilder().addAllNames(m.topics));
                    } else {
                        md.setTopicRegex(m.regex);
                    }
                    d.addMembers(md);
                    m.assigned.forEach(tp -> owners.put(tp, m.id));
                }
                g.offsets.keySet().forEach(tp -> owners.putIfAbsent(tp, ""));
                owners.forEach((tp, member) -> {
                    PartitionLag.Builder p = PartitionLag.newBuilder()
                            .setTopic(tp.topic())
                            .setPartition(tp.partition())
                            .setMemberId(member);
                    Long committed = g.offsets.get(tp);
                    boolean known = cluster.topics.containsKey(tp.topic());
                    if (known) {
                        p.setHighWatermark(cluster.logEnd(tp));
                    }
                    if (committed != null) {
                        p.setCommittedOffset(committed);
                        if (known) {
                            p.setLag(cluster.logEnd(tp) - committed);
                        }
                    }
                    d.addPartitions(p);
                });
            }
            obs.onNext(DescribeGroupResponse.newBuilder().setGroup(d).build());
            obs.onCompleted();
        }

        @Override
        public void resetOffsets(ResetOffsetsRequest req, StreamObserver<ResetOffsetsResponse> obs) {
            if (notCoordinator(id, obs)) {
                return;
            }
            ResetOffsetsResponse.Builder r = ResetOffsetsResponse.newBuilder().setTopic(req.getTopic());
            synchronized (FakeGroups.this) {
                Group g = groups.computeIfAbsent(req.getGroupId(), k -> new Group());
                if (!req.getDryRun() && !g.members.isEmpty()) {
                    obs.onError(error(
                            Status.FAILED_PRECONDITION,
                            ErrorCode.ERROR_CODE_GROUP_NOT_EMPTY,
                            "group '" + req.getGroupId() + "' has " + g.members.size() + " members"));
                    return;
                }
                Integer n = cluster.topics.get(req.getTopic());
                if (n == null) {
                    obs.onError(error(
                            Status.NOT_FOUND,
                            ErrorCode.ERROR_CODE_UNKNOWN_TOPIC,
                            "unknown topic '" + req.getTopic() + "'"));
                    return;
                }
                List<Integer> parts = new ArrayList<>(req.getPartitionsList());
                if (parts.isEmpty()) {
                    for (int p = 0; p < n; p++) {
                        parts.add(p);
                    }
                }
                Map<TopicPartition, Long> updates = new LinkedHashMap<>();
                for (int p : parts.stream().sorted().toList()) {
                    OffsetResetPlan.Builder plan = OffsetResetPlan.newBuilder().setPartition(p);
                    TopicPartition tp = new TopicPartition(req.getTopic(), p);
                    Long current = g.offsets.get(tp);
                    if (current != null) {
                        plan.setCurrentOffset(current);
                    }
                    if (p >= n) {
                        plan.setError(ErrorInfo.newBuilder()
                                .setCode(ErrorCode.ERROR_CODE_UNKNOWN_PARTITION)
                                .setMessage("no partition " + p));
                        r.addPartitions(plan);
                        continue;
                    }
                    long end = cluster.logEnd(tp);
                    long target;
                    switch (req.getSpecCase()) {
                        case BOUNDARY -> target = req.getBoundary() == LogBoundary.LOG_BOUNDARY_EARLIEST ? 0 : end;
                        case OFFSET -> target = req.getOffset();
                        case TIMESTAMP_MS -> target = offsetForTime(tp, req.getTimestampMs());
                        case SHIFT_BY -> {
                            if (current == null) {
                                plan.setError(ErrorInfo.newBuilder()
                                        .setCode(ErrorCode.ERROR_CODE_INVALID_OFFSET)
                                        .setMessage("no committed offset to shift"));
                                r.addPartitions(plan);
                                continue;
                            }
                            target = current + req.getShiftBy();
                        }
                        default -> {
                            obs.onError(
                                    error(Status.INVALID_ARGUMENT, ErrorCode.ERROR_CODE_INVALID_REQUEST, "no spec"));
                            return;
                        }
                    }
                    target = Math.max(0, Math.min(end, target));
                    plan.setNewOffset(target);
                    updates.put(tp, target);
                    r.addPartitions(plan);
                }
                if (!req.getDryRun()) {
                    g.offsets.putAll(updates);
                }
            }
            obs.onNext(r.build());
            obs.onCompleted();
        }

        @Override
        public void deleteGroup(DeleteGroupRequest req, StreamObserver<DeleteGroupResponse> obs) {
            if (notCoordinator(id, obs)) {
                return;
            }
            synchronized (FakeGroups.this) {
                Group g = groups.get(req.getGroupId());
                if (g == null) {
                    obs.onError(error(
                            Status.NOT_FOUND,
                            ErrorCode.ERROR_CODE_UNKNOWN_GROUP,
                            "group '" + req.getGroupId() + "' does not exist"));
                    return;
                }
                if (!g.members.isEmpty()) {
                    obs.onError(error(
                            Status.FAILED_PRECONDITION,
                            ErrorCode.ERROR_CODE_GROUP_NOT_EMPTY,
                            "group '" + req.getGroupId() + "' has " + g.members.size() + " members"));
                    return;
                }
                groups.remove(req.getGroupId());
            }
            obs.onNext(DeleteGroupResponse.getDefaultInstance());
            obs.onCompleted();
        }
    }
}
