package io.sluice.broker.internal.group;

import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The log positions of partitions the coordinator needs for lag, offset validation and resets, as reported by each
 * partition's leader (this broker for the partitions it leads, the others over the client API). A partition whose
 * leader is unknown or does not answer is missing from the results.
 *
 * <p>Implementations are thread-safe and may block for a short, bounded time (remote calls): call them from request
 * threads, never from a network event loop.
 */
public interface LogOffsets {

    /** Log start offset and high watermark of each partition that could be read. */
    Map<TopicPartitionKey, Bounds> bounds(Collection<TopicPartitionKey> partitions);

    /**
     * The offset of the first record whose timestamp is at least {@code timestampMs}, for each partition whose leader
     * answered; an empty value means no such record.
     */
    Map<TopicPartitionKey, OptionalLong> offsetsForTimestamp(
            Collection<TopicPartitionKey> partitions, long timestampMs);

    /** The log end offset of a partition this broker leads; empty when it does not lead it (not worth a remote call). */
    OptionalLong localLogEnd(TopicPartitionKey partition);

    /** A partition's readable range. */
    record Bounds(long logStartOffset, long highWatermark) {}
}
