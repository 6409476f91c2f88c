package io.sluice.broker.internal.metrics;

/**
 * A consumer group's lag on one partition, as its coordinator computes it: the partition's high watermark minus the
 * group's committed offset (0 when nothing is committed yet is the coordinator's choice to make).
 *
 * @param topic the topic
 * @param partition the partition
 * @param lag records behind, {@code >= 0}
 */
public record PartitionLagSample(String topic, int partition, long lag) {}
