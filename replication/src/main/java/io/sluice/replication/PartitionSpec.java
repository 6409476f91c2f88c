package io.sluice.replication;

import io.sluice.logstore.LogConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What {@link RaftHost#openPartition} needs to create or reopen a local replica of a partition.
 *
 * <p>Invariants: {@code replicas} is non-empty, and neither broker ids nor endpoints repeat in it. The replica set is
 * the Raft group's initial configuration: it is only used when the replica has no Raft state on disk yet (a fresh
 * group); afterwards the configuration stored in the log (and snapshots) wins. Every replica of a new group must be
 * opened with the same replica set. Immutable and thread-safe.
 *
 * @param partition the topic partition
 * @param replicas the replicas of the partition (this broker's among them)
 * @param logConfig settings of the partition's segment log
 * @param raftOptions the group's Raft options ({@link ReplicationConfig#defaultGroupOptions()} for the defaults)
 */
public record PartitionSpec(
        TopicPartition partition, List<ReplicaId> replicas, LogConfig logConfig, RaftGroupOptions raftOptions) {

    public PartitionSpec {
        Objects.requireNonNull(partition, "partition");
        Objects.requireNonNull(logConfig, "logConfig");
        Objects.requireNonNull(raftOptions, "raftOptions");
        replicas = List.copyOf(replicas);
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("a partition needs at least one replica");
        }
        Set<Integer> ids = new HashSet<>();
        Set<String> endpoints = new HashSet<>();
        for (ReplicaId r : replicas) {
            if (!ids.add(r.brokerId()) || !endpoints.add(r.endpoint())) {
                throw new IllegalArgumentException("duplicate replica " + r + " in " + replicas);
            }
        }
    }

    /** A spec for {@code topic}/{@code partition}. */
    public PartitionSpec(
            String topic, int partition, List<ReplicaId> replicas, LogConfig logConfig, RaftGroupOptions raftOptions) {
        this(new TopicPartition(topic, partition), replicas, logConfig, raftOptions);
    }

    public String topic() {
        return partition.topic();
    }
}
