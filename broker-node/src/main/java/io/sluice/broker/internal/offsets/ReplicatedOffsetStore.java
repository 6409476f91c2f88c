package io.sluice.broker.internal.offsets;

import io.sluice.logstore.LogConfig;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.replication.AckMode;
import io.sluice.replication.NotLeaderException;
import io.sluice.replication.PartitionClosedException;
import io.sluice.replication.PartitionListener;
import io.sluice.replication.PartitionStateExtension;
import io.sluice.replication.ReplicaFailedException;
import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.TopicExistsException;
import io.sluice.replication.metadata.TopicInfo;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link OffsetStore} of a broker: group offsets live in the Raft-replicated partitions of the internal topic
 * {@value #TOPIC}; every replica applies their committed batches into the broker's {@link OffsetsDb} (through an
 * {@link OffsetsPartitionState} per local replica, which this class creates as the replication layer's {@link
 * PartitionStateExtension.Factory}). The leader of a group's partition is the group's coordinator.
 *
 * <h2>The topic</h2>
 * {@value #TOPIC} has {@code offsets.topic.partitions} partitions, replication factor {@code
 * offsets.topic.replication.factor} lowered to the number of registered brokers (created once that many are alive), and time/size retention ({@link #TOPIC_CONFIG}). It is
 * created the first time a group needs it (a coordinator lookup or a commit on any broker): creating it at startup would
 * add its Raft groups to every cluster, used or not, and would fix its replication factor while brokers are still
 * joining. A broker asks the controller at most once at a time; a concurrent creation by another broker ends in {@code
 * TOPIC_EXISTS}, which is success. Until its partition has a leader, a group has no coordinator ({@link
 * #coordinatorOf} is empty).
 *
 * <h2>Ordering</h2>
 * Commits of a group are pipelined (each is one Raft entry). {@link #deleteGroup} waits for the group's commits in
 * flight, then writes one tombstone per stored key; commits issued while a delete is pending wait for it, so a delete
 * never removes an offset committed after it was asked for, nor misses one committed before.
 *
 * <h2>Threads</h2>
 * Thread-safe. Coordinator events run on one thread per broker ({@code sluice-offsets-events-<id>}) in the order they
 * happened; commit and delete futures complete on {@code sluice-offsets-<id>} threads: do not block in either.
 */
public final class ReplicatedOffsetStore implements OffsetStore, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedOffsetStore.class);

    /** The internal topic holding committed offsets. */
    public static final String TOPIC = "__offsets";

    /**
     * The log of {@code __offsets} is needed only after the last snapshot: the state lives in RocksDB and travels in
     * the snapshots, and Raft deletes segments only below a snapshot. So plain time/size retention is safe and keeps
     * the log bounded (log compaction is not run on Raft-replicated partitions).
     */
    static final Map<String, String> TOPIC_CONFIG = Map.of(
            LogConfig.CLEANUP_POLICY, "delete",
            LogConfig.RETENTION_MS, Long.toString(24L * 3600 * 1000),
            LogConfig.RETENTION_BYTES, Long.toString(256L << 20),
            LogConfig.SEGMENT_BYTES, Long.toString(16L << 20));

    private final OffsetsDb db;
    private final int configuredPartitions;
    private final int configuredReplicationFactor;
    private final int expectedBrokers;
    private final Clock clock;
    private final ExecutorService events;
    private final ExecutorService callbacks;
    private final Map<Integer, ReplicatedPartition> local = new ConcurrentHashMap<>();
    /** Partitions this broker leads, updated on the Raft state-machine threads as leadership changes. */
    private final Set<Integer> leading = ConcurrentHashMap.newKeySet();
    /** Partitions listeners were told about; only touched on the events thread. */
    private final Set<Integer> announced = new HashSet<>();

    private final CopyOnWriteArrayList<CoordinatorListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean creating = new AtomicBoolean();
    private final Map<String, GroupQueue> queues = new HashMap<>();
    private volatile MetadataClient metadata;
    private volatile int brokerId = -1;
    private volatile boolean closed;

    /**
     * A store over {@code db} (which it closes on {@link #close()}).
     *
     * @param partitions {@code offsets.topic.partitions}, used when the topic is created (and for {@link
     *     #partitionFor} until it exists)
     * @param replicationFactor {@code offsets.topic.replication.factor}, lowered at creation to the number of brokers the
     *     cluster is known to have: the registered ones, and at least {@code expectedBrokers}
     * @param expectedBrokers brokers the cluster has at least (the controller voters' count): the topic is not created
     *     with a lower replication factor just because some of them have not registered yet
     */
    public ReplicatedOffsetStore(
            OffsetsDb db, int partitions, int replicationFactor, int expectedBrokers, Clock clock, String threadTag) {
        if (partitions < 1 || replicationFactor < 1) {
            throw new IllegalArgumentException("offsets topic partitions and replication factor must be >= 1");
        }
        this.db = db;
        this.configuredPartitions = partitions;
        this.configuredReplicationFactor = replicationFactor;
        this.expectedBrokers = Math.max(1, expectedBrokers);
        this.clock = clock;
        this.events = Executors.newSingleThreadExecutor(r -> daemon(r, "sluice-offsets-events-" + threadTag));
        AtomicInteger n = new AtomicInteger();
        this.callbacks = Executors.newFixedThreadPool(
                2, r -> daemon(r, "sluice-offsets-" + threadTag + "-" + n.incrementAndGet()));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** The factory to pass to {@code ReplicationNode.start}: gives each local {@value #TOPIC} replica its state. */
    public PartitionStateExtension.Factory extensionFactory() {
        return this::createExtension;
    }

    /** Starts serving: {@code metadata} is the node's, {@code brokerId} this broker's. */
    public void attach(MetadataClient metadata, int brokerId) {
        this.metadata = metadata;
        this.brokerId = brokerId;
    }

    /** The broker's offsets database (tests and tooling). */
    public OffsetsDb db() {
        return db;
    }

    private Optional<PartitionStateExtension> createExtension(ReplicatedPartition p) {
        if (!p.topicPartition().topic().equals(TOPIC)) {
            return Optional.empty();
        }
        int n = p.topicPartition().partition();
        OffsetsDb.Partition state = db.partition(n);
        local.put(n, p);
        p.addListener(new PartitionListener() {
            @Override
            public void onLeaderStart(long term) {
                // JRaft starts a leader once its first entry committed: every earlier entry is applied by now.
                leading.add(n);
                LOG.info("broker {}: coordinator for {}-{} (term {})", brokerId, TOPIC, n, term);
                event(() -> announce(n, true));
            }

            @Override
            public void onLeaderStop(long term) {
                resign(n);
            }

            @Override
            public void onFailed(ReplicaFailedException cause) {
                resign(n);
            }
        });
        return Optional.of(new OffsetsPartitionState(state, () -> {
            local.remove(n, p);
            resign(n);
        }));
    }

    private void resign(int n) {
        if (leading.remove(n)) {
            LOG.info("broker {}: no longer coordinator for {}-{}", brokerId, TOPIC, n);
        }
        event(() -> announce(n, false));
    }

    private void event(Runnable r) {
        try {
            events.execute(r);
        } catch (RejectedExecutionException e) {
            // Closing: listeners are not told any more.
        }
    }

    /** On the events thread: tells listeners of a change they have not been told yet. */
    private void announce(int n, boolean elected) {
        if (elected ? !leading.contains(n) || !announced.add(n) : !announced.remove(n)) {
            return;
        }
        for (CoordinatorListener l : listeners) {
            try {
                if (elected) {
                    l.onElected(n);
                } else {
                    l.onResigned(n);
                }
            } catch (RuntimeException e) {
                LOG.warn("broker {}: coordinator listener {} failed on {}-{}", brokerId, l, TOPIC, n, e);
            }
        }
    }

    @Override
    public void addCoordinatorListener(CoordinatorListener listener) {
        listeners.add(listener);
        // Partitions led since before the listener was added are announced to it too, in event order.
        event(() -> {
            for (int n : new TreeSet<>(announced)) {
                try {
                    listener.onElected(n);
                } catch (RuntimeException e) {
                    LOG.warn("broker {}: coordinator listener {} failed on {}-{}", brokerId, listener, TOPIC, n, e);
                }
            }
        });
    }

    // ------------------------------------------------------------------ topic and coordinator

    private Optional<TopicInfo> topic() {
        MetadataClient m = metadata;
        return m == null ? Optional.empty() : m.current().topic(TOPIC);
    }

    /**
     * Creates {@value #TOPIC} if it does not exist yet (at most one request at a time from this broker). Completes when
     * the controller has it; a creation by another broker counts as success.
     */
    public CompletableFuture<Void> ensureTopic() {
        MetadataClient m = metadata;
        if (m == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("the broker is starting"));
        }
        ClusterMetadata view = m.current();
        if (view.topic(TOPIC).isPresent()) {
            return CompletableFuture.completedFuture(null);
        }
        // Capped at the brokers the cluster has (a one-broker cluster gets RF 1): the registered ones, and at least the
        // controller voters, so that a lookup arriving before the third voter registered cannot fix RF 2 forever.
        // Created only once that many are alive; like Kafka, lookups answer "coordinator not available" until then.
        int rf = Math.max(
                1, Math.min(configuredReplicationFactor, Math.max(view.brokers().size(), expectedBrokers)));
        if (view.liveBrokers().size() < rf) {
            return CompletableFuture.completedFuture(null);
        }
        if (!creating.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(null);
        }
        LOG.info(
                "broker {}: creating {} with {} partitions, replication factor {}",
                brokerId,
                TOPIC,
                configuredPartitions,
                rf);
        return m.createTopic(TOPIC, configuredPartitions, rf, TOPIC_CONFIG).handle((t, e) -> {
            creating.set(false);
            Throwable cause = unwrap(e);
            if (cause != null && !(cause instanceof TopicExistsException)) {
                LOG.warn(
                        "broker {}: cannot create {} (will retry at the next lookup): {}",
                        brokerId,
                        TOPIC,
                        cause.toString());
                throw new CompletionException(cause);
            }
            return null;
        });
    }

    @Override
    public int partitionFor(String groupId) {
        int count = topic().map(TopicInfo::partitionCount).orElse(configuredPartitions);
        return GroupHash.partitionFor(groupId, count);
    }

    @Override
    public Optional<Integer> coordinatorOf(String groupId) {
        Optional<TopicInfo> t = topic();
        if (t.isEmpty()) {
            ensureTopic();
            return Optional.empty();
        }
        int p = GroupHash.partitionFor(groupId, t.get().partitionCount());
        ReplicatedPartition replica = local.get(p);
        if (replica != null && replica.isOpen()) {
            return replica.leader().map(ReplicaId::brokerId);
        }
        // No local replica: the preferred leader is the best guess; a wrong one answers NOT_COORDINATOR naming the
        // actual leader.
        int preferred = t.get().partition(p).preferredLeader();
        return metadata.current().isAlive(preferred) ? Optional.of(preferred) : Optional.empty();
    }

    @Override
    public boolean isCoordinatorFor(String groupId) {
        if (topic().isEmpty()) {
            ensureTopic();
            return false;
        }
        int p = partitionFor(groupId);
        ReplicatedPartition replica = local.get(p);
        return replica != null && replica.isLeader() && leading.contains(p);
    }

    private NotCoordinatorException notCoordinator(String groupId, String why) {
        Optional<Integer> c = coordinatorOf(groupId).filter(id -> id != brokerId);
        return new NotCoordinatorException(
                groupId,
                c,
                "broker " + brokerId + " is not the coordinator of group '" + groupId + "' (" + why + ")"
                        + c.map(id -> "; the coordinator is broker " + id)
                                .orElse("; no coordinator is known yet (election or topic creation in progress)"));
    }

    // ------------------------------------------------------------------ commits

    @Override
    public CompletableFuture<Void> commit(String groupId, List<OffsetCommitEntry> commits) {
        List<byte[][]> records = new ArrayList<>(commits.size());
        try {
            long now = clock.millis();
            for (OffsetCommitEntry c : commits) {
                records.add(new byte[][] {
                    OffsetRecords.encodeKey(groupId, c.topic(), c.partition()),
                    OffsetRecords.encodeValue(c.offset(), now, c.metadata() == null ? "" : c.metadata())
                });
            }
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (records.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return sequenced(groupId, false, () -> append(groupId, records));
    }

    @Override
    public CompletableFuture<Void> deleteGroup(String groupId) {
        return sequenced(groupId, true, () -> {
            Map<TopicPartitionKey, StoredOffset> stored = fetch(groupId, List.of());
            if (!isCoordinatorFor(groupId)) {
                return CompletableFuture.failedFuture(notCoordinator(groupId, "deleteGroup"));
            }
            if (stored.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            List<byte[][]> tombstones = new ArrayList<>();
            for (TopicPartitionKey k : stored.keySet()) {
                tombstones.add(new byte[][] {OffsetRecords.encodeKey(groupId, k.topic(), k.partition()), null});
            }
            LOG.info("broker {}: deleting {} offset(s) of group '{}'", brokerId, tombstones.size(), groupId);
            return append(groupId, tombstones);
        });
    }

    /** Appends one batch of {@code records} (key, value-or-null) to the group's partition; completes when applied here. */
    private CompletableFuture<Void> append(String groupId, List<byte[][]> records) {
        if (closed) {
            return CompletableFuture.failedFuture(notCoordinator(groupId, "the broker is shutting down"));
        }
        if (topic().isEmpty()) {
            ensureTopic();
            return CompletableFuture.failedFuture(notCoordinator(groupId, TOPIC + " is being created"));
        }
        int p = partitionFor(groupId);
        ReplicatedPartition replica = local.get(p);
        if (replica == null || !replica.isLeader() || !leading.contains(p)) {
            return CompletableFuture.failedFuture(notCoordinator(groupId, "it does not lead " + TOPIC + "-" + p));
        }
        long now = clock.millis();
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        for (byte[][] r : records) {
            b.append(now, r[0], r[1]);
        }
        ByteBuffer batch = b.build();
        CompletableFuture<Void> out = new CompletableFuture<>();
        // The append completes on the Raft state-machine thread once the batch is committed and, through the
        // extension, applied to this broker's RocksDB: read-your-writes for the coordinator.
        replica.append(batch, AckMode.QUORUM)
                .whenCompleteAsync(
                        (r, e) -> {
                            Throwable cause = unwrap(e);
                            if (cause == null) {
                                out.complete(null);
                            } else if (cause instanceof NotLeaderException
                                    || cause instanceof PartitionClosedException) {
                                out.completeExceptionally(notCoordinator(groupId, cause.getMessage()));
                            } else {
                                out.completeExceptionally(cause);
                            }
                        },
                        callbacks);
        return out;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** Pending operations of one group. Guarded by {@link #queues}. */
    private static final class GroupQueue {
        CompletableFuture<Void> barrier = CompletableFuture.completedFuture(null);
        final List<CompletableFuture<Void>> commits = new ArrayList<>();
    }

    private CompletableFuture<Void> sequenced(
            String groupId, boolean isDelete, java.util.function.Supplier<CompletableFuture<Void>> op) {
        synchronized (queues) {
            GroupQueue q = queues.computeIfAbsent(groupId, g -> new GroupQueue());
            CompletableFuture<Void> f;
            if (isDelete) {
                List<CompletableFuture<Void>> prior = new ArrayList<>(q.commits);
                prior.add(q.barrier);
                f = CompletableFuture.allOf(prior.stream()
                                .map(x -> x.handle((v, e) -> null))
                                .toArray(CompletableFuture[]::new))
                        .thenComposeAsync(x -> run(op), callbacks);
                q.barrier = f;
                q.commits.clear();
            } else {
                f = q.barrier.isDone()
                        ? run(op)
                        : q.barrier.handle((v, e) -> null).thenComposeAsync(x -> run(op), callbacks);
                q.commits.add(f);
            }
            CompletableFuture<Void> done = f;
            f.whenComplete((v, e) -> {
                synchronized (queues) {
                    q.commits.remove(done);
                    if (q.barrier.isDone() && q.commits.isEmpty()) {
                        queues.remove(groupId, q);
                    }
                }
            });
            return f;
        }
    }

    /** Runs {@code op}, turning an exception it throws into a failed future. */
    private static CompletableFuture<Void> run(java.util.function.Supplier<CompletableFuture<Void>> op) {
        try {
            return op.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    // ------------------------------------------------------------------ reads

    @Override
    public Map<TopicPartitionKey, StoredOffset> fetch(String groupId, Collection<TopicPartitionKey> partitions) {
        int p = partitionFor(groupId);
        return db.existing(p).map(s -> s.fetch(groupId, partitions)).orElse(Map.of());
    }

    @Override
    public Set<String> groups() {
        Set<String> out = new TreeSet<>();
        for (int p : leading) {
            db.existing(p).ifPresent(s -> out.addAll(s.groups()));
        }
        return out;
    }

    /** Closes the offsets database; call after the replication node stopped (no more applies). Idempotent. */
    @Override
    public void close() {
        closed = true;
        events.shutdown();
        callbacks.shutdown();
        try {
            events.awaitTermination(5, TimeUnit.SECONDS);
            callbacks.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        db.close();
    }
}
