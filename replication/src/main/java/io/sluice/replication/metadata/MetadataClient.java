package io.sluice.replication.metadata;

import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * Reads and changes the cluster metadata from any broker. Changes are forwarded to the controller leader (retrying on
 * {@code NOT_CONTROLLER} until a deadline) and complete once committed and applied by it; {@link #current()} is this
 * broker's applied view, which may lag the leader's by a little.
 *
 * <p>Futures complete exceptionally with a {@link MetadataException} subclass: {@link TopicExistsException}, {@link
 * UnknownTopicException}, {@link InvalidTopicException}, {@link ControllerUnavailableException}. Implementations are
 * thread-safe; futures are completed on internal threads, so do not block in their continuations.
 */
public interface MetadataClient {

    /**
     * Creates a topic with {@code partitions} partitions of {@code replicationFactor} replicas each, spread evenly over
     * the live brokers.
     */
    CompletableFuture<TopicInfo> createTopic(
            String name, int partitions, int replicationFactor, Map<String, String> configs);

    /** Deletes a topic; every broker then closes its replicas and deletes their data. */
    CompletableFuture<Void> deleteTopic(String name);

    /** This broker's applied view of the metadata. Never blocks. */
    ClusterMetadata current();

    /** The broker id of the controller leader as this broker knows it, if any. */
    OptionalInt controllerId();

    /** Completes when this broker has applied at least {@code version}. */
    CompletableFuture<ClusterMetadata> awaitVersion(long version);

    /**
     * Calls {@code listener} after every change of {@link #current()} (in order, on one internal thread, never
     * concurrently); it is also called once right away with the current view.
     */
    void addListener(MetadataListener listener);

    void removeListener(MetadataListener listener);
}
