package io.sluice.broker.internal;

import io.sluice.logstore.LogReadResult;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * The broker's view of one local partition replica: what the gRPC services need from replication, and nothing more.
 * It keeps the services independent of the replication module's evolving API and lets handler tests run against an
 * in-memory partition.
 *
 * <p>Invariants: {@code logStartOffset() <= highWatermark() <= logEndOffset()}; {@link #read} never returns data at
 * or above the high watermark. Implementations are thread-safe; listeners are called on internal threads and must
 * not block.
 */
public interface PartitionHandle {

    String topic();

    int partition();

    /** Whether this replica currently leads the partition and accepts appends. */
    boolean isLeader();

    /** The leader's broker id as this replica knows it; empty during an election. */
    OptionalInt leaderId();

    /** The Raft term of the known leader; 0 when unknown. */
    long leaderTerm();

    /**
     * On the leader: broker ids of the replicas in sync (caught up recently, the leader first; see {@code
     * ReplicatedPartition.inSyncReplicas}). Empty on a replica that does not lead.
     */
    List<Integer> inSyncReplicas();

    /**
     * Proposes one validated batch (bytes as sent by the producer). Completes with the batch's offsets once stored as
     * {@code quorum} requires, or exceptionally (e.g. with {@link BrokerException} NOT_LEADER).
     */
    CompletableFuture<AppendResult> append(ByteBuffer batch, boolean quorum);

    long logStartOffset();

    /** The next offset after the last committed record. */
    long highWatermark();

    long logEndOffset();

    /**
     * Reads whole committed batches starting with the one holding {@code offset}, at most about {@code maxBytes} (at
     * least one batch when one is available).
     *
     * @throws io.sluice.logstore.OffsetOutOfRangeException when {@code offset} is outside [log start, high watermark]
     */
    LogReadResult read(long offset, int maxBytes);

    /** The first committed record whose timestamp is at least {@code timestampMs}, if any. */
    Optional<TimestampOffset> offsetForTimestamp(long timestampMs);

    /** Calls {@code listener} after every high-watermark advance and leadership change until the result is closed. */
    Subscription subscribe(Runnable listener);

    /** The offsets assigned to an appended batch. */
    record AppendResult(long baseOffset, long lastOffset) {}

    /** A record's offset and timestamp. */
    record TimestampOffset(long offset, long timestampMs) {}

    /** A listener registration; closing it is idempotent. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }
}
