package io.sluice.replication;

import java.util.Set;

/**
 * Fault injection for one {@link RaftHost}'s Raft traffic: requests that arrive from a blocked peer are dropped
 * without a response (the sender sees a timeout), as if the link were cut. Blocking is per host instance, never
 * global, so tests can partition brokers running in one JVM.
 *
 * <p>A cut is one-way: a host that blocks {@code b} still sends to {@code b}. For a full partition between hosts
 * {@code a} and {@code b}, call {@code a.faults().block(b)} and {@code b.faults().block(a)}.
 *
 * <p>Limitation: requests are attributed to a sender by the {@code server_id} they carry; snapshot file reads carry
 * none and are attributed by the connection they arrive on once that connection carried an attributed request, so a
 * snapshot copy already in progress may complete across a new cut.
 *
 * <p>Implementations are thread-safe.
 */
public interface NetworkFaults {

    /** Drops every Raft request from {@code hostPort} ({@code host:port} of its Raft endpoint) from now on. */
    void block(String hostPort);

    /** Stops dropping requests from {@code hostPort}. */
    void unblock(String hostPort);

    /** Drops requests from {@code replica}'s Raft endpoint. */
    default void block(ReplicaId replica) {
        block(replica.endpoint());
    }

    /** Stops dropping requests from {@code replica}'s Raft endpoint. */
    default void unblock(ReplicaId replica) {
        unblock(replica.endpoint());
    }

    /** Unblocks everyone. */
    void heal();

    /** The endpoints currently blocked. */
    Set<String> blocked();

    /**
     * Whether traffic from {@code hostPort} is dropped (also accepts a JRaft peer id {@code host:port:index}). Code
     * that sends its own requests to peers uses it to fail them while the link is cut.
     */
    boolean isBlocked(String hostPort);

    /** Requests dropped so far (for tests that want to see the fault bite). */
    long droppedRequests();
}
