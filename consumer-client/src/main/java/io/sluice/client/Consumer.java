package io.sluice.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * Reads partitions: one flow-controlled Fetch stream per partition, opened at the partition leader. Partitions come
 * either from {@link #assign} (chosen by the application) or, for a consumer built with
 * {@link ConsumerBuilder#groupId}, from the group's coordinator after {@link #subscribe} (consumer groups).
 *
 * <p>Each partition has a <i>position</i>: the offset of the next record {@link #poll} returns. A newly assigned
 * partition starts at the beginning of its log unless sought elsewhere (with a group id: at the group's committed
 * offset, or per {@link ConsumerBuilder#autoOffsetReset} when there is none). Records are returned in offset order
 * per partition, each exactly once as long as the position is not moved: when the leader changes or a stream
 * breaks, the consumer re-resolves the leader and reopens the stream at its position, so nothing is lost or
 * repeated. Control batches are skipped. Memory is bounded by {@code credits × maxBytesPerResponse} per partition.
 *
 * <p><b>Groups.</b> A subscribed consumer is a member of its group: a consumer-owned thread heartbeats the
 * subscription and the owned partitions to the group's coordinator, which answers with the member's assignment.
 * Changes are incremental: {@link #poll} gives up only the partitions that move (stops fetching them, commits their
 * positions with auto-commit, calls {@link RebalanceListener#onPartitionsRevoked}, then tells the coordinator) and
 * starts the new ones; the others are consumed without a pause. A member that was fenced or expired (its partitions
 * reported {@link RebalanceListener#onPartitionsLost lost}, nothing committed) rejoins by itself. With auto-commit
 * (the default) the positions are committed every {@link ConsumerBuilder#autoCommitInterval}, from within
 * {@link #poll}, before partitions are revoked and on {@link #close()}: delivery is at-least-once, and records
 * returned since the last commit may be delivered again to another member after a failure. A coordinator failover
 * is followed transparently (FindCoordinator again).
 *
 * <p>Not thread-safe: use it from one thread, except {@link #wakeup()} and {@link #close()}, which any thread
 * may call. {@link #consumeAsync} hands the consumer to a thread of its own. Rebalance callbacks run on the polling
 * thread, inside {@link #poll}.
 */
public interface Consumer extends AutoCloseable {
    /**
     * Replaces the assignment with these partitions (streams of dropped partitions are closed).
     *
     * @throws IllegalStateException while subscribed ({@link #unsubscribe()} first)
     */
    void assign(Collection<TopicPartition> partitions);

    /**
     * Joins the consumer's group (or changes the subscription of this member) with these topics. Partitions arrive
     * from within later {@link #poll} calls, announced to {@code listener}. Topics that do not exist yet are
     * assigned once they are created.
     *
     * @throws IllegalStateException without a {@link ConsumerBuilder#groupId group id}, or after {@link #assign}
     */
    void subscribe(Collection<String> topics, RebalanceListener listener);

    /** {@link #subscribe(Collection, RebalanceListener)} with {@link RebalanceListener#NONE}. */
    default void subscribe(Collection<String> topics) {
        subscribe(topics, RebalanceListener.NONE);
    }

    /**
     * Like {@link #subscribe(Collection, RebalanceListener)} with every non-internal topic whose whole name matches
     * {@code pattern} (matched by the coordinator, topics created later included).
     */
    void subscribe(Pattern pattern, RebalanceListener listener);

    /**
     * Leaves the group: revokes every partition (auto-commit, then {@link RebalanceListener#onPartitionsRevoked})
     * and tells the coordinator, so the partitions move to the other members at once. In assign mode, drops every
     * partition. Does nothing when neither subscribed nor assigned.
     */
    void unsubscribe();

    /**
     * The partitions this consumer reads now: those given to {@link #assign}, or those the group assigned to this
     * member and it has taken.
     */
    Set<TopicPartition> assignment();

    /** Sets the position of an assigned partition; an out-of-range offset fails the next poll per the reset policy. */
    void seek(TopicPartition partition, long offset);

    /** Moves the positions to the log start offsets. */
    void seekToBeginning(Collection<TopicPartition> partitions);

    /** Moves the positions to the high watermarks: only records committed from now on are read. */
    void seekToEnd(Collection<TopicPartition> partitions);

    /** Moves the position to the first record with timestamp {@code >= time} (the high watermark if none). */
    void seekToTimestamp(TopicPartition partition, Instant time);

    /**
     * The position (next offset to return), resolving a pending seek with the leader (or the committed offset with
     * the coordinator) if needed.
     */
    long position(TopicPartition partition);

    /**
     * Commits the position of every assigned partition for the group and waits until it is durable (replicated on
     * the group's offsets partition).
     *
     * @throws CommitFailedException when this consumer was fenced or removed from the group
     * @throws IllegalStateException without a {@link ConsumerBuilder#groupId group id}
     */
    void commitSync();

    /**
     * Commits these offsets (for each partition the <i>next</i> offset to consume: last processed + 1) and waits
     * until they are durable.
     *
     * @throws CommitFailedException when this consumer was fenced or removed from the group
     * @throws IllegalStateException without a {@link ConsumerBuilder#groupId group id}
     */
    void commitSync(Map<TopicPartition, Long> offsets);

    /**
     * Commits the position of every assigned partition without waiting. The future completes (on a client thread:
     * do not block in continuations) when the commit is durable, or exceptionally with the failure
     * ({@link CommitFailedException} when fenced). Commits of one consumer (explicit and automatic) are sent one at
     * a time, in call order, so an older commit never overwrites a newer one.
     */
    CompletableFuture<Void> commitAsync();

    /** Like {@link #commitSync(Map)} without waiting; see {@link #commitAsync()}. */
    CompletableFuture<Void> commitAsync(Map<TopicPartition, Long> offsets);

    /**
     * The group's committed offsets (next offset to consume) of these partitions, asked of the coordinator;
     * partitions without a committed offset are absent from the map.
     *
     * @throws IllegalStateException without a {@link ConsumerBuilder#groupId group id}
     */
    Map<TopicPartition, Long> committed(Set<TopicPartition> partitions);

    /**
     * Returns the records available now, or waits up to {@code timeout} for some; an empty list when none came.
     *
     * @throws SluiceException a non-retriable failure of a partition (e.g. {@link OffsetOutOfRangeException}
     *     with reset policy NONE, UNKNOWN_TOPIC); retriable failures are handled inside
     * @throws WakeupException when {@link #wakeup()} was called
     */
    List<ConsumedRecord> poll(Duration timeout);

    /**
     * Calls {@code handler} for every record, on the calling thread, until {@link #wakeup()} or {@link #close()}
     * is called from another thread (then it returns normally) or a poll or the handler throws.
     */
    void consume(RecordHandler handler);

    /**
     * Runs {@link #consume} on a new consumer-owned thread; the future completes when it ends (exceptionally if
     * it failed). After this call only {@link #wakeup()} and {@link #close()} may be used.
     */
    CompletableFuture<Void> consumeAsync(RecordHandler handler);

    /** Makes a blocked or the next {@link #poll} throw {@link WakeupException}. Thread-safe. */
    void wakeup();

    /**
     * Closes every stream; idempotent; thread-safe. A group member first commits its positions (with auto-commit)
     * and leaves the group, so its partitions move at once; a static member ({@link ConsumerBuilder#groupInstanceId})
     * does not leave, so that a restart with the same instance id takes its partitions back without a rebalance
     * (they move only if it does not return within the session timeout). Called from another thread while
     * {@link #poll} runs, it waits (up to the request timeout) until the polling thread has finished closing.
     */
    @Override
    void close();

    /** Receives records from {@link #consume}. */
    @FunctionalInterface
    interface RecordHandler {
        /** Handles one record; an exception stops consumption. */
        void handle(ConsumedRecord record);
    }

    /** The poll was interrupted by {@link Consumer#wakeup()}. */
    final class WakeupException extends SluiceException {
        public WakeupException() {
            super(ErrorCode.UNKNOWN, "consumer woken up");
        }
    }
}
