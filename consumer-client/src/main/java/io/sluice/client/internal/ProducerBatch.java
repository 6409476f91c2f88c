package io.sluice.client.internal;

import io.sluice.client.RecordPosition;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.Header;
import io.sluice.logstore.record.RecordBatchBuilder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Records for one partition encoded into one record batch, with the futures of those records in append order
 * (record i gets offset {@code baseOffset + i}). Open while appends may still go in; {@link #close()} builds the
 * bytes once, and retries resend the same bytes.
 *
 * <p>Appends and {@link #close()} are guarded by the owning {@link RecordAccumulator.PartitionQueue}'s lock; the
 * retry fields are used only by the producer's sender thread.
 */
final class ProducerBatch {
    final TopicPartition tp;
    /** Creation order within the partition; resends go out in this order. */
    final long sequence;

    final long createdNanos;
    private final int batchSize;
    private RecordBatchBuilder builder;
    private final List<CompletableFuture<RecordPosition>> futures = new ArrayList<>();
    private ByteBuffer bytes;
    private long reservedBytes;
    private boolean full;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    int attempts;
    long nextAttemptNanos;
    long sentNanos;

    ProducerBatch(TopicPartition tp, long sequence, CompressionType compression, int batchSize, long nowNanos) {
        this.tp = tp;
        this.sequence = sequence;
        this.batchSize = batchSize;
        this.createdNanos = nowNanos;
        this.builder = RecordBatchBuilder.create(compression, Math.min(batchSize, 1 << 20));
    }

    /**
     * Appends a record unless the batch is closed or the record would push a non-empty batch past the batch
     * size; returns the record's future, or null when it did not fit.
     */
    CompletableFuture<RecordPosition> tryAppend(
            long timestamp, byte[] key, byte[] value, List<Header> headers, long reserved) {
        if (builder == null || full) {
            return null;
        }
        if (!futures.isEmpty()
                && builder.estimatedSizeInBytes() + RecordAccumulator.estimate(key, value, headers) > batchSize) {
            full = true;
            return null;
        }
        builder.append(timestamp, key, value, headers);
        CompletableFuture<RecordPosition> f = new CompletableFuture<>();
        futures.add(f);
        reservedBytes += reserved;
        if (builder.estimatedSizeInBytes() >= batchSize) {
            full = true;
        }
        return f;
    }

    boolean isFull() {
        return full;
    }

    boolean isClosed() {
        return builder == null;
    }

    /** Builds the batch bytes; later appends are refused. Idempotent. */
    void close() {
        if (builder != null) {
            bytes = builder.build();
            builder = null;
        }
    }

    /** The batch bytes; only after {@link #close()}. */
    ByteBuffer bytes() {
        return bytes.duplicate();
    }

    int recordCount() {
        return futures.size();
    }

    long reservedBytes() {
        return reservedBytes;
    }

    List<CompletableFuture<RecordPosition>> futures() {
        return futures;
    }
}
