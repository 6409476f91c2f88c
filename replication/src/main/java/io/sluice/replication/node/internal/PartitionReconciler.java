package io.sluice.replication.node.internal;

import io.sluice.logstore.LogConfig;
import io.sluice.replication.PartitionSpec;
import io.sluice.replication.RaftGroupOptions;
import io.sluice.replication.RaftHost;
import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.TopicPartition;
import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.MetadataListener;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import io.sluice.replication.metadata.internal.ReplicaPlacement;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a broker's local partition replicas follow the cluster metadata, and moves leadership back to preferred
 * replicas.
 *
 * <p>Reconcile (after every metadata change and every {@code reconcileIntervalMs}): opens a replica for every
 * partition assigned to this broker that is not open (recovering it from disk when it exists); closes and deletes the
 * data of replicas whose topic was deleted or replaced by a newer incarnation of the same name. Deletion is safe
 * against a stale local view: a replica of topic id {@code t} is only deleted when the applied metadata version is at
 * least {@code t} (so the view has seen the creation) and no topic with id {@code t} exists any more. Open failures
 * are retried on the next pass.
 *
 * <p>Preferred-leader rebalance (every {@code leaderRebalanceIntervalMs}, if not 0): for every partition this broker
 * leads whose preferred replica (first assigned) is another broker that is alive, asks Raft to transfer leadership to
 * it. JRaft only completes the transfer once the target has caught up with the leader's log (else the leader keeps
 * leadership after an election timeout), and a partition is retried at most every three intervals.
 *
 * <p>Thread safety: all work runs on one scheduler thread; {@link #trigger()} may be called from any thread.
 */
public final class PartitionReconciler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionReconciler.class);

    private final int brokerId;
    private final RaftHost host;
    private final MetadataClient metadata;
    private final LogConfig defaultLogConfig;
    private final RaftGroupOptions groupOptions;
    private final long reconcileIntervalMs;
    private final long rebalanceIntervalMs;
    private final LocalReplicaRegistry registry;
    private final ScheduledThreadPoolExecutor executor;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicLong passes = new java.util.concurrent.atomic.AtomicLong();
    private final Map<TopicPartition, Long> lastTransferNanos = new HashMap<>();
    private final Map<Integer, Long> aliveSinceNanos = new HashMap<>();
    private final MetadataListener listener = m -> trigger();
    private volatile boolean closed;

    public PartitionReconciler(
            int brokerId,
            RaftHost host,
            MetadataClient metadata,
            LogConfig defaultLogConfig,
            RaftGroupOptions groupOptions,
            Path dataDir,
            long reconcileIntervalMs,
            long rebalanceIntervalMs) {
        this.brokerId = brokerId;
        this.host = host;
        this.metadata = metadata;
        this.defaultLogConfig = defaultLogConfig;
        this.groupOptions = groupOptions;
        this.reconcileIntervalMs = reconcileIntervalMs;
        this.rebalanceIntervalMs = rebalanceIntervalMs;
        try {
            this.registry = LocalReplicaRegistry.open(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("broker " + brokerId + ": cannot read the local replica registry", e);
        }
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sluice-reconciler-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
    }

    public void start() {
        metadata.addListener(listener);
        executor.scheduleWithFixedDelay(this::trigger, reconcileIntervalMs, reconcileIntervalMs, TimeUnit.MILLISECONDS);
        if (rebalanceIntervalMs > 0) {
            executor.scheduleWithFixedDelay(
                    this::rebalanceSafely, rebalanceIntervalMs, rebalanceIntervalMs, TimeUnit.MILLISECONDS);
        }
    }

    /** Schedules a reconcile pass (coalesced with one already pending). */
    public void trigger() {
        if (closed || !pending.compareAndSet(false, true)) {
            return;
        }
        try {
            executor.execute(() -> {
                pending.set(false);
                reconcileSafely();
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pending.set(false);
        }
    }

    /** Completed reconcile passes (tests wait on it). */
    long passes() {
        return passes.get();
    }

    /** Stops reconciling; replicas stay as they are (the caller closes or halts the Raft host). */
    @Override
    public void close() {
        closed = true;
        metadata.removeListener(listener);
        // No interrupt: a pass in progress may be deleting or opening a replica, and an interrupt would close its
        // file channels under it. The closed flag makes the pass stop at the next replica.
        executor.shutdown();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void reconcileSafely() {
        if (closed) {
            return;
        }
        try {
            reconcile(metadata.current());
        } catch (RuntimeException e) {
            LOG.warn("broker {}: reconcile failed, will retry", brokerId, e);
        } finally {
            passes.incrementAndGet();
        }
    }

    private void reconcile(ClusterMetadata view) {
        Map<TopicPartition, ClusterMetadata.Replica> desired = new HashMap<>();
        for (ClusterMetadata.Replica r : view.replicasOn(brokerId)) {
            desired.put(new TopicPartition(r.topic().name(), r.partition()), r);
        }
        // Deletions first, so a topic deleted and created again under the same name is reopened fresh.
        for (Map.Entry<TopicPartition, Long> e : registry.all().entrySet()) {
            if (closed) {
                return;
            }
            TopicPartition tp = e.getKey();
            long localId = e.getValue();
            ClusterMetadata.Replica want = desired.get(tp);
            if (want != null && want.topic().topicId() == localId) {
                continue;
            }
            boolean stale = want != null
                    ? want.topic().topicId() > localId
                    : localId <= view.version() && !topicIdExists(view, localId);
            if (stale) {
                delete(tp, localId);
            }
        }
        for (Map.Entry<TopicPartition, ClusterMetadata.Replica> e : desired.entrySet()) {
            if (closed) {
                return;
            }
            TopicPartition tp = e.getKey();
            if (host.partition(tp).isPresent()) {
                continue;
            }
            Optional<Long> localId = registry.topicId(tp);
            if (localId.isPresent() && localId.get() != e.getValue().topic().topicId()) {
                continue; // an older incarnation whose deletion failed; retried next pass
            }
            open(tp, e.getValue(), view);
        }
    }

    private static boolean topicIdExists(ClusterMetadata view, long topicId) {
        for (TopicInfo t : view.topics().values()) {
            if (t.topicId() == topicId) {
                return true;
            }
        }
        return false;
    }

    private void delete(TopicPartition tp, long topicId) {
        try {
            host.deletePartition(tp);
            registry.remove(tp);
            LOG.info("broker {}: deleted replica {} of topic id {} (topic deleted)", brokerId, tp, topicId);
        } catch (IOException | RuntimeException e) {
            LOG.warn("broker {}: cannot delete replica {} (will retry)", brokerId, tp, e);
        }
    }

    private void open(TopicPartition tp, ClusterMetadata.Replica want, ClusterMetadata view) {
        List<ReplicaId> replicas = new ArrayList<>();
        for (int b : want.assignment().replicas()) {
            Optional<BrokerInfo> info = view.broker(b);
            if (info.isEmpty()) {
                LOG.warn("broker {}: replica {} is assigned to unknown broker {}", brokerId, tp, b);
                return;
            }
            replicas.add(new ReplicaId(b, info.get().host(), info.get().raftPort()));
        }
        LogConfig logConfig;
        try {
            Map<String, String> merged = new HashMap<>(defaultLogConfig.toMap());
            merged.putAll(ReplicaPlacement.logConfigs(want.topic().configs()));
            logConfig = LogConfig.fromMap(merged);
        } catch (IllegalArgumentException e) {
            LOG.error("broker {}: topic {} has invalid log configs; using the defaults", brokerId, tp.topic(), e);
            logConfig = defaultLogConfig;
        }
        try {
            registry.put(tp, want.topic().topicId());
            host.openPartition(new PartitionSpec(tp, replicas, logConfig, groupOptions));
            LOG.info(
                    "broker {}: opened replica {} (topic id {}, replicas {})",
                    brokerId,
                    tp,
                    want.topic().topicId(),
                    want.assignment().replicas());
        } catch (IOException | RuntimeException e) {
            LOG.warn("broker {}: cannot open replica {} (will retry)", brokerId, tp, e);
        }
    }

    private void rebalanceSafely() {
        if (closed) {
            return;
        }
        try {
            rebalance(metadata.current());
        } catch (RuntimeException e) {
            LOG.warn("broker {}: leader rebalance failed", brokerId, e);
        }
    }

    private void rebalance(ClusterMetadata view) {
        long now = System.nanoTime();
        aliveSinceNanos.keySet().removeIf(b -> !view.isAlive(b));
        view.liveBrokers().forEach(b -> aliveSinceNanos.putIfAbsent(b, now));
        long settle = TimeUnit.MILLISECONDS.toNanos(rebalanceIntervalMs);
        for (ReplicatedPartition p : host.partitions()) {
            if (!p.isLeader()) {
                continue;
            }
            TopicPartition tp = p.topicPartition();
            Optional<TopicInfo> topic = view.topic(tp.topic());
            if (topic.isEmpty() || tp.partition() >= topic.get().partitionCount()) {
                continue;
            }
            PartitionAssignment a = topic.get().partition(tp.partition());
            int preferred = a.preferredLeader();
            Long aliveSince = aliveSinceNanos.get(preferred);
            // A broker that just came back gets one interval to catch up before it is asked to lead.
            if (preferred == brokerId || aliveSince == null || now - aliveSince < settle) {
                continue;
            }
            Optional<ReplicaId> target =
                    p.replicas().stream().filter(r -> r.brokerId() == preferred).findFirst();
            Long last = lastTransferNanos.get(tp);
            if (target.isEmpty() || (last != null && now - last < 3 * settle)) {
                continue;
            }
            lastTransferNanos.put(tp, now);
            LOG.info(
                    "broker {}: moving leadership of {} (term {}) back to preferred replica {}",
                    brokerId,
                    tp,
                    p.term(),
                    target.get());
            p.transferLeadership(target.get()).whenComplete((v, err) -> {
                if (err != null) {
                    LOG.info(
                            "broker {}: leadership transfer of {} to {} not started: {}",
                            brokerId,
                            tp,
                            target.get(),
                            err.toString());
                }
            });
        }
    }
}
