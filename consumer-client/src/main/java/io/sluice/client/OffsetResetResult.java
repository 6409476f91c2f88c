package io.sluice.client;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The plan (dry run) or the outcome of {@link Admin#resetOffsets}: one entry per partition of the topic, sorted by
 * partition. When executed, the entries without an error were committed together as one atomic write.
 *
 * <p>Immutable and thread-safe.
 *
 * @param groupId the group
 * @param topic the topic whose offsets move
 * @param executed false for a plan only (nothing changed)
 * @param partitions one entry per partition
 */
public record OffsetResetResult(String groupId, String topic, boolean executed, List<PartitionReset> partitions) {
    public OffsetResetResult {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(topic, "topic");
        partitions = List.copyOf(partitions);
    }

    /**
     * The move of one partition's committed offset.
     *
     * @param partition partition number
     * @param currentOffset the committed offset before the reset; empty when none
     * @param newOffset the committed offset after the reset; meaningless when {@code error} is present
     * @param error why this partition cannot be reset (e.g. UNKNOWN_PARTITION, INVALID_OFFSET, NOT_LEADER)
     */
    public record PartitionReset(
            int partition, OptionalLong currentOffset, long newOffset, Optional<SluiceException> error) {
        public PartitionReset {
            Objects.requireNonNull(currentOffset, "currentOffset");
            Objects.requireNonNull(error, "error");
        }
    }
}
