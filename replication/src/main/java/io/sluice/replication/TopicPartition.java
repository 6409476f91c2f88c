package io.sluice.replication;

import java.util.Objects;

/**
 * A partition of a topic: the unit of replication. Each one is replicated by its own Raft group whose id is
 * {@link #groupId()}.
 *
 * <p>Invariants: {@code topic} is non-blank and contains no path separator; {@code partition >= 0}. Immutable and
 * thread-safe.
 *
 * @param topic the topic name
 * @param partition the partition number
 */
public record TopicPartition(String topic, int partition) {

    public TopicPartition {
        Objects.requireNonNull(topic, "topic");
        if (topic.isBlank() || topic.contains("/") || topic.contains("\\") || topic.equals(".") || topic.equals("..")) {
            throw new IllegalArgumentException("invalid topic name: '" + topic + "'");
        }
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0: " + partition);
        }
    }

    /** {@code topic-partition}: the Raft group id and the name of the partition's data directory. */
    public String groupId() {
        return topic + "-" + partition;
    }

    @Override
    public String toString() {
        return groupId();
    }
}
