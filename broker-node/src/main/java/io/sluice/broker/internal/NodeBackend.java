package io.sluice.broker.internal;

import io.sluice.broker.internal.offsets.OffsetStore;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.replication.NotLeaderException;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import io.sluice.replication.node.ReplicationNode;
import java.util.Optional;

/**
 * The production {@link BrokerBackend}: a {@link ReplicationNode} (Raft host, controller member, replica reconciler).
 * For a partition without a local replica the leader is not known here, so the preferred replica is reported when it
 * is alive, with term 0 (clients correct it on NOT_LEADER, whose detail comes from an actual replica).
 *
 * <p>The gRPC server binds before the node starts (so that the node can advertise the bound port), hence the node is
 * {@link #attach attached} later; until then every request fails with BROKER_NOT_AVAILABLE and {@link #isReady()} is
 * false.
 *
 * <p>Thread-safe (the node is; the reference to it is volatile).
 */
public final class NodeBackend implements BrokerBackend {
    private volatile ReplicationNode attached;
    private volatile OffsetStore offsets;

    /** Serves requests from {@code node} from now on. */
    public void attach(ReplicationNode node) {
        this.attached = node;
    }

    /** The broker's committed-offsets store, for the group services. */
    public void attachOffsets(OffsetStore store) {
        this.offsets = store;
    }

    /** The broker's committed-offsets store; BROKER_NOT_AVAILABLE until the broker has started. */
    public OffsetStore offsets() {
        OffsetStore o = offsets;
        if (o == null) {
            throw BrokerException.of(ErrorCode.ERROR_CODE_BROKER_NOT_AVAILABLE, "the broker is starting");
        }
        return o;
    }

    private ReplicationNode node() {
        ReplicationNode n = attached;
        if (n == null) {
            throw BrokerException.of(ErrorCode.ERROR_CODE_BROKER_NOT_AVAILABLE, "the broker is starting");
        }
        return n;
    }

    @Override
    public int brokerId() {
        return node().brokerId();
    }

    @Override
    public MetadataClient metadata() {
        return node().metadata();
    }

    @Override
    public Optional<PartitionHandle> partition(String topic, int partition) {
        return node().partition(topic, partition).map(p -> new ReplicaHandle(p, e -> notLeader(topic, partition, e)));
    }

    private RuntimeException notLeader(String topic, int partition, NotLeaderException e) {
        return BrokerException.notLeader(
                topic,
                partition,
                e.leader().flatMap(l -> broker(l.brokerId())),
                e.leader().isPresent()
                        ? node().partition(topic, partition).map(p -> p.term()).orElse(0L)
                        : 0L);
    }

    @Override
    public Optional<LeaderInfo> leaderOf(String topic, int partition) {
        ReplicationNode node = node();
        var local = node.partition(topic, partition);
        if (local.isPresent()) {
            return local.get()
                    .leader()
                    .map(l -> new LeaderInfo(l.brokerId(), local.get().term()));
        }
        ClusterMetadata m = node.metadata().current();
        return m.topic(topic)
                .filter(t -> partition >= 0 && partition < t.partitionCount())
                .map(TopicInfo::partitions)
                .map(ps -> ps.get(partition))
                .map(PartitionAssignment::preferredLeader)
                .filter(m::isAlive)
                .map(id -> new LeaderInfo(id, 0));
    }

    @Override
    public boolean isReady() {
        ReplicationNode n = attached;
        return n != null
                && n.metadata().controllerId().isPresent()
                && n.metadata().current().isAlive(n.brokerId());
    }
}
