package io.sluice.client;

/**
 * When the broker acknowledges a produced batch. Immutable and thread-safe.
 */
public enum Acks {
    /** After a majority of replicas stored it durably and it is committed; survives a minority failure. */
    QUORUM,
    /** After the leader appended it, before replication: faster, and lost if the leader fails first. */
    LEADER
}
