package io.sluice.broker.internal.metrics;

import io.sluice.logstore.LogReadResult;
import io.sluice.replication.AckMode;
import io.sluice.replication.AppendResult;
import io.sluice.replication.PartitionClosedException;
import io.sluice.replication.PartitionListener;
import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.TimestampedOffset;
import io.sluice.replication.TopicPartition;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A replica whose state a metrics test sets directly: offsets, size, term, leadership and in-sync set; leadership
 * events reach the listeners as a real replica's would. The data path is not supported. Thread-safe (volatile fields).
 */
final class FakeReplica implements ReplicatedPartition {
    final TopicPartition tp;
    final List<ReplicaId> replicas;
    final List<PartitionListener> listeners = new CopyOnWriteArrayList<>();
    volatile long hw;
    volatile long logStart;
    volatile long logEnd;
    volatile long size;
    volatile long term;
    volatile boolean leader;
    volatile boolean closed;
    volatile List<ReplicaId> inSync = List.of();

    FakeReplica(String topic, int partition, int replicationFactor) {
        this.tp = new TopicPartition(topic, partition);
        this.replicas = java.util.stream.IntStream.rangeClosed(1, replicationFactor)
                .mapToObj(i -> new ReplicaId(i, "127.0.0.1", 7000 + i))
                .toList();
    }

    /** This replica becomes the leader of {@code newTerm} with every replica in sync. */
    void lead(long newTerm) {
        term = newTerm;
        leader = true;
        inSync = replicas;
        listeners.forEach(l -> l.onLeaderStart(newTerm));
    }

    void stepDown() {
        leader = false;
        listeners.forEach(l -> l.onLeaderStop(term));
    }

    @Override
    public TopicPartition topicPartition() {
        return tp;
    }

    @Override
    public ReplicaId self() {
        return replicas.get(0);
    }

    @Override
    public List<ReplicaId> replicas() {
        return replicas;
    }

    @Override
    public boolean isLeader() {
        return leader;
    }

    @Override
    public Optional<ReplicaId> leader() {
        return leader ? Optional.of(self()) : Optional.empty();
    }

    @Override
    public long term() {
        return term;
    }

    @Override
    public List<ReplicaId> inSyncReplicas() {
        return leader ? inSync : List.of();
    }

    @Override
    public long logSizeBytes() {
        return size;
    }

    @Override
    public CompletableFuture<AppendResult> append(ByteBuffer batch, AckMode acks) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long highWatermark() {
        return hw;
    }

    @Override
    public long logStartOffset() {
        if (closed) {
            throw new PartitionClosedException(tp + " is closed");
        }
        return logStart;
    }

    @Override
    public long logEndOffset() {
        if (closed) {
            throw new PartitionClosedException(tp + " is closed");
        }
        return logEnd;
    }

    @Override
    public LogReadResult read(long offset, int maxBytes) {
        throw new UnsupportedOperationException();
    }

    @Override
    public OptionalLong offsetForTimestamp(long timestampMs) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Optional<TimestampedOffset> offsetAndTimestampFor(long timestampMs) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void addListener(PartitionListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(PartitionListener listener) {
        listeners.remove(listener);
    }

    @Override
    public CompletableFuture<Void> transferLeadership(ReplicaId target) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Void> changeReplicas(List<ReplicaId> newReplicas) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Void> snapshot() {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }
}
