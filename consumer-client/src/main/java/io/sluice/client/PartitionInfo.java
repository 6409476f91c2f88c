package io.sluice.client;

import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The replicas and log state of one partition. Log fields are empty when no leader answered.
 *
 * <p>Immutable and thread-safe.
 *
 * @param partition partition number
 * @param leaderId leader broker id, empty during an election
 * @param leaderTerm the leader's Raft term, 0 when unknown
 * @param replicas broker ids of all replicas
 * @param inSyncReplicas broker ids of caught-up replicas, leader included
 * @param highWatermark next offset after the last committed record
 * @param logStartOffset first retained offset
 * @param logEndOffset next offset after the last record of the leader's log
 */
public record PartitionInfo(
        int partition,
        OptionalInt leaderId,
        long leaderTerm,
        List<Integer> replicas,
        List<Integer> inSyncReplicas,
        OptionalLong highWatermark,
        OptionalLong logStartOffset,
        OptionalLong logEndOffset) {
    public PartitionInfo {
        replicas = List.copyOf(replicas);
        inSyncReplicas = List.copyOf(inSyncReplicas);
    }
}
