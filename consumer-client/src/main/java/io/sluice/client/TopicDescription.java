package io.sluice.client;

import java.util.List;
import java.util.Map;

/**
 * Everything known about one topic.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name topic name
 * @param internal true for internal topics
 * @param replicationFactor replicas per partition
 * @param partitions every partition, by partition number
 * @param configs every effective configuration value, sorted by key
 */
public record TopicDescription(
        String name,
        boolean internal,
        int replicationFactor,
        List<PartitionInfo> partitions,
        Map<String, ConfigValue> configs) {
    public TopicDescription {
        partitions = List.copyOf(partitions);
        configs = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(configs));
    }

    /**
     * One effective configuration value.
     *
     * @param value the value in the key's documented syntax
     * @param isDefault true when the broker default applies (the topic does not set the key)
     */
    public record ConfigValue(String value, boolean isDefault) {}
}
