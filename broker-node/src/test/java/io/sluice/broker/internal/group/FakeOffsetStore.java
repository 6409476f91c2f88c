package io.sluice.broker.internal.group;

import io.sluice.broker.internal.offsets.NotCoordinatorException;
import io.sluice.broker.internal.offsets.OffsetStore;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An in-memory {@link OffsetStore} for coordinator tests: four offsets partitions, all led by this broker unless a
 * test says otherwise ({@link #lose}, {@link #gain}). Thread-safe.
 */
final class FakeOffsetStore implements OffsetStore {
    static final int PARTITIONS = 4;

    private final int selfId;
    private final Clock clock;
    private final Map<String, Map<TopicPartitionKey, StoredOffset>> offsets = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> leaders = new ConcurrentHashMap<>();
    private final List<CoordinatorListener> listeners = new CopyOnWriteArrayList<>();
    volatile int commits;

    FakeOffsetStore(int selfId, Clock clock) {
        this.selfId = selfId;
        this.clock = clock;
        for (int p = 0; p < PARTITIONS; p++) {
            leaders.put(p, selfId);
        }
    }

    /** Another broker (or none, with -1) now leads the group's partition. */
    void lose(String groupId, int newLeader) {
        int p = partitionFor(groupId);
        if (newLeader < 0) {
            leaders.remove(p);
        } else {
            leaders.put(p, newLeader);
        }
        listeners.forEach(l -> l.onResigned(p));
    }

    void gain(String groupId) {
        int p = partitionFor(groupId);
        leaders.put(p, selfId);
        listeners.forEach(l -> l.onElected(p));
    }

    @Override
    public int partitionFor(String groupId) {
        return Math.floorMod(groupId.hashCode(), PARTITIONS);
    }

    @Override
    public Optional<Integer> coordinatorOf(String groupId) {
        return Optional.ofNullable(leaders.get(partitionFor(groupId)));
    }

    @Override
    public boolean isCoordinatorFor(String groupId) {
        return coordinatorOf(groupId).equals(Optional.of(selfId));
    }

    @Override
    public CompletableFuture<Void> commit(String groupId, List<OffsetCommitEntry> commits) {
        if (!isCoordinatorFor(groupId)) {
            return CompletableFuture.failedFuture(
                    new NotCoordinatorException(groupId, coordinatorOf(groupId), "not leader"));
        }
        Map<TopicPartitionKey, StoredOffset> g = offsets.computeIfAbsent(groupId, k -> new ConcurrentHashMap<>());
        for (OffsetCommitEntry e : commits) {
            g.put(
                    new TopicPartitionKey(e.topic(), e.partition()),
                    new StoredOffset(e.offset(), 1, e.metadata(), clock.millis()));
        }
        this.commits++;
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public Map<TopicPartitionKey, StoredOffset> fetch(String groupId, Collection<TopicPartitionKey> partitions) {
        Map<TopicPartitionKey, StoredOffset> g = offsets.getOrDefault(groupId, Map.of());
        if (partitions.isEmpty()) {
            return new HashMap<>(g);
        }
        Map<TopicPartitionKey, StoredOffset> out = new HashMap<>();
        for (TopicPartitionKey tp : partitions) {
            if (g.containsKey(tp)) {
                out.put(tp, g.get(tp));
            }
        }
        return out;
    }

    @Override
    public Set<String> groups() {
        Set<String> out = new TreeSet<>();
        offsets.forEach((g, o) -> {
            if (!o.isEmpty() && isCoordinatorFor(g)) {
                out.add(g);
            }
        });
        return out;
    }

    @Override
    public CompletableFuture<Void> deleteGroup(String groupId) {
        if (!isCoordinatorFor(groupId)) {
            return CompletableFuture.failedFuture(
                    new NotCoordinatorException(groupId, coordinatorOf(groupId), "not leader"));
        }
        offsets.remove(groupId);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void addCoordinatorListener(CoordinatorListener listener) {
        listeners.add(listener);
    }
}
