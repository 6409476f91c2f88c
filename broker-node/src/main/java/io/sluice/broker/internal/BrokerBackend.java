package io.sluice.broker.internal;

import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.MetadataClient;
import java.util.Optional;

/**
 * Everything the gRPC services use from the node: this broker's identity, the cluster metadata and the local
 * partition replicas. Implemented over {@code ReplicationNode} in production and in memory in handler tests.
 *
 * <p>Implementations are thread-safe.
 */
public interface BrokerBackend {

    /** This broker's id. */
    int brokerId();

    /** Metadata reads (this broker's applied view) and topic changes (forwarded to the controller). */
    MetadataClient metadata();

    /** The local replica of a partition, if this broker hosts one that is open. */
    Optional<PartitionHandle> partition(String topic, int partition);

    /** The leader of a partition as this broker knows it, whether or not it hosts a replica. */
    Optional<LeaderInfo> leaderOf(String topic, int partition);

    /** Whether the node has joined the cluster (registered, controller leader known) and can serve requests. */
    boolean isReady();

    /** The endpoints of a broker, from the metadata. */
    default Optional<BrokerInfo> broker(int id) {
        return metadata().current().broker(id);
    }

    /** A partition's leader and its Raft term (0 when unknown). */
    record LeaderInfo(int brokerId, long term) {}
}
