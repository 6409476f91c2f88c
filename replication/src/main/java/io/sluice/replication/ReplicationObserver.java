package io.sluice.replication;

import io.sluice.logstore.LogStats;

/**
 * What a broker's metrics need to hear from replication, without replication depending on a metrics library: local
 * replicas opening and closing (so per-partition series can follow them), the leader's commit latency, and (as a
 * {@link LogStats}) the append and fsync timings of every partition log. Passed to {@link RaftHost#start(int,
 * ReplicationConfig, ReplicationObserver)}.
 *
 * <p>Callbacks run on replication's internal threads (open/close on the thread that opens or closes the replica, commit
 * latency on the partition's state-machine thread, log timings on the appending and fsync threads). They must be cheap,
 * must not block and should not throw (what they throw is logged and ignored). Implementations must be thread-safe.
 */
public interface ReplicationObserver extends LogStats {

    /** Observes nothing. */
    ReplicationObserver NONE = new ReplicationObserver() {};

    /**
     * A local replica is being opened: called before its Raft node starts, so listeners added here see every leadership
     * event. Until the replica is open its accessors may throw {@link PartitionClosedException}.
     */
    default void onReplicaOpened(ReplicatedPartition replica) {}

    /** A local replica was closed, halted or deleted (or failed to open after {@link #onReplicaOpened}). */
    default void onReplicaClosed(ReplicatedPartition replica) {}

    /**
     * On a leader: one append was committed by a quorum (and applied), {@code nanos} after it was proposed. Appends
     * with {@link AckMode#LEADER} report it too, although their producers were answered earlier.
     */
    default void onCommitted(long nanos) {}
}
