package io.sluice.broker.internal.group;

import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kafka's range assignor: topic by topic, the members subscribed to the topic (in {@link Assignor#MEMBER_ORDER}) get
 * contiguous ranges of its partitions, the first {@code partitions % members} of them one partition more. Members with
 * the same subscriptions therefore get the same partition numbers of every topic (useful for co-partitioned joins),
 * at the price of imbalance over many topics. Not sticky.
 *
 * <p>Stateless and thread-safe.
 */
public final class RangeAssignor implements Assignor {
    public static final String NAME = "range";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Set<TopicPartitionKey>> assign(Spec spec) {
        Map<String, Set<TopicPartitionKey>> out = new TreeMap<>();
        spec.members().forEach(m -> out.put(m.memberId(), new HashSet<>()));
        List<MemberSpec> ordered = spec.membersInOrder();
        for (Map.Entry<String, Integer> t : spec.partitionCounts().entrySet()) {
            List<MemberSpec> subscribers = ordered.stream()
                    .filter(m -> m.topics().contains(t.getKey()))
                    .toList();
            if (subscribers.isEmpty()) {
                continue;
            }
            int partitions = t.getValue();
            int per = partitions / subscribers.size();
            int extra = partitions % subscribers.size();
            int next = 0;
            for (int i = 0; i < subscribers.size(); i++) {
                int n = per + (i < extra ? 1 : 0);
                Set<TopicPartitionKey> mine = out.get(subscribers.get(i).memberId());
                for (int k = 0; k < n; k++) {
                    mine.add(new TopicPartitionKey(t.getKey(), next++));
                }
            }
        }
        return out;
    }
}
