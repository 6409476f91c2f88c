package io.sluice.client;

/**
 * The shape of one topic, as listed.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name topic name
 * @param partitions partition count
 * @param replicationFactor replicas per partition
 * @param internal true for internal topics (names starting with {@code __})
 */
public record TopicListing(String name, int partitions, int replicationFactor, boolean internal) {}
