package io.sluice.client;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster administration: topics, the cluster description and offset look-ups. Any broker answers topic and
 * cluster calls; offset look-ups go to each partition's leader. Failures complete futures (or are thrown) as
 * {@link SluiceException}s, e.g. TOPIC_ALREADY_EXISTS, UNKNOWN_TOPIC, INVALID_CONFIG.
 *
 * <p>Each call has the client's request timeout. This interface's implementation is thread-safe.
 */
public interface Admin {
    /** Creates a topic; completes with its resolved shape once the controller committed it. */
    CompletableFuture<TopicListing> createTopicAsync(NewTopic topic);

    /** Blocking {@link #createTopicAsync}. */
    TopicListing createTopic(NewTopic topic);

    /** Deletes a topic. */
    CompletableFuture<Void> deleteTopicAsync(String name);

    /** Blocking {@link #deleteTopicAsync}. */
    void deleteTopic(String name);

    /** Lists topics sorted by name (internal ones only if asked). */
    CompletableFuture<List<TopicListing>> listTopicsAsync(boolean includeInternal);

    /** Blocking {@link #listTopicsAsync}. */
    List<TopicListing> listTopics(boolean includeInternal);

    /** Describes a topic: partitions, leaders, replicas, watermarks and configuration. */
    CompletableFuture<TopicDescription> describeTopicAsync(String name);

    /** Blocking {@link #describeTopicAsync}. */
    TopicDescription describeTopic(String name);

    /** Describes the cluster: id, controller, brokers. */
    CompletableFuture<ClusterDescription> describeClusterAsync();

    /** Blocking {@link #describeClusterAsync}. */
    ClusterDescription describeCluster();

    /**
     * Resolves one offset per partition at its leader. A timestamp with no record at or after it resolves to
     * the high watermark.
     */
    CompletableFuture<Map<TopicPartition, Long>> listOffsetsAsync(Map<TopicPartition, OffsetSpec> specs);

    /** Blocking {@link #listOffsetsAsync}. */
    Map<TopicPartition, Long> listOffsets(Map<TopicPartition, OffsetSpec> specs);
}
