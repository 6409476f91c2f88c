package io.sluice.replication;

/**
 * When {@link ReplicatedPartition#append} completes.
 *
 * <ul>
 *   <li>{@link #QUORUM}: when the entry is committed: durable (fsynced) on a majority of the replicas, and therefore
 *       never lost while a majority survives. The high watermark covers the batch on the leader once the leader has
 *       it durably too.
 *   <li>{@link #LEADER}: when the entry is durable (fsynced) on the leader alone. <b>Weaker:</b> if the leader fails
 *       before a majority has the entry, a new leader may be elected without it and the batch is lost even though it
 *       was acknowledged; its offsets are then reused by other batches. The entry may still commit later; readers never
 *       see it before it does (reads stop at the high watermark).
 * </ul>
 *
 * <p>This enum is immutable and thread-safe.
 */
public enum AckMode {
    LEADER,
    QUORUM
}
