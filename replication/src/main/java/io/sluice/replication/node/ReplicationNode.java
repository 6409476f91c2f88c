package io.sluice.replication.node;

import com.alipay.sofa.jraft.util.Endpoint;
import io.sluice.replication.PartitionStateExtension;
import io.sluice.replication.RaftHost;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.ReplicationObserver;
import io.sluice.replication.TopicPartition;
import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.internal.ControllerSettings;
import io.sluice.replication.metadata.internal.MetadataController;
import io.sluice.replication.node.internal.PartitionReconciler;
import io.sluice.replication.node.internal.RaftHostControllerHost;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything replication does on one broker: the {@link RaftHost} (shared Raft RPC server, partition replicas), this
 * broker's member of the metadata controller ({@link MetadataClient}), and the reconciler that opens and deletes local
 * replicas as the assignment says and moves leadership back to preferred replicas. The broker process and the test
 * kit's {@code MiniCluster} both build one per broker.
 *
 * <p>On disk, under {@code replication().dataDir()}: one directory per partition replica (the Raft host's layout),
 * {@code __metadata/} (the controller group's log, Raft meta and snapshots) and {@code replicas.registry} (which topic
 * incarnation each local replica belongs to).
 *
 * <p>Lifecycle: {@link #start} returns a running node that registers with the controller and heartbeats it; {@link
 * #close()} is graceful (controller and partition leadership handed over); {@link #halt()} stops abruptly, keeping
 * what is on disk, as a crash would. Thread-safe.
 */
public final class ReplicationNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicationNode.class);

    /** The directory of the metadata controller group under the data directory. */
    public static final String METADATA_DIR = "__metadata";

    private final ReplicationNodeConfig config;
    private final RaftHost host;
    private final BrokerInfo brokerInfo;
    private final MetadataController controller;
    private final PartitionReconciler reconciler;
    private final Object lifecycle = new Object();
    private boolean stopped;

    private ReplicationNode(
            ReplicationNodeConfig config,
            RaftHost host,
            BrokerInfo brokerInfo,
            MetadataController controller,
            PartitionReconciler reconciler) {
        this.config = config;
        this.host = host;
        this.brokerInfo = brokerInfo;
        this.controller = controller;
        this.reconciler = reconciler;
    }

    /**
     * Starts the Raft host (binding the Raft port), the metadata controller member and the reconciler.
     *
     * @throws IOException if the data directory or the Raft port cannot be used
     */
    public static ReplicationNode start(ReplicationNodeConfig config) throws IOException {
        return start(config, PartitionStateExtension.Factory.NONE, ReplicationObserver.NONE);
    }

    /**
     * Like {@link #start(ReplicationNodeConfig)}, with {@code extensions} asked for the {@link PartitionStateExtension}
     * of every partition replica this broker opens (the broker keeps {@code __offsets} state this way). The factory must
     * be ready before the node starts: replicas found on disk reopen at once.
     */
    public static ReplicationNode start(ReplicationNodeConfig config, PartitionStateExtension.Factory extensions)
            throws IOException {
        return start(config, extensions, ReplicationObserver.NONE);
    }

    /**
     * Like {@link #start(ReplicationNodeConfig)}, reporting the partition replicas' lifecycle, commit latency and log
     * timings to {@code observer} (the broker's metrics).
     */
    public static ReplicationNode start(ReplicationNodeConfig config, ReplicationObserver observer) throws IOException {
        return start(config, PartitionStateExtension.Factory.NONE, observer);
    }

    /** With both state extensions and an observer (the broker uses this). */
    public static ReplicationNode start(
            ReplicationNodeConfig config, PartitionStateExtension.Factory extensions, ReplicationObserver observer)
            throws IOException {
        int id = config.brokerId();
        RaftHost host = RaftHost.start(id, config.replication(), extensions, observer);
        MetadataController controller = null;
        try {
            BrokerInfo self = new BrokerInfo(
                    id,
                    host.self().host(),
                    config.grpcPort(),
                    host.self().raftPort(),
                    config.httpPort(),
                    config.rack());
            Map<Integer, Endpoint> voters = new HashMap<>();
            config.controllerVoters().forEach((voter, address) -> {
                int colon = address.lastIndexOf(':');
                voters.put(
                        voter,
                        new Endpoint(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))));
            });
            Path dataDir = config.replication().dataDir();
            ControllerSettings settings = new ControllerSettings(
                    self,
                    voters,
                    dataDir.resolve(METADATA_DIR),
                    config.controllerElectionTimeoutMs(),
                    config.heartbeatIntervalMs(),
                    config.sessionTimeoutMs(),
                    config.requestTimeoutMs(),
                    (int) Math.max(1, (config.controllerSnapshotIntervalMs() + 999) / 1000));
            controller = new MetadataController(settings, new RaftHostControllerHost(host));
            controller.start();
            PartitionReconciler reconciler = new PartitionReconciler(
                    id,
                    host,
                    controller,
                    config.defaultLogConfig(),
                    config.replication().defaultGroupOptions(),
                    dataDir,
                    config.reconcileIntervalMs(),
                    config.leaderRebalanceIntervalMs());
            reconciler.start();
            LOG.info(
                    "broker {}: replication node started (Raft {}, controller {})",
                    id,
                    host.self().endpoint(),
                    config.isControllerVoter() ? "voter" : "learner");
            return new ReplicationNode(config, host, self, controller, reconciler);
        } catch (RuntimeException e) {
            if (controller != null) {
                controller.close();
            }
            host.close();
            throw e;
        }
    }

    public int brokerId() {
        return config.brokerId();
    }

    public ReplicationNodeConfig config() {
        return config;
    }

    /** This broker's registration (with the bound Raft port). */
    public BrokerInfo brokerInfo() {
        return brokerInfo;
    }

    public RaftHost raftHost() {
        return host;
    }

    /** The cluster metadata as this broker sees it, and topic creation/deletion. */
    public MetadataClient metadata() {
        return controller;
    }

    /** Whether this broker currently leads the metadata controller group. */
    public boolean isController() {
        return controller.isLeader();
    }

    /** The local replica of {@code topic}/{@code partition}, if open. */
    public Optional<ReplicatedPartition> partition(String topic, int partition) {
        return host.partition(new TopicPartition(topic, partition));
    }

    /** Re-checks local replicas against the metadata now (normally done on every change and periodically). */
    public void reconcileNow() {
        reconciler.trigger();
    }

    /** Takes a snapshot of the metadata controller state now (tests, tooling). */
    public void snapshotMetadata() {
        controller.snapshotNow().join();
    }

    /**
     * Graceful stop: stops reconciling, hands over controller leadership, hands over partition leadership and stops
     * the replicas. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (stopped) {
                return;
            }
            stopped = true;
        }
        reconciler.close();
        controller.close();
        host.close();
        LOG.info("broker {}: replication node closed", config.brokerId());
    }

    /**
     * Abrupt stop: stops everything without handing anything over; what is on disk stays as a crash would leave it.
     * Like {@link RaftHost#halt()}, a stopping leader may still send one last message; the test kit also cuts this
     * broker off at its peers first to imitate a crash exactly. Idempotent.
     */
    public void halt() {
        synchronized (lifecycle) {
            if (stopped) {
                return;
            }
            stopped = true;
        }
        reconciler.close();
        host.halt();
        controller.halt();
        LOG.info("broker {}: replication node halted", config.brokerId());
    }

    @Override
    public String toString() {
        return "ReplicationNode[broker " + config.brokerId() + " @ "
                + host.self().endpoint() + "]";
    }
}
