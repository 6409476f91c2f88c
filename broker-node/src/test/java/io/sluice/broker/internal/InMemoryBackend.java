package io.sluice.broker.internal;

import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.MetadataClient;
import io.sluice.replication.metadata.MetadataListener;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicExistsException;
import io.sluice.replication.metadata.TopicInfo;
import io.sluice.replication.metadata.UnknownTopicException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A single-process backend for handler tests: {@code brokers} registered and alive, this broker ({@code selfId}) hosts
 * and leads every partition. Thread-safe (synchronized metadata, concurrent partition map).
 */
public final class InMemoryBackend implements BrokerBackend, MetadataClient {
    private final int selfId;
    private final Map<Integer, BrokerInfo> brokers = new TreeMap<>();
    private final Map<String, InMemoryPartition> partitions = new ConcurrentHashMap<>();
    private ClusterMetadata current;

    public InMemoryBackend(int selfId, int brokerCount) {
        this.selfId = selfId;
        for (int i = 1; i <= brokerCount; i++) {
            brokers.put(i, new BrokerInfo(i, "127.0.0.1", 7069 + i, 7169 + i, 7269 + i, Optional.empty()));
        }
        current = new ClusterMetadata(1, brokers, new TreeSet<>(brokers.keySet()), Map.of());
    }

    InMemoryPartition local(String topic, int partition) {
        return partitions.get(topic + "-" + partition);
    }

    @Override
    public int brokerId() {
        return selfId;
    }

    @Override
    public MetadataClient metadata() {
        return this;
    }

    @Override
    public Optional<PartitionHandle> partition(String topic, int partition) {
        return Optional.ofNullable(partitions.get(topic + "-" + partition));
    }

    @Override
    public Optional<LeaderInfo> leaderOf(String topic, int partition) {
        return partition(topic, partition)
                .flatMap(p -> p.leaderId().isPresent()
                        ? Optional.of(new LeaderInfo(p.leaderId().getAsInt(), 1))
                        : Optional.empty());
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public synchronized CompletableFuture<TopicInfo> createTopic(
            String name, int partitionCount, int replicationFactor, Map<String, String> configs) {
        if (current.topics().containsKey(name)) {
            return CompletableFuture.failedFuture(new TopicExistsException("topic " + name + " exists"));
        }
        if (replicationFactor > current.liveBrokers().size()) {
            // as the controller does (ReplicaPlacement)
            return CompletableFuture.failedFuture(new io.sluice.replication.metadata.InvalidTopicException(
                    io.sluice.replication.metadata.MetadataError.INVALID_REPLICATION_FACTOR,
                    "replication factor " + replicationFactor + " not in [1, "
                            + current.liveBrokers().size() + " live brokers]"));
        }
        List<PartitionAssignment> as = new ArrayList<>();
        List<Integer> ids = new ArrayList<>(brokers.keySet());
        for (int p = 0; p < partitionCount; p++) {
            List<Integer> rs = new ArrayList<>();
            rs.add(selfId);
            for (int id : ids) {
                if (rs.size() < replicationFactor && id != selfId) {
                    rs.add(id);
                }
            }
            as.add(new PartitionAssignment(p, rs));
            partitions.put(name + "-" + p, new InMemoryPartition(name, p, selfId));
        }
        TopicInfo t = new TopicInfo(name, current.version() + 1, configs, as);
        Map<String, TopicInfo> topics = new HashMap<>(current.topics());
        topics.put(name, t);
        current = new ClusterMetadata(current.version() + 1, brokers, current.liveBrokers(), topics);
        return CompletableFuture.completedFuture(t);
    }

    @Override
    public synchronized CompletableFuture<Void> deleteTopic(String name) {
        TopicInfo t = current.topics().get(name);
        if (t == null) {
            return CompletableFuture.failedFuture(new UnknownTopicException("unknown topic " + name));
        }
        Map<String, TopicInfo> topics = new HashMap<>(current.topics());
        topics.remove(name);
        for (int p = 0; p < t.partitionCount(); p++) {
            partitions.remove(name + "-" + p);
        }
        current = new ClusterMetadata(current.version() + 1, brokers, current.liveBrokers(), topics);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized ClusterMetadata current() {
        return current;
    }

    @Override
    public OptionalInt controllerId() {
        return OptionalInt.of(selfId);
    }

    @Override
    public CompletableFuture<ClusterMetadata> awaitVersion(long version) {
        return CompletableFuture.completedFuture(current());
    }

    @Override
    public void addListener(MetadataListener listener) {}

    @Override
    public void removeListener(MetadataListener listener) {}
}
