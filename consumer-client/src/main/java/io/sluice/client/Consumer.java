package io.sluice.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Reads assigned partitions: one flow-controlled Fetch stream per partition, opened at the partition leader.
 *
 * <p>Each partition has a <i>position</i>: the offset of the next record {@link #poll} returns. A newly assigned
 * partition starts at the beginning of its log unless sought elsewhere. Records are returned in offset order per
 * partition, each exactly once as long as the position is not moved: when the leader changes or a stream breaks,
 * the consumer re-resolves the leader and reopens the stream at its position, so nothing is lost or repeated.
 * Control batches are skipped. Memory is bounded by {@code credits × maxBytesPerResponse} per partition.
 *
 * <p>Not thread-safe: use it from one thread, except {@link #wakeup()} and {@link #close()}, which any thread
 * may call. {@link #consumeAsync} hands the consumer to a thread of its own.
 */
public interface Consumer extends AutoCloseable {
    /** Replaces the assignment with these partitions (streams of dropped partitions are closed). */
    void assign(Collection<TopicPartition> partitions);

    /** The assigned partitions. */
    Set<TopicPartition> assignment();

    /** Sets the position of an assigned partition; an out-of-range offset fails the next poll per the reset policy. */
    void seek(TopicPartition partition, long offset);

    /** Moves the positions to the log start offsets. */
    void seekToBeginning(Collection<TopicPartition> partitions);

    /** Moves the positions to the high watermarks: only records committed from now on are read. */
    void seekToEnd(Collection<TopicPartition> partitions);

    /** Moves the position to the first record with timestamp {@code >= time} (the high watermark if none). */
    void seekToTimestamp(TopicPartition partition, Instant time);

    /** The position (next offset to return), resolving a pending seek with the leader if needed. */
    long position(TopicPartition partition);

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

    /** Closes every stream; idempotent; thread-safe. */
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
