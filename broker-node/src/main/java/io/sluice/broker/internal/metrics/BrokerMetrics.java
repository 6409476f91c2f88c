package io.sluice.broker.internal.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.replication.PartitionListener;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.ReplicationObserver;
import io.sluice.replication.TopicPartition;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker's metrics: a Micrometer {@link PrometheusMeterRegistry} of its own (several brokers may share a JVM in
 * tests, so never the global registry), the JVM and process binders, and typed recording points for the rest of the
 * broker. The exposed names, types and labels are the contract in {@code docs/metrics.md}; a test pins them.
 *
 * <p>Who feeds what:
 *
 * <ul>
 *   <li>Replication, through {@link #replicationObserver()}: per-partition gauges are registered when a local replica
 *       opens and removed when it closes or is deleted (no stale series after a topic deletion), leader changes are
 *       counted by a listener added before the replica starts, plus commit latency and log append/fsync timings.
 *   <li>The Produce and Fetch services, through {@link #requests()}; active streaming calls through {@link
 *       #activeStreams()}, a gRPC interceptor.
 *   <li>The cluster view, through {@link #bindCluster} (brokers alive, offline partitions, and which topics still
 *       exist: per-topic counters of deleted topics are dropped at the next scrape).
 *   <li>Consumer groups, through {@link #bindGroups}, read at every scrape.
 * </ul>
 *
 * <p>Gauges read their sources when scraped, never on the data path. Thread-safe: recording from any thread;
 * {@link #scrape} calls are serialized.
 */
public final class BrokerMetrics implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerMetrics.class);

    /** Smallest and largest latencies the histograms resolve (buckets outside collapse into the end buckets). */
    static final Duration MIN_EXPECTED = Duration.ofNanos(100_000);

    static final Duration MAX_EXPECTED = Duration.ofSeconds(30);

    static final String OPENMETRICS = "application/openmetrics-text";
    /** The content types of Prometheus' text writers (the registry picks the writer by them). */
    public static final String TEXT_004 = "text/plain; version=0.0.4; charset=utf-8";

    public static final String OPENMETRICS_100 = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    static final String ERROR_CODE_PREFIX = "ERROR_CODE_";

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gc;
    private final Timer produceQuorum;
    private final Timer produceLeader;
    private final Timer fetchDuration;
    private final Timer commitLatency;
    private final Timer appendLatency;
    private final Timer fsyncLatency;
    private final Map<String, TopicMeters> topics = new ConcurrentHashMap<>();
    private final Map<TopicPartition, PartitionMeters> partitions = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> streams = new ConcurrentHashMap<>();
    private final MultiGauge groupMembers;
    private final MultiGauge groupLag;
    private final Requests requests = new Requests();
    private final Observer observer = new Observer();
    private final ServerInterceptor streamsInterceptor = new StreamsInterceptor();
    private volatile Supplier<ClusterMetadata> cluster = () -> ClusterMetadata.EMPTY;
    private volatile boolean clusterBound;
    private volatile Supplier<? extends Collection<GroupMetricsSample>> groups = List::of;

    private BrokerMetrics(int brokerId, String version) {
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Two binder meters break Prometheus' naming rules (promtool check metrics): a "_count" suffix on a gauge and
        // an abbreviated unit. They are replaced by conforming equivalents below.
        registry.config()
                .meterFilter(MeterFilter.deny(id ->
                        id.getName().equals("system.cpu.count") || id.getName().equals("process.cpu.time")));
        new JvmMemoryMetrics().bindTo(registry);
        this.gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        Gauge.builder("system.cpus", Runtime.getRuntime(), Runtime::availableProcessors)
                .description("Processors available to the JVM")
                .register(registry);
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            FunctionCounter.builder("process.cpu", sun, b -> b.getProcessCpuTime() / 1e9)
                    .description("CPU time used by the JVM process")
                    .baseUnit("seconds")
                    .register(registry);
        }

        Gauge.builder("sluice.broker.info", () -> 1)
                .description("Always 1; the labels name this broker's id and version")
                .tags("version", version, "broker_id", Integer.toString(brokerId))
                .register(registry);
        this.produceQuorum = produceTimer("quorum");
        this.produceLeader = produceTimer("leader");
        this.fetchDuration =
                latency("sluice.fetch.request.duration", "One fetch response: from the log read to handing it to gRPC");
        this.commitLatency = latency(
                "sluice.raft.commit.latency", "Leader only: from proposing an append to its commit by a quorum");
        this.appendLatency = latency(
                "sluice.log.append.latency",
                "One segment-log append call (write of one or more batches and index updates)");
        this.fsyncLatency =
                latency("sluice.log.fsync.latency", "One fsync of a partition log (grouped: covers many appends)");

        Gauge.builder("sluice.partitions", partitions, Map::size)
                .description("Partition replicas hosted (open) on this broker")
                .register(registry);
        Gauge.builder("sluice.partitions.led", this, m -> m.countPartitions(false))
                .description("Partitions this broker leads")
                .register(registry);
        Gauge.builder("sluice.under.replicated.partitions", this, m -> m.countPartitions(true))
                .description("Partitions this broker leads that have fewer in-sync replicas than replicas")
                .register(registry);
        Gauge.builder("sluice.cluster.brokers.alive", this, m -> m.cluster()
                        .liveBrokers()
                        .size())
                .description("Brokers whose controller session is alive, in this broker's metadata view")
                .register(registry);
        Gauge.builder("sluice.offline.partitions", this, m -> offlinePartitions(m.cluster()))
                .description("Partitions (in this broker's metadata view) with fewer live replicas than a Raft"
                        + " majority: they cannot have a leader")
                .register(registry);
        this.groupMembers = MultiGauge.builder("sluice.group.members")
                .description("Members of a consumer group, reported by its coordinator")
                .register(registry);
        this.groupLag = MultiGauge.builder("sluice.group.lag")
                .description("Records a consumer group is behind on a partition (high watermark minus committed"
                        + " offset), reported by its coordinator")
                .register(registry);
    }

    /** A registry with the JVM/process binders and {@code sluice_broker_info{version, broker_id}}. */
    public static BrokerMetrics create(int brokerId, String version) {
        return new BrokerMetrics(brokerId, version);
    }

    private Timer produceTimer(String acks) {
        return Timer.builder("sluice.produce.request.duration")
                .description("One produce batch: from receiving the request to acknowledging it")
                .tag("acks", acks)
                .publishPercentileHistogram()
                .minimumExpectedValue(MIN_EXPECTED)
                .maximumExpectedValue(MAX_EXPECTED)
                .register(registry);
    }

    private Timer latency(String name, String description) {
        return Timer.builder(name)
                .description(description)
                .publishPercentileHistogram()
                .minimumExpectedValue(MIN_EXPECTED)
                .maximumExpectedValue(MAX_EXPECTED)
                .register(registry);
    }

    // ------------------------------------------------------------------------------------------------ binding

    /** Feeds replication's events into this registry; pass it to {@code ReplicationNode.start}. */
    public ReplicationObserver replicationObserver() {
        return observer;
    }

    /** What the Produce and Fetch services record. */
    public RequestMetrics requests() {
        return requests;
    }

    /** Counts open streaming calls per method ({@code sluice_grpc_active_streams}); add it to every service. */
    public ServerInterceptor activeStreams() {
        return streamsInterceptor;
    }

    /**
     * The cluster metadata as this broker sees it, read at every scrape: brokers alive, offline partitions, and which
     * topics still exist (counters of deleted topics are dropped; produce errors for topics the metadata does not know
     * are counted under {@code topic=""} so that clients cannot create series at will).
     */
    public void bindCluster(Supplier<ClusterMetadata> metadata) {
        this.cluster = metadata;
        this.clusterBound = true;
    }

    /**
     * The consumer groups this broker coordinates, read at every scrape: {@code sluice_group_members{group}} and
     * {@code sluice_group_lag{group, topic, partition}} follow the samples (series of groups or partitions no longer
     * reported disappear). The supplier runs on the scraping thread; it should be cheap and must not block for long.
     */
    public void bindGroups(Supplier<? extends Collection<GroupMetricsSample>> groups) {
        this.groups = groups;
    }

    // ------------------------------------------------------------------------------------------------ scrape

    /** A rendered scrape. */
    public record Scrape(String contentType, byte[] body) {}

    /**
     * Refreshes the group gauges and renders every metric: OpenMetrics text when {@code accept} asks for {@value
     * #OPENMETRICS}, Prometheus text 0.0.4 otherwise.
     */
    public synchronized Scrape scrape(String accept) {
        refreshGroups();
        dropDeletedTopics();
        String contentType = accept != null && accept.contains(OPENMETRICS) ? OPENMETRICS_100 : TEXT_004;
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        try {
            registry.scrape(out, contentType);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Scrape(contentType, out.toByteArray());
    }

    /** The registry, for tests. */
    PrometheusMeterRegistry registry() {
        return registry;
    }

    private void refreshGroups() {
        Collection<GroupMetricsSample> samples;
        try {
            samples = groups.get();
        } catch (RuntimeException e) {
            LOG.warn("consumer group metrics unavailable this scrape: {}", e.toString());
            return;
        }
        List<MultiGauge.Row<?>> members = new ArrayList<>();
        List<MultiGauge.Row<?>> lags = new ArrayList<>();
        for (GroupMetricsSample g : samples) {
            members.add(MultiGauge.Row.of(Tags.of("group", g.group()), g.members()));
            for (PartitionLagSample l : g.lags()) {
                lags.add(MultiGauge.Row.of(
                        Tags.of("group", g.group(), "topic", l.topic(), "partition", Integer.toString(l.partition())),
                        l.lag()));
            }
        }
        groupMembers.register(members, true);
        groupLag.register(lags, true);
    }

    private void dropDeletedTopics() {
        if (!clusterBound) {
            return;
        }
        ClusterMetadata m = cluster();
        if (m.version() == 0) {
            return;
        }
        for (String topic : topics.keySet()) {
            if (!topic.isEmpty() && !m.topics().containsKey(topic)) {
                TopicMeters t = topics.remove(topic);
                if (t != null) {
                    t.remove();
                }
            }
        }
    }

    private ClusterMetadata cluster() {
        try {
            return cluster.get();
        } catch (RuntimeException e) {
            return ClusterMetadata.EMPTY;
        }
    }

    static int offlinePartitions(ClusterMetadata m) {
        int offline = 0;
        for (TopicInfo t : m.topics().values()) {
            for (PartitionAssignment p : t.partitions()) {
                int alive = 0;
                for (int r : p.replicas()) {
                    if (m.isAlive(r)) {
                        alive++;
                    }
                }
                if (alive < p.replicas().size() / 2 + 1) {
                    offline++;
                }
            }
        }
        return offline;
    }

    private int countPartitions(boolean underReplicatedOnly) {
        int n = 0;
        for (PartitionMeters p : partitions.values()) {
            ReplicatedPartition r = p.replica;
            if (r.isLeader() && (!underReplicatedOnly || underReplicated(r))) {
                n++;
            }
        }
        return n;
    }

    static boolean underReplicated(ReplicatedPartition r) {
        if (!r.isLeader()) {
            return false;
        }
        List<?> inSync = r.inSyncReplicas();
        // Empty: leadership was lost between the two reads; the next leader reports.
        return !inSync.isEmpty() && inSync.size() < r.replicas().size();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }

    // ------------------------------------------------------------------------------------------------ topics

    /** Per-topic counters; created on first use, removed when the topic is deleted. */
    private final class TopicMeters {
        final String topic;
        final Counter producedRecords;
        final Counter producedBytes;
        final Counter fetchedRecords;
        final Counter fetchedBytes;
        final Map<ErrorCode, Counter> errors = new ConcurrentHashMap<>();

        TopicMeters(String topic) {
            this.topic = topic;
            producedRecords = Counter.builder("sluice.produce.records")
                    .description("Records appended through this broker as leader (counted when acknowledged)")
                    .tag("topic", topic)
                    .register(registry);
            producedBytes = Counter.builder("sluice.produce.bytes")
                    .description("Record batch bytes appended through this broker as leader (acknowledged)")
                    .baseUnit("bytes")
                    .tag("topic", topic)
                    .register(registry);
            fetchedRecords = Counter.builder("sluice.fetch.records")
                    .description("Records sent to consumers (control batches excluded)")
                    .tag("topic", topic)
                    .register(registry);
            fetchedBytes = Counter.builder("sluice.fetch.bytes")
                    .description("Record batch bytes sent to consumers")
                    .baseUnit("bytes")
                    .tag("topic", topic)
                    .register(registry);
        }

        Counter error(ErrorCode code) {
            return errors.computeIfAbsent(code, c -> Counter.builder("sluice.produce.errors")
                    .description("Produce batches answered with an error, by error code")
                    .tags("topic", topic, "code", codeName(c))
                    .register(registry));
        }

        void remove() {
            registry.remove(producedRecords);
            registry.remove(producedBytes);
            registry.remove(fetchedRecords);
            registry.remove(fetchedBytes);
            errors.values().forEach(registry::remove);
        }
    }

    /** The documented name of an error code (docs/api.md): {@code NOT_LEADER} for {@code ERROR_CODE_NOT_LEADER}. */
    static String codeName(ErrorCode code) {
        String n = code.name();
        return n.startsWith(ERROR_CODE_PREFIX) ? n.substring(ERROR_CODE_PREFIX.length()) : n;
    }

    private TopicMeters topic(String topic) {
        TopicMeters t = topics.get(topic);
        return t != null ? t : topics.computeIfAbsent(topic, TopicMeters::new);
    }

    private final class Requests implements RequestMetrics {
        @Override
        public void produced(String topic, int records, int bytes, boolean quorum, long nanos) {
            TopicMeters t = topic(topic);
            t.producedRecords.increment(records);
            t.producedBytes.increment(bytes);
            (quorum ? produceQuorum : produceLeader).record(nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void produceFailed(String topic, ErrorCode code) {
            ClusterMetadata m = cluster();
            // Only topics that exist get a label of their own: a client must not be able to mint series.
            String label = m.topics().containsKey(topic) ? topic : "";
            topic(label).error(code).increment();
        }

        @Override
        public void fetched(String topic, int records, int bytes, long nanos) {
            TopicMeters t = topic(topic);
            t.fetchedRecords.increment(records);
            t.fetchedBytes.increment(bytes);
            fetchDuration.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    // ------------------------------------------------------------------------------------------------ partitions

    /** The series of one open local replica, removed together when it closes. */
    private final class PartitionMeters {
        final ReplicatedPartition replica;
        final List<Meter> meters = new ArrayList<>();
        final PartitionListener listener;

        PartitionMeters(ReplicatedPartition replica) {
            this.replica = replica;
            TopicPartition tp = replica.topicPartition();
            Tags tags = Tags.of("topic", tp.topic(), "partition", Integer.toString(tp.partition()));
            gauge(
                    "sluice.partition.high.watermark",
                    "Committed offset: offsets below it are readable",
                    tags,
                    r -> r.highWatermark());
            gauge(
                    "sluice.partition.log.end.offset",
                    "Offset the next appended batch gets (uncommitted included)",
                    tags,
                    r -> r.logEndOffset());
            gauge(
                    "sluice.partition.log.start.offset",
                    "Offset of the first batch still held",
                    tags,
                    r -> r.logStartOffset());
            meters.add(Gauge.builder("sluice.partition.log.size", replica, r -> r.logSizeBytes())
                    .description("Bytes of this replica's segment files on disk")
                    .baseUnit("bytes")
                    .tags(tags)
                    .strongReference(true)
                    .register(registry));
            gauge(
                    "sluice.partition.leader",
                    "1 if this broker's replica leads the partition, else 0",
                    tags,
                    r -> r.isLeader() ? 1 : 0);
            gauge(
                    "sluice.partition.under.replicated",
                    "Reported by the leader: 1 if fewer replicas are in sync than assigned, else 0 (0 on followers)",
                    tags,
                    r -> underReplicated(r) ? 1 : 0);
            gauge("sluice.partition.raft.term", "Latest Raft term this replica has seen", tags, r -> r.term());
            Counter leaderChanges = Counter.builder("sluice.raft.leader.changes")
                    .description("Leadership start and stop events of this replica")
                    .tags(tags)
                    .register(registry);
            meters.add(leaderChanges);
            this.listener = new PartitionListener() {
                @Override
                public void onLeaderStart(long term) {
                    leaderChanges.increment();
                }

                @Override
                public void onLeaderStop(long term) {
                    leaderChanges.increment();
                }
            };
        }

        private void gauge(String name, String description, Tags tags, ToDoubleFunction<ReplicatedPartition> fn) {
            meters.add(Gauge.builder(name, replica, r -> {
                        try {
                            return fn.applyAsDouble(r);
                        } catch (RuntimeException closedOrStarting) {
                            return Double.NaN;
                        }
                    })
                    .description(description)
                    .tags(tags)
                    .strongReference(true)
                    .register(registry));
        }

        void remove() {
            replica.removeListener(listener);
            meters.forEach(registry::remove);
        }
    }

    private final class Observer implements ReplicationObserver {
        @Override
        public void onReplicaOpened(ReplicatedPartition replica) {
            TopicPartition tp = replica.topicPartition();
            PartitionMeters old = partitions.remove(tp);
            if (old != null) {
                old.remove();
            }
            PartitionMeters m = new PartitionMeters(replica);
            replica.addListener(m.listener);
            partitions.put(tp, m);
        }

        @Override
        public void onReplicaClosed(ReplicatedPartition replica) {
            PartitionMeters m = partitions.get(replica.topicPartition());
            // Only the series of this very replica: a reopened replica of the same partition has its own.
            if (m != null && m.replica == replica && partitions.remove(replica.topicPartition(), m)) {
                m.remove();
            }
        }

        @Override
        public void onCommitted(long nanos) {
            commitLatency.record(nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void onAppend(int batches, long nanos) {
            appendLatency.record(nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void onFsync(long nanos) {
            fsyncLatency.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    // ------------------------------------------------------------------------------------------------ streams

    private AtomicInteger streamCount(String method) {
        AtomicInteger n = streams.get(method);
        if (n != null) {
            return n;
        }
        return streams.computeIfAbsent(method, k -> {
            AtomicInteger c = new AtomicInteger();
            Gauge.builder("sluice.grpc.active.streams", c, AtomicInteger::get)
                    .description("Open streaming gRPC calls (produce, fetch, ...) by method")
                    .tag("method", k)
                    .strongReference(true)
                    .register(registry);
            return c;
        });
    }

    /** Counts a streaming call from its start until it completes or is cancelled (once). */
    private final class StreamsInterceptor implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
                ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            MethodDescriptor.MethodType type = call.getMethodDescriptor().getType();
            if (type == MethodDescriptor.MethodType.UNARY) {
                return next.startCall(call, headers);
            }
            AtomicInteger count = streamCount(call.getMethodDescriptor().getFullMethodName());
            count.incrementAndGet();
            AtomicBoolean ended = new AtomicBoolean();
            Runnable end = () -> {
                if (ended.compareAndSet(false, true)) {
                    count.decrementAndGet();
                }
            };
            ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void close(Status status, Metadata trailers) {
                    end.run();
                    super.close(status, trailers);
                }
            };
            ServerCall.Listener<Q> delegate;
            try {
                delegate = next.startCall(counted, headers);
            } catch (RuntimeException e) {
                end.run();
                throw e;
            }
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
                @Override
                public void onCancel() {
                    end.run();
                    super.onCancel();
                }

                @Override
                public void onComplete() {
                    end.run();
                    super.onComplete();
                }
            };
        }
    }
}
