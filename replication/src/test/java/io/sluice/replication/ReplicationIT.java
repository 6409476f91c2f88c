package io.sluice.replication;

import static io.sluice.replication.Conditions.waitFor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.LogConfig;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.logstore.record.RecordBatches;
import io.sluice.replication.testkit.PartitionData;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@link RaftHost}s in one JVM on ephemeral 127.0.0.1 ports, replicating partitions for real: election,
 * quorum appends, leader crash under load, restart and catch-up, catch-up through a snapshot after retention.
 */
class ReplicationIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    // JRaft's default; shorter timeouts make leaders step down spuriously on a busy 2-core machine.
    private static final RaftGroupOptions GROUP_OPTIONS = new RaftGroupOptions(1000, 0);

    @TempDir
    Path dir;

    private final List<RaftHost> hosts = new ArrayList<>(Collections.nCopies(3, null));
    private final List<ReplicationConfig> configs = new ArrayList<>(Collections.nCopies(3, null));
    private final List<ReplicaId> replicas = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (RaftHost h : hosts) {
            if (h != null) {
                h.close();
            }
        }
    }

    private void startHosts() throws Exception {
        for (int i = 0; i < 3; i++) {
            ReplicationConfig c = ReplicationConfig.defaults(dir.resolve("broker-" + i))
                    .withPort(0)
                    .with(ReplicationConfig.SHUTDOWN_TRANSFER_TIMEOUT_MS, "2000");
            RaftHost h = RaftHost.start(i, c);
            hosts.set(i, h);
            configs.set(i, c.withPort(h.self().raftPort()));
            replicas.add(h.self());
        }
    }

    private List<ReplicatedPartition> open(String topic, LogConfig logConfig) {
        List<ReplicatedPartition> out = new ArrayList<>();
        for (RaftHost h : hosts) {
            out.add(h.openPartition(new PartitionSpec(topic, 0, replicas, logConfig, GROUP_OPTIONS)));
        }
        return out;
    }

    private ReplicatedPartition awaitLeader(TopicPartition tp) {
        waitFor(() -> leaderOf(tp).isPresent(), TIMEOUT, "a leader for " + tp);
        return leaderOf(tp).orElseThrow();
    }

    private Optional<ReplicatedPartition> leaderOf(TopicPartition tp) {
        for (RaftHost h : hosts) {
            if (h == null) {
                continue;
            }
            Optional<ReplicatedPartition> p = h.partition(tp);
            if (p.isPresent() && p.get().isLeader()) {
                return p;
            }
        }
        return Optional.empty();
    }

    private static ByteBuffer batch(String... values) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        long now = System.currentTimeMillis();
        for (String v : values) {
            b.append(now, null, v.getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    /**
     * The stored batches from {@code from} up to {@code hw}, and nothing after it: a replica whose own high watermark
     * is above {@code hw} returns more in its last read, which is cut there, so replicas compare equal up to a common
     * point whatever their own high watermarks.
     */
    private static byte[] readAll(ReplicatedPartition p, long from, long hw) {
        byte[] bytes = PartitionData.rawBytes(p, from, hw);
        assertFalse(from < hw && bytes.length == 0, "nothing readable from " + from + " below hw " + hw);
        return bytes;
    }

    /** offset -> value of every data record in {@code bytes}; control batches counted separately. */
    private static Map<Long, String> values(byte[] bytes, AtomicInteger controlBatches) {
        Map<Long, String> out = new HashMap<>();
        for (Iterator<RecordBatch> it = RecordBatches.iterate(ByteBuffer.wrap(bytes)); it.hasNext(); ) {
            RecordBatch b = it.next();
            b.ensureValid();
            if (b.isControl()) {
                controlBatches.incrementAndGet();
                continue;
            }
            for (Record r : b) {
                out.put(r.offset(), new String(r.valueBytes(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static long minHighWatermark(List<ReplicatedPartition> ps) {
        return ps.stream().mapToLong(ReplicatedPartition::highWatermark).min().orElseThrow();
    }

    private static void assertIdentical(List<ReplicatedPartition> ps, long upTo) {
        byte[] first = readAll(ps.get(0), 0, upTo);
        for (ReplicatedPartition p : ps.subList(1, ps.size())) {
            assertArrayEquals(
                    first,
                    readAll(p, 0, upTo),
                    "log of " + p.self() + " differs from " + ps.get(0).self());
        }
    }

    @Test
    void electsAppendsAndReplicatesByteIdenticalLogs() throws Exception {
        startHosts();
        List<ReplicatedPartition> ps = open("orders", LogConfig.defaults());
        TopicPartition tp = new TopicPartition("orders", 0);
        ReplicatedPartition leader = awaitLeader(tp);
        assertTrue(leader.term() > 0);
        // JRaft's per-group read-only scanner thread is stopped (Sluice never issues read-index reads).
        waitFor(
                () -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith("ReadOnlyService-PendingNotify-Scanner")),
                TIMEOUT,
                "no read-only scanner thread");
        // Heartbeats travel through the coalescer (raft.heartbeat.coalesce.ms defaults to 10 ms).
        waitFor(
                () -> {
                    var hc = io.sluice.replication.internal.SharedClientRaftRpcFactoryAccess.heartbeatCounts();
                    return hc[1] > 0 && hc[0] > 0;
                },
                TIMEOUT,
                "heartbeats sent in batches");
        for (ReplicatedPartition p : ps) {
            if (p != leader) {
                waitFor(() -> p.leader().equals(Optional.of(leader.self())), TIMEOUT, p.self() + " knows the leader");
                ExecutionException e = assertThrows(ExecutionException.class, () -> p.append(batch("x"), AckMode.QUORUM)
                        .get());
                NotLeaderException nle = (NotLeaderException) e.getCause();
                assertEquals(Optional.of(leader.self()), nle.leader());
            }
        }
        List<Long> hwSeen = Collections.synchronizedList(new ArrayList<>());
        leader.addListener(new PartitionListener() {
            @Override
            public void onHighWatermark(long hw) {
                hwSeen.add(hw);
            }
        });

        long previousLast = -1;
        for (int i = 0; i < 50; i++) {
            AppendResult r = leader.append(
                            batch("v" + i + "a", "v" + i + "b"), i % 5 == 0 ? AckMode.LEADER : AckMode.QUORUM)
                    .get(10, TimeUnit.SECONDS);
            assertEquals(r.baseOffset() + 1, r.lastOffset());
            assertTrue(r.baseOffset() > previousLast, "offsets grow");
            previousLast = r.lastOffset();
        }
        long end = previousLast + 1;
        waitFor(() -> minHighWatermark(ps) >= end, TIMEOUT, "every replica's high watermark reaches " + end);
        // The listener is called after the high watermark moves: waited for too.
        waitFor(
                () -> !hwSeen.isEmpty() && hwSeen.get(hwSeen.size() - 1) >= end,
                TIMEOUT,
                "listener saw the high watermark");

        assertIdentical(ps, end);
        AtomicInteger control = new AtomicInteger();
        Map<Long, String> vals = values(readAll(leader, 0, end), control);
        assertEquals(100, vals.size());
        assertTrue(control.get() >= 1, "the leader's configuration entry is a control batch");

        // Reads stop at the high watermark; invalid batches are refused before proposing.
        assertThrows(
                io.sluice.logstore.OffsetOutOfRangeException.class, () -> leader.read(leader.logEndOffset() + 1, 100));
        assertTrue(leader.read(leader.highWatermark(), 100).isEmpty());
        ByteBuffer bad = batch("bad");
        bad.put(bad.limit() - 1, (byte) (bad.get(bad.limit() - 1) + 1));
        ExecutionException e = assertThrows(ExecutionException.class, () -> leader.append(bad, AckMode.QUORUM)
                .get());
        assertTrue(e.getCause() instanceof InvalidBatchException, e.getCause().toString());

        // Timestamp lookups are bounded by the high watermark and return the record's own timestamp.
        long firstTs = RecordBatch.wrap(leader.read(0, 1 << 20).records()).firstTimestamp();
        Optional<TimestampedOffset> found = leader.offsetAndTimestampFor(0);
        assertTrue(found.isPresent());
        assertTrue(found.get().timestamp() >= firstTs - 1);
        assertTrue(leader.offsetAndTimestampFor(Long.MAX_VALUE).isEmpty());

        // Topic names that are not valid JRaft group ids as they are still work; directories are found on disk.
        List<ReplicatedPartition> internal = new ArrayList<>();
        for (RaftHost h : hosts) {
            internal.add(h.openPartition(
                    new PartitionSpec("__offsets.v2", 0, replicas, LogConfig.defaults(), GROUP_OPTIONS)));
        }
        TopicPartition offsets = new TopicPartition("__offsets.v2", 0);
        AppendResult r = awaitLeader(offsets).append(batch("o"), AckMode.QUORUM).get(10, TimeUnit.SECONDS);
        waitFor(() -> minHighWatermark(internal) > r.lastOffset(), TIMEOUT, "the internal topic replicates");
        assertEquals(java.util.Set.of(tp, offsets), hosts.get(0).partitionsOnDisk());
        hosts.get(0).deletePartition(offsets);
        assertEquals(java.util.Set.of(tp), hosts.get(0).partitionsOnDisk());
    }

    @Test
    void leaderHaltedUnderLoadLosesNoAcknowledgedBatchAndCatchesUpAfterRestart() throws Exception {
        startHosts();
        List<ReplicatedPartition> ps = open("load", LogConfig.defaults());
        TopicPartition tp = new TopicPartition("load", 0);
        awaitLeader(tp);

        Map<String, AppendResult> acked = Collections.synchronizedMap(new HashMap<>());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger attempts = new AtomicInteger();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            int writer = w;
            Thread t = new Thread(
                    () -> {
                        int seq = 0;
                        while (!stop.get()) {
                            Optional<ReplicatedPartition> l = leaderOf(tp);
                            if (l.isEmpty()) {
                                LockSupport.parkNanos(2_000_000);
                                continue;
                            }
                            String tag = "w" + writer + "-" + seq++;
                            attempts.incrementAndGet();
                            try {
                                AppendResult r = l.get()
                                        .append(batch(tag), AckMode.QUORUM)
                                        .get(10, TimeUnit.SECONDS);
                                acked.put(tag, r);
                            } catch (ExecutionException | CompletionException e) {
                                if (!(e.getCause() instanceof RetriableReplicationException)) {
                                    throw new AssertionError("unexpected failure", e);
                                }
                                LockSupport.parkNanos(2_000_000);
                            } catch (Exception e) {
                                LockSupport.parkNanos(2_000_000);
                            }
                        }
                    },
                    "writer-" + w);
            t.start();
            writers.add(t);
        }
        waitFor(() -> acked.size() >= 200, TIMEOUT, "200 acknowledged batches before the crash");

        ReplicatedPartition oldLeader = leaderOf(tp).orElseThrow();
        int victim = oldLeader.self().brokerId();
        // A crash: peers stop hearing from it at once (no goodbye TimeoutNow), then it stops.
        for (int i = 0; i < 3; i++) {
            if (i != victim) {
                hosts.get(i).faults().block(replicas.get(victim));
            }
        }
        hosts.get(victim).halt();
        hosts.set(victim, null);
        int ackedAtCrash = acked.size();

        ReplicatedPartition newLeader = awaitLeader(tp);
        assertTrue(newLeader.self().brokerId() != victim);
        waitFor(() -> acked.size() >= ackedAtCrash + 200, TIMEOUT, "200 more acknowledged batches after failover");
        stop.set(true);
        for (Thread t : writers) {
            t.join(TimeUnit.SECONDS.toMillis(20));
        }

        List<ReplicatedPartition> survivors = new ArrayList<>();
        for (RaftHost h : hosts) {
            if (h != null) {
                survivors.add(h.partition(tp).orElseThrow());
            }
        }
        long maxAcked = acked.values().stream()
                        .mapToLong(AppendResult::lastOffset)
                        .max()
                        .orElseThrow()
                + 1;
        waitFor(() -> minHighWatermark(survivors) >= maxAcked, TIMEOUT, "survivors commit every acknowledged batch");
        long hw = minHighWatermark(survivors);
        assertIdentical(survivors, hw);
        assertAcknowledgedPresentOnce(readAll(survivors.get(0), 0, hw), acked);

        // Restart the crashed broker on its data; it catches up and converges byte for byte.
        RaftHost restarted = RaftHost.start(victim, configs.get(victim));
        hosts.set(victim, restarted);
        ReplicatedPartition back =
                restarted.openPartition(new PartitionSpec("load", 0, replicas, LogConfig.defaults(), GROUP_OPTIONS));
        for (int i = 0; i < 3; i++) {
            if (i != victim) {
                hosts.get(i).faults().unblock(replicas.get(victim));
            }
        }
        AppendResult after =
                awaitLeader(tp).append(batch("after-restart"), AckMode.QUORUM).get(10, TimeUnit.SECONDS);
        List<ReplicatedPartition> all = List.of(
                hosts.get(0).partition(tp).orElseThrow(),
                hosts.get(1).partition(tp).orElseThrow(),
                hosts.get(2).partition(tp).orElseThrow());
        waitFor(() -> back.highWatermark() > after.lastOffset(), TIMEOUT, "the restarted replica catches up");
        long common = minHighWatermark(all);
        assertIdentical(all, common);
        assertAcknowledgedPresentOnce(readAll(back, 0, common), acked);
        System.out.printf(
                "acked %d of %d attempts; crashed broker %d; common high watermark %d%n",
                acked.size(), attempts.get(), victim, common);
    }

    private static void assertAcknowledgedPresentOnce(byte[] log, Map<String, AppendResult> acked) {
        Map<Long, String> vals = values(log, new AtomicInteger());
        Map<String, Integer> count = new HashMap<>();
        vals.values().forEach(v -> count.merge(v, 1, Integer::sum));
        synchronized (acked) {
            for (Map.Entry<String, AppendResult> e : acked.entrySet()) {
                assertEquals(
                        e.getKey(),
                        vals.get(e.getValue().baseOffset()),
                        "acknowledged batch " + e.getKey() + " at offset "
                                + e.getValue().baseOffset());
                assertEquals(1, count.get(e.getKey()), "batch " + e.getKey() + " stored once");
            }
        }
        // Offsets are dense (control batches included) and strictly ordered: the log is in acknowledgement order.
        List<Long> offsets = new ArrayList<>(vals.keySet());
        Collections.sort(offsets);
        for (int i = 1; i < offsets.size(); i++) {
            assertTrue(offsets.get(i) > offsets.get(i - 1));
        }
    }

    @Test
    void isolatedLeaderCannotCommitAndItsDivergentTailIsTruncatedAfterHeal() throws Exception {
        startHosts();
        List<ReplicatedPartition> ps = open("split", LogConfig.defaults());
        TopicPartition tp = new TopicPartition("split", 0);
        ReplicatedPartition old = awaitLeader(tp);
        AppendResult before = old.append(batch("before"), AckMode.QUORUM).get(10, TimeUnit.SECONDS);
        waitFor(() -> minHighWatermark(ps) > before.lastOffset(), TIMEOUT, "everyone has the first batch");

        int isolated = old.self().brokerId();
        for (int i = 0; i < 3; i++) {
            if (i != isolated) {
                hosts.get(i).faults().block(replicas.get(isolated));
                hosts.get(isolated).faults().block(replicas.get(i));
            }
        }
        // The minority side accepts proposals into its log but can never commit them.
        List<java.util.concurrent.CompletableFuture<AppendResult>> stranded = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            stranded.add(old.append(batch("stranded-" + i), AckMode.QUORUM));
        }
        long oldHw = old.highWatermark();
        waitFor(() -> leaderOf(tp).filter(p -> p != old).isPresent(), TIMEOUT, "the majority elects a leader");
        ReplicatedPartition fresh = leaderOf(tp).filter(p -> p != old).orElseThrow();
        AppendResult majority = fresh.append(batch("majority"), AckMode.QUORUM).get(10, TimeUnit.SECONDS);
        assertEquals(oldHw, old.highWatermark(), "the isolated leader committed nothing");
        assertTrue(hosts.get(isolated).faults().droppedRequests() > 0, "the cut dropped requests");

        for (int i = 0; i < 3; i++) {
            hosts.get(i).faults().heal();
        }
        waitFor(() -> old.highWatermark() > majority.lastOffset(), TIMEOUT, "the old leader rejoins and catches up");
        for (java.util.concurrent.CompletableFuture<AppendResult> f : stranded) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertTrue(
                    e.getCause() instanceof RetriableReplicationException,
                    e.getCause().toString());
        }
        long hw = minHighWatermark(ps);
        assertIdentical(ps, hw);
        Map<Long, String> vals = values(readAll(old, 0, hw), new AtomicInteger());
        assertEquals("majority", vals.get(majority.baseOffset()));
        assertFalse(vals.values().stream().anyMatch(v -> v.startsWith("stranded")), "divergent tail truncated");
    }

    @Test
    void followerFarBehindCatchesUpThroughASnapshotAfterRetention() throws Exception {
        startHosts();
        LogConfig small =
                LogConfig.builder().segmentBytes(4096).retentionBytes(16 * 1024).build();
        List<ReplicatedPartition> ps = open("snap", small);
        TopicPartition tp = new TopicPartition("snap", 0);
        ReplicatedPartition leader = awaitLeader(tp);
        leader.append(batch("first"), AckMode.QUORUM).get(10, TimeUnit.SECONDS);
        waitFor(() -> minHighWatermark(ps) > 0, TIMEOUT, "all replicas have the first batch");

        // Take a follower down; the others move far ahead and retention drops what it would need.
        int lagging = ps.stream()
                .filter(p -> !p.isLeader())
                .findFirst()
                .orElseThrow()
                .self()
                .brokerId();
        for (int i = 0; i < 3; i++) {
            if (i != lagging) {
                hosts.get(i).faults().block(replicas.get(lagging));
            }
        }
        hosts.get(lagging).halt();
        hosts.set(lagging, null);

        String pad = "x".repeat(300);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 150; i++) {
                leader.append(batch("r" + round + "-" + i + pad), AckMode.QUORUM)
                        .get(10, TimeUnit.SECONDS);
            }
            leader.snapshot().get(10, TimeUnit.SECONDS);
        }
        long leaderStart = leader.logStartOffset();
        assertTrue(leaderStart > 1, "retention deleted the leader's first segments: start " + leaderStart);

        RaftHost restarted = RaftHost.start(lagging, configs.get(lagging));
        hosts.set(lagging, restarted);
        ReplicatedPartition back =
                restarted.openPartition(new PartitionSpec("snap", 0, replicas, small, GROUP_OPTIONS));
        for (int i = 0; i < 3; i++) {
            if (i != lagging) {
                hosts.get(i).faults().unblock(replicas.get(lagging));
            }
        }
        AppendResult last = leader.append(batch("last"), AckMode.QUORUM).get(10, TimeUnit.SECONDS);
        waitFor(() -> back.highWatermark() > last.lastOffset(), TIMEOUT, "the lagging replica catches up");
        assertTrue(back.logStartOffset() > 0, "the lagging replica's log was replaced by the snapshot's segments");
        long from = Math.max(back.logStartOffset(), leader.logStartOffset());
        long to = Math.min(back.highWatermark(), leader.highWatermark());
        assertArrayEquals(readAll(leader, from, to), readAll(back, from, to), "logs identical over the common range");
        Map<Long, String> vals = values(readAll(back, from, to), new AtomicInteger());
        assertEquals("last", vals.get(last.baseOffset()));
    }
}
