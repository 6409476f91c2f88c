package io.sluice.replication;

import io.sluice.replication.internal.RaftHostImpl;
import java.io.IOException;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;

/**
 * The replication runtime of one broker: the shared Raft RPC server (one port for all Raft groups), shared timers and
 * fsync thread, and the local replicas of partitions ({@link ReplicatedPartition}), each a Raft group named {@code
 * topic-partition} whose data lives in {@code <dataDir>/<topic>-<partition>/}.
 *
 * <p>Lifecycle: {@link #start} binds the RPC server; {@link #openPartition} creates or reopens replicas; {@link
 * #close()} shuts down gracefully (hands leadership of led partitions to other replicas first); {@link #halt()}
 * stops abruptly, as close to a crash as a JVM-internal stop can be.
 *
 * <p>Implementations are thread-safe.
 */
public interface RaftHost extends AutoCloseable {

    /**
     * Starts a host: creates the data directory and binds the Raft RPC server on {@code config.host():config.port()}
     * (port 0 = ephemeral).
     *
     * @param brokerId this broker's id, used in the {@link ReplicaId}s it reports
     */
    static RaftHost start(int brokerId, ReplicationConfig config) throws IOException {
        return start(brokerId, config, ReplicationObserver.NONE);
    }

    /**
     * Like {@link #start(int, ReplicationConfig)}, reporting replica lifecycle, commit latency and log timings to
     * {@code observer} (the broker's metrics).
     */
    static RaftHost start(int brokerId, ReplicationConfig config, ReplicationObserver observer) throws IOException {
        return RaftHostImpl.start(brokerId, config, PartitionStateExtension.Factory.NONE, observer);
    }

    /**
     * Like {@link #start(int, ReplicationConfig)}, with {@code extensions} asked for the {@link
     * PartitionStateExtension} of every partition replica this host opens.
     */
    static RaftHost start(int brokerId, ReplicationConfig config, PartitionStateExtension.Factory extensions)
            throws IOException {
        return RaftHostImpl.start(brokerId, config, extensions, ReplicationObserver.NONE);
    }

    /** Both of the above: state extensions and an observer. */
    static RaftHost start(
            int brokerId,
            ReplicationConfig config,
            PartitionStateExtension.Factory extensions,
            ReplicationObserver observer)
            throws IOException {
        return RaftHostImpl.start(brokerId, config, extensions, observer);
    }

    /** This broker's replica identity: id and the bound Raft endpoint. */
    ReplicaId self();

    ReplicationConfig config();

    /**
     * Opens the local replica of {@code spec.partition()}: creates its directory and Raft group if new, or recovers it
     * from disk. The spec's replica set must contain {@link #self()} (matched by endpoint).
     *
     * @throws IllegalStateException if that partition is already open here or the host is closed
     * @throws IllegalArgumentException if the replica set does not contain this host
     * @throws ReplicationException if the replica cannot start (e.g. unreadable data)
     */
    ReplicatedPartition openPartition(PartitionSpec spec);

    /** The open replica of {@code partition}, if any. */
    Optional<ReplicatedPartition> partition(TopicPartition partition);

    /** Every open replica. */
    Collection<ReplicatedPartition> partitions();

    /**
     * The partitions that have a data directory under {@link ReplicationConfig#dataDir()}, open or not: lets a
     * reconciler find replicas of partitions that no longer belong here (e.g. deleted while the broker was down).
     */
    Set<TopicPartition> partitionsOnDisk() throws IOException;

    /**
     * Stops the local replica of {@code partition} (handing its leadership over first when it leads), keeping its data.
     * A no-op if it is not open.
     */
    void closePartition(TopicPartition partition);

    /**
     * Stops the local replica of {@code partition} if open and deletes its directory (topic deletion, or the replica
     * moved away).
     */
    void deletePartition(TopicPartition partition) throws IOException;

    /** Fault injection on this host's incoming Raft traffic. */
    NetworkFaults faults();

    /**
     * Graceful shutdown: transfers the leadership of every led partition to another replica (waiting up to {@link
     * ReplicationConfig#SHUTDOWN_TRANSFER_TIMEOUT_MS}), stops every group, then the RPC server and fsync thread.
     * Idempotent.
     */
    @Override
    void close();

    /**
     * Abrupt stop for tests: drops all incoming Raft traffic at once, makes the logs refuse further appends, stops the
     * groups without handing over leadership, then closes the logs (nothing beyond what was already written reaches
     * them; what was written survives, as after a process crash) and the RPC server. Note that a stopping JRaft leader
     * may still send a last message to a follower; to imitate a crash exactly, also block this host at its peers.
     * Idempotent.
     */
    void halt();
}
