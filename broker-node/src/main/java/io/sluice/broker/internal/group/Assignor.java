package io.sluice.broker.internal.group;

import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A server-side partition assignor: computes a group's target assignment from its members' subscriptions, the
 * partition counts of the subscribed topics and the previous target. The coordinator then reconciles members towards
 * the target step by step; an assignor never has to care about revocation order.
 *
 * <p>Contract of {@link #assign}: the result has one entry per member (possibly empty); every partition of a topic in
 * {@code partitionCounts} that at least one member subscribes to is assigned to exactly one member subscribed to it;
 * nothing else is assigned. The result depends only on the spec (deterministic: no randomness, no iteration over
 * unordered collections). Implementations are stateless and thread-safe.
 */
public interface Assignor {

    /** The name members pass in {@code HeartbeatRequest.assignor}. */
    String name();

    /** The target assignment: member id → partitions. */
    Map<String, Set<TopicPartitionKey>> assign(Spec spec);

    /** Orders partitions by topic, then partition number. */
    Comparator<TopicPartitionKey> PARTITION_ORDER =
            Comparator.comparing(TopicPartitionKey::topic).thenComparingInt(TopicPartitionKey::partition);

    /**
     * Orders members for the positional assignors: static members first by instance id (so that a restarted static
     * member, which gets a new member id, lands in the same position), then dynamic members by member id.
     */
    Comparator<MemberSpec> MEMBER_ORDER = Comparator.comparing(
                    (MemberSpec m) -> m.instanceId().isEmpty())
            .thenComparing(m -> m.instanceId().orElse(""))
            .thenComparing(MemberSpec::memberId);

    /**
     * What an assignor works from.
     *
     * @param members every member with its resolved topic subscription
     * @param partitionCounts partition count of every subscribed topic that exists, by name
     * @param previous the previous target assignment by member id (members absent from it are new)
     */
    record Spec(
            List<MemberSpec> members,
            SortedMap<String, Integer> partitionCounts,
            Map<String, Set<TopicPartitionKey>> previous) {
        public Spec {
            List<MemberSpec> sorted = new ArrayList<>(members);
            sorted.sort(Comparator.comparing(MemberSpec::memberId));
            members = Collections.unmodifiableList(sorted);
            partitionCounts = Collections.unmodifiableSortedMap(new TreeMap<>(partitionCounts));
            previous = Map.copyOf(previous);
        }

        /** The members sorted by {@link #MEMBER_ORDER}. */
        public List<MemberSpec> membersInOrder() {
            List<MemberSpec> sorted = new ArrayList<>(members);
            sorted.sort(MEMBER_ORDER);
            return sorted;
        }

        /** Every partition of every existing subscribed topic, in {@link #PARTITION_ORDER}. */
        public List<TopicPartitionKey> subscribedPartitions() {
            List<TopicPartitionKey> out = new ArrayList<>();
            for (Map.Entry<String, Integer> e : partitionCounts.entrySet()) {
                boolean subscribed = members.stream().anyMatch(m -> m.topics().contains(e.getKey()));
                if (subscribed) {
                    for (int p = 0; p < e.getValue(); p++) {
                        out.add(new TopicPartitionKey(e.getKey(), p));
                    }
                }
            }
            return out;
        }
    }

    /**
     * One member as the assignor sees it.
     *
     * @param memberId the member id
     * @param instanceId the static member's instance id, empty for a dynamic member
     * @param topics the names of the topics it subscribes to (a regex already resolved against the metadata)
     */
    record MemberSpec(String memberId, Optional<String> instanceId, Set<String> topics) {
        public MemberSpec {
            topics = Set.copyOf(topics);
        }
    }
}
