package io.sluice.broker.internal.offsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.broker.internal.offsets.OffsetStore.StoredOffset;
import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.replication.PartitionStateExtension.CommittedBatch;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Applying committed {@code __offsets} batches into RocksDB: contents, restart, snapshots, bad records. */
class OffsetsPartitionStateTest {
    @TempDir
    Path dir;

    private long nextOffset;

    /** A committed batch of (group, topic, partition, offset or -1 for a tombstone) records at the next offsets. */
    private CommittedBatch batch(long term, Object[]... records) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        for (Object[] r : records) {
            byte[] key = OffsetRecords.encodeKey((String) r[0], (String) r[1], (Integer) r[2]);
            long offset = (Long) r[3];
            b.append(500, key, offset < 0 ? null : OffsetRecords.encodeValue(offset, 500 + offset, "m" + offset));
        }
        ByteBuffer bytes = b.build();
        long base = nextOffset;
        nextOffset += records.length + 1; // a control entry after each batch, as Raft may have
        return new CommittedBatch(bytes, base, base + records.length - 1, term, 1);
    }

    private static Object[] rec(String g, String t, int p, long offset) {
        return new Object[] {g, t, p, offset};
    }

    @Test
    void appliesCommitsAndTombstonesWithTheEntryTerm() throws Exception {
        try (OffsetsDb db = OffsetsDb.open(dir.resolve("db"))) {
            OffsetsPartitionState s = new OffsetsPartitionState(db.partition(3), () -> {});
            assertEquals(0, s.appliedOffset());
            s.onCommitted(batch(2, rec("g1", "t", 0, 10), rec("g1", "t", 1, 20), rec("g2", "t", 0, 5)));
            s.onCommitted(batch(4, rec("g1", "t", 0, 11), rec("g1", "t", 0, 12)));
            assertEquals(nextOffset - 1, s.appliedOffset());
            OffsetsDb.Partition p = db.partition(3);
            assertEquals(
                    Map.of(
                            new TopicPartitionKey("t", 0), new StoredOffset(12, 4, "m12", 512),
                            new TopicPartitionKey("t", 1), new StoredOffset(20, 2, "m20", 520)),
                    p.fetch("g1", List.of()));
            assertEquals(
                    Map.of(new TopicPartitionKey("t", 1), new StoredOffset(20, 2, "m20", 520)),
                    p.fetch("g1", List.of(new TopicPartitionKey("t", 1), new TopicPartitionKey("t", 9))));
            assertEquals(Set.of("g1", "g2"), p.groups());
            s.onCommitted(batch(5, rec("g1", "t", 0, -1), rec("g1", "t", 1, -1)));
            assertEquals(Map.of(), p.fetch("g1", List.of()));
            assertEquals(Set.of("g2"), p.groups());
            // Other partitions are separate column families.
            assertEquals(Map.of(), db.partition(4).fetch("g2", List.of()));
        }
    }

    @Test
    void stateAndAppliedOffsetSurviveARestart() throws Exception {
        Map<String, String> before;
        long applied;
        try (OffsetsDb db = OffsetsDb.open(dir.resolve("db"))) {
            OffsetsPartitionState s = new OffsetsPartitionState(db.partition(0), () -> {});
            for (int i = 0; i < 50; i++) {
                s.onCommitted(batch(1, rec("g" + (i % 7), "t", i % 3, i)));
            }
            before = db.partition(0).dump();
            applied = s.appliedOffset();
        }
        try (OffsetsDb db = OffsetsDb.open(dir.resolve("db"))) {
            assertEquals(Set.of(0), db.partitionIds());
            assertEquals(applied, db.partition(0).appliedOffset());
            assertEquals(before, db.partition(0).dump());
        }
    }

    @Test
    void aMalformedRecordFailsTheWholeBatchAndChangesNothing() throws Exception {
        try (OffsetsDb db = OffsetsDb.open(dir.resolve("db"))) {
            OffsetsPartitionState s = new OffsetsPartitionState(db.partition(0), () -> {});
            s.onCommitted(batch(1, rec("g", "t", 0, 1)));
            Map<String, String> before = db.partition(0).dump();
            ByteBuffer junk = RecordBatchBuilder.create(CompressionType.NONE)
                    .append(1, OffsetRecords.encodeKey("g", "t", 1), OffsetRecords.encodeValue(2, 2, ""))
                    .append(1, new byte[] {0, 9, 1}, new byte[] {1})
                    .build();
            assertThrows(IllegalArgumentException.class, () -> s.onCommitted(new CommittedBatch(junk, 10, 11, 1, 5)));
            ByteBuffer noKey = RecordBatchBuilder.create(CompressionType.NONE)
                    .append(1, null, new byte[] {1})
                    .build();
            assertThrows(IllegalArgumentException.class, () -> s.onCommitted(new CommittedBatch(noKey, 10, 10, 1, 5)));
            assertEquals(before, db.partition(0).dump());
        }
    }

    @Test
    void snapshotExportsOnePartitionAndImportReplacesTheState() throws Exception {
        Path snap = Files.createDirectories(dir.resolve("snap"));
        Map<String, String> exported;
        try (OffsetsDb a = OffsetsDb.open(dir.resolve("a"))) {
            OffsetsPartitionState s = new OffsetsPartitionState(a.partition(2), () -> {});
            OffsetsPartitionState other = new OffsetsPartitionState(a.partition(5), () -> {});
            for (int i = 0; i < 20; i++) {
                s.onCommitted(batch(1, rec("g" + i, "t", 0, i)));
                other.onCommitted(batch(1, rec("other", "t", i, i)));
            }
            assertEquals(List.of(OffsetsPartitionState.SNAPSHOT_FILE), s.saveSnapshot(snap));
            exported = a.partition(2).dump();
            // Later changes are not in the snapshot.
            s.onCommitted(batch(1, rec("late", "t", 0, 1)));
        }
        try (OffsetsDb b = OffsetsDb.open(dir.resolve("b"))) {
            OffsetsPartitionState s = new OffsetsPartitionState(b.partition(2), () -> {});
            s.onCommitted(batch(9, rec("stale", "t", 0, 1))); // replaced by the import
            s.loadSnapshot(snap, List.of(OffsetsPartitionState.SNAPSHOT_FILE));
            assertEquals(exported, b.partition(2).dump());
            assertEquals(Long.parseLong(exported.get("applied")), s.appliedOffset());
            assertTrue(b.partition(2).fetch("other", List.of()).isEmpty(), "only partition 2 travelled");
            // Applying continues on the imported state, and it all survives a restart.
            s.onCommitted(new CommittedBatch(
                    batch(1, rec("next", "t", 0, 3)).records(), s.appliedOffset(), s.appliedOffset(), 3, 99));
        }
        try (OffsetsDb b = OffsetsDb.open(dir.resolve("b"))) {
            assertEquals(Set.of("next", "g0", "g1"), intersect(b.partition(2).groups(), Set.of("next", "g0", "g1")));
            assertTrue(b.partition(2).fetch("stale", List.of()).isEmpty());
        }
    }

    private static Set<String> intersect(Set<String> a, Set<String> b) {
        Set<String> out = new java.util.TreeSet<>(a);
        out.retainAll(b);
        return out;
    }

    @Test
    void droppedPartitionStateIsGoneAfterRestart() throws Exception {
        try (OffsetsDb db = OffsetsDb.open(dir.resolve("db"))) {
            OffsetsPartitionState s = new OffsetsPartitionState(db.partition(1), () -> {});
            s.onCommitted(batch(1, rec("g", "t", 0, 1)));
            s.onDeleted();
            assertTrue(db.existing(1).isEmpty());
        }
        try (OffsetsDb db = OffsetsDb.open(dir.resolve("db"))) {
            assertEquals(Set.of(), db.partitionIds());
            assertEquals(0, db.partition(1).appliedOffset());
        }
    }
}
