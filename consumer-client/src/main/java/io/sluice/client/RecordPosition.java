package io.sluice.client;

/**
 * Where an acknowledged record was written.
 *
 * <p>Immutable and thread-safe.
 *
 * @param topic topic name
 * @param partition partition number
 * @param offset the record's offset in the partition
 */
public record RecordPosition(String topic, int partition, long offset) {}
