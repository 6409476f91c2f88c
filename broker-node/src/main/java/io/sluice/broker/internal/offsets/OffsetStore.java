package io.sluice.broker.internal.offsets;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** Committed offsets of consumer groups, stored in the __offsets partitions and applied into RocksDB on every replica. Thread-safe. */
public interface OffsetStore {
    /** The __offsets partition that holds a group: a stable hash of the group id (murmur2 of UTF-8 bytes, positive, mod partition count). */
    int partitionFor(String groupId);

    /** The broker that coordinates a group: the leader of its __offsets partition; empty while unknown (election, topic not created yet). */
    Optional<Integer> coordinatorOf(String groupId);

    /** True when this broker leads the group's __offsets partition and has applied everything committed in it (so reads are current). */
    boolean isCoordinatorFor(String groupId);

    /** Replicates the commits as one batch on the group's __offsets partition; completes when committed AND applied to this broker's RocksDB.
     *  Fails with NotCoordinatorException when this broker does not lead the partition. */
    CompletableFuture<Void> commit(String groupId, List<OffsetCommitEntry> commits);

    /** This broker's applied view (call on the coordinator). Empty `partitions` means all partitions of the group. */
    Map<TopicPartitionKey, StoredOffset> fetch(String groupId, Collection<TopicPartitionKey> partitions);

    /** Groups that have committed offsets in the __offsets partitions this broker currently leads. */
    Set<String> groups();

    /** Deletes a group's offsets (tombstones replicated through Raft); completes when applied here. */
    CompletableFuture<Void> deleteGroup(String groupId);

    /** Told when this broker becomes / stops being the leader of an __offsets partition (coordinator failover). */
    void addCoordinatorListener(CoordinatorListener listener);

    interface CoordinatorListener {
        void onElected(int offsetsPartition);

        void onResigned(int offsetsPartition);
    }

    record TopicPartitionKey(String topic, int partition) {}

    record OffsetCommitEntry(String topic, int partition, long offset, String metadata) {}
    /** leaderTerm: the Raft term of the __offsets leader that wrote the commit; commitTimeMs: the coordinator's clock. */
    record StoredOffset(long offset, long leaderTerm, String metadata, long commitTimeMs) {}
}
