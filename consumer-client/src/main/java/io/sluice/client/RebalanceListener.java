package io.sluice.client;

import java.util.Collection;

/**
 * Told when a group member's assignment changes. Every method runs on the thread that calls {@link Consumer#poll}
 * (or {@link Consumer#unsubscribe()} / {@link Consumer#close()}), inside that call, so it may use the consumer
 * (seek, commit, position). Assignments change incrementally: a rebalance only revokes the partitions that move to
 * another member; the others keep being consumed without a pause.
 *
 * <p>An exception thrown by a callback is rethrown by the consumer call that ran it, after the assignment change
 * is complete. Implementations need not be thread-safe: the consumer calls them from one thread at a time.
 */
public interface RebalanceListener {
    /** A listener that does nothing. */
    RebalanceListener NONE = new RebalanceListener() {};

    /**
     * The coordinator gave these partitions to this member. They are already in {@link Consumer#assignment()};
     * each starts at the group's committed offset, or per {@link ConsumerBuilder#autoOffsetReset} when it has none,
     * unless this callback seeks it elsewhere. Never called with an empty collection.
     */
    default void onPartitionsAssigned(Collection<TopicPartition> partitions) {}

    /**
     * These partitions move to another member. Fetching them has stopped; with auto-commit their positions have
     * already been committed; they are still in {@link Consumer#assignment()}, so this callback may commit
     * explicit offsets for them ({@link Consumer#commitSync(java.util.Map)}). When it returns they are dropped and
     * the coordinator is told, so that the new owner starts from the committed offsets. Never called with an
     * empty collection.
     */
    default void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

    /**
     * This member lost these partitions without a chance to commit: it was fenced or removed from the group (its
     * session expired, e.g. after a long pause or a network partition). They may already belong to another member,
     * so nothing is committed for them; records consumed since the last commit will be consumed again by the new
     * owner. The consumer then rejoins the group by itself. Never called with an empty collection.
     */
    default void onPartitionsLost(Collection<TopicPartition> partitions) {}
}
