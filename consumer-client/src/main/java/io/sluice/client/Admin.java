package io.sluice.client;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster administration: topics, the cluster description, offset look-ups and consumer groups. Any broker
 * answers topic and cluster calls; offset look-ups go to each partition's leader; group calls go to the group's
 * coordinator (found with FindCoordinator, found again after a coordinator failover). Failures complete futures (or
 * are thrown) as {@link SluiceException}s, e.g. TOPIC_ALREADY_EXISTS, UNKNOWN_TOPIC, INVALID_CONFIG, UNKNOWN_GROUP,
 * GROUP_NOT_EMPTY.
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

    /**
     * Lists every consumer group of the cluster, sorted by id: asks every alive broker for the groups it
     * coordinates and merges the answers.
     */
    CompletableFuture<List<GroupListing>> listGroupsAsync();

    /** Blocking {@link #listGroupsAsync}. */
    List<GroupListing> listGroups();

    /** Describes a group: state, members and assignments, committed offsets and lag. Fails with UNKNOWN_GROUP. */
    CompletableFuture<GroupDescription> describeGroupAsync(String groupId);

    /** Blocking {@link #describeGroupAsync}. */
    GroupDescription describeGroup(String groupId);

    /**
     * Moves a group's committed offsets for one topic, or (with {@code execute} false) only computes the plan.
     * Executing needs a group without members (else GROUP_NOT_EMPTY); a group that does not exist is created.
     *
     * @param partitions the partitions to move; empty means every partition of the topic
     */
    CompletableFuture<OffsetResetResult> resetOffsetsAsync(
            String groupId, String topic, Collection<Integer> partitions, OffsetResetSpec spec, boolean execute);

    /** Blocking {@link #resetOffsetsAsync}. */
    OffsetResetResult resetOffsets(
            String groupId, String topic, Collection<Integer> partitions, OffsetResetSpec spec, boolean execute);

    /** Deletes a group without members, with its committed offsets. Fails with UNKNOWN_GROUP or GROUP_NOT_EMPTY. */
    CompletableFuture<Void> deleteGroupAsync(String groupId);

    /** Blocking {@link #deleteGroupAsync}. */
    void deleteGroup(String groupId);

    /**
     * A group's committed offsets (next offset to consume). With an empty {@code partitions}, every partition the
     * group has committed; otherwise the listed ones that have a committed offset. An unknown group has none.
     */
    CompletableFuture<Map<TopicPartition, Long>> listCommittedOffsetsAsync(
            String groupId, Collection<TopicPartition> partitions);

    /** Blocking {@link #listCommittedOffsetsAsync}. */
    Map<TopicPartition, Long> listCommittedOffsets(String groupId, Collection<TopicPartition> partitions);
}
