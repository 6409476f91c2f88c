package io.sluice.replication.metadata;

import java.util.HashSet;
import java.util.List;

/**
 * The replicas of one partition, in preference order: the first replica is the preferred leader.
 *
 * <p>Invariants: {@code partition >= 0}; at least one replica; no broker twice. Immutable and thread-safe.
 *
 * @param partition the partition number
 * @param replicas broker ids; {@code replicas.get(0)} is the preferred leader
 */
public record PartitionAssignment(int partition, List<Integer> replicas) {

    public PartitionAssignment {
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0: " + partition);
        }
        replicas = List.copyOf(replicas);
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("partition " + partition + " has no replicas");
        }
        if (new HashSet<>(replicas).size() != replicas.size()) {
            throw new IllegalArgumentException("partition " + partition + " lists a broker twice: " + replicas);
        }
    }

    /** The broker that should lead this partition when it is alive and caught up. */
    public int preferredLeader() {
        return replicas.get(0);
    }

    /** Whether {@code brokerId} holds a replica of this partition. */
    public boolean hasReplica(int brokerId) {
        return replicas.contains(brokerId);
    }
}
