package io.sluice.replication.testkit;

import io.sluice.logstore.LogConfig;
import io.sluice.replication.PartitionStateExtension;
import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.ReplicationConfig;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import io.sluice.replication.node.ReplicationNode;
import io.sluice.replication.node.ReplicationNodeConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N brokers ({@link ReplicationNode}s) in one JVM on 127.0.0.1, each with its own data directory under a root, for
 * tests of replication and of everything built on it.
 *
 * <p>Brokers are numbered {@code 1..N}; brokers {@code 1..min(N, voters)} are the metadata controller voters. Raft
 * ports are picked free at build time and kept across {@link #restart}, so a restarted broker is the same Raft peer.
 *
 * <p>Faults are per instance (each broker's {@link io.sluice.replication.NetworkFaults}), never global: {@link
 * #partition} cuts both directions between two sets of brokers, {@link #isolate} cuts one broker from all others,
 * {@link #heal} restores every link. The cluster remembers its cuts and applies them again to a restarted broker.
 * {@link #kill} imitates a crash: it cuts the broker off at its peers first (so not even a last message gets out),
 * halts it, then restores the peers' links as they were. Every wait is a condition poll with a deadline ({@link
 * #waitFor}).
 *
 * <p>Thread-safe for use from one test thread plus callbacks; methods that change membership or faults are
 * synchronized.
 */
public final class MiniCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MiniCluster.class);
    private static final String HOST = "127.0.0.1";

    static {
        // sofa-common-log (bolt's logging) binds to Log4j 2 through a constructor that log4j-slf4j2-impl 2.25 no
        // longer has (NoSuchMethodError at the first RPC server): keep it out of the way in tests.
        if (System.getProperty("sofa.middleware.log.disable") == null) {
            System.setProperty("sofa.middleware.log.disable", "true");
        }
    }

    private final Path root;
    private final Map<Integer, ReplicationNodeConfig> configs;
    private final Map<Integer, ReplicationNode> running = new ConcurrentHashMap<>();
    /** Directed cuts: {@code (from, to)} means broker {@code to} drops what {@code from} sends. */
    private final Set<List<Integer>> cuts = new HashSet<>();

    private final Duration timeout;
    private final IntFunction<PartitionStateExtension.Factory> extensions;

    private MiniCluster(
            Path root,
            Map<Integer, ReplicationNodeConfig> configs,
            Duration timeout,
            IntFunction<PartitionStateExtension.Factory> extensions) {
        this.root = root;
        this.configs = configs;
        this.timeout = timeout;
        this.extensions = extensions;
    }

    public static Builder builder(Path root) {
        return new Builder(root);
    }

    /** Builds and starts a {@link MiniCluster}. Not thread-safe. */
    public static final class Builder {
        private final Path root;
        private int brokers = 3;
        private int voters = 3;
        // Long enough that a stall of a loaded 2-core machine neither elects a new leader nor marks a broker dead.
        private int electionTimeoutMs = 1000;
        private int heartbeatIntervalMs = 150;
        private int sessionTimeoutMs = 5000;
        private long leaderRebalanceIntervalMs = 0;
        private long snapshotIntervalMs = 0;
        private LogConfig logConfig = LogConfig.defaults();
        private Duration timeout = defaultTimeout();
        private UnaryOperator<ReplicationNodeConfig> customizer = UnaryOperator.identity();
        private IntFunction<PartitionStateExtension.Factory> extensions = id -> PartitionStateExtension.Factory.NONE;

        private Builder(Path root) {
            this.root = root;
        }

        public Builder brokers(int n) {
            this.brokers = n;
            return this;
        }

        /** How many of the brokers (the lowest ids) are controller voters; at most the broker count. */
        public Builder voters(int n) {
            this.voters = n;
            return this;
        }

        /** Election timeout of every Raft group (partitions and controller). */
        public Builder electionTimeoutMs(int ms) {
            this.electionTimeoutMs = ms;
            return this;
        }

        public Builder heartbeatIntervalMs(int ms) {
            this.heartbeatIntervalMs = ms;
            return this;
        }

        public Builder sessionTimeoutMs(int ms) {
            this.sessionTimeoutMs = ms;
            return this;
        }

        /** Preferred-leader rebalance interval; 0 (the default here) turns it off. */
        public Builder leaderRebalanceIntervalMs(long ms) {
            this.leaderRebalanceIntervalMs = ms;
            return this;
        }

        /** Partition snapshot interval; 0 (the default here) leaves snapshots to the tests. */
        public Builder snapshotIntervalMs(long ms) {
            this.snapshotIntervalMs = ms;
            return this;
        }

        /** Default log settings of every partition (topic configs override them). */
        public Builder logConfig(LogConfig config) {
            this.logConfig = config;
            return this;
        }

        /** Deadline of every wait of the cluster (awaitLeader, createTopic, ...). */
        public Builder timeout(Duration t) {
            this.timeout = t;
            return this;
        }

        /**
         * The partition state extensions of each broker, by broker id; called at every (re)start of that broker, so a
         * restarted broker can reopen its persisted extension state.
         */
        public Builder stateExtensions(IntFunction<PartitionStateExtension.Factory> perBroker) {
            this.extensions = perBroker;
            return this;
        }

        /** A last change to each broker's config. */
        public Builder configure(UnaryOperator<ReplicationNodeConfig> c) {
            this.customizer = c;
            return this;
        }

        /** Starts every broker and waits until all are registered and alive at the controller. */
        public MiniCluster start() throws IOException {
            if (brokers < 1 || voters < 1 || voters > brokers) {
                throw new IllegalArgumentException("need 1 <= voters <= brokers");
            }
            Map<Integer, Integer> ports = new TreeMap<>();
            int[] picked = freePorts(brokers);
            for (int id = 1; id <= brokers; id++) {
                ports.put(id, picked[id - 1]);
            }
            Map<Integer, String> voterMap = new TreeMap<>();
            for (int id = 1; id <= voters; id++) {
                voterMap.put(id, HOST + ":" + ports.get(id));
            }
            Map<Integer, ReplicationNodeConfig> configs = new TreeMap<>();
            for (int id = 1; id <= brokers; id++) {
                Path dir = root.resolve("broker-" + id);
                Files.createDirectories(dir);
                Map<String, String> raft = new HashMap<>();
                raft.put(ReplicationConfig.DATA_DIR, dir.toString());
                raft.put(ReplicationConfig.HOST, HOST);
                raft.put(ReplicationConfig.PORT, Integer.toString(ports.get(id)));
                raft.put(ReplicationConfig.ELECTION_TIMEOUT_MS, Integer.toString(electionTimeoutMs));
                raft.put(ReplicationConfig.SNAPSHOT_INTERVAL_MS, Long.toString(snapshotIntervalMs));
                raft.put(ReplicationConfig.SHUTDOWN_TRANSFER_TIMEOUT_MS, "2000");
                Map<String, String> props = new HashMap<>();
                props.put(ReplicationNodeConfig.BROKER_ID, Integer.toString(id));
                props.put(ReplicationNodeConfig.CONTROLLER_VOTERS, ReplicationNodeConfig.formatVoters(voterMap));
                props.put(ReplicationNodeConfig.CONTROLLER_ELECTION_TIMEOUT_MS, Integer.toString(electionTimeoutMs));
                props.put(ReplicationNodeConfig.HEARTBEAT_INTERVAL_MS, Integer.toString(heartbeatIntervalMs));
                props.put(ReplicationNodeConfig.SESSION_TIMEOUT_MS, Integer.toString(sessionTimeoutMs));
                props.put(ReplicationNodeConfig.REQUEST_TIMEOUT_MS, Long.toString(timeout.toMillis()));
                props.put(ReplicationNodeConfig.RECONCILE_INTERVAL_MS, "200");
                props.put(ReplicationNodeConfig.LEADER_REBALANCE_INTERVAL_MS, Long.toString(leaderRebalanceIntervalMs));
                ReplicationNodeConfig c =
                        ReplicationNodeConfig.fromProperties(props, ReplicationConfig.fromProperties(raft), logConfig);
                configs.put(id, customizer.apply(c));
            }
            MiniCluster cluster = new MiniCluster(root, configs, timeout, extensions);
            try {
                for (int id : configs.keySet()) {
                    cluster.startNode(id);
                }
                cluster.awaitAllRegistered();
            } catch (IOException | RuntimeException | Error e) {
                cluster.close();
                throw e;
            }
            LOG.info("mini cluster of {} brokers started under {}", brokers, root);
            return cluster;
        }
    }

    /** System property: default wait deadline of every cluster, in seconds (CI-safe default 60). */
    public static final String TIMEOUT_PROPERTY = "sluice.it.timeoutSeconds";

    /**
     * The default deadline of cluster waits: generous, because on a loaded 2-core CI machine a failover plus a
     * reconnect can take tens of seconds; a wait that succeeds returns as soon as its condition holds.
     */
    public static Duration defaultTimeout() {
        return Duration.ofSeconds(Long.getLong(TIMEOUT_PROPERTY, 60));
    }

    /**
     * {@code n} distinct free ports. Every socket stays open until all are picked: closing each before asking for the
     * next let the OS hand out one port twice (seen in CI as "controller voter repeated").
     */
    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            while (sockets.size() < n) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST));
                s.setReuseAddress(true);
                sockets.add(s);
            }
            return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    // ------------------------------------------------------------------ membership

    /** All broker ids, running or not. */
    public Set<Integer> brokerIds() {
        return new TreeSet<>(configs.keySet());
    }

    /** Ids of the brokers that are running. */
    public Set<Integer> runningIds() {
        return new TreeSet<>(running.keySet());
    }

    public boolean isRunning(int id) {
        return running.containsKey(id);
    }

    /** The running broker {@code id}; throws if it is not running. */
    public ReplicationNode node(int id) {
        ReplicationNode n = running.get(id);
        if (n == null) {
            throw new IllegalStateException("broker " + id + " is not running");
        }
        return n;
    }

    public Path dataDir(int id) {
        return configs.get(id).replication().dataDir();
    }

    public ReplicationNodeConfig config(int id) {
        return configs.get(id);
    }

    /** The Raft endpoint ({@code host:port}) of broker {@code id}, stable across restarts. */
    public String endpoint(int id) {
        ReplicationConfig r = configs.get(id).replication();
        return r.host() + ":" + r.port();
    }

    /** Abrupt stop of broker {@code id}, as close to a crash as in-JVM allows (see the class doc). */
    public synchronized void kill(int id) {
        ReplicationNode victim = node(id);
        List<Integer> added = new ArrayList<>();
        for (int other : running.keySet()) {
            if (other != id && !cuts.contains(List.of(id, other))) {
                running.get(other).raftHost().faults().block(endpoint(id));
                added.add(other);
            }
        }
        running.remove(id);
        victim.halt();
        for (int other : added) {
            ReplicationNode n = running.get(other);
            if (n != null) {
                n.raftHost().faults().unblock(endpoint(id));
            }
        }
        LOG.info("mini cluster: killed broker {}", id);
    }

    /** Graceful stop of broker {@code id} (leadership handed over). */
    public synchronized void stop(int id) {
        ReplicationNode n = node(id);
        running.remove(id);
        n.close();
        LOG.info("mini cluster: stopped broker {}", id);
    }

    /** Starts broker {@code id} again with the same data directory and ports. */
    public synchronized void restart(int id) throws IOException {
        if (running.containsKey(id)) {
            throw new IllegalStateException("broker " + id + " is running");
        }
        startNode(id);
        LOG.info("mini cluster: restarted broker {}", id);
    }

    /**
     * Deletes the whole data directory of the stopped broker {@code id} (partition replicas, the controller group's Raft
     * log, vote and snapshots, the replica registry) and leaves it empty, as a new disk would be. The next {@link
     * #restart} starts that broker from nothing, with the same id and address.
     */
    public synchronized void wipe(int id) throws IOException {
        if (running.containsKey(id)) {
            throw new IllegalStateException("broker " + id + " is running");
        }
        Path dir = dataDir(id);
        if (Files.exists(dir)) {
            try (var s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
        LOG.info("mini cluster: wiped the data directory of broker {} ({})", id, dir);
    }

    /**
     * Changes the config of the stopped broker {@code id} for its next {@link #restart} (for example other client ports,
     * as a broker that binds ephemeral ports gets at every start, so that its registration changes). Its id and Raft
     * address stay: the other brokers and the controller voters know it by them.
     */
    public synchronized void reconfigure(int id, UnaryOperator<ReplicationNodeConfig> change) {
        if (running.containsKey(id)) {
            throw new IllegalStateException("broker " + id + " is running");
        }
        ReplicationNodeConfig old = configs.get(id);
        ReplicationNodeConfig changed = change.apply(old);
        if (changed.brokerId() != id
                || changed.replication().port() != old.replication().port()
                || !changed.replication().host().equals(old.replication().host())) {
            throw new IllegalArgumentException("broker " + id + " keeps its id and Raft address across restarts");
        }
        configs.put(id, changed);
    }

    private synchronized void startNode(int id) throws IOException {
        // A killed node's listening socket is closed asynchronously by its RPC server: wait until the port is free.
        int port = configs.get(id).replication().port();
        waitFor(
                () -> {
                    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName(HOST))) {
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                },
                Duration.ofSeconds(10),
                "broker " + id + "'s Raft port " + port + " to be free");
        ReplicationNode n = ReplicationNode.start(configs.get(id), extensions.apply(id));
        for (List<Integer> cut : cuts) {
            if (cut.get(1) == id) {
                n.raftHost().faults().block(endpoint(cut.get(0)));
            }
        }
        running.put(id, n);
    }

    // ------------------------------------------------------------------ faults

    /** Cuts every link between {@code sideA} and {@code sideB}, both directions. */
    public synchronized void partition(Collection<Integer> sideA, Collection<Integer> sideB) {
        for (int a : sideA) {
            for (int b : sideB) {
                if (a != b) {
                    cut(a, b);
                    cut(b, a);
                }
            }
        }
        LOG.info("mini cluster: partitioned {} from {}", sideA, sideB);
    }

    /** Cuts the link between brokers {@code a} and {@code b}, both directions. */
    public void partition(int a, int b) {
        partition(List.of(a), List.of(b));
    }

    /** Cuts broker {@code id} off from every other broker. */
    public void isolate(int id) {
        List<Integer> others = new ArrayList<>(configs.keySet());
        others.remove(Integer.valueOf(id));
        partition(List.of(id), others);
    }

    /** Restores every link. */
    public synchronized void heal() {
        cuts.clear();
        running.values().forEach(n -> n.raftHost().faults().heal());
        LOG.info("mini cluster: healed all links");
    }

    private void cut(int from, int to) {
        cuts.add(List.of(from, to));
        ReplicationNode n = running.get(to);
        if (n != null) {
            n.raftHost().faults().block(endpoint(from));
        }
    }

    /** Whether broker {@code a} can send to {@code b} (no cut, both running). */
    public synchronized boolean connected(int a, int b) {
        return running.containsKey(a) && running.containsKey(b) && !cuts.contains(List.of(a, b));
    }

    // ------------------------------------------------------------------ metadata

    /** The metadata client of a running broker (the controller leader's when known). */
    public MetadataClient metadata() {
        for (ReplicationNode n : running.values()) {
            if (n.isController()) {
                return n.metadata();
            }
        }
        return running.values().stream()
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no broker running"))
                .metadata();
    }

    /** The id of the controller leader among the running brokers; waits for one. */
    public int awaitController() {
        return await(
                () -> running.values().stream()
                        .filter(ReplicationNode::isController)
                        .map(ReplicationNode::brokerId)
                        .findFirst(),
                "a controller leader");
    }

    /** Waits until every running broker is registered and alive in the controller leader's view. */
    public void awaitAllRegistered() {
        waitFor(
                () -> {
                    Optional<ReplicationNode> c = running.values().stream()
                            .filter(ReplicationNode::isController)
                            .findFirst();
                    return c.isPresent()
                            && c.get().metadata().current().liveBrokers().containsAll(running.keySet());
                },
                timeout,
                "all running brokers " + running.keySet() + " registered and alive at the controller");
    }

    /**
     * Creates a topic through the controller and waits until every running assigned broker has opened its replica and
     * every partition has a leader.
     */
    public TopicInfo createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
        TopicInfo info = get(metadata().createTopic(name, partitions, replicationFactor, configs));
        awaitTopicReady(info);
        return info;
    }

    public TopicInfo createTopic(String name, int partitions, int replicationFactor) {
        return createTopic(name, partitions, replicationFactor, Map.of());
    }

    /** Waits until every running broker's view has {@code topic} and its replicas there are open, with leaders. */
    public void awaitTopicReady(TopicInfo topic) {
        waitFor(
                () -> {
                    for (ReplicationNode n : running.values()) {
                        Optional<TopicInfo> t = n.metadata().current().topic(topic.name());
                        if (t.isEmpty() || t.get().topicId() != topic.topicId()) {
                            return false;
                        }
                        for (PartitionAssignment p : topic.partitions()) {
                            if (p.hasReplica(n.brokerId())
                                    && n.partition(topic.name(), p.partition()).isEmpty()) {
                                return false;
                            }
                        }
                    }
                    return true;
                },
                timeout,
                "replicas of " + topic.name() + " open on every running assigned broker");
        for (PartitionAssignment p : topic.partitions()) {
            awaitLeader(topic.name(), p.partition());
        }
    }

    /** Deletes a topic and waits until no running broker has a replica of it open. */
    public void deleteTopic(String name) {
        get(metadata().deleteTopic(name));
        waitFor(
                () -> running.values().stream()
                        .allMatch(n -> n.metadata().current().topic(name).isEmpty()
                                && n.raftHost().partitions().stream()
                                        .noneMatch(
                                                p -> p.topicPartition().topic().equals(name))),
                timeout,
                "topic " + name + " gone from every running broker");
    }

    /** The running brokers' metadata views, by broker id. */
    public Map<Integer, ClusterMetadata> metadataViews() {
        Map<Integer, ClusterMetadata> out = new TreeMap<>();
        running.forEach((id, n) -> out.put(id, n.metadata().current()));
        return out;
    }

    // ------------------------------------------------------------------ partitions

    /**
     * Waits for a leader of {@code topic}/{@code partition} among the running brokers and returns its broker id: the
     * replica that leads in the highest term any running replica has seen.
     */
    public int awaitLeader(String topic, int partition) {
        return awaitLeader(topic, partition, id -> true);
    }

    /** Like {@link #awaitLeader(String, int)}, but only a leader on a broker {@code allowed} accepts counts. */
    public int awaitLeader(String topic, int partition, java.util.function.IntPredicate allowed) {
        return await(
                () -> currentLeader(topic, partition).stream()
                        .filter(allowed)
                        .boxed()
                        .findFirst(),
                "a leader of " + topic + "-" + partition);
    }

    /** The current leader of a partition among the running brokers, if one leads in the highest term seen. */
    public java.util.OptionalInt currentLeader(String topic, int partition) {
        long maxTerm = -1;
        int leader = -1;
        long leaderTerm = -1;
        for (ReplicationNode n : running.values()) {
            Optional<ReplicatedPartition> p = n.partition(topic, partition);
            if (p.isEmpty() || !p.get().isOpen()) {
                continue;
            }
            long term = p.get().term();
            maxTerm = Math.max(maxTerm, term);
            if (p.get().isLeader() && term > leaderTerm) {
                leaderTerm = term;
                leader = n.brokerId();
            }
        }
        return leader >= 0 && leaderTerm == maxTerm ? java.util.OptionalInt.of(leader) : java.util.OptionalInt.empty();
    }

    /** The replica of {@code topic}/{@code partition} on broker {@code brokerId}; waits until it is open there. */
    public ReplicatedPartition partitionOn(int brokerId, String topic, int partition) {
        return await(
                () -> running.containsKey(brokerId)
                        ? running.get(brokerId).partition(topic, partition).filter(ReplicatedPartition::isOpen)
                        : Optional.empty(),
                "replica " + topic + "-" + partition + " open on broker " + brokerId);
    }

    /**
     * The replica set of a partition as broker ids, from the controller's view (or a running broker's while no
     * controller leader is up); waits while that view does not know the topic yet (a broker that just restarted).
     */
    public List<Integer> replicasOf(String topic, int partition) {
        return await(() -> replicasIfKnown(topic, partition), "topic " + topic + " in the metadata");
    }

    /** {@link #replicasOf} without waiting: empty while the view does not know the topic. */
    public Optional<List<Integer>> replicasIfKnown(String topic, int partition) {
        return metadata().current().topic(topic).map(t -> t.partition(partition).replicas());
    }

    /** The {@link ReplicaId} of broker {@code id}. */
    public ReplicaId replicaId(int id) {
        ReplicationConfig r = configs.get(id).replication();
        return new ReplicaId(id, r.host(), r.port());
    }

    // ------------------------------------------------------------------ waiting

    /** Polls {@code condition} until it holds, failing with {@code message} after {@code timeout}. */
    public static void waitFor(BooleanSupplier condition, Duration timeout, String message) {
        waitFor(condition, timeout, () -> message);
    }

    /** As {@link #waitFor(BooleanSupplier, Duration, String)}, the message computed only on timeout. */
    public static void waitFor(
            BooleanSupplier condition, Duration timeout, java.util.function.Supplier<String> message) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 5;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String m = message.get();
                LOG.error("timed out waiting for {}; threads:\n{}", m, threadDump());
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + m);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + message.get(), e);
            }
            pause = Math.min(pause * 2, 50);
        }
    }

    private static String threadDump() {
        StringBuilder b = new StringBuilder();
        for (java.lang.management.ThreadInfo t :
                java.lang.management.ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
            b.append('"').append(t.getThreadName()).append("\" ").append(t.getThreadState());
            if (t.getLockName() != null) {
                b.append(" on ").append(t.getLockName());
            }
            if (t.getLockOwnerName() != null) {
                b.append(" owned by \"").append(t.getLockOwnerName()).append('"');
            }
            b.append('\n');
            for (StackTraceElement e : t.getStackTrace()) {
                b.append("\tat ").append(e).append('\n');
            }
            for (java.lang.management.LockInfo l : t.getLockedSynchronizers()) {
                b.append("\tholds ").append(l).append('\n');
            }
            for (java.lang.management.MonitorInfo m : t.getLockedMonitors()) {
                b.append("\tholds monitor ").append(m).append('\n');
            }
        }
        return b.toString();
    }

    /** Polls {@code probe} until it yields a value, failing with {@code what} after the cluster timeout. */
    public <T> T await(Supplier<Optional<T>> probe, String what) {
        Object[] found = new Object[1];
        waitFor(
                () -> {
                    Optional<T> v = probe.get();
                    v.ifPresent(x -> found[0] = x);
                    return v.isPresent();
                },
                timeout,
                what);
        @SuppressWarnings("unchecked")
        T t = (T) found[0];
        return t;
    }

    /** The cluster's wait deadline. */
    public Duration timeout() {
        return timeout;
    }

    /** Joins a future with the cluster timeout, unwrapping its failure. */
    public <T> T get(java.util.concurrent.CompletableFuture<T> future) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("timed out after " + timeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Stops every running broker gracefully (followers first, so leaders hand over less). */
    @Override
    public synchronized void close() {
        List<Integer> order = new ArrayList<>(running.keySet());
        Map<Integer, Boolean> controller = new LinkedHashMap<>();
        order.forEach(id -> controller.put(id, running.get(id).isController()));
        order.sort((a, b) -> Boolean.compare(controller.get(a), controller.get(b)));
        for (int id : order) {
            ReplicationNode n = running.remove(id);
            try {
                n.close();
            } catch (RuntimeException e) {
                LOG.warn("mini cluster: error closing broker {}", id, e);
            }
        }
        LOG.info("mini cluster under {} closed", root);
    }

    /** Files under {@code dir} (for tests that check data was deleted). */
    public static List<Path> listFiles(Path dir) {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
