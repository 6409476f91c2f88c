package io.sluice.replication;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Extra state of one partition replica derived from its committed log: a second state machine fed with every committed
 * data batch, on every replica (leader and followers), in log order. The broker uses it to keep the {@code __offsets}
 * partitions' committed offsets in RocksDB; anything that can be rebuilt from a partition's committed batches fits.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li>{@link #onCommitted} is called once per committed data batch (control batches are not passed), in offset
 *       order, from the partition's Raft state-machine thread, before the proposer's append future completes: when
 *       {@link ReplicatedPartition#append} completes on the leader, the leader's extension holds the batch.
 *   <li>Batches ending below {@link #appliedOffset()} are not passed again: after a restart Raft replays committed
 *       entries from its last snapshot, and the extension says how far it already is. So the extension must persist
 *       {@code appliedOffset} atomically with the state it applies. Within one process lifetime every offset is passed
 *       at most once.
 *   <li>An exception from {@link #onCommitted} is fatal for the replica (it stops serving, as for any entry that cannot
 *       be applied): a committed entry is never skipped, or this replica's state would differ from the others'.
 *   <li>Raft snapshots carry the extension's state: {@link #saveSnapshot} is called on the state-machine thread (no
 *       batch is applied meanwhile) and writes files into the snapshot directory; a replica that installs the snapshot
 *       (a follower that fell behind the leader's retained log, or one rebuilt from an empty data directory) gets
 *       {@link #loadSnapshot} with those files, then the batches after the snapshot. Loading is skipped when the local
 *       {@link #appliedOffset()} is already at or beyond the snapshot's (e.g. at a restart).
 *   <li>{@link #close()} when the replica stops (data kept); {@link #onDeleted()} after the replica's data was deleted
 *       (topic deleted).
 * </ul>
 *
 * <p>Implementations are called from the replica's state-machine thread, one call at a time, except {@link #close()}
 * and {@link #onDeleted()} (from the thread closing the replica, after the state machine stopped); whatever else they
 * offer to other threads must be thread-safe.
 */
public interface PartitionStateExtension extends AutoCloseable {

    /** Prefix that every file an extension writes into a snapshot directory must have (the rest is the partition's). */
    String SNAPSHOT_FILE_PREFIX = "ext-";

    /**
     * The offset after the last batch this extension holds (0 when it holds none). Read before applying each batch and
     * when a snapshot is saved or loaded.
     */
    long appliedOffset();

    /**
     * Applies one committed data batch. Must persist the change and the new applied offset ({@code
     * batch.lastOffset() + 1}) atomically before returning, or at least in that order of visibility after a crash.
     *
     * @throws RuntimeException if the batch cannot be applied: the replica fails
     */
    void onCommitted(CommittedBatch batch);

    /**
     * Writes this extension's state (exactly what {@link #appliedOffset()} says it holds) as files directly in {@code
     * dir}, each named with {@link #SNAPSHOT_FILE_PREFIX}, and returns their names.
     */
    List<String> saveSnapshot(Path dir) throws IOException;

    /**
     * Replaces this extension's state with the one saved in {@code dir} by {@link #saveSnapshot} (possibly on another
     * broker). Must be crash-safe: after a crash midway, either the old state or an empty state (applied offset 0, so
     * that Raft loads the snapshot again at the restart) remains.
     */
    void loadSnapshot(Path dir, List<String> files) throws IOException;

    /** The replica stopped (closed, halted or failed); the persisted state stays. Default: nothing. */
    @Override
    default void close() {}

    /** The replica's data was deleted (its topic was deleted): drop the persisted state too. Default: nothing. */
    default void onDeleted() {}

    /**
     * One committed data batch.
     *
     * <p>{@code records} is a read-only view of the stored batch; on the leader its header's base offset and term may
     * not be stamped yet when the entry commits before the leader's own disk write finished, so use the fields of this
     * record, not the header's, for offsets and term. Immutable and thread-safe.
     *
     * @param records the batch bytes (exactly one record batch, not a control batch)
     * @param baseOffset offset of its first record
     * @param lastOffset offset of its last record
     * @param term Raft term of the entry (the term of the leader that appended it)
     * @param entryIndex Raft index of the entry
     */
    record CommittedBatch(ByteBuffer records, long baseOffset, long lastOffset, long term, long entryIndex) {
        public CommittedBatch {
            if (baseOffset < 0 || lastOffset < baseOffset) {
                throw new IllegalArgumentException("invalid offsets " + baseOffset + ".." + lastOffset);
            }
            records = records.asReadOnlyBuffer();
        }
    }

    /**
     * Creates the extension of a partition replica, if the partition has one; called when the replica opens, before
     * its Raft group starts. The extension may keep {@code partition} (to append, to add a {@link PartitionListener}
     * that then sees every leadership event); it must not call anything else on it before this method returns.
     *
     * <p>Implementations are thread-safe (replicas open on the reconciler's thread, tests open them anywhere).
     */
    @FunctionalInterface
    interface Factory {
        /** A factory that gives no partition an extension. */
        Factory NONE = p -> Optional.empty();

        Optional<PartitionStateExtension> create(ReplicatedPartition partition);
    }
}
