package io.sluice.replication.metadata;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A topic: its name, the id of this incarnation of the name, its configs and its partitions' replica assignment.
 *
 * <p>Invariants: partitions are numbered {@code 0..n-1} in list order and all have the same replication factor;
 * {@code topicId} is the Raft index of the command that created the topic, so a topic deleted and created again
 * under the same name gets a new, larger id. Immutable and thread-safe.
 *
 * @param name the topic name
 * @param topicId unique id of this incarnation of the topic
 * @param configs topic configs (e.g. {@code retention.ms}); passed to the partitions unchanged
 * @param partitions assignment of each partition, index = partition number
 */
public record TopicInfo(String name, long topicId, Map<String, String> configs, List<PartitionAssignment> partitions) {

    public TopicInfo {
        Objects.requireNonNull(name, "name");
        configs = Map.copyOf(configs);
        partitions = List.copyOf(partitions);
        if (partitions.isEmpty()) {
            throw new IllegalArgumentException("topic " + name + " has no partitions");
        }
        int rf = partitions.get(0).replicas().size();
        for (int i = 0; i < partitions.size(); i++) {
            PartitionAssignment p = partitions.get(i);
            if (p.partition() != i) {
                throw new IllegalArgumentException(
                        "topic " + name + ": partition " + i + " listed as " + p.partition());
            }
            if (p.replicas().size() != rf) {
                throw new IllegalArgumentException("topic " + name + ": uneven replication factor");
            }
        }
    }

    public int partitionCount() {
        return partitions.size();
    }

    public int replicationFactor() {
        return partitions.get(0).replicas().size();
    }

    /** The assignment of {@code partition}; throws {@link IndexOutOfBoundsException} when out of range. */
    public PartitionAssignment partition(int partition) {
        return partitions.get(partition);
    }
}
