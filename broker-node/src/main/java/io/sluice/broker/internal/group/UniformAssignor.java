package io.sluice.broker.internal.group;

import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The default, sticky assignor ({@value #NAME}, alias {@value #ALIAS}): spreads partitions evenly and keeps every
 * partition where it is unless moving it is needed for balance.
 *
 * <p>Three steps: (1) every member keeps the partitions of its previous target that still exist and that it still
 * subscribes to; (2) each remaining partition, the ones with the fewest eligible members first, goes to the least
 * loaded member subscribed to its topic; (3) while a member owns a partition that another eligible member could take
 * with at least two partitions fewer, the most loaded member gives one away. The result is balanced in the sense that
 * no single move between eligible members lowers the imbalance; with identical subscriptions the counts differ by at
 * most one, reached with the fewest possible moves from the previous target. Ties break by member id and partition
 * order, so the result is deterministic.
 *
 * <p>Stateless and thread-safe.
 */
public final class UniformAssignor implements Assignor {
    public static final String NAME = "uniform";
    public static final String ALIAS = "sticky";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Set<TopicPartitionKey>> assign(Spec spec) {
        Map<String, TreeSet<TopicPartitionKey>> out = new TreeMap<>();
        for (MemberSpec m : spec.members()) {
            out.put(m.memberId(), new TreeSet<>(PARTITION_ORDER));
        }
        List<TopicPartitionKey> all = spec.subscribedPartitions();
        Set<TopicPartitionKey> valid = new HashSet<>(all);
        Set<TopicPartitionKey> taken = new HashSet<>();
        // 1. Stickiness.
        for (MemberSpec m : spec.members()) {
            List<TopicPartitionKey> prev = new ArrayList<>(spec.previous().getOrDefault(m.memberId(), Set.of()));
            prev.sort(PARTITION_ORDER);
            for (TopicPartitionKey tp : prev) {
                if (valid.contains(tp) && m.topics().contains(tp.topic()) && taken.add(tp)) {
                    out.get(m.memberId()).add(tp);
                }
            }
        }
        // 2. Unassigned partitions, the most constrained first.
        Map<String, List<String>> eligible = new TreeMap<>();
        for (String topic : spec.partitionCounts().keySet()) {
            eligible.put(
                    topic,
                    spec.members().stream()
                            .filter(m -> m.topics().contains(topic))
                            .map(MemberSpec::memberId)
                            .toList());
        }
        List<TopicPartitionKey> rest = new ArrayList<>();
        for (TopicPartitionKey tp : all) {
            if (!taken.contains(tp)) {
                rest.add(tp);
            }
        }
        rest.sort(Comparator.comparingInt(
                        (TopicPartitionKey tp) -> eligible.get(tp.topic()).size())
                .thenComparing(PARTITION_ORDER));
        for (TopicPartitionKey tp : rest) {
            String best = null;
            for (String id : eligible.get(tp.topic())) {
                if (best == null || out.get(id).size() < out.get(best).size()) {
                    best = id;
                }
            }
            if (best != null) {
                out.get(best).add(tp);
            }
        }
        // 3. Balance: each move lowers the sum of squared counts, so the loop ends.
        while (moveOne(out, eligible, spec.previous())) {
            // keep moving
        }
        Map<String, Set<TopicPartitionKey>> result = new TreeMap<>();
        out.forEach((k, v) -> result.put(k, Set.copyOf(v)));
        return result;
    }

    /**
     * Moves one partition from the most loaded member that can give one away; false when balanced. A member gives away
     * the partitions it did not have in the previous target first, so that it keeps as many of its old ones as it can.
     */
    private static boolean moveOne(
            Map<String, TreeSet<TopicPartitionKey>> out,
            Map<String, List<String>> eligible,
            Map<String, Set<TopicPartitionKey>> previous) {
        List<String> byLoad = new ArrayList<>(out.keySet());
        byLoad.sort(Comparator.comparingInt((String id) -> -out.get(id).size()).thenComparing(id -> id));
        for (String from : byLoad) {
            int load = out.get(from).size();
            Set<TopicPartitionKey> had = previous.getOrDefault(from, Set.of());
            List<TopicPartitionKey> candidates = new ArrayList<>();
            out.get(from).descendingSet().stream()
                    .filter(tp -> !had.contains(tp))
                    .forEach(candidates::add);
            out.get(from).descendingSet().stream().filter(had::contains).forEach(candidates::add);
            for (TopicPartitionKey tp : candidates) {
                String to = null;
                for (String id : eligible.get(tp.topic())) {
                    int n = out.get(id).size();
                    if (n <= load - 2 && (to == null || n < out.get(to).size())) {
                        to = id;
                    }
                }
                if (to != null) {
                    out.get(from).remove(tp);
                    out.get(to).add(tp);
                    return true;
                }
            }
        }
        return false;
    }
}
