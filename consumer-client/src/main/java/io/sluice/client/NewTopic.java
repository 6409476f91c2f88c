package io.sluice.client;

import java.util.Map;
import java.util.Objects;

/**
 * A topic to create.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name topic name: 1-249 characters from {@code [a-zA-Z0-9._-]}, not starting with {@code __}
 * @param partitions partition count, or 0 for the broker default
 * @param replicationFactor replicas per partition, or 0 for the broker default
 * @param configs topic configuration overriding broker defaults
 */
public record NewTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
    public NewTopic {
        Objects.requireNonNull(name, "name");
        configs = Map.copyOf(configs);
        if (partitions < 0 || replicationFactor < 0) {
            throw new IllegalArgumentException("partitions and replication factor must be >= 0 (0: broker default)");
        }
    }

    /** A topic with broker-default partitions, replication factor and configuration. */
    public static NewTopic of(String name) {
        return new NewTopic(name, 0, 0, Map.of());
    }
}
