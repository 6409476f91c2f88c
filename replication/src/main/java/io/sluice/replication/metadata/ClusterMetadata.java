package io.sluice.replication.metadata;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An immutable snapshot of the cluster metadata as applied by one broker.
 *
 * <p>Invariants: {@code version} is the Raft index of the last applied metadata entry, so two snapshots with the same
 * version are equal on every broker and a larger version is never older; {@code liveBrokers} is a subset of {@code
 * brokers}' keys; every replica in every assignment is a registered broker. Maps are sorted by key. Immutable and
 * thread-safe.
 *
 * @param version the last applied metadata Raft index (0 = nothing applied yet)
 * @param brokers registered brokers by id
 * @param liveBrokers ids of brokers whose session is alive (heartbeats within the session timeout)
 * @param topics topics by name
 */
public record ClusterMetadata(
        long version, Map<Integer, BrokerInfo> brokers, Set<Integer> liveBrokers, Map<String, TopicInfo> topics) {

    /** The state before anything was applied. */
    public static final ClusterMetadata EMPTY = new ClusterMetadata(0, Map.of(), Set.of(), Map.of());

    public ClusterMetadata {
        brokers = Collections.unmodifiableMap(new TreeMap<>(brokers));
        liveBrokers = Collections.unmodifiableSet(new TreeSet<>(liveBrokers));
        topics = Collections.unmodifiableMap(new TreeMap<>(topics));
        if (!brokers.keySet().containsAll(liveBrokers)) {
            throw new IllegalArgumentException("live brokers " + liveBrokers + " not all registered");
        }
    }

    public Optional<TopicInfo> topic(String name) {
        return Optional.ofNullable(topics.get(name));
    }

    public Optional<BrokerInfo> broker(int id) {
        return Optional.ofNullable(brokers.get(id));
    }

    public boolean isAlive(int brokerId) {
        return liveBrokers.contains(brokerId);
    }

    /** The partitions that have a replica on {@code brokerId}, in topic then partition order. */
    public List<Replica> replicasOn(int brokerId) {
        List<Replica> out = new ArrayList<>();
        for (TopicInfo t : topics.values()) {
            for (PartitionAssignment p : t.partitions()) {
                if (p.hasReplica(brokerId)) {
                    out.add(new Replica(t, p));
                }
            }
        }
        return out;
    }

    /**
     * One partition of a topic, as seen from a broker holding a replica of it.
     *
     * @param topic the topic
     * @param assignment the partition's assignment
     */
    public record Replica(TopicInfo topic, PartitionAssignment assignment) {
        public int partition() {
            return assignment.partition();
        }
    }
}
