package io.sluice.replication;

import java.util.Optional;

/**
 * Callbacks about one replica: leadership changes and high-watermark advances.
 *
 * <p>Callbacks run on the replica's internal threads (its Raft state-machine thread or its log's disk thread), one at
 * a time per replica, in the order the events happened. They must return quickly and never block: hand real work to
 * an executor of your own. An exception thrown by a listener is logged and otherwise ignored. Every method has an
 * empty default, so implement only what you need.
 */
public interface PartitionListener {

    /**
     * This replica became the leader in {@code term}. Everything committed by earlier leaders is applied by now and
     * {@link ReplicatedPartition#highWatermark()} covers it once it is durable locally.
     */
    default void onLeaderStart(long term) {}

    /** This replica stopped being the leader of {@code term}; pending appends fail with {@link NotLeaderException}. */
    default void onLeaderStop(long term) {}

    /** This replica follows {@code leader} in {@code term} (empty leader: the follower lost its leader). */
    default void onFollowing(Optional<ReplicaId> leader, long term) {}

    /**
     * The high watermark advanced to {@code highWatermark}: offsets below it are committed and readable. Brokers push
     * new data to tailing fetchers from here. Calls may be coalesced; the value only grows.
     */
    default void onHighWatermark(long highWatermark) {}

    /** The replica failed and stopped serving (see {@link ReplicaFailedException}). */
    default void onFailed(ReplicaFailedException cause) {}
}
