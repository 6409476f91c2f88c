package io.sluice.broker.internal.group;

import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kafka's round-robin assignor: every subscribed partition, in {@link Assignor#PARTITION_ORDER}, goes to the next
 * member in {@link Assignor#MEMBER_ORDER} (cyclically) that subscribes to its topic. Balanced within one partition per
 * member when all members have the same subscription; not sticky.
 *
 * <p>Stateless and thread-safe.
 */
public final class RoundRobinAssignor implements Assignor {
    public static final String NAME = "round-robin";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Set<TopicPartitionKey>> assign(Spec spec) {
        Map<String, Set<TopicPartitionKey>> out = new TreeMap<>();
        spec.members().forEach(m -> out.put(m.memberId(), new HashSet<>()));
        List<MemberSpec> ordered = spec.membersInOrder();
        if (ordered.isEmpty()) {
            return out;
        }
        int cursor = 0;
        for (TopicPartitionKey tp : spec.subscribedPartitions()) {
            for (int step = 0; step < ordered.size(); step++) {
                MemberSpec m = ordered.get((cursor + step) % ordered.size());
                if (m.topics().contains(tp.topic())) {
                    out.get(m.memberId()).add(tp);
                    cursor = (cursor + step + 1) % ordered.size();
                    break;
                }
            }
        }
        return out;
    }
}
