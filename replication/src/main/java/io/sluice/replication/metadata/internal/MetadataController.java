package io.sluice.replication.metadata.internal;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RpcOptions;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.storage.impl.RocksDBLogStorage;
import com.alipay.sofa.jraft.util.Endpoint;
import com.alipay.sofa.jraft.util.RpcFactoryHelper;
import com.alipay.sofa.jraft.util.StorageOptionsFactory;
import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.ControllerUnavailableException;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.MetadataError;
import io.sluice.replication.metadata.MetadataException;
import io.sluice.replication.metadata.MetadataListener;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.rocksdb.ColumnFamilyOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker's member of the metadata controller: its replica of the {@code __metadata} Raft group (a voter or a
 * learner), the controller duties it performs while it leads that group, and the {@link MetadataClient} that forwards
 * requests to the leader.
 *
 * <p>Leader duties: proposing registrations, topic creations (placement by {@link ReplicaPlacement}) and deletions;
 * tracking heartbeats and proposing liveness changes when a session expires or comes back (so every replica agrees on
 * liveness); adding every registered non-voter broker to the group as a learner. Creates and deletes are serialised
 * on the leader, each computed from the state left by the previous one.
 *
 * <p>Member duties: register, then heartbeat every {@code heartbeatIntervalMs}; forward requests to the leader,
 * following {@code NOT_CONTROLLER} redirects and retrying other voters until the request's deadline.
 *
 * <p>Thread safety: thread-safe. Leader and member bookkeeping runs on one scheduler thread; the state machine runs on
 * JRaft's FSM thread; listeners run on their own single thread.
 */
public final class MetadataController implements MetadataClient {

    /** The Raft group id (JRaft requires {@code [a-zA-Z][a-zA-Z0-9_-]*}). */
    public static final String GROUP_ID = "sluice_metadata";

    private static final Logger LOG = LoggerFactory.getLogger(MetadataController.class);
    private static final long RETRY_BACKOFF_MS = 50;
    private static final long MAX_TRY_MS = 2_000;

    private final ControllerSettings settings;
    private final ControllerHost host;
    private final String name;
    private final PeerId selfPeer;
    private final String selfAddress;
    private final Map<Endpoint, Integer> voterIds = new HashMap<>();
    private final List<Endpoint> voterEndpoints;
    private final MetadataStateMachine fsm;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService listenerExecutor;
    private final CopyOnWriteArrayList<MetadataListener> listeners = new CopyOnWriteArrayList<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private final Map<Integer, Long> lastHeartbeatNanos = new ConcurrentHashMap<>();
    private final Object chainLock = new Object();

    private volatile Node node;
    private volatile RpcClient rpcClient;
    private volatile long leaderTerm = -1;
    private volatile boolean closed;
    private volatile boolean registered;
    private CompletableFuture<Void> topicChain = CompletableFuture.completedFuture(null);
    // Scheduler thread only:
    private boolean heartbeatInFlight;
    private boolean livenessInFlight;
    private boolean learnerChangeInFlight;

    private record Waiter(long version, CompletableFuture<ClusterMetadata> future) {}

    public MetadataController(ControllerSettings settings, ControllerHost host) {
        this.settings = settings;
        this.host = host;
        this.name = "metadata@" + settings.self().id();
        this.selfPeer = new PeerId(host.endpoint(), settings.self().id());
        this.selfAddress = host.endpoint().toString();
        settings.voters().forEach((id, ep) -> voterIds.put(ep, id));
        this.voterEndpoints = List.copyOf(settings.voters().values());
        this.fsm = new MetadataStateMachine(name, this::published, new MetadataStateMachine.LeaderHooks() {
            @Override
            public void leaderStarted(long term) {
                onLeaderStart(term);
            }

            @Override
            public void leaderStopped() {
                leaderTerm = -1;
            }
        });
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(
                1, daemon("sluice-metadata-" + settings.self().id()));
        s.setRemoveOnCancelPolicy(true);
        this.scheduler = s;
        this.listenerExecutor = Executors.newSingleThreadExecutor(
                daemon("sluice-metadata-listeners-" + settings.self().id()));
    }

    private static java.util.concurrent.ThreadFactory daemon(String threadName) {
        return r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        };
    }

    /** Starts the Raft replica, the RPC processor and the register/heartbeat loop. */
    public synchronized void start() {
        if (node != null) {
            throw new IllegalStateException("already started");
        }
        ControllerRpc.ensureRegistered();
        shrinkRocksDb();
        Path dir = settings.dir();
        try {
            Files.createDirectories(dir.resolve("log"));
            Files.createDirectories(dir.resolve("meta"));
            Files.createDirectories(dir.resolve("snapshot"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        NodeOptions opts = new NodeOptions();
        host.applySharedOptions(opts, settings.electionTimeoutMs());
        opts.setFsm(fsm);
        opts.setSnapshotIntervalSecs(settings.snapshotIntervalSecs());
        opts.setLogUri(dir.resolve("log").toString());
        opts.setRaftMetaUri(dir.resolve("meta").toString());
        opts.setSnapshotUri(dir.resolve("snapshot").toString());
        opts.setEnableMetrics(false);
        List<PeerId> voters = new ArrayList<>();
        settings.voters().forEach((id, ep) -> voters.add(new PeerId(ep, id)));
        // A non-voter starts as a learner of its own (empty-log) configuration so it never runs elections; the
        // leader's configuration, which lists it as a learner once it registered, replaces this one.
        opts.setInitialConf(
                settings.isVoter() ? new Configuration(voters) : new Configuration(voters, List.of(selfPeer)));
        // The metadata group is small: keep its queues small whatever the host shares.
        opts.getRaftOptions().setDisruptorBufferSize(256);

        RpcClient client = RpcFactoryHelper.rpcFactory().createRpcClient();
        RpcOptions rpcOptions = new RpcOptions();
        rpcOptions.setRpcConnectTimeoutMs(500);
        client.init(rpcOptions);
        rpcClient = client;
        host.rpcServer().registerProcessor(new Processor());

        Node n = host.startGroup(GROUP_ID, selfPeer, opts);
        if (n == null) {
            throw new IllegalStateException(name + ": cannot start the " + GROUP_ID + " Raft node in " + dir);
        }
        node = n;
        LOG.info(
                "{}: started {} replica at {} as {} (voters {})",
                name,
                GROUP_ID,
                host.endpoint(),
                settings.isVoter() ? "voter" : "learner",
                settings.voters());
        long tick = Math.max(20, settings.heartbeatIntervalMs());
        scheduler.scheduleWithFixedDelay(this::heartbeatTick, 0, tick, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::leaderTick, tick, Math.max(20, tick / 2), TimeUnit.MILLISECONDS);
    }

    /** Graceful stop: hands controller leadership over (JRaft does on shutdown) and waits for the replica to stop. */
    public void close() {
        stop();
    }

    /**
     * Abrupt stop, for tests that simulate a crash. The caller cuts the host's network first, so nothing this replica
     * still sends reaches the others; state on disk is left as is.
     */
    public void halt() {
        stop();
    }

    private synchronized void stop() {
        if (closed) {
            return;
        }
        closed = true;
        leaderTerm = -1;
        scheduler.shutdownNow();
        Node n = node;
        if (n != null) {
            n.shutdown();
            try {
                n.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        RpcClient c = rpcClient;
        if (c != null) {
            c.shutdown();
        }
        listenerExecutor.shutdown();
        synchronized (waiters) {
            for (Waiter w : waiters) {
                w.future.completeExceptionally(
                        new ControllerUnavailableException(MetadataError.CONTROLLER_UNAVAILABLE, name + " closed"));
            }
            waiters.clear();
        }
        LOG.info("{}: stopped", name);
    }

    // ---------------------------------------------------------------- MetadataClient

    @Override
    public CompletableFuture<TopicInfo> createTopic(
            String topic, int partitions, int replicationFactor, Map<String, String> configs) {
        try {
            ReplicaPlacement.validateName(topic);
            ReplicaPlacement.validateConfigs(configs);
        } catch (MetadataException e) {
            return CompletableFuture.failedFuture(e);
        }
        UUID requestId = UUID.randomUUID();
        byte[] payload = new Binary.Writer()
                .string(topic)
                .i32(partitions)
                .i32(replicationFactor)
                .stringMap(configs)
                .i64(requestId.getMostSignificantBits())
                .i64(requestId.getLeastSignificantBits())
                .toByteArray();
        return forward(
                        new ControllerRpc.Request(ControllerRpc.CREATE_TOPIC, selfAddress, payload),
                        settings.requestTimeoutMs())
                .thenCompose(resp -> {
                    if (resp.error() != MetadataError.NONE) {
                        throw resp.error().exception(resp.message());
                    }
                    TopicInfo info = MetadataCodec.decodeTopic(resp.payload());
                    LOG.info(
                            "{}: created topic {} (id {}) with {} partitions x {} replicas",
                            name,
                            info.name(),
                            info.topicId(),
                            info.partitionCount(),
                            info.replicationFactor());
                    return awaitLocally(resp.version()).thenApply(v -> info);
                });
    }

    @Override
    public CompletableFuture<Void> deleteTopic(String topic) {
        byte[] payload = new Binary.Writer().string(topic).toByteArray();
        return forward(
                        new ControllerRpc.Request(ControllerRpc.DELETE_TOPIC, selfAddress, payload),
                        settings.requestTimeoutMs())
                .thenCompose(resp -> {
                    if (resp.error() != MetadataError.NONE) {
                        throw resp.error().exception(resp.message());
                    }
                    LOG.info("{}: deleted topic {}", name, topic);
                    return awaitLocally(resp.version()).thenApply(v -> (Void) null);
                });
    }

    /** Waits (bounded) until this broker applied {@code version}, so a caller then sees its change in current(). */
    private CompletableFuture<ClusterMetadata> awaitLocally(long version) {
        return awaitVersion(version)
                .completeOnTimeout(fsm.view(), settings.requestTimeoutMs(), TimeUnit.MILLISECONDS)
                .exceptionally(e -> fsm.view());
    }

    @Override
    public ClusterMetadata current() {
        return fsm.view();
    }

    @Override
    public OptionalInt controllerId() {
        Node n = node;
        PeerId leader = n == null ? null : n.getLeaderId();
        if (leader == null) {
            return OptionalInt.empty();
        }
        Integer id = voterIds.get(leader.getEndpoint());
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Whether this broker currently serves as the controller leader. */
    public boolean isLeader() {
        return leaderTerm >= 0;
    }

    @Override
    public CompletableFuture<ClusterMetadata> awaitVersion(long version) {
        ClusterMetadata now = fsm.view();
        if (now.version() >= version) {
            return CompletableFuture.completedFuture(now);
        }
        CompletableFuture<ClusterMetadata> f = new CompletableFuture<>();
        synchronized (waiters) {
            if (closed) {
                f.completeExceptionally(
                        new ControllerUnavailableException(MetadataError.CONTROLLER_UNAVAILABLE, name + " closed"));
                return f;
            }
            waiters.add(new Waiter(version, f));
        }
        // The view may have moved on between the check and the registration.
        completeWaiters(fsm.view());
        return f;
    }

    @Override
    public void addListener(MetadataListener listener) {
        listeners.add(listener);
        runOnListenerThread(() -> listener.onChange(fsm.view()));
    }

    @Override
    public void removeListener(MetadataListener listener) {
        listeners.remove(listener);
    }

    /** Asks JRaft to snapshot the group now (tests, tooling). */
    public CompletableFuture<Void> snapshotNow() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        Node n = node;
        if (n == null) {
            f.completeExceptionally(new IllegalStateException("not started"));
            return f;
        }
        n.snapshot(status -> {
            if (status.isOk()) {
                f.complete(null);
            } else {
                f.completeExceptionally(new IllegalStateException("snapshot failed: " + status));
            }
        });
        return f;
    }

    /** The learners of the group as this replica sees them (tests). */
    public List<String> learners() {
        Node n = node;
        List<String> out = new ArrayList<>();
        if (n != null && n.isLeader()) {
            n.listLearners().forEach(p -> out.add(p.getEndpoint().toString()));
        }
        return out;
    }

    // ---------------------------------------------------------------- publication (FSM thread)

    private void published(ClusterMetadata view) {
        completeWaiters(view);
        runOnListenerThread(() -> {
            for (MetadataListener l : listeners) {
                try {
                    l.onChange(view);
                } catch (RuntimeException e) {
                    LOG.error("{}: metadata listener failed at version {}", name, view.version(), e);
                }
            }
        });
    }

    private void completeWaiters(ClusterMetadata view) {
        List<Waiter> ready = new ArrayList<>();
        synchronized (waiters) {
            waiters.removeIf(w -> {
                if (w.version <= view.version()) {
                    ready.add(w);
                    return true;
                }
                return false;
            });
        }
        ready.forEach(w -> w.future.complete(view));
    }

    private void runOnListenerThread(Runnable r) {
        try {
            listenerExecutor.execute(r);
        } catch (RejectedExecutionException e) {
            // Closed: nobody listens any more.
        }
    }

    // ---------------------------------------------------------------- member: register + heartbeat

    private void heartbeatTick() {
        if (closed || heartbeatInFlight) {
            return;
        }
        heartbeatInFlight = true;
        boolean registering = !registered;
        ControllerRpc.Request req = registering
                ? new ControllerRpc.Request(
                        ControllerRpc.REGISTER, selfAddress, MetadataCodec.encodeBroker(settings.self()))
                : new ControllerRpc.Request(
                        ControllerRpc.HEARTBEAT,
                        selfAddress,
                        new Binary.Writer().i32(settings.self().id()).toByteArray());
        long timeout = Math.max(2L * settings.heartbeatIntervalMs(), 1_000);
        forward(req, timeout)
                .whenCompleteAsync(
                        (resp, err) -> {
                            heartbeatInFlight = false;
                            if (err != null || resp == null) {
                                return;
                            }
                            if (resp.error() == MetadataError.NONE) {
                                if (registering) {
                                    registered = true;
                                    LOG.info("{}: registered broker {} with the controller", name, settings.self());
                                }
                            } else if (resp.error() == MetadataError.UNKNOWN_BROKER) {
                                registered = false;
                            } else if (LOG.isDebugEnabled()) {
                                LOG.debug("{}: {} failed: {}", name, registering ? "registration" : "heartbeat", resp);
                            }
                        },
                        executorOrDirect());
    }

    // ---------------------------------------------------------------- leader duties

    private void onLeaderStart(long term) {
        // FSM thread: everything committed before this term is applied now.
        ClusterMetadata view = fsm.view();
        long now = System.nanoTime();
        lastHeartbeatNanos.clear();
        // Every broker alive in the state gets a full session to find the new leader; dead ones stay dead until
        // they heartbeat.
        for (int id : view.liveBrokers()) {
            lastHeartbeatNanos.put(id, now);
        }
        leaderTerm = term;
    }

    private boolean leaderReady() {
        Node n = node;
        return leaderTerm >= 0 && n != null && n.isLeader();
    }

    private void leaderTick() {
        if (closed || !leaderReady()) {
            return;
        }
        try {
            checkLiveness();
            checkLearners();
        } catch (RuntimeException e) {
            LOG.warn("{}: controller duties failed", name, e);
        }
    }

    private void checkLiveness() {
        if (livenessInFlight) {
            return;
        }
        ClusterMetadata view = fsm.view();
        long now = System.nanoTime();
        long session = TimeUnit.MILLISECONDS.toNanos(settings.sessionTimeoutMs());
        Map<Integer, Boolean> changes = new HashMap<>();
        for (int id : view.brokers().keySet()) {
            Long seen = lastHeartbeatNanos.get(id);
            boolean fresh = seen != null && now - seen <= session;
            if (view.isAlive(id) && !fresh) {
                changes.put(id, false);
            } else if (!view.isAlive(id) && fresh) {
                changes.put(id, true);
            }
        }
        if (changes.isEmpty()) {
            return;
        }
        LOG.info("{}: broker liveness changes {}", name, changes);
        livenessInFlight = true;
        propose(new MetadataCommand.SetLiveness(changes), leaderTerm)
                .whenCompleteAsync((r, e) -> livenessInFlight = false, executorOrDirect());
    }

    private void checkLearners() {
        if (learnerChangeInFlight) {
            return;
        }
        Node n = node;
        ClusterMetadata view = fsm.view();
        Set<PeerId> desired = new HashSet<>();
        for (BrokerInfo b : view.brokers().values()) {
            if (!settings.voters().containsKey(b.id())) {
                desired.add(new PeerId(b.host(), b.raftPort(), b.id()));
            }
        }
        Set<PeerId> current = new HashSet<>(n.listLearners());
        List<PeerId> toAdd = new ArrayList<>();
        desired.stream().filter(p -> !current.contains(p)).forEach(toAdd::add);
        List<PeerId> toRemove = new ArrayList<>();
        current.stream().filter(p -> !desired.contains(p)).forEach(toRemove::add);
        if (!toAdd.isEmpty()) {
            learnerChangeInFlight = true;
            LOG.info("{}: adding learners {}", name, toAdd);
            n.addLearners(toAdd, status -> learnerChangeDone("add", status));
        } else if (!toRemove.isEmpty()) {
            learnerChangeInFlight = true;
            LOG.info("{}: removing learners {}", name, toRemove);
            n.removeLearners(toRemove, status -> learnerChangeDone("remove", status));
        }
    }

    private void learnerChangeDone(String what, Status status) {
        if (!status.isOk()) {
            LOG.info("{}: learner {} failed ({}), will retry", name, what, status);
        }
        try {
            scheduler.execute(() -> learnerChangeInFlight = false);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private CompletableFuture<ApplyResult> propose(MetadataCommand command, long term) {
        Node n = node;
        if (term < 0 || n == null) {
            return CompletableFuture.completedFuture(ApplyResult.failed(MetadataError.NOT_CONTROLLER, "not leader"));
        }
        MetadataStateMachine.CommandClosure closure = new MetadataStateMachine.CommandClosure();
        n.apply(new Task(ByteBuffer.wrap(MetadataCodec.encode(command)), closure, term));
        // Closures complete on the FSM thread: continue elsewhere.
        return closure.future.thenApplyAsync(r -> r, executorOrDirect());
    }

    private Executor executorOrDirect() {
        return r -> {
            try {
                scheduler.execute(r);
            } catch (RejectedExecutionException e) {
                r.run();
            }
        };
    }

    /** Handles a request as the controller leader, or answers NOT_CONTROLLER. Never blocks. */
    CompletableFuture<ControllerRpc.Response> handle(ControllerRpc.Request req) {
        long term = leaderTerm;
        if (closed || !leaderReady()) {
            return CompletableFuture.completedFuture(notController());
        }
        try {
            Binary.Reader r = new Binary.Reader(req.payload());
            switch (req.kind()) {
                case ControllerRpc.REGISTER -> {
                    BrokerInfo b = MetadataCodec.decodeBroker(req.payload());
                    lastHeartbeatNanos.put(b.id(), System.nanoTime());
                    ClusterMetadata view = fsm.view();
                    if (b.equals(view.brokers().get(b.id())) && view.isAlive(b.id())) {
                        return CompletableFuture.completedFuture(
                                ControllerRpc.Response.ok(view.version(), new byte[0]));
                    }
                    LOG.info("{}: registering broker {}", name, b);
                    return propose(new MetadataCommand.RegisterBroker(b), term)
                            .thenApply(MetadataController::toResponse);
                }
                case ControllerRpc.HEARTBEAT -> {
                    int id = r.i32();
                    ClusterMetadata view = fsm.view();
                    if (!view.brokers().containsKey(id)) {
                        return CompletableFuture.completedFuture(ControllerRpc.Response.error(
                                MetadataError.UNKNOWN_BROKER, "broker " + id + " is not registered"));
                    }
                    lastHeartbeatNanos.put(id, System.nanoTime());
                    return CompletableFuture.completedFuture(ControllerRpc.Response.ok(view.version(), new byte[0]));
                }
                case ControllerRpc.CREATE_TOPIC -> {
                    String topic = r.string();
                    int partitions = r.i32();
                    int rf = r.i32();
                    Map<String, String> configs = r.stringMap();
                    long hi = r.i64();
                    long lo = r.i64();
                    r.expectEnd();
                    return serialized(() -> create(topic, partitions, rf, configs, hi, lo, term));
                }
                case ControllerRpc.DELETE_TOPIC -> {
                    String topic = r.string();
                    r.expectEnd();
                    return serialized(() -> delete(topic, term));
                }
                default -> {
                    return CompletableFuture.completedFuture(
                            ControllerRpc.Response.error(MetadataError.INTERNAL, "unknown request " + req.kind()));
                }
            }
        } catch (CorruptMetadataException e) {
            return CompletableFuture.completedFuture(
                    ControllerRpc.Response.error(MetadataError.INTERNAL, "bad request: " + e.getMessage()));
        }
    }

    private CompletableFuture<ControllerRpc.Response> create(
            String topic, int partitions, int rf, Map<String, String> configs, long hi, long lo, long term) {
        if (!leaderReady() || leaderTerm != term) {
            return CompletableFuture.completedFuture(notController());
        }
        ClusterMetadata view = fsm.view();
        List<PartitionAssignment> assignment;
        Optional<TopicInfo> existing = view.topic(topic);
        if (existing.isPresent()) {
            // Let the state machine decide between "exists" and "this very request, retried": both deterministic.
            assignment = existing.get().partitions();
        } else {
            try {
                ReplicaPlacement.validateConfigs(configs);
                assignment = ReplicaPlacement.assign(view, topic, partitions, rf);
            } catch (MetadataException e) {
                return CompletableFuture.completedFuture(ControllerRpc.Response.error(e.error(), e.getMessage()));
            }
        }
        return propose(new MetadataCommand.CreateTopic(topic, configs, assignment, hi, lo), term)
                .thenApply(MetadataController::toResponse);
    }

    private CompletableFuture<ControllerRpc.Response> delete(String topic, long term) {
        if (!leaderReady() || leaderTerm != term) {
            return CompletableFuture.completedFuture(notController());
        }
        Optional<TopicInfo> existing = fsm.view().topic(topic);
        if (existing.isEmpty()) {
            return CompletableFuture.completedFuture(
                    ControllerRpc.Response.error(MetadataError.UNKNOWN_TOPIC, "topic " + topic + " does not exist"));
        }
        return propose(new MetadataCommand.DeleteTopic(topic, existing.get().topicId()), term)
                .thenApply(MetadataController::toResponse);
    }

    private static ControllerRpc.Response toResponse(ApplyResult r) {
        if (!r.isOk()) {
            return ControllerRpc.Response.error(r.error(), r.message());
        }
        return ControllerRpc.Response.ok(
                r.version(), r.topic().map(MetadataCodec::encodeTopic).orElse(new byte[0]));
    }

    /** Runs topic operations one after another on the scheduler thread, each after the previous one applied. */
    private CompletableFuture<ControllerRpc.Response> serialized(
            Supplier<CompletableFuture<ControllerRpc.Response>> op) {
        synchronized (chainLock) {
            CompletableFuture<ControllerRpc.Response> next =
                    topicChain.thenComposeAsync(x -> op.get(), executorOrDirect());
            topicChain = next.handle((a, b) -> null);
            return next;
        }
    }

    private ControllerRpc.Response notController() {
        Node n = node;
        PeerId leader = n == null ? null : n.getLeaderId();
        if (leader == null || leader.getEndpoint().equals(host.endpoint())) {
            return ControllerRpc.Response.notController(-1, "");
        }
        Integer id = voterIds.get(leader.getEndpoint());
        return ControllerRpc.Response.notController(
                id == null ? -1 : id, leader.getEndpoint().toString());
    }

    // ---------------------------------------------------------------- forwarding

    /**
     * Sends {@code req} to the controller leader: to this broker's own handler when it leads, else over RPC; follows
     * NOT_CONTROLLER redirects, tries other voters on transport errors, and gives up with CONTROLLER_UNAVAILABLE
     * after {@code timeoutMs}.
     */
    CompletableFuture<ControllerRpc.Response> forward(ControllerRpc.Request req, long timeoutMs) {
        CompletableFuture<ControllerRpc.Response> result = new CompletableFuture<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        attempt(req, Optional.empty(), deadline, 0, result);
        return result;
    }

    private void attempt(
            ControllerRpc.Request req,
            Optional<Endpoint> hint,
            long deadline,
            int attemptNo,
            CompletableFuture<ControllerRpc.Response> result) {
        long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (closed || remainingMs <= 0) {
            result.completeExceptionally(new ControllerUnavailableException(
                    MetadataError.CONTROLLER_UNAVAILABLE,
                    closed ? name + " closed" : "no controller leader answered in time"));
            return;
        }
        Endpoint target = hint.orElseGet(() -> guessLeader(attemptNo));
        if (target.equals(host.endpoint())) {
            handle(req).whenComplete((resp, err) -> answered(req, target, resp, err, deadline, attemptNo, result));
            return;
        }
        RpcClient client = rpcClient;
        if (client == null || !host.isReachable(target)) {
            retryLater(req, deadline, attemptNo + 1, result);
            return;
        }
        try {
            client.invokeAsync(
                    target,
                    req,
                    (resp, err) ->
                            answered(req, target, (ControllerRpc.Response) resp, err, deadline, attemptNo, result),
                    Math.min(remainingMs, MAX_TRY_MS));
        } catch (Exception e) {
            // Includes RemotingException and InterruptedException from a failed connect.
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            retryLater(req, deadline, attemptNo + 1, result);
        }
    }

    private void answered(
            ControllerRpc.Request req,
            Endpoint target,
            ControllerRpc.Response resp,
            Throwable err,
            long deadline,
            int attemptNo,
            CompletableFuture<ControllerRpc.Response> result) {
        if (err != null || resp == null) {
            LOG.debug("{}: controller request to {} failed: {}", name, target, err == null ? "no response" : err);
            retryLater(req, deadline, attemptNo + 1, result);
            return;
        }
        if (resp.error() != MetadataError.NOT_CONTROLLER) {
            result.complete(resp);
            return;
        }
        Optional<Endpoint> redirect = parseEndpoint(resp.leaderAddress()).filter(ep -> !ep.equals(target));
        if (redirect.isPresent() && attemptNo < 8) {
            attempt(req, redirect, deadline, attemptNo + 1, result);
        } else {
            retryLater(req, deadline, attemptNo + 1, result);
        }
    }

    private void retryLater(
            ControllerRpc.Request req, long deadline, int attemptNo, CompletableFuture<ControllerRpc.Response> result) {
        long backoff = Math.min(RETRY_BACKOFF_MS * Math.max(1, attemptNo / voterEndpoints.size()), 250);
        try {
            scheduler.schedule(
                    () -> attempt(req, Optional.empty(), deadline, attemptNo, result), backoff, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(
                    new ControllerUnavailableException(MetadataError.CONTROLLER_UNAVAILABLE, name + " closed"));
        }
    }

    private Endpoint guessLeader(int attemptNo) {
        Node n = node;
        PeerId leader = n == null ? null : n.getLeaderId();
        if (leader != null && attemptNo % 2 == 0) {
            return leader.getEndpoint();
        }
        return voterEndpoints.get(Math.floorMod(attemptNo / 2 + settings.self().id(), voterEndpoints.size()));
    }

    private static Optional<Endpoint> parseEndpoint(String address) {
        int colon = address.lastIndexOf(':');
        if (address.isEmpty() || colon < 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(
                    new Endpoint(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static final Object ROCKSDB_LOCK = new Object();
    private static boolean rocksDbShrunk;

    /**
     * JRaft's default RocksDB column families reserve tens of MB (64 MB write buffers); the metadata log holds a few
     * KB. The registry is JVM-global and keyed by class, so this is done once per JVM.
     */
    private static void shrinkRocksDb() {
        synchronized (ROCKSDB_LOCK) {
            if (rocksDbShrunk) {
                return;
            }
            rocksDbShrunk = true;
            ColumnFamilyOptions cf = StorageOptionsFactory.getDefaultRocksDBColumnFamilyOptions();
            cf.setWriteBufferSize(1L << 20);
            cf.setMaxWriteBufferNumber(2);
            cf.setTargetFileSizeBase(4L << 20);
            cf.setMaxBytesForLevelBase(16L << 20);
            try {
                StorageOptionsFactory.registerRocksDBColumnFamilyOptions(RocksDBLogStorage.class, cf);
            } catch (IllegalStateException e) {
                // Someone registered options for the RocksDB log storage first: keep theirs.
                cf.close();
            }
        }
    }

    /** The controller RPC processor registered on the shared RPC server. */
    private final class Processor implements RpcProcessor<ControllerRpc.Request> {
        @Override
        public void handleRequest(RpcContext ctx, ControllerRpc.Request request) {
            Optional<Endpoint> sender = parseEndpoint(request.sender());
            if (sender.isPresent() && !host.isReachable(sender.get())) {
                // Fault injection: the link from the sender is cut; the sender sees a timeout.
                return;
            }
            handle(request)
                    .whenComplete((resp, err) -> ctx.sendResponse(
                            err == null
                                    ? resp
                                    : ControllerRpc.Response.error(
                                            MetadataError.INTERNAL, String.valueOf(err.getMessage()))));
        }

        @Override
        public String interest() {
            return ControllerRpc.Request.class.getName();
        }
    }
}
