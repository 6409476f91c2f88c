package io.sluice.replication;

import java.util.Objects;

/**
 * One replica of a partition: the broker that hosts it and that broker's Raft endpoint.
 *
 * <p>Two replicas are the same Raft peer when their {@link #endpoint()}s are equal; the broker id is carried so that
 * callers can route requests without a lookup. Invariants: {@code brokerId >= 0}; {@code host} non-blank; {@code
 * raftPort} in {@code [1, 65535]}. Immutable and thread-safe.
 *
 * @param brokerId the id of the broker hosting the replica
 * @param host the host of the broker's Raft RPC server
 * @param raftPort the port of the broker's Raft RPC server (shared by all the broker's Raft groups)
 */
public record ReplicaId(int brokerId, String host, int raftPort) {

    public ReplicaId {
        if (brokerId < 0) {
            throw new IllegalArgumentException("brokerId must be >= 0: " + brokerId);
        }
        Objects.requireNonNull(host, "host");
        if (host.isBlank() || host.contains(":")) {
            throw new IllegalArgumentException("invalid host: '" + host + "'");
        }
        if (raftPort < 1 || raftPort > 65535) {
            throw new IllegalArgumentException("raftPort out of range: " + raftPort);
        }
    }

    /** {@code host:raftPort}, the Raft identity of this replica. */
    public String endpoint() {
        return host + ":" + raftPort;
    }

    @Override
    public String toString() {
        return brokerId + "@" + endpoint();
    }
}
