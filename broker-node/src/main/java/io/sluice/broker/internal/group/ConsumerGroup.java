package io.sluice.broker.internal.group;

import io.sluice.broker.internal.BrokerException;
import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.GroupState;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The membership and assignment state of one consumer group on its coordinator, and the KIP-848-style reconciliation
 * that moves members towards the target assignment without stop-the-world rebalances.
 *
 * <p>Epochs: the <em>group epoch</em> increases on every change of membership, of subscriptions or of the subscribed
 * topics' partitions; the <em>target assignment</em> is recomputed (by the group's {@link Assignor}) whenever it is
 * older than the group epoch, and carries that epoch. A member's <em>member epoch</em> is the target epoch it has
 * reconciled to. A member behind the target first loses the partitions that move away from it: it keeps its epoch and
 * its assignment shrinks to the partitions it keeps; only once its heartbeat no longer reports any of the revoked
 * partitions does it move to the target epoch and receive the new partitions that no other member still holds (the
 * rest arrive, at the same epoch, as their previous owners release them). Partitions that do not move stay assigned
 * throughout.
 *
 * <p>Invariants: no partition is in two members' {@code assigned ∪ pendingRevocation} (a member only gains a
 * partition that no other member holds); the target gives each subscribed partition to exactly one member;
 * {@code targetEpoch <= groupEpoch}, equal outside a call.
 *
 * <p>Not thread-safe: every call must hold the monitor of this object (the {@link GroupCoordinator} does).
 */
final class ConsumerGroup {
    private final String groupId;
    private final GroupConfig config;
    private final Map<String, Member> members = new TreeMap<>();
    /** member id → partitions, as last computed. */
    private Map<String, Set<TopicPartitionKey>> target = new HashMap<>();
    /** Members replaced by a static member with the same instance id: member id → when to forget it. */
    private final Map<String, Long> replaced = new HashMap<>();
    /** Partition counts of the existing subscribed topics, as of {@link #metadataVersion}. */
    private SortedMap<String, Integer> subscribedTopics = new TreeMap<>();

    private long metadataVersion = -1;
    private int groupEpoch;
    private int targetEpoch;
    private Assignor assignor = Assignors.DEFAULT;
    private boolean dead;
    private long emptySinceMs;
    /** Until then (after a coordinator failover) no partition that no member holds is granted. */
    private long recoveringUntilMs;

    ConsumerGroup(String groupId, GroupConfig config, long nowMs) {
        this.groupId = groupId;
        this.config = config;
        this.emptySinceMs = nowMs;
    }

    /** A heartbeat, validated syntactically by the coordinator. */
    record Heartbeat(
            String memberId,
            int memberEpoch,
            Optional<String> instanceId,
            String clientId,
            String clientHost,
            Subscription subscription,
            int sessionTimeoutMs,
            int rebalanceTimeoutMs,
            Optional<Assignor> assignor,
            Set<TopicPartitionKey> owned,
            long adoptUntilMs) {}

    /** What the member is told: its id, epoch and the partitions it may own now. */
    record Assignment(String memberId, int memberEpoch, SortedSet<TopicPartitionKey> partitions) {}

    /** Handles a join (epoch 0) or a heartbeat (epoch > 0) and returns the member's assignment. */
    Assignment heartbeat(Heartbeat hb, ClusterMetadata metadata, long nowMs) {
        if (dead) {
            throw GroupErrors.deleting(groupId);
        }
        if (hb.assignor().isPresent()
                && !members.isEmpty()
                && !hb.assignor().get().name().equals(assignor.name())) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_INCONSISTENT_ASSIGNOR,
                    "group \"" + groupId + "\" uses the assignor \"" + assignor.name() + "\" but the member names \""
                            + hb.assignor().get().name() + "\"; all members of a group must use the same assignor");
        }
        boolean bump = false;
        Member m;
        if (hb.memberEpoch() == 0) {
            Optional<Member> holder = hb.instanceId().flatMap(this::byInstance);
            Member existing = hb.memberId().isEmpty() ? null : members.get(hb.memberId());
            if (holder.isPresent() && existing != holder.get()) {
                // Static membership: the new incarnation takes over the assignment; the old one is fenced.
                Member old = holder.get();
                String id =
                        hb.memberId().isEmpty() || members.containsKey(hb.memberId()) ? newMemberId() : hb.memberId();
                m = new Member(id, hb.instanceId(), old.subscription);
                m.resolvedTopics = old.resolvedTopics;
                m.takeOver(old);
                members.remove(old.memberId);
                members.put(id, m);
                Set<TopicPartitionKey> t = target.remove(old.memberId);
                target.put(id, t == null ? Set.of() : t);
                replaced.put(old.memberId, nowMs + config.maxSessionTimeoutMs());
            } else if (existing != null) {
                if (!existing.instanceId.equals(hb.instanceId())) {
                    throw BrokerException.invalidRequest(
                            "instance_id", "a member cannot change its instance id; rejoin with an empty member id");
                }
                // A rejoin after fencing: the member dropped what it no longer reports.
                m = existing;
                m.assigned.retainAll(hb.owned());
                m.pendingRevocation.retainAll(hb.owned());
            } else {
                m = adopt(hb, hb.memberId().isEmpty() ? newMemberId() : hb.memberId(), nowMs);
                bump = true;
            }
        } else {
            Member existing = members.get(hb.memberId());
            if (existing == null) {
                if (replaced.containsKey(hb.memberId())) {
                    throw GroupErrors.fencedInstance(groupId, hb.memberId());
                }
                if (nowMs >= hb.adoptUntilMs()) {
                    throw GroupErrors.unknownMember(groupId, hb.memberId());
                }
                // Just after a coordinator failover: the member comes from the previous coordinator.
                groupEpoch = Math.max(groupEpoch, hb.memberEpoch());
                m = adopt(hb, hb.memberId(), nowMs);
                bump = true;
            } else {
                m = existing;
                if (!m.instanceId.equals(hb.instanceId())) {
                    throw BrokerException.invalidRequest(
                            "instance_id", "a member cannot change its instance id; rejoin with an empty member id");
                }
                checkEpoch(m, hb.memberEpoch(), hb.owned());
            }
        }
        if (members.isEmpty()) {
            // The member joining an empty group chooses its assignor (a new member is not in the map yet).
            assignor = hb.assignor().orElse(Assignors.DEFAULT);
        }
        members.put(m.memberId, m);
        m.clientId = hb.clientId();
        m.clientHost = hb.clientHost();
        m.sessionTimeoutMs = hb.sessionTimeoutMs();
        m.rebalanceTimeoutMs = hb.rebalanceTimeoutMs();
        m.lastHeartbeatMs = nowMs;
        if (!m.subscription.equals(hb.subscription())) {
            m.subscription = hb.subscription();
            m.resolvedTopics = m.subscription.resolve(metadata);
            bump = true;
        }
        if (refreshMetadata(metadata, bump)) {
            bump = true;
        }
        if (bump) {
            groupEpoch++;
        }
        maybeComputeTarget();
        reconcile(m, hb.owned(), nowMs);
        return new Assignment(m.memberId, m.memberEpoch, Collections.unmodifiableSortedSet(new TreeSet<>(m.assigned)));
    }

    /**
     * A member new to this coordinator. Partitions it reports owning (a member coming from a failed coordinator)
     * become its assignment when no other member holds them; if another member does, the newcomer is fenced so that
     * it drops them without committing.
     */
    private Member adopt(Heartbeat hb, String memberId, long nowMs) {
        Member m = new Member(memberId, hb.instanceId(), hb.subscription());
        for (TopicPartitionKey tp : hb.owned()) {
            for (Member other : members.values()) {
                if (other.holds(tp)) {
                    throw BrokerException.of(
                            ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH,
                            "member \"" + memberId + "\" reports owning " + tp.topic() + "-" + tp.partition()
                                    + ", which member \"" + other.memberId + "\" of group \"" + groupId
                                    + "\" holds; drop all partitions without committing and rejoin with epoch 0");
                }
            }
        }
        m.assigned.addAll(hb.owned());
        m.memberEpoch = 0;
        if (!hb.owned().isEmpty()) {
            // Seed the sticky assignor with what the member really consumes (the target computed before it came back
            // may have promised its partitions to others).
            for (Map.Entry<String, Set<TopicPartitionKey>> e : target.entrySet()) {
                Set<TopicPartitionKey> rest = new HashSet<>(e.getValue());
                rest.removeAll(hb.owned());
                e.setValue(rest);
            }
            target.put(memberId, Set.copyOf(hb.owned()));
        }
        if ((hb.memberEpoch() > 0 || !hb.owned().isEmpty()) && nowMs < hb.adoptUntilMs()) {
            // Members of the previous coordinator are coming back: until they had time to, partitions nobody reports
            // owning may still be consumed by one of them, so none is handed out.
            recoveringUntilMs = Math.max(recoveringUntilMs, hb.adoptUntilMs());
        }
        return m;
    }

    private void checkEpoch(Member m, int sent, Set<TopicPartitionKey> owned) {
        if (sent == m.memberEpoch) {
            return;
        }
        if (sent == m.previousMemberEpoch && m.assigned.containsAll(owned)) {
            // The previous response was lost; the member owns nothing it should not.
            return;
        }
        throw GroupErrors.fencedEpoch(groupId, m.memberId, sent, m.memberEpoch);
    }

    /** Leaves the group (LeaveGroup or a heartbeat with epoch -1). */
    void leave(String memberId, int memberEpoch, ClusterMetadata metadata, long nowMs) {
        Member m = members.get(memberId);
        if (m == null) {
            if (replaced.containsKey(memberId)) {
                throw GroupErrors.fencedInstance(groupId, memberId);
            }
            throw GroupErrors.unknownMember(groupId, memberId);
        }
        if (memberEpoch != -1 && memberEpoch != m.memberEpoch && memberEpoch != m.previousMemberEpoch) {
            throw GroupErrors.fencedEpoch(groupId, memberId, memberEpoch, m.memberEpoch);
        }
        remove(List.of(memberId), metadata, nowMs);
    }

    /**
     * Checks that a commit may be written: from the current epoch of a member, or without member id while the group
     * has no members.
     */
    void checkCommit(String memberId, int memberEpoch) {
        if (dead) {
            throw GroupErrors.deleting(groupId);
        }
        if (memberId.isEmpty()) {
            if (!members.isEmpty()) {
                throw GroupErrors.notEmpty(groupId, members.size(), "a commit without member id");
            }
            return;
        }
        Member m = members.get(memberId);
        if (m == null) {
            throw replaced.containsKey(memberId)
                    ? GroupErrors.fencedInstance(groupId, memberId)
                    : GroupErrors.unknownMember(groupId, memberId);
        }
        if (memberEpoch < m.memberEpoch) {
            throw GroupErrors.staleEpoch(groupId, memberId, memberEpoch, m.memberEpoch);
        }
        if (memberEpoch > m.memberEpoch) {
            throw GroupErrors.fencedEpoch(groupId, memberId, memberEpoch, m.memberEpoch);
        }
    }

    /**
     * Removes members whose session lapsed or who kept revoked partitions past their rebalance timeout, and forgets
     * replaced static members after a while.
     *
     * @return the ids of the removed members
     */
    List<String> expire(ClusterMetadata metadata, long nowMs) {
        replaced.values().removeIf(until -> until <= nowMs);
        List<String> gone = new ArrayList<>();
        for (Member m : members.values()) {
            if (nowMs - m.lastHeartbeatMs >= m.sessionTimeoutMs
                    || (!m.pendingRevocation.isEmpty() && nowMs >= m.revocationDeadlineMs)) {
                gone.add(m.memberId);
            }
        }
        if (!gone.isEmpty()) {
            remove(gone, metadata, nowMs);
        }
        return gone;
    }

    /** Re-resolves subscriptions after a metadata change (topics created, deleted or grown). */
    void onMetadata(ClusterMetadata metadata) {
        if (!dead && !members.isEmpty() && refreshMetadata(metadata, false)) {
            groupEpoch++;
            maybeComputeTarget();
        }
    }

    private void remove(List<String> ids, ClusterMetadata metadata, long nowMs) {
        for (String id : ids) {
            members.remove(id);
            target.remove(id);
        }
        if (members.isEmpty()) {
            emptySinceMs = nowMs;
        }
        refreshMetadata(metadata, true);
        groupEpoch++;
        maybeComputeTarget();
    }

    /**
     * Re-resolves subscriptions when the metadata version moved (or when forced) and tells whether the subscribed
     * topics or their partition counts changed.
     */
    private boolean refreshMetadata(ClusterMetadata metadata, boolean force) {
        if (!force && metadata.version() == metadataVersion) {
            return false;
        }
        metadataVersion = metadata.version();
        boolean changed = false;
        SortedSet<String> union = new TreeSet<>();
        for (Member m : members.values()) {
            SortedSet<String> r = m.subscription.resolve(metadata);
            if (!r.equals(m.resolvedTopics)) {
                m.resolvedTopics = r;
                changed = true;
            }
            union.addAll(r);
        }
        SortedMap<String, Integer> counts = new TreeMap<>();
        for (String t : union) {
            metadata.topic(t).map(TopicInfo::partitionCount).ifPresent(n -> counts.put(t, n));
        }
        if (!counts.equals(subscribedTopics)) {
            subscribedTopics = counts;
            changed = true;
        }
        return changed;
    }

    private void maybeComputeTarget() {
        if (targetEpoch >= groupEpoch) {
            return;
        }
        List<Assignor.MemberSpec> specs = new ArrayList<>();
        for (Member m : members.values()) {
            specs.add(new Assignor.MemberSpec(m.memberId, m.instanceId, m.resolvedTopics));
        }
        target = new HashMap<>(assignor.assign(new Assignor.Spec(specs, subscribedTopics, target)));
        targetEpoch = groupEpoch;
    }

    /** Moves a member one step towards its target given the partitions it reports owning. */
    private void reconcile(Member m, Set<TopicPartitionKey> owned, long nowMs) {
        Set<TopicPartitionKey> tgt = target.getOrDefault(m.memberId, Set.of());
        // Revocations the member has completed.
        m.pendingRevocation.retainAll(owned);
        // Assigned partitions that left the target: those it owns must be released first.
        List<TopicPartitionKey> leaving = new ArrayList<>();
        for (TopicPartitionKey tp : m.assigned) {
            if (!tgt.contains(tp)) {
                leaving.add(tp);
            }
        }
        for (TopicPartitionKey tp : leaving) {
            m.assigned.remove(tp);
            if (owned.contains(tp)) {
                m.pendingRevocation.add(tp);
            }
        }
        if (!m.pendingRevocation.isEmpty()) {
            if (m.revocationDeadlineMs == Long.MAX_VALUE) {
                m.revocationDeadlineMs = nowMs + m.rebalanceTimeoutMs;
            }
            return;
        }
        m.revocationDeadlineMs = Long.MAX_VALUE;
        if (m.memberEpoch != targetEpoch) {
            m.previousMemberEpoch = m.memberEpoch;
            m.memberEpoch = targetEpoch;
        }
        if (nowMs < recoveringUntilMs) {
            return;
        }
        for (TopicPartitionKey tp : tgt) {
            if (!m.assigned.contains(tp) && !heldByOther(tp, m)) {
                m.assigned.add(tp);
            }
        }
    }

    private boolean heldByOther(TopicPartitionKey tp, Member self) {
        for (Member o : members.values()) {
            if (o != self && o.holds(tp)) {
                return true;
            }
        }
        return false;
    }

    private Optional<Member> byInstance(String instanceId) {
        for (Member m : members.values()) {
            if (m.instanceId.isPresent() && m.instanceId.get().equals(instanceId)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    private static String newMemberId() {
        return UUID.randomUUID().toString();
    }

    /** The state exposed by ListGroups/DescribeGroup. */
    GroupState state() {
        if (dead) {
            return GroupState.GROUP_STATE_DEAD;
        }
        if (members.isEmpty()) {
            return GroupState.GROUP_STATE_EMPTY;
        }
        if (groupEpoch > targetEpoch) {
            return GroupState.GROUP_STATE_ASSIGNING;
        }
        for (Member m : members.values()) {
            if (!m.pendingRevocation.isEmpty()
                    || m.memberEpoch != targetEpoch
                    || !m.assigned.equals(target.getOrDefault(m.memberId, Set.of()))) {
                return GroupState.GROUP_STATE_RECONCILING;
            }
        }
        return GroupState.GROUP_STATE_STABLE;
    }

    String groupId() {
        return groupId;
    }

    int groupEpoch() {
        return groupEpoch;
    }

    int targetEpoch() {
        return targetEpoch;
    }

    String assignorName() {
        return members.isEmpty() ? "" : assignor.name();
    }

    boolean isEmpty() {
        return members.isEmpty();
    }

    int memberCount() {
        return members.size();
    }

    long emptySinceMs() {
        return emptySinceMs;
    }

    boolean isDead() {
        return dead;
    }

    void markDead(boolean dead) {
        this.dead = dead;
    }

    /** The members, sorted by id (live objects: read under the group's monitor only). */
    List<Member> members() {
        return List.copyOf(members.values());
    }

    /** The target assignment of a member. */
    Set<TopicPartitionKey> targetOf(String memberId) {
        return target.getOrDefault(memberId, Set.of());
    }
}
