package io.sluice.client;

/**
 * One broker of the cluster.
 *
 * <p>Immutable and thread-safe.
 *
 * @param id broker id
 * @param host advertised host
 * @param grpcPort client API port
 * @param raftPort replication port (not for clients)
 * @param httpPort metrics/health HTTP port, 0 when disabled
 * @param rack rack label, empty when none
 * @param alive whether the controller sees the broker alive
 */
public record BrokerInfo(int id, String host, int grpcPort, int raftPort, int httpPort, String rack, boolean alive) {
    /** {@code host:grpcPort}. */
    public String endpoint() {
        return host + ":" + grpcPort;
    }
}
