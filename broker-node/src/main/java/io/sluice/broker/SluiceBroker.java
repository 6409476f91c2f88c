package io.sluice.broker;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.sluice.broker.internal.CompilerThreads;
import io.sluice.broker.internal.HealthHttpServer;
import io.sluice.broker.internal.NodeBackend;
import io.sluice.broker.internal.metrics.BrokerMetrics;
import io.sluice.broker.internal.offsets.OffsetStore;
import io.sluice.broker.internal.offsets.OffsetsDb;
import io.sluice.broker.internal.offsets.ReplicatedOffsetStore;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.DescribeClusterRequest;
import io.sluice.replication.ReplicationObserver;
import io.sluice.replication.node.ReplicationNode;
import io.sluice.replication.node.ReplicationNodeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker process: {@code sluice-broker --config FILE [--set key=value]...}. Starts the replication node and the
 * gRPC server, reports SERVING on the health service once the broker has joined the cluster, and on SIGTERM stops
 * accepting calls, hands leadership over (closing the node) and exits. {@code sluice-broker --check-ready HOST:PORT}
 * exits 0 when that broker is SERVING and knows a controller leader, 1 otherwise (used by deploy/local/cluster.sh).
 *
 * <p>Configuration errors print one line on stderr and exit 1. A running broker is thread-safe; {@link #close()} is
 * idempotent.
 */
public final class SluiceBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SluiceBroker.class);
    private static final String USAGE =
            "usage: sluice-broker [--config FILE] [--set key=value]... | sluice-broker --check-ready HOST:PORT";

    private final BrokerConfig config;
    private final ReplicationNode node;
    private final BrokerServer server;
    private final BrokerHealth health;
    private final ReplicatedOffsetStore offsets;
    private final Optional<BrokerMetrics> metrics;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean closed;

    private SluiceBroker(
            BrokerConfig config,
            ReplicationNode node,
            BrokerServer server,
            BrokerHealth health,
            ReplicatedOffsetStore offsets,
            Optional<BrokerMetrics> metrics) {
        this.config = config;
        this.node = node;
        this.server = server;
        this.health = health;
        this.offsets = offsets;
        this.metrics = metrics;
    }

    /** What the HTTP probes report; bound before the node starts so that the node advertises the real HTTP port. */
    private static final class BrokerHealth {
        volatile boolean ready;
        volatile boolean stopping;
        HealthHttpServer http;
    }

    /** Starts a broker and returns once its servers are bound; readiness follows asynchronously. */
    public static SluiceBroker start(BrokerConfig config) throws IOException {
        Files.createDirectories(config.dataDir());
        Optional<BrokerMetrics> metrics = config.metricsEnabled()
                ? Optional.of(BrokerMetrics.create(config.brokerId(), version()))
                : Optional.empty();
        // Bind gRPC first so that the node registers the real port (grpc.port=0 picks one).
        NodeBackend backend = new NodeBackend();
        BrokerServer server = new BrokerServer(config, backend, metrics).start();
        BrokerHealth health = new BrokerHealth();
        ReplicationNode node;
        ReplicatedOffsetStore offsets = null;
        try {
            health.http = HealthHttpServer.start(
                    config.host(),
                    config.httpPort(),
                    () -> !health.stopping,
                    () -> health.ready && !health.stopping,
                    metrics.map(m -> m::scrape));
            // The offsets store exists before the node: __offsets replicas found on disk reopen as the node starts.
            offsets = new ReplicatedOffsetStore(
                    OffsetsDb.open(config.dataDir().resolve(OffsetsDb.DIR_NAME)),
                    config.offsetsTopicPartitions(),
                    config.offsetsTopicReplicationFactor(),
                    config.controllerVoters().size(),
                    java.time.Clock.systemUTC(),
                    Integer.toString(config.brokerId()));
            node = ReplicationNode.start(
                    config.replicationNodeConfig()
                            .with(ReplicationNodeConfig.GRPC_PORT, Integer.toString(server.port()))
                            .with(ReplicationNodeConfig.HTTP_PORT, Integer.toString(health.http.port())),
                    offsets.extensionFactory(),
                    metrics.map(BrokerMetrics::replicationObserver).orElse(ReplicationObserver.NONE));
        } catch (IOException | RuntimeException e) {
            if (offsets != null) {
                offsets.close();
            }
            if (health.http != null) {
                health.http.close();
            }
            try {
                server.close();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            metrics.ifPresent(BrokerMetrics::close);
            throw e;
        }
        backend.attach(node);
        offsets.attach(node.metadata(), node.brokerId());
        backend.attachOffsets(offsets);
        server.groupCoordinator().attach(offsets);
        metrics.ifPresent(m -> m.bindCluster(() -> node.metadata().current()));
        metrics.ifPresent(m -> m.bindGroups(() -> groupSamples(server)));
        SluiceBroker b = new SluiceBroker(config, node, server, health, offsets, metrics);
        Thread t = new Thread(() -> b.awaitReady(backend), "sluice-readiness");
        t.setDaemon(true);
        t.start();
        return b;
    }

    private void awaitReady(NodeBackend backend) {
        // The node exposes no readiness event: poll, with a short period, only until the broker first joins.
        while (!closed) {
            if (backend.isReady()) {
                server.markServing();
                health.ready = true;
                LOG.info(
                        "broker {} is ready: gRPC on {}:{}, Raft on {}, controller is broker {}",
                        config.brokerId(),
                        config.host(),
                        server.port(),
                        node.brokerInfo().raftAddress(),
                        backend.metadata().controllerId().orElse(-1));
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    public int grpcPort() {
        return server.port();
    }

    public ReplicationNode node() {
        return node;
    }

    public BrokerServer server() {
        return server;
    }

    /** The group coordinator's view, in the metrics' terms (read at every scrape). */
    private static java.util.List<io.sluice.broker.internal.metrics.GroupMetricsSample> groupSamples(
            BrokerServer server) {
        return server.groupCoordinator().lagSamples().stream()
                .map(g -> new io.sluice.broker.internal.metrics.GroupMetricsSample(
                        g.groupId(),
                        g.memberCount(),
                        g.partitions().stream()
                                .map(p -> new io.sluice.broker.internal.metrics.PartitionLagSample(
                                        p.topic(), p.partition(), p.lag()))
                                .toList()))
                .toList();
    }

    /** Committed offsets of consumer groups ({@code __offsets} partitions applied into this broker's RocksDB). */
    public OffsetStore offsetStore() {
        return offsets;
    }

    /** The bound HTTP port of {@code /health/live}, {@code /health/ready} and {@code /metrics}. */
    public int httpPort() {
        return health.http.port();
    }

    /**
     * The broker's metrics (empty with {@code metrics.enabled=false}); e.g. to bind the group coordinator's samples
     * with {@link BrokerMetrics#bindGroups}.
     */
    public Optional<BrokerMetrics> metrics() {
        return metrics;
    }

    /**
     * This build's version: the jar manifest's Implementation-Version, else the Maven pom.properties the jar carries,
     * else "unknown" (e.g. running from target/classes).
     */
    static String version() {
        String v = SluiceBroker.class.getPackage().getImplementationVersion();
        if (v != null && !v.isBlank()) {
            return v;
        }
        try (var in =
                SluiceBroker.class.getResourceAsStream("/META-INF/maven/io.sluice/sluice-broker-node/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            // Fall through: the version is informational.
        }
        return "unknown";
    }

    /** Graceful stop: stop accepting calls, hand leadership over, then stop serving. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        health.stopping = true;
        LOG.info("broker {} shutting down", config.brokerId());
        server.stopAccepting();
        node.close();
        offsets.close();
        try {
            server.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        health.http.close();
        metrics.ifPresent(BrokerMetrics::close);
        LOG.info("broker {} stopped", config.brokerId());
        stopped.countDown();
    }

    /** Abrupt stop for tests: like a crash, nothing handed over. */
    public void halt() {
        closed = true;
        health.stopping = true;
        health.http.close();
        node.halt();
        offsets.close();
        server.stopAccepting();
        try {
            server.awaitTermination(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        metrics.ifPresent(BrokerMetrics::close);
        stopped.countDown();
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        Map<String, String> sets = new LinkedHashMap<>();
        Path configFile = null;
        String checkReady = null;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--config" -> configFile = Path.of(value(args, ++i, a));
                    case "--set" -> {
                        String kv = value(args, ++i, a);
                        int eq = kv.indexOf('=');
                        if (eq <= 0) {
                            throw new ConfigException("--set expects key=value, got '" + kv + "'");
                        }
                        sets.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
                    }
                    case "--check-ready" -> checkReady = value(args, ++i, a);
                    case "-h", "--help" -> {
                        System.out.println(USAGE);
                        return 0;
                    }
                    default -> throw new ConfigException("unknown argument '" + a + "'; " + USAGE);
                }
            }
            if (checkReady != null) {
                // Generous: the probe is a fresh JVM whose first call also loads Netty, slow on a busy machine.
                return checkReady(checkReady, Duration.ofSeconds(15)) ? 0 : 1;
            }
            BrokerConfig config = BrokerConfig.resolve(
                    configFile == null ? Map.of() : BrokerConfig.readFile(configFile), System.getenv(), sets);
            // Process-wide, so here and not in start(): in-JVM clusters (tests) leave their JVM's compilers alone.
            LOG.info("{}", CompilerThreads.renice(config.jitCompilerNice()));
            SluiceBroker broker = start(config);
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                broker.close();
                                LogManager.shutdown();
                            },
                            "sluice-shutdown"));
            broker.stopped.await();
            return 0;
        } catch (ConfigException e) {
            System.err.println("sluice-broker: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            System.err.println("sluice-broker: cannot start: " + e.getMessage());
            LOG.error("startup failed", e);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (RuntimeException e) {
            LOG.error("startup failed", e);
            System.err.println("sluice-broker: cannot start: " + e);
            return 1;
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new ConfigException(flag + " needs a value; " + USAGE);
        }
        return args[i];
    }

    /** Whether the broker at {@code hostPort} reports SERVING and names a controller leader. */
    static boolean checkReady(String hostPort, Duration timeout) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new ConfigException("--check-ready expects HOST:PORT, got '" + hostPort + "'");
        }
        ManagedChannel ch = NettyChannelBuilder.forAddress(
                        hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)))
                .usePlaintext()
                .build();
        try {
            HealthCheckResponse h = HealthGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .check(HealthCheckRequest.getDefaultInstance());
            if (h.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
                return false;
            }
            return AdminServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .describeCluster(DescribeClusterRequest.getDefaultInstance())
                    .hasControllerId();
        } catch (StatusRuntimeException | NumberFormatException e) {
            return false;
        } finally {
            ch.shutdownNow();
        }
    }
}
