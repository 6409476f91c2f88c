package io.sluice.client;

import java.util.concurrent.CompletableFuture;

/**
 * Writes records to topics: batches them per partition (by {@code batchSize} and {@code linger}), compresses
 * each batch once, and sends the batches on one long-lived, pipelined Produce stream per broker.
 *
 * <p><b>Ordering.</b> Records sent to one partition are written in {@code sendAsync} order. Retriable failures
 * (NOT_LEADER, a broken connection, timeouts) are retried up to the delivery timeout: the producer refreshes its
 * metadata, waits until every request in flight for the partition has an outcome, then resends the failed
 * batches in their original order. A batch that succeeded while an earlier one of the same partition failed
 * retriably is not rolled back, so the resent earlier batch then lands after it; for strict order under such
 * failures use {@code maxInFlight(1)}.
 *
 * <p><b>Duplicates.</b> This producer is not idempotent: when a request's outcome is unknown (the connection
 * broke, NOT_LEADER or REQUEST_TIMED_OUT after the leader may have appended it) the retry may write the batch a
 * second time.
 *
 * <p><b>Backpressure.</b> Unacknowledged records are bounded by {@code bufferMemory}; {@code sendAsync} blocks
 * up to {@code maxBlock} for space, then returns a future failed with {@link TimeoutException}.
 *
 * <p>Futures complete on a producer-owned callback thread, in send order per partition; do not block in
 * continuations. This interface's implementation is thread-safe.
 */
public interface Producer extends AutoCloseable {
    /**
     * Queues a record and returns its outcome: its position once acknowledged, or the exception that finally
     * failed it (a {@link SluiceException}). Blocks only while the buffer is full or the topic's metadata is
     * unknown, at most {@code maxBlock}.
     */
    CompletableFuture<RecordPosition> sendAsync(Record record);

    /** Sends a record and waits for its acknowledgement; throws the {@link SluiceException} that failed it. */
    RecordPosition send(Record record);

    /** Sends every queued record now, ignoring linger, and waits until each has an outcome. */
    void flush();

    /** Flushes, then stops the producer; idempotent. Later sends fail with {@link IllegalStateException}. */
    @Override
    void close();
}
