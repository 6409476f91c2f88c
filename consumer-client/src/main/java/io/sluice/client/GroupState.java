package io.sluice.client;

/**
 * The state of a consumer group, as its coordinator reports it.
 *
 * <p>Immutable and thread-safe.
 */
public enum GroupState {
    /** A state this client does not know (a newer broker). */
    UNKNOWN,
    /** No members; the group may still hold committed offsets. */
    EMPTY,
    /** Membership or subscriptions changed; the coordinator is computing a new target assignment. */
    ASSIGNING,
    /** Some members still have to release or take partitions to reach the target assignment. */
    RECONCILING,
    /** Every member owns exactly its target assignment. */
    STABLE,
    /** The group is being deleted. */
    DEAD
}
