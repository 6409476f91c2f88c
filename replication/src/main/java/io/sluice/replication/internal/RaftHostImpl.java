package io.sluice.replication.internal;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.NodeManager;
import com.alipay.sofa.jraft.RaftServiceFactory;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.rpc.RaftRpcServerFactory;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import io.sluice.logstore.FsyncScheduler;
import io.sluice.replication.NetworkFaults;
import io.sluice.replication.PartitionSpec;
import io.sluice.replication.PartitionStateExtension;
import io.sluice.replication.RaftGroupOptions;
import io.sluice.replication.RaftHost;
import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.ReplicationConfig;
import io.sluice.replication.ReplicationException;
import io.sluice.replication.ReplicationObserver;
import io.sluice.replication.TopicPartition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link RaftHost} of one broker: one bolt RPC server bound to {@code host:port} (wrapped for fault injection)
 * shared by every Raft group, JRaft's shared timers, one {@link FsyncScheduler} shared by every partition log, and the
 * open {@link PartitionReplica}s.
 *
 * <p>Every replica's JRaft peer id is {@code host:port:brokerId}: the broker id rides in JRaft's peer index, so a peer
 * id maps back to a {@link ReplicaId} without a lookup. Thread-safe; open/close of partitions is serialized.
 */
public final class RaftHostImpl implements RaftHost {
    private static final Logger LOG = LoggerFactory.getLogger(RaftHostImpl.class);
    /** How often high watermarks are refreshed in case a commit of control entries only produced no callback. */
    private static final long HW_REFRESH_MS = 500;
    /** How often leaders sample their followers' progress for {@link ReplicatedPartition#inSyncReplicas()}. */
    private static final long IN_SYNC_SAMPLE_MS = 500;

    /** See {@link #applySharedOptions}: JRaft sizes a group's RPC callback pool as core = this / 3, max = this. */
    private static final int RPC_CALLBACK_THREADS_PER_GROUP = 2;

    /** Threads that handle the pipelined AppendEntries of every group this broker follows (see the class used). */
    private static final int APPEND_STRIPES =
            Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

    private static final String SOFA_LOG_DISABLE = "sofa.middleware.log.disable";
    private static final String CLOSURE_POOL_MAX = "jraft.rpc.closure.threadpool.size.max";
    private static final int CLOSURE_POOL_MAX_THREADS = 2000;

    static {
        // bolt logs through sofa-common-tools, which builds its own log4j2/logback context writing files under
        // ~/logs, and whose log4j2 adapter (1.0.12) fails with NoSuchMethodError on log4j-slf4j2-impl 2.2x. JRaft
        // itself logs through SLF4J; only bolt's transport chatter is lost. Set the property to false to keep it.
        if (System.getProperty(SOFA_LOG_DISABLE) == null) {
            System.setProperty(SOFA_LOG_DISABLE, "true");
        }
        // Every replicator's heartbeat timer hands the send to JRaft's process-wide closure pool, which has no queue
        // and rejects once its maximum (JRaft's default: 100) threads are busy. A rejected hand-off ends that
        // replicator's heartbeats for good (its timer is re-armed only by a heartbeat's answer), its followers elect,
        // and the elections load the machine further: 500 partitions on 3 brokers of a 2-core machine never settled.
        // Threads above the core idle out after 60 s, so a higher ceiling costs nothing while it is not needed.
        if (System.getProperty(CLOSURE_POOL_MAX) == null) {
            System.setProperty(CLOSURE_POOL_MAX, Integer.toString(CLOSURE_POOL_MAX_THREADS));
        }
        JraftPoolTimers.install();
    }

    private final int brokerId;
    private final ReplicationConfig config;
    private final ReplicaId self;
    private final PartitionStateExtension.Factory extensions;
    private final Endpoint endpoint;
    private final FaultInjectingRpcServer rpcServer;
    private final FsyncScheduler fsync;
    private final ReplicationObserver observer;
    private final ExecutorService snapshotExecutor;
    private final ScheduledExecutorService housekeeping;
    private final Clock clock = Clock.systemUTC();
    private final Map<TopicPartition, PartitionReplica> partitions = new ConcurrentHashMap<>();
    private final List<Node> otherGroups = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Object lifecycle = new Object();
    private volatile boolean closed;

    private RaftHostImpl(
            int brokerId,
            ReplicationConfig config,
            FaultInjectingRpcServer rpcServer,
            int port,
            PartitionStateExtension.Factory extensions,
            ReplicationObserver observer) {
        this.brokerId = brokerId;
        this.config = config;
        this.extensions = extensions;
        this.rpcServer = rpcServer;
        this.observer = observer;
        this.self = new ReplicaId(brokerId, config.host(), port);
        this.endpoint = new Endpoint(config.host(), port);
        // Every partition log shares this scheduler, so its stats sink sees every log's timings.
        this.fsync = FsyncScheduler.start("sluice-fsync-" + brokerId, observer);
        AtomicInteger n = new AtomicInteger();
        this.snapshotExecutor = Executors.newFixedThreadPool(1, r -> {
            Thread t = new Thread(r, "sluice-raft-snapshot-" + brokerId + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-raft-housekeeping-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        housekeeping.scheduleWithFixedDelay(
                this::refreshHighWatermarks, HW_REFRESH_MS, HW_REFRESH_MS, TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(
                this::sampleFollowers, IN_SYNC_SAMPLE_MS, IN_SYNC_SAMPLE_MS, TimeUnit.MILLISECONDS);
    }

    /** See {@link RaftHost#start}. */
    public static RaftHostImpl start(int brokerId, ReplicationConfig config) throws IOException {
        return start(brokerId, config, PartitionStateExtension.Factory.NONE, ReplicationObserver.NONE);
    }

    /** See {@link RaftHost#start(int, ReplicationConfig, PartitionStateExtension.Factory, ReplicationObserver)}. */
    public static RaftHostImpl start(
            int brokerId,
            ReplicationConfig config,
            PartitionStateExtension.Factory extensions,
            ReplicationObserver observer)
            throws IOException {
        Files.createDirectories(config.dataDir());
        // Bound to the configured address only (bolt's default would bind every interface).
        com.alipay.remoting.rpc.RpcServer bolt =
                new com.alipay.remoting.rpc.RpcServer(config.host(), config.port(), true);
        FaultInjectingRpcServer server = new FaultInjectingRpcServer(
                new StripedAppendEntriesRpcServer(new BoltRpcServer(bolt), APPEND_STRIPES, "sluice-raft-" + brokerId));
        RaftRpcServerFactory.addRaftRequestProcessors(server);
        HeartbeatBatch.registerSerializer();
        server.registerProcessor(new HeartbeatBatchProcessor());
        SharedClientRaftRpcFactory.setHeartbeatCoalesceWindowMs(config.heartbeatCoalesceMs());
        if (!server.init(null)) {
            throw new IOException("cannot start the Raft RPC server on " + config.host() + ":" + config.port());
        }
        int port = server.boundPort();
        RaftHostImpl host = new RaftHostImpl(brokerId, config, server, port, extensions, observer);
        NodeManager.getInstance().addAddress(host.endpoint);
        LOG.info("broker {}: Raft host started on {}, data in {}", brokerId, host.self.endpoint(), config.dataDir());
        return host;
    }

    @Override
    public ReplicaId self() {
        return self;
    }

    @Override
    public ReplicationConfig config() {
        return config;
    }

    @Override
    public NetworkFaults faults() {
        return rpcServer;
    }

    @Override
    public ReplicatedPartition openPartition(PartitionSpec spec) {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("Raft host of broker " + brokerId + " is closed");
            }
            TopicPartition tp = spec.partition();
            if (partitions.containsKey(tp)) {
                throw new IllegalStateException(tp + " is already open on broker " + brokerId);
            }
            ReplicaId me = spec.replicas().stream()
                    .filter(r -> r.endpoint().equals(self.endpoint()))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(
                            "replica set " + spec.replicas() + " of " + tp + " does not contain " + self));
            if (me.brokerId() != brokerId) {
                throw new IllegalArgumentException(
                        "replica " + me + " of " + tp + " has another broker id than " + self);
            }
            PartitionReplica replica = new PartitionReplica(
                    tp, self, spec.replicas(), config.maxInflightProposals(), config.replicaLagTimeMaxMs(), observer);
            PartitionLayout layout = PartitionLayout.of(config.dataDir(), tp);
            SegmentLogStorage storage =
                    new SegmentLogStorage(replica.name(), layout, spec.logConfig(), fsync, clock, replica);
            Optional<PartitionStateExtension> ext;
            try {
                ext = extensions.create(replica);
            } catch (RuntimeException e) {
                throw new ReplicationException(
                        "cannot create the state extension of " + tp + " on broker " + brokerId, e);
            }
            PartitionStateMachine fsm = new PartitionStateMachine(replica, storage, snapshotExecutor, ext);
            replica.bind(storage, fsm, ext);
            // Before the node starts, so that listeners the observer adds see the first leadership events.
            notifyObserver(replica, true);
            try {
                layout.create();
                NodeOptions opts = nodeOptions(spec, layout, storage, fsm);
                Node node = RaftServiceFactory.createAndInitRaftNode(tp.groupId(), PartitionReplica.toPeer(self), opts);
                ReadOnlyScanner.stop(node);
                replica.started(node);
            } catch (IOException | RuntimeException e) {
                replica.markClosed();
                storage.shutdown();
                ext.ifPresent(PartitionReplica::closeQuietly);
                notifyObserver(replica, false);
                throw new ReplicationException("cannot open " + tp + " on broker " + brokerId, e);
            }
            partitions.put(tp, replica);
            LOG.info("{}: replica opened (replicas {})", replica.name(), spec.replicas());
            return replica;
        }
    }

    private NodeOptions nodeOptions(
            PartitionSpec spec, PartitionLayout layout, SegmentLogStorage storage, PartitionStateMachine fsm) {
        RaftGroupOptions g = spec.raftOptions();
        NodeOptions opts = new NodeOptions();
        applySharedOptions(opts, g.electionTimeoutMs());
        opts.setSnapshotIntervalSecs(
                g.snapshotIntervalMs() == 0 ? -1 : (int) Math.max(1, (g.snapshotIntervalMs() + 999) / 1000));
        List<PeerId> peers = new ArrayList<>();
        spec.replicas().forEach(r -> peers.add(PartitionReplica.toPeer(r)));
        opts.setInitialConf(new Configuration(peers));
        opts.setFsm(fsm);
        opts.setLogUri(layout.logDir().toString());
        opts.setRaftMetaUri(layout.raftMetaDir().toString());
        opts.setSnapshotUri(layout.snapshotDir().toString());
        opts.setServiceFactory(new SluiceJRaftServiceFactory(storage));
        return opts;
    }

    @Override
    public Optional<ReplicatedPartition> partition(TopicPartition partition) {
        return Optional.ofNullable(partitions.get(partition));
    }

    @Override
    public Collection<ReplicatedPartition> partitions() {
        return List.copyOf(partitions.values());
    }

    @Override
    public Set<TopicPartition> partitionsOnDisk() throws IOException {
        Set<TopicPartition> out = new TreeSet<>(
                java.util.Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        try (Stream<Path> dirs = Files.list(config.dataDir())) {
            for (Path d : (Iterable<Path>) dirs::iterator) {
                if (!Files.isDirectory(d.resolve("log")) && !Files.isDirectory(d.resolve("log.install"))) {
                    continue;
                }
                TopicPartition.fromDirName(d.getFileName().toString()).ifPresent(out::add);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ other groups

    /**
     * The broker's shared Raft RPC server (fault-injecting): other Raft groups of the broker (the metadata group) and
     * their own request processors register here, so their traffic is subject to {@link #faults()} too.
     */
    public RpcServer rpcServer() {
        return rpcServer;
    }

    /** The endpoint of the shared RPC server. */
    public Endpoint endpoint() {
        return endpoint;
    }

    /**
     * Applies the host-wide JRaft settings every group of this broker should share: shared timers and timer pool,
     * small disruptor rings, fsynced term/vote, and the RPC timeout derived from {@code electionTimeoutMs} (which it
     * also sets).
     */
    public void applySharedOptions(NodeOptions opts, int electionTimeoutMs) {
        opts.setElectionTimeoutMs(electionTimeoutMs);
        opts.setSharedElectionTimer(true);
        opts.setSharedVoteTimer(true);
        opts.setSharedStepDownTimer(true);
        opts.setSharedSnapshotTimer(true);
        opts.setSharedTimerPool(true);
        opts.setEnableMetrics(false);
        // A request a cut link swallowed stalls a replicator's pipeline until this timeout (JRaft's default is 5 s);
        // a peer silent for two election timeouts is gone anyway.
        opts.setRpcDefaultTimeout(Math.max(1000, 2 * electionTimeoutMs));
        // Each group's RPC client runs response callbacks on a pool of its own whose core size is a third of this
        // (JRaft's default 80 keeps 26 threads per group once it has seen 26 responses: 750 replicas on a broker made
        // ~20,000 threads). Two gives a core of zero and one worker that exists only while responses arrive and
        // idles out after 60 s: the order of one group's responses is kept, and idle groups cost no thread.
        opts.setRpcProcessorThreadPoolSize(RPC_CALLBACK_THREADS_PER_GROUP);
        RaftOptions raft = opts.getRaftOptions();
        raft.setElectionHeartbeatFactor(config.electionHeartbeatsCount());
        raft.setDisruptorBufferSize(config.disruptorBufferEntries());
        raft.setMaxBodySize(config.appendMaxBytes());
        raft.setMaxReplicatorInflightMsgs(config.replicatorMaxInflightRequests());
        raft.setMaxByteCountPerRpc(config.snapshotChunkBytes());
        // Term and vote must survive a crash, or a node could vote twice in a term.
        raft.setSyncMeta(true);
        raft.setSync(true);
    }

    /**
     * Starts another Raft group (e.g. the metadata controller's) on this host's shared RPC server, with this host's
     * peer identity for {@code groupId}. The host stops it on {@link #close()} (after the partitions) and {@link
     * #halt()}; stopping it earlier with {@link Node#shutdown} is fine.
     *
     * @param opts complete options (state machine, storage URIs, initial configuration); see {@link
     *     #applySharedOptions}
     */
    public Node startGroup(String groupId, PeerId serverId, NodeOptions opts) {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("Raft host of broker " + brokerId + " is closed");
            }
            if (!serverId.getEndpoint().equals(endpoint)) {
                throw new IllegalArgumentException(serverId + " is not on this host's endpoint " + endpoint);
            }
            Node node = RaftServiceFactory.createAndInitRaftNode(groupId, serverId, opts);
            ReadOnlyScanner.stop(node);
            otherGroups.add(node);
            LOG.info("broker {}: Raft group {} started as {}", brokerId, groupId, serverId);
            return node;
        }
    }

    private void stopOtherGroups() {
        for (Node n : otherGroups) {
            try {
                n.shutdown();
                n.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.warn("broker {}: error stopping Raft group {}", brokerId, n.getGroupId(), e);
            }
        }
        otherGroups.clear();
    }

    @Override
    public void closePartition(TopicPartition partition) {
        synchronized (lifecycle) {
            PartitionReplica r = partitions.remove(partition);
            if (r == null) {
                return;
            }
            handOverLeadership(List.of(r));
            stop(r, false);
        }
    }

    @Override
    public void deletePartition(TopicPartition partition) throws IOException {
        synchronized (lifecycle) {
            PartitionReplica r = partitions.remove(partition);
            if (r != null) {
                stop(r, false);
            }
            DurableFiles.deleteRecursively(
                    PartitionLayout.of(config.dataDir(), partition).root());
            if (r != null) {
                r.extension().ifPresent(e -> {
                    try {
                        e.onDeleted();
                    } catch (RuntimeException ex) {
                        LOG.warn("{}: the state extension failed to drop its data", r.name(), ex);
                    }
                });
            }
            LOG.info("{}@{}: replica data deleted", partition, brokerId);
        }
    }

    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            List<PartitionReplica> all = new ArrayList<>(partitions.values());
            handOverLeadership(all);
            for (PartitionReplica r : all) {
                stop(r, false);
            }
            partitions.clear();
            stopOtherGroups();
            shutdownShared();
            LOG.info("broker {}: Raft host closed", brokerId);
        }
    }

    @Override
    public void halt() {
        rpcServer.dropAll();
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            List<PartitionReplica> all = new ArrayList<>(partitions.values());
            for (PartitionReplica r : all) {
                // Closed first, so the storage errors the halt provokes are not reported as replica failures.
                r.markClosed();
                r.storage().halt();
            }
            for (PartitionReplica r : all) {
                stop(r, true);
            }
            partitions.clear();
            stopOtherGroups();
            shutdownShared();
            LOG.info("broker {}: Raft host halted", brokerId);
        }
    }

    /** Asks every led partition to hand leadership to its most caught-up follower and waits (bounded). */
    private void handOverLeadership(List<PartitionReplica> replicas) {
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        for (PartitionReplica r : replicas) {
            if (!r.isLeader() || r.replicas().size() < 2) {
                continue;
            }
            var st = r.node().transferLeadershipTo(PeerId.ANY_PEER);
            if (st.isOk()) {
                LOG.info("{}: handing leadership of term {} over before stopping", r.name(), r.term());
                waits.add(r.leadershipLost());
            } else {
                LOG.warn("{}: cannot hand leadership over: {}", r.name(), st);
            }
        }
        if (waits.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new))
                    .get(config.shutdownTransferTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn(
                    "broker {}: leadership hand-over not finished after {} ms; stopping anyway",
                    brokerId,
                    config.shutdownTransferTimeoutMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.warn("broker {}: leadership hand-over failed", brokerId, e.getCause());
        }
    }

    private void stop(PartitionReplica r, boolean abrupt) {
        r.markClosed();
        Node node = r.node();
        try {
            if (node != null) {
                node.shutdown();
                node.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("{}: error stopping the Raft node", r.name(), e);
        } finally {
            r.storage().shutdown();
            r.extension().ifPresent(PartitionReplica::closeQuietly);
            notifyObserver(r, false);
        }
        LOG.info("{}: replica {}", r.name(), abrupt ? "halted" : "closed");
    }

    private void notifyObserver(PartitionReplica r, boolean opened) {
        try {
            if (opened) {
                observer.onReplicaOpened(r);
            } else {
                observer.onReplicaClosed(r);
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: replication observer threw", r.name(), e);
        }
    }

    private void sampleFollowers() {
        for (PartitionReplica r : partitions.values()) {
            try {
                r.sampleFollowers();
            } catch (RuntimeException e) {
                LOG.debug("{}: follower sampling failed", r.name(), e);
            }
        }
    }

    private void shutdownShared() {
        housekeeping.shutdownNow();
        NodeManager.getInstance().removeAddress(endpoint);
        try {
            rpcServer.shutdown();
        } catch (RuntimeException e) {
            LOG.warn("broker {}: error stopping the Raft RPC server", brokerId, e);
        }
        snapshotExecutor.shutdownNow();
        fsync.close();
    }

    private void refreshHighWatermarks() {
        for (PartitionReplica r : partitions.values()) {
            try {
                r.refreshHighWatermark();
            } catch (RuntimeException e) {
                LOG.debug("{}: high watermark refresh failed", r.name(), e);
            }
        }
    }

    @Override
    public String toString() {
        return "RaftHost[broker " + brokerId + " @ " + self.endpoint() + ", " + partitions.size() + " partitions]";
    }
}
