package io.sluice.broker.internal.offsets;

import io.sluice.broker.internal.offsets.OffsetStore.StoredOffset;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.replication.PartitionStateExtension;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The state machine extension of one {@code __offsets} partition replica: applies each committed batch of commit
 * records ({@link OffsetRecords}) into the partition's column family of the broker's RocksDB, in one write batch with
 * the new applied offset; snapshots are that column family as one SST file ({@value #SNAPSHOT_FILE}).
 *
 * <p>A record that does not decode (unknown version, malformed, no key) makes the batch fail to apply, which stops the
 * replica: skipping it would make this replica's offsets differ from the others'.
 *
 * <p>Called by the partition's Raft state-machine thread (see {@link PartitionStateExtension}); thread-safe to that
 * extent.
 */
final class OffsetsPartitionState implements PartitionStateExtension {
    static final String SNAPSHOT_FILE = SNAPSHOT_FILE_PREFIX + "offsets.sst";

    private final OffsetsDb.Partition state;
    private final Runnable onClose;

    OffsetsPartitionState(OffsetsDb.Partition state, Runnable onClose) {
        this.state = state;
        this.onClose = onClose;
    }

    @Override
    public long appliedOffset() {
        return state.appliedOffset();
    }

    @Override
    public void onCommitted(CommittedBatch batch) {
        state.apply(mutations(batch), batch.lastOffset() + 1);
    }

    /** The RocksDB changes a committed batch makes (the last record of a key wins, as in the batch's order). */
    static List<OffsetsDb.Mutation> mutations(CommittedBatch batch) {
        List<OffsetsDb.Mutation> out = new ArrayList<>();
        for (Record r : RecordBatch.wrap(batch.records())) {
            ByteBuffer key = r.key();
            if (key == null) {
                throw new IllegalArgumentException("__offsets record without a key in batch " + batch.baseOffset());
            }
            OffsetRecords.decodeKey(key); // validates
            byte[] dbKey = OffsetRecords.dbKey(key);
            if (r.isTombstone()) {
                out.add(new OffsetsDb.Mutation(dbKey, Optional.empty()));
            } else {
                OffsetRecords.Value v = OffsetRecords.decodeValue(r.value());
                out.add(new OffsetsDb.Mutation(
                        dbKey,
                        Optional.of(new StoredOffset(v.offset(), batch.term(), v.metadata(), v.commitTimeMs()))));
            }
        }
        return out;
    }

    @Override
    public List<String> saveSnapshot(Path dir) throws IOException {
        state.exportTo(dir.resolve(SNAPSHOT_FILE));
        return List.of(SNAPSHOT_FILE);
    }

    @Override
    public void loadSnapshot(Path dir, List<String> files) throws IOException {
        if (!files.equals(List.of(SNAPSHOT_FILE))) {
            throw new IOException(
                    "__offsets snapshot in " + dir + " has files " + files + ", expected " + SNAPSHOT_FILE);
        }
        state.importFrom(dir.resolve(SNAPSHOT_FILE));
    }

    @Override
    public void close() {
        onClose.run();
    }

    @Override
    public void onDeleted() {
        state.drop();
    }

    @Override
    public String toString() {
        return "OffsetsPartitionState[" + state + "]";
    }
}
