package io.sluice.replication.metadata;

import java.util.Objects;
import java.util.Optional;

/**
 * A broker as registered with the metadata controller: its id and the endpoints other nodes and clients use.
 *
 * <p>Invariants: {@code id >= 0}; ports are in {@code [0, 65535]} (0 = "not served"); {@code raftPort > 0} since the
 * Raft endpoint is how replicas find each other. Immutable and thread-safe.
 *
 * @param id the broker id, unique in the cluster
 * @param host the host name or address the broker's servers are bound to
 * @param grpcPort the client API port
 * @param raftPort the shared Raft RPC port (all Raft groups of the broker, and the controller RPCs)
 * @param httpPort the metrics/health port
 * @param rack the rack, used to spread replicas, if configured
 */
public record BrokerInfo(int id, String host, int grpcPort, int raftPort, int httpPort, Optional<String> rack) {

    public BrokerInfo {
        if (id < 0) {
            throw new IllegalArgumentException("broker id must be >= 0: " + id);
        }
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(rack, "rack");
        checkPort("grpcPort", grpcPort);
        checkPort("raftPort", raftPort);
        checkPort("httpPort", httpPort);
        if (raftPort == 0) {
            throw new IllegalArgumentException("raftPort must be set");
        }
    }

    private static void checkPort(String name, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + " out of range: " + port);
        }
    }

    /** {@code host:raftPort}, the address of this broker's Raft RPC server. */
    public String raftAddress() {
        return host + ":" + raftPort;
    }
}
