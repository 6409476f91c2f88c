package io.sluice.replication;

import java.util.Objects;
import java.util.Optional;

/**
 * This replica is not (or is no longer) the leader of the partition; carries the leader it knows of, if any, so that
 * the caller can redirect.
 *
 * <p>Raised before proposing (the batch was not written) or after (leadership was lost while the entry was in flight:
 * the outcome is unknown, see {@link RetriableReplicationException}). Instances are immutable and thread-safe.
 */
public class NotLeaderException extends RetriableReplicationException {
    private static final long serialVersionUID = 1L;

    private final TopicPartition partition;
    private final transient Optional<ReplicaId> leader;

    public NotLeaderException(TopicPartition partition, Optional<ReplicaId> leader, String detail) {
        super("not the leader of " + partition
                + leader.map(l -> ", leader is " + l).orElse(", leader unknown")
                + (detail.isEmpty() ? "" : " (" + detail + ")"));
        this.partition = Objects.requireNonNull(partition, "partition");
        this.leader = Objects.requireNonNull(leader, "leader");
    }

    public TopicPartition partition() {
        return partition;
    }

    /** The leader this replica knows of; empty while an election is in progress. */
    public Optional<ReplicaId> leader() {
        return leader;
    }
}
