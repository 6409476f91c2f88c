package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.conf.ConfigurationEntry;
import com.alipay.sofa.jraft.conf.ConfigurationManager;
import com.alipay.sofa.jraft.entity.EnumOutter.EntryType;
import com.alipay.sofa.jraft.entity.LogEntry;
import com.alipay.sofa.jraft.entity.LogId;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.option.LogStorageOptions;
import io.sluice.logstore.FsyncScheduler;
import io.sluice.logstore.LogConfig;
import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.logstore.record.RecordBatchBuilder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JRaft's {@code LogStorage} contract, checked against {@link SegmentLogStorage}, plus the offset mapping. */
class SegmentLogStorageTest {
    @TempDir
    Path dir;

    private FsyncScheduler fsync;
    private final List<SegmentLogStorage> opened = new ArrayList<>();
    private final List<SegmentLogStorage.Position> changes = new ArrayList<>();

    @BeforeEach
    void setUp() {
        fsync = FsyncScheduler.start("test-fsync");
    }

    @AfterEach
    void tearDown() {
        opened.forEach(SegmentLogStorage::shutdown);
        fsync.close();
    }

    private SegmentLogStorage open(LogConfig config, ConfigurationManager confs) {
        SegmentLogStorage s = new SegmentLogStorage(
                "t-0",
                new PartitionLayout(dir.resolve("t-0")),
                config,
                fsync,
                Clock.systemUTC(),
                new SegmentLogStorage.Listener() {
                    @Override
                    public void onLogChanged(SegmentLogStorage.Position position) {
                        changes.add(position);
                    }
                });
        LogStorageOptions opts = new LogStorageOptions();
        opts.setConfigurationManager(confs);
        opts.setGroupId("t-0");
        assertTrue(s.init(opts), "init");
        opened.add(s);
        return s;
    }

    private SegmentLogStorage open() {
        return open(LogConfig.defaults(), new ConfigurationManager());
    }

    private void reopen(SegmentLogStorage s) {
        s.shutdown();
        opened.remove(s);
    }

    static ByteBuffer batch(int records, String tag) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        long now = System.currentTimeMillis();
        for (int i = 0; i < records; i++) {
            b.append(
                    now + i,
                    ("k" + i).getBytes(StandardCharsets.UTF_8),
                    (tag + "-" + i).getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    static LogEntry data(long index, long term, ByteBuffer batch) {
        LogEntry e = new LogEntry(EntryType.ENTRY_TYPE_DATA);
        e.setId(new LogId(index, term));
        e.setData(batch);
        return e;
    }

    static LogEntry conf(long index, long term, String... peers) {
        LogEntry e = new LogEntry(EntryType.ENTRY_TYPE_CONFIGURATION);
        e.setId(new LogId(index, term));
        List<PeerId> list = new ArrayList<>();
        for (String p : peers) {
            list.add(PeerId.parsePeer(p));
        }
        e.setPeers(list);
        return e;
    }

    static LogEntry noop(long index, long term) {
        LogEntry e = new LogEntry(EntryType.ENTRY_TYPE_NO_OP);
        e.setId(new LogId(index, term));
        return e;
    }

    @Test
    void emptyLogStartsAtIndexOne() {
        SegmentLogStorage s = open();
        assertEquals(1, s.getFirstLogIndex());
        assertEquals(0, s.getLastLogIndex());
        assertNull(s.getEntry(1));
        assertEquals(0, s.getTerm(1));
        assertEquals(new SegmentLogStorage.Position(0, 0), s.durablePosition());
    }

    @Test
    void appendAndGetRoundTripEveryEntryType() {
        SegmentLogStorage s = open();
        ByteBuffer b2 = batch(3, "a");
        byte[] original = copy(b2);
        List<LogEntry> entries = List.of(
                conf(1, 1, "127.0.0.1:7001:1", "127.0.0.1:7002:2"),
                data(2, 1, b2),
                noop(3, 2),
                data(4, 2, batch(1, "b")));
        assertEquals(4, s.appendEntries(entries));
        assertEquals(1, s.getFirstLogIndex());
        assertEquals(4, s.getLastLogIndex());

        LogEntry c = s.getEntry(1);
        assertEquals(EntryType.ENTRY_TYPE_CONFIGURATION, c.getType());
        assertEquals(new LogId(1, 1), c.getId());
        assertEquals(List.of(PeerId.parsePeer("127.0.0.1:7001:1"), PeerId.parsePeer("127.0.0.1:7002:2")), c.getPeers());
        assertNull(c.getOldPeers());

        LogEntry d = s.getEntry(2);
        assertEquals(EntryType.ENTRY_TYPE_DATA, d.getType());
        assertEquals(new LogId(2, 1), d.getId());
        RecordBatch stored = RecordBatch.wrap(d.getData());
        // The control entry took offset 0, so the 3-record batch holds offsets 1..3.
        assertEquals(1, stored.baseOffset());
        assertEquals(3, stored.lastOffset());
        assertEquals(1, stored.raftTerm());
        assertEquals(2, stored.entryIndex());
        stored.ensureValid();
        // Stamped in place: the proposer's own buffer carries the numbers too, and only the stamped fields changed.
        RecordBatch proposed = RecordBatch.wrap(b2);
        assertEquals(1, proposed.baseOffset());
        assertEquals(2, proposed.entryIndex());
        assertEquals(1, proposed.raftTerm());
        byte[] now = copy(b2);
        for (int i = 28; i < now.length; i++) {
            assertEquals(original[i], now[i], "byte " + i + " changed");
        }

        LogEntry n = s.getEntry(3);
        assertEquals(EntryType.ENTRY_TYPE_NO_OP, n.getType());
        assertEquals(new LogId(3, 2), n.getId());
        assertEquals(2, s.getTerm(3));
        assertEquals(RecordBatch.wrap(s.getEntry(4).getData()).baseOffset(), 5);
        assertEquals(new SegmentLogStorage.Position(4, 6), s.durablePosition());
        assertEquals(6, (long) s.withLog(l -> l.logEndOffset()));
    }

    @Test
    void appendRejectsGapsAndNonBatchData() {
        SegmentLogStorage s = open();
        assertEquals(0, s.appendEntries(List.of(data(2, 1, batch(1, "x")))), "gap before the first entry");
        assertEquals(0, s.appendEntries(List.of(data(1, 1, batch(1, "x")), data(3, 1, batch(1, "y")))));
        LogEntry junk = data(1, 1, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        assertEquals(0, s.appendEntries(List.of(junk)));
        assertEquals(0, s.getLastLogIndex());
        assertTrue(s.appendEntry(data(1, 1, batch(1, "ok"))));
        assertEquals(1, s.getLastLogIndex());
    }

    @Test
    void truncateSuffixDropsTheTailAndAppendsContinueFromThere() {
        SegmentLogStorage s = open();
        for (int i = 1; i <= 10; i++) {
            assertTrue(s.appendEntry(data(i, 1, batch(2, "e" + i))));
        }
        assertTrue(s.truncateSuffix(6));
        assertEquals(6, s.getLastLogIndex());
        assertNull(s.getEntry(7));
        assertEquals(new SegmentLogStorage.Position(6, 12), s.durablePosition());
        assertTrue(s.appendEntry(data(7, 3, batch(1, "new"))));
        LogEntry e = s.getEntry(7);
        assertEquals(3, e.getId().getTerm());
        assertEquals(12, RecordBatch.wrap(e.getData()).baseOffset());
        assertTrue(s.truncateSuffix(100), "beyond the end: a no-op");
        assertEquals(7, s.getLastLogIndex());
    }

    @Test
    void truncatePrefixDeletesWholeSegmentsOnlyWhereRetentionAllows() {
        LogConfig small =
                LogConfig.builder().segmentBytes(1024).retentionBytes(0).build();
        SegmentLogStorage s = open(small, new ConfigurationManager());
        for (int i = 1; i <= 60; i++) {
            assertTrue(s.appendEntry(data(i, 1, batch(1, "payload-payload-payload-" + i))));
        }
        int segments = s.withLog(l -> l.segmentCount());
        assertTrue(segments > 3, "segments: " + segments);
        assertTrue(s.truncatePrefix(30));
        long first = s.getFirstLogIndex();
        assertTrue(first > 1 && first <= 30, "first index " + first);
        assertNotNull(s.getEntry(30));
        assertNull(s.getEntry(first - 1));
        assertEquals(60, s.getLastLogIndex());

        // With retention off nothing is deleted, whatever Raft asks.
        reopen(s);
        SegmentLogStorage kept = open(small.toBuilder().retentionBytes(-1).build(), new ConfigurationManager());
        assertEquals(first, kept.getFirstLogIndex());
        assertTrue(kept.truncatePrefix(59));
        assertEquals(first, kept.getFirstLogIndex());
    }

    @Test
    void resetKeepsTheSnapshotPrefixWhenTheLogHoldsIt() {
        SegmentLogStorage s = open();
        for (int i = 1; i <= 5; i++) {
            assertTrue(s.appendEntry(data(i, 2, batch(2, "e" + i))));
        }
        assertFalse(s.reset(4), "no snapshot anchor: refuse");
        s.setSnapshotAnchor(new PartitionSnapshotMeta(3, 2, 6));
        assertTrue(s.reset(4));
        assertEquals(3, s.getLastLogIndex());
        assertEquals(1, s.getFirstLogIndex());
        assertEquals(new SegmentLogStorage.Position(3, 6), s.durablePosition());
        assertTrue(s.appendEntry(data(4, 5, batch(1, "after"))));
        assertEquals(6, RecordBatch.wrap(s.getEntry(4).getData()).baseOffset());
    }

    @Test
    void resetStartsAnEmptyLogAtTheSnapshotEndWhenTheLogDiverges() {
        SegmentLogStorage s = open();
        for (int i = 1; i <= 3; i++) {
            assertTrue(s.appendEntry(data(i, 1, batch(1, "old" + i))));
        }
        // The snapshot's entry 10 is not in this log: nothing to keep.
        s.setSnapshotAnchor(new PartitionSnapshotMeta(10, 4, 57));
        assertTrue(s.reset(11));
        assertEquals(11, s.getFirstLogIndex());
        assertEquals(10, s.getLastLogIndex());
        assertNull(s.getEntry(3));
        assertTrue(s.appendEntry(data(11, 4, batch(2, "x"))));
        assertEquals(57, RecordBatch.wrap(s.getEntry(11).getData()).baseOffset());
        assertEquals(new SegmentLogStorage.Position(11, 59), s.durablePosition());

        reopen(s);
        SegmentLogStorage again = open();
        assertEquals(11, again.getFirstLogIndex());
        assertEquals(11, again.getLastLogIndex());
    }

    @Test
    void truncatePrefixBeyondTheEndResumesAfterTheSnapshot() {
        SegmentLogStorage s = open();
        assertTrue(s.appendEntry(data(1, 1, batch(1, "a"))));
        s.setSnapshotAnchor(new PartitionSnapshotMeta(8, 3, 20));
        assertTrue(s.truncatePrefix(9));
        assertEquals(9, s.getFirstLogIndex());
        assertEquals(8, s.getLastLogIndex());
        assertTrue(s.appendEntry(data(9, 3, batch(1, "b"))));
        assertEquals(20, RecordBatch.wrap(s.getEntry(9).getData()).baseOffset());
    }

    @Test
    void configurationsAreReloadedAfterReopenFromTheIndexAndByScan() throws Exception {
        SegmentLogStorage s = open();
        assertEquals(
                5,
                s.appendEntries(List.of(
                        conf(1, 1, "127.0.0.1:7001:1"),
                        data(2, 1, batch(1, "a")),
                        conf(3, 2, "127.0.0.1:7001:1", "127.0.0.1:7002:2"),
                        data(4, 2, batch(1, "b")),
                        conf(5, 2, "127.0.0.1:7002:2"))));
        // Entry 5 is truncated away: its stale listing must not come back.
        assertTrue(s.truncateSuffix(4));
        reopen(s);

        ConfigurationManager fromIndex = new ConfigurationManager();
        SegmentLogStorage s2 = open(LogConfig.defaults(), fromIndex);
        assertConfigurations(fromIndex);
        reopen(s2);

        Files.delete(dir.resolve("t-0").resolve(ConfigurationIndexFile.FILE_NAME));
        ConfigurationManager fromScan = new ConfigurationManager();
        SegmentLogStorage s3 = open(LogConfig.defaults(), fromScan);
        assertConfigurations(fromScan);
        assertTrue(Files.exists(dir.resolve("t-0").resolve(ConfigurationIndexFile.FILE_NAME)), "index rebuilt");
        reopen(s3);

        Files.write(dir.resolve("t-0").resolve(ConfigurationIndexFile.FILE_NAME), new byte[] {1, 2, 3});
        ConfigurationManager fromCorrupt = new ConfigurationManager();
        open(LogConfig.defaults(), fromCorrupt);
        assertConfigurations(fromCorrupt);
    }

    private static void assertConfigurations(ConfigurationManager m) {
        ConfigurationEntry last = m.getLastConfiguration();
        assertEquals(new LogId(3, 2), last.getId());
        assertEquals(2, last.getConf().size());
        assertEquals(new LogId(1, 1), m.get(2).getId());
        assertEquals(new LogId(3, 2), m.get(4).getId());
    }

    @Test
    void durabilityWaitersCompleteOnAppend() {
        SegmentLogStorage s = open();
        CompletableFuture<Void> two = s.whenDurable(2);
        assertFalse(two.isDone());
        assertTrue(s.appendEntry(data(1, 1, batch(1, "a"))));
        assertFalse(two.isDone());
        assertTrue(s.appendEntry(data(2, 1, batch(1, "b"))));
        assertTrue(two.isDone());
        assertTrue(s.whenDurable(1).isDone());
    }

    @Test
    void haltedStorageRefusesWrites() {
        SegmentLogStorage s = open();
        s.halt();
        assertEquals(0, s.appendEntries(List.of(data(1, 1, batch(1, "a")))));
        assertFalse(s.truncateSuffix(0));
    }

    @Test
    void readsStopAtTheGivenBound() {
        SegmentLogStorage s = open();
        for (int i = 1; i <= 4; i++) {
            assertTrue(s.appendEntry(data(i, 1, batch(2, "r" + i))));
        }
        LogReadResult r = s.read(0, 1 << 20, 4);
        assertEquals(2, r.batchCount());
        assertEquals(4, r.nextOffset());
    }

    @Test
    void snapshotLinksAndInstallReplaceTheLog() throws Exception {
        SegmentLogStorage leader = open(LogConfig.builder().segmentBytes(1024).build(), new ConfigurationManager());
        assertTrue(leader.appendEntry(conf(1, 1, "127.0.0.1:7001:1")));
        for (int i = 2; i <= 40; i++) {
            assertTrue(leader.appendEntry(data(i, 1, batch(1, "payload-payload-payload-" + i))));
        }
        Path snap = dir.resolve("snap");
        Files.createDirectories(snap);
        List<String> files = leader.linkSegmentsInto(snap, 30);
        assertTrue(files.size() > 1, "files " + files);
        long end30 = leader.endOffsetOf(30).orElseThrow();
        assertEquals(30, end30, "entry 1 is a control batch, then one record per entry");

        // A follower with a divergent log installs the snapshot.
        SegmentLogStorage follower = new SegmentLogStorage(
                "t-0@2",
                new PartitionLayout(dir.resolve("follower")),
                LogConfig.defaults(),
                fsync,
                Clock.systemUTC(),
                new SegmentLogStorage.Listener() {});
        assertTrue(follower.init(new LogStorageOptions()));
        opened.add(follower);
        assertTrue(follower.appendEntry(data(1, 7, batch(5, "divergent"))));
        PartitionSnapshotMeta meta = new PartitionSnapshotMeta(30, 1, end30);
        follower.installSnapshot(snap, files, meta);
        assertEquals(30, follower.getLastLogIndex());
        assertEquals(1, follower.getFirstLogIndex());
        for (long i = 1; i <= 30; i++) {
            long idx = i;
            assertArrayEquals(
                    copy(leader.withLog(l -> l.readEntry(idx).orElseThrow())),
                    copy(follower.withLog(l -> l.readEntry(idx).orElseThrow())),
                    "entry " + i);
        }
        follower.setSnapshotAnchor(meta);
        assertTrue(follower.reset(31), "reset after the install keeps the prefix");
        assertEquals(30, follower.getLastLogIndex());
        assertTrue(follower.appendEntry(data(31, 2, batch(1, "next"))));
        assertEquals(end30, RecordBatch.wrap(follower.getEntry(31).getData()).baseOffset());
        // Later appends to the leader's active segment do not disturb the follower.
        assertTrue(leader.appendEntry(data(41, 1, batch(1, "more"))));
        assertEquals(31, follower.getLastLogIndex());
    }

    private static byte[] copy(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
