package io.sluice.broker;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.sluice.broker.internal.AdminServiceImpl;
import io.sluice.broker.internal.BrokerBackend;
import io.sluice.broker.internal.BrokerServices;
import io.sluice.broker.internal.ErrorMappingInterceptor;
import io.sluice.broker.internal.FetchServiceImpl;
import io.sluice.broker.internal.PeerChannels;
import io.sluice.broker.internal.ProduceServiceImpl;
import io.sluice.broker.internal.group.GroupCoordinator;
import io.sluice.broker.internal.group.GroupServiceImpl;
import io.sluice.broker.internal.group.LeaderLogOffsets;
import io.sluice.broker.internal.metrics.BrokerMetrics;
import io.sluice.broker.internal.metrics.RequestMetrics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-facing gRPC server of one broker: Produce, Fetch (with ListOffsets), Admin and Group behind the error-mapping
 * interceptor, plus the standard health and reflection services. Handlers run on a fixed, named request executor,
 * never on Netty's event loop. Health reports NOT_SERVING until {@link #markServing()}.
 *
 * <p>Thread-safe; {@link #start()} and {@link #close()} are meant to be called once each.
 */
public final class BrokerServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerServer.class);

    private final BrokerConfig config;
    private final ExecutorService executor;
    private final HealthStatusManager health = new HealthStatusManager();
    private final FetchServiceImpl fetch;
    private final List<BindableService> services;
    private final PeerChannels peers;
    private final GroupCoordinator groups;
    private final Optional<BrokerMetrics> metrics;
    private Server server;

    public BrokerServer(BrokerConfig config, BrokerBackend backend) {
        this(config, backend, Optional.empty());
    }

    /** A server whose Produce and Fetch services and streaming calls are recorded in {@code metrics}. */
    public BrokerServer(BrokerConfig config, BrokerBackend backend, Optional<BrokerMetrics> metrics) {
        this.config = config;
        this.metrics = metrics;
        RequestMetrics requests = metrics.map(BrokerMetrics::requests).orElse(RequestMetrics.NONE);
        this.executor = Executors.newFixedThreadPool(config.requestThreads(), named("sluice-request-"));
        this.peers = PeerChannels.over(backend);
        this.groups = new GroupCoordinator(
                backend, config.groupConfig(), java.time.Clock.systemUTC(), new LeaderLogOffsets(backend, peers));
        this.fetch = new FetchServiceImpl(
                backend, executor, config.fetchMaxBytes(), config.fetchMaxBufferedBytesPerStream(), requests);
        this.services = List.of(
                new ProduceServiceImpl(
                        backend,
                        executor,
                        config.produceMaxInflightPerStream(),
                        config.produceMaxBatchBytes(),
                        config.produceTimeoutMs(),
                        requests),
                fetch,
                new AdminServiceImpl(
                        backend,
                        config.logDefaults(),
                        config.topicMaxPartitions(),
                        config.topicDefaultPartitions(),
                        config.topicDefaultReplicationFactor(),
                        peers),
                new GroupServiceImpl(groups));
        health.setStatus("", ServingStatus.NOT_SERVING);
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Binds broker.host:grpc.port and starts serving. */
    public BrokerServer start() throws IOException {
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.grpcPort()))
                .executor(executor)
                .maxInboundMessageSize(config.messageMaxBytes())
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true);
        ErrorMappingInterceptor interceptor = new ErrorMappingInterceptor();
        for (BindableService s : services) {
            var def = ServerInterceptors.intercept(s, interceptor, PeerChannels.interceptor());
            if (metrics.isPresent()) {
                def = ServerInterceptors.intercept(def, metrics.get().activeStreams());
            }
            b.addService(BrokerServices.rejectMalformed(def));
        }
        b.addService(health.getHealthService());
        b.addService(ProtoReflectionServiceV1.newInstance());
        server = b.build().start();
        LOG.info("gRPC server listening on {}:{}", config.host(), port());
        return this;
    }

    /** The bound gRPC port (useful with grpc.port=0). */
    public int port() {
        return server.getPort();
    }

    /** Health SERVING: the node is part of the cluster. */
    public void markServing() {
        health.setStatus("", ServingStatus.SERVING);
        for (BindableService s : services) {
            health.setStatus(s.bindService().getServiceDescriptor().getName(), ServingStatus.SERVING);
        }
    }

    /** Health NOT_SERVING and stop accepting new calls; in-flight calls continue. */
    public void stopAccepting() {
        health.enterTerminalState();
        if (server != null) {
            server.shutdown();
        }
    }

    /**
     * The group coordinator behind GroupService. It answers COORDINATOR_NOT_AVAILABLE until the broker's offset store
     * is handed to it with {@link GroupCoordinator#attach}.
     */
    public GroupCoordinator groupCoordinator() {
        return groups;
    }

    public FetchServiceImpl fetchService() {
        return fetch;
    }

    /** Waits up to {@code timeoutMs} for in-flight calls, then cancels what is left. */
    public void awaitTermination(long timeoutMs) throws InterruptedException {
        if (server != null && !server.awaitTermination(timeoutMs, TimeUnit.MILLISECONDS)) {
            server.shutdownNow();
            server.awaitTermination(2, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopAccepting();
        awaitTermination(config.shutdownTimeoutMs());
        groups.close();
        peers.close();
        executor.shutdownNow();
    }
}
