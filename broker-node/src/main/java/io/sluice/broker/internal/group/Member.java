package io.sluice.broker.internal.group;

import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One member of a consumer group as its coordinator tracks it (soft state, rebuilt when members rejoin after a
 * coordinator failover).
 *
 * <p>Invariants (kept by {@link ConsumerGroup}): {@code assigned} and {@code pendingRevocation} are disjoint;
 * {@code pendingRevocation} is non-empty only while the member still reports owning partitions it was told to release,
 * and then {@code revocationDeadlineMs} is set. Not thread-safe: guarded by the monitor of its group.
 */
final class Member {
    final String memberId;
    final Optional<String> instanceId;
    String clientId = "";
    String clientHost = "";
    Subscription subscription;
    /** The subscription resolved against the metadata version the group last saw. */
    SortedSet<String> resolvedTopics = new TreeSet<>();

    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    int memberEpoch;
    int previousMemberEpoch = -1;
    /** The partitions the member may own now: the assignment last sent to it. */
    final SortedSet<TopicPartitionKey> assigned = new TreeSet<>(Assignor.PARTITION_ORDER);
    /** Partitions taken away from the member that it still reported owning. */
    final SortedSet<TopicPartitionKey> pendingRevocation = new TreeSet<>(Assignor.PARTITION_ORDER);

    long lastHeartbeatMs;
    long revocationDeadlineMs = Long.MAX_VALUE;

    Member(String memberId, Optional<String> instanceId, Subscription subscription) {
        this.memberId = memberId;
        this.instanceId = instanceId;
        this.subscription = subscription;
    }

    /** Everything the member may still be consuming: assigned plus pending revocation. */
    boolean holds(TopicPartitionKey tp) {
        return assigned.contains(tp) || pendingRevocation.contains(tp);
    }

    /** Copies the reconciliation state of a replaced static member. */
    void takeOver(Member old) {
        memberEpoch = old.memberEpoch;
        previousMemberEpoch = old.previousMemberEpoch;
        assigned.addAll(old.assigned);
        pendingRevocation.addAll(old.pendingRevocation);
        revocationDeadlineMs = old.revocationDeadlineMs;
    }

    Set<TopicPartitionKey> holdings() {
        SortedSet<TopicPartitionKey> all = new TreeSet<>(Assignor.PARTITION_ORDER);
        all.addAll(assigned);
        all.addAll(pendingRevocation);
        return all;
    }
}
