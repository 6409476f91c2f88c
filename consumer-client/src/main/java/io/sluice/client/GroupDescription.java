package io.sluice.client;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Everything the coordinator knows about one consumer group: state, members and their assignments, and the
 * committed offset, high watermark and lag of every partition that is assigned or has a committed offset.
 *
 * <p>Immutable and thread-safe.
 *
 * @param groupId group id
 * @param state current state
 * @param groupEpoch increases on every change of membership or subscriptions
 * @param assignor name of the assignor the group uses; empty when the group has no members
 * @param members every member, sorted by member id
 * @param partitions per-partition offsets and lag, sorted by topic then partition
 */
public record GroupDescription(
        String groupId,
        GroupState state,
        int groupEpoch,
        String assignor,
        List<Member> members,
        List<PartitionLag> partitions) {
    public GroupDescription {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(assignor, "assignor");
        members = List.copyOf(members);
        partitions = List.copyOf(partitions);
    }

    /**
     * One member of a group.
     *
     * @param memberId member id
     * @param instanceId instance id of a static member; empty for a dynamic one
     * @param clientId the client id the member reported (may be empty)
     * @param clientHost where the member's heartbeats come from
     * @param memberEpoch the member's current epoch
     * @param subscribedTopics the explicit topics it subscribed to; empty with a pattern subscription
     * @param subscribedPattern the topic pattern it subscribed to, if it used one
     * @param assignment the partitions currently assigned to it
     */
    public record Member(
            String memberId,
            Optional<String> instanceId,
            String clientId,
            String clientHost,
            int memberEpoch,
            List<String> subscribedTopics,
            Optional<String> subscribedPattern,
            Set<TopicPartition> assignment) {
        public Member {
            Objects.requireNonNull(memberId, "memberId");
            Objects.requireNonNull(instanceId, "instanceId");
            subscribedTopics = List.copyOf(subscribedTopics);
            Objects.requireNonNull(subscribedPattern, "subscribedPattern");
            assignment = Set.copyOf(assignment);
        }
    }

    /**
     * The committed position and lag of one partition for the group.
     *
     * @param partition the partition
     * @param memberId the member the partition is assigned to; empty when unassigned
     * @param committedOffset the committed next offset to consume; empty when none was committed
     * @param highWatermark the partition's high watermark (its readable end); empty when unknown
     * @param lag {@code highWatermark - committedOffset}; empty when either is unknown
     */
    public record PartitionLag(
            TopicPartition partition,
            Optional<String> memberId,
            OptionalLong committedOffset,
            OptionalLong highWatermark,
            OptionalLong lag) {
        public PartitionLag {
            Objects.requireNonNull(partition, "partition");
            Objects.requireNonNull(memberId, "memberId");
            Objects.requireNonNull(committedOffset, "committedOffset");
            Objects.requireNonNull(highWatermark, "highWatermark");
            Objects.requireNonNull(lag, "lag");
        }
    }
}
