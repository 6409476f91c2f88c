package io.sluice.replication;

import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.OffsetOutOfRangeException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * One local replica of a partition: a member of the partition's Raft group whose Raft log is the partition's segment
 * log. This is all the broker sees of replication.
 *
 * <h2>Offsets</h2>
 * Every Raft entry is one stored record batch. Data entries are producer batches; Raft's own configuration and no-op
 * entries are control batches that take one offset each (consumers skip control batches, as with Kafka's control
 * records). Offsets are assigned in log order, so every replica holds the same batch at the same offset.
 *
 * <h2>High watermark</h2>
 * {@link #highWatermark()} is the end of the committed prefix of the log that is also durable on this replica:
 * everything below it is committed (on a majority) and will never be truncated. Reads never go past it. It only grows.
 *
 * <h2>Threads</h2>
 * Implementations are thread-safe. Futures complete on internal threads: chain heavy work with {@code *Async} and an
 * executor of your own.
 */
public interface ReplicatedPartition {

    TopicPartition topicPartition();

    /** This broker's replica. */
    ReplicaId self();

    /** The replica set as last configured in the Raft group (the spec's set until a membership change). */
    List<ReplicaId> replicas();

    /** True when this replica is the leader and accepts appends. */
    boolean isLeader();

    /** The leader this replica knows of; empty during elections. */
    Optional<ReplicaId> leader();

    /** The latest Raft term this replica has seen as leader or follower (0 before it saw any). */
    long term();

    /**
     * On the leader: the replicas in sync, the leader first. A follower is in sync while it acknowledged a Raft request
     * within {@link ReplicationConfig#REPLICA_LAG_TIME_MAX_MS} and held the leader's whole log (as of a check, every
     * 500 ms) at some point within that time; a new leader starts by counting every replica in sync. Empty on a
     * replica that does not lead: only the leader knows. The partition is under-replicated when the leader reports
     * fewer in-sync replicas than {@link #replicas()}.
     */
    List<ReplicaId> inSyncReplicas();

    /** Bytes of this replica's segment files on disk (0 once closed). */
    long logSizeBytes();

    /**
     * Proposes {@code batch} (exactly one record batch, from position to limit) as one Raft entry.
     *
     * <p>The header and CRC are checked before proposing; the records are never decoded. The partition takes ownership
     * of the bytes: it stamps base offset, Raft term and entry index into the header in place (the CRC does not cover
     * them), so the caller must not reuse the buffer. A read-only buffer is copied first.
     *
     * <p>Fails fast (nothing was written) with {@link NotLeaderException} on a follower, {@link InvalidBatchException}
     * for a malformed batch, {@link OverloadedException} when {@link ReplicationConfig#MAX_INFLIGHT_PROPOSALS} appends
     * are in flight or JRaft's queue is full, {@link PartitionClosedException} or {@link ReplicaFailedException}.
     * Completes with the assigned offsets when the entry is committed ({@link AckMode#QUORUM}) or durable on the leader
     * ({@link AckMode#LEADER}, weaker: see there). A failure after proposing (e.g. {@link NotLeaderException} because
     * leadership moved) leaves the outcome unknown.
     */
    CompletableFuture<AppendResult> append(ByteBuffer batch, AckMode acks);

    /** Committed offset: offsets below it are committed and durable here; reads stop here. Only grows. */
    long highWatermark();

    /** Offset of the first batch still held (retention moves it up). */
    long logStartOffset();

    /** The offset the next appended batch would get: includes uncommitted entries, above the high watermark. */
    long logEndOffset();

    /**
     * Reads whole stored batches (bytes untouched, control batches included) starting with the one that contains
     * {@code offset}, up to about {@code maxBytes} (at least one batch when one is readable) and never past the high
     * watermark. The result's {@code logEndOffset} is the high watermark the read was bounded by. Reading at or above
     * the high watermark but not beyond the log end returns an empty result: those offsets exist but are not known to be
     * committed yet (a new leader learns the commit point only when it commits its first entry), so fetchers wait.
     *
     * @throws OffsetOutOfRangeException if {@code offset} is below the log start offset or above the log end offset
     *     (its {@code logEndOffset} is then the high watermark)
     */
    LogReadResult read(long offset, int maxBytes);

    /** The first committed offset whose record timestamp is {@code >= timestampMs}; empty if there is none. */
    OptionalLong offsetForTimestamp(long timestampMs);

    /**
     * Like {@link #offsetForTimestamp} but also returns the found record's timestamp (decodes the one batch holding
     * it).
     */
    Optional<TimestampedOffset> offsetAndTimestampFor(long timestampMs);

    void addListener(PartitionListener listener);

    void removeListener(PartitionListener listener);

    /**
     * Asks Raft to hand leadership to {@code target} (which must be a caught-up replica of the group). Completes when
     * the transfer was started; leadership has moved when {@link PartitionListener#onLeaderStop} fires. Fails with
     * {@link NotLeaderException} when this replica is not the leader.
     */
    CompletableFuture<Void> transferLeadership(ReplicaId target);

    /**
     * Changes the replica set to {@code newReplicas} through Raft (joint consensus; new replicas catch up first, by
     * snapshot if needed). Leader only. Completes when the new configuration is committed.
     */
    CompletableFuture<Void> changeReplicas(List<ReplicaId> newReplicas);

    /**
     * Takes a Raft snapshot now (normally periodic, {@link ReplicationConfig#SNAPSHOT_INTERVAL_MS}). Retention runs
     * only through snapshots: after a snapshot, JRaft lets the log drop the segments that both the previous snapshot
     * covers and size/time retention allows to delete. Completes when the snapshot is saved (at once when nothing was
     * applied since the last one).
     */
    CompletableFuture<Void> snapshot();

    /** True until the replica is closed or failed. */
    boolean isOpen();
}
