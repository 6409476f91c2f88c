package io.sluice.replication.it;

import static io.sluice.replication.testkit.ReplicaInvariants.awaitConverged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.LogConfig;
import io.sluice.replication.AppendResult;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.TopicPartition;
import io.sluice.replication.testkit.MiniCluster;
import io.sluice.replication.testkit.PartitionData;
import io.sluice.replication.testkit.RecordingExtension;
import io.sluice.replication.testkit.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link io.sluice.replication.PartitionStateExtension} on real replicas: every replica's extension sees the same
 * committed sequence (the log's data batches, in order, once each); a follower that installs a snapshot ends with the
 * same state; a restart resumes without applying anything twice.
 */
class StateExtensionIT {
    private static final Duration PROGRESS = Duration.ofSeconds(30);
    private static final String TOPIC = "ext";

    @TempDir
    Path dir;

    /** Per broker id: the latest extension instance of each partition. */
    private final Map<Integer, Map<TopicPartition, RecordingExtension>> exts = new ConcurrentHashMap<>();

    private MiniCluster start() throws Exception {
        return MiniCluster.builder(dir.resolve("cluster"))
                .brokers(3)
                .voters(3)
                .stateExtensions(id -> RecordingExtension.factory(
                        dir.resolve("ext-" + id), TOPIC, exts.computeIfAbsent(id, k -> new ConcurrentHashMap<>())))
                .start();
    }

    private RecordingExtension ext(int broker) {
        return exts.get(broker).get(new TopicPartition(TOPIC, 0));
    }

    /** The log's data batches as the extension would record them (without the term), from the leader. */
    private static List<String> logBatches(ReplicatedPartition p) {
        List<String> out = new ArrayList<>();
        for (PartitionData.Entry e : PartitionData.committedRecords(p)) {
            out.add(e.offset() + " " + e.offset() + " " + e.value());
        }
        return out;
    }

    private static List<String> withoutTerm(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            String[] f = l.split(" ", 4);
            out.add(f[0] + " " + f[1] + " " + f[3]);
        }
        return out;
    }

    /** Waits until every running broker's extension holds everything up to the converged high watermark. */
    private long awaitExtensionsCaughtUp(MiniCluster c, long minEnd) {
        long end = awaitConverged(c, TOPIC, 0, minEnd);
        long lastData = lastDataOffset(c.partitionOn(c.awaitLeader(TOPIC, 0), TOPIC, 0));
        MiniCluster.waitFor(
                () -> c.runningIds().stream().allMatch(b -> ext(b) != null && ext(b).appliedOffset() == lastData + 1),
                c.timeout(),
                "every extension applied up to offset " + lastData);
        return end;
    }

    private static long lastDataOffset(ReplicatedPartition p) {
        List<PartitionData.Entry> all = PartitionData.committedRecords(p);
        return all.get(all.size() - 1).offset();
    }

    private static void assertAppliedOnceEach(RecordingExtension e, String who) {
        e.appliedCounts()
                .forEach((offset, n) ->
                        assertEquals(1, n, who + ": batch at " + offset + " applied " + n + " times in this process"));
        Set<String> distinct = new HashSet<>(e.lines());
        assertEquals(e.lines().size(), distinct.size(), who + ": a persisted batch is repeated");
    }

    @Test
    void everyReplicaSeesTheSameCommittedSequence() throws Exception {
        try (MiniCluster c = start()) {
            c.createTopic(TOPIC, 1, 3);
            Workload w = Workload.start(c, TOPIC, 0, "v");
            w.awaitMoreAcks(200, PROGRESS);
            // A leader change in the middle: the sequence goes on across terms.
            c.kill(c.awaitLeader(TOPIC, 0));
            w.awaitMoreAcks(100, PROGRESS);
            w.stop();
            awaitExtensionsCaughtUp(c, w.maxAckedOffset() + 1);
            List<String> expected = logBatches(c.partitionOn(c.awaitLeader(TOPIC, 0), TOPIC, 0));
            for (int b : c.runningIds()) {
                assertEquals(expected, withoutTerm(ext(b).lines()), "extension of broker " + b);
                assertAppliedOnceEach(ext(b), "broker " + b);
            }
            for (Map.Entry<String, AppendResult> a : w.acked().entrySet()) {
                String line = a.getValue().baseOffset() + " " + a.getValue().lastOffset() + " " + a.getKey();
                assertTrue(expected.contains(line), "acknowledged " + line + " is in every extension");
            }
        }
    }

    @Test
    void followerInstallingASnapshotEndsWithTheSameState() throws Exception {
        try (MiniCluster c = start()) {
            c.createTopic(TOPIC, 1, 3, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_BYTES, "4096"));
            int leader = c.awaitLeader(TOPIC, 0);
            int follower = c.replicasOf(TOPIC, 0).stream()
                    .filter(b -> b != leader)
                    .findFirst()
                    .orElseThrow();
            Workload w = Workload.start(c, TOPIC, 0, "s");
            w.awaitMoreAcks(50, PROGRESS);
            long followerEnd = c.partitionOn(follower, TOPIC, 0).logEndOffset();
            c.kill(follower);
            for (int round = 0; round < 2; round++) {
                w.awaitMoreAcks(300, PROGRESS);
                for (int b : c.runningIds()) {
                    c.get(c.partitionOn(b, TOPIC, 0).snapshot());
                }
            }
            w.stop();
            awaitExtensionsCaughtUp(c, w.maxAckedOffset() + 1);
            ReplicatedPartition lp = c.partitionOn(c.awaitLeader(TOPIC, 0), TOPIC, 0);
            MiniCluster.waitFor(
                    () -> lp.logStartOffset() > followerEnd,
                    c.timeout(),
                    "the leader's log start passes the stopped follower's log end " + followerEnd);

            c.restart(follower);
            awaitExtensionsCaughtUp(c, w.maxAckedOffset() + 1);
            RecordingExtension f = ext(follower);
            assertTrue(f.snapshotLoads() > 0, "the follower loaded the extension's state from the leader's snapshot");
            int other = c.runningIds().stream()
                    .filter(b -> b != follower)
                    .findFirst()
                    .orElseThrow();
            assertEquals(ext(other).lines(), f.lines(), "same state on the follower as on broker " + other);
            assertAppliedOnceEach(f, "follower " + follower);
            // It keeps applying what comes after.
            Workload after = Workload.start(c, TOPIC, 0, "after");
            after.awaitMoreAcks(30, PROGRESS);
            after.stop();
            awaitExtensionsCaughtUp(c, after.maxAckedOffset() + 1);
            assertEquals(ext(other).lines(), ext(follower).lines());
        }
    }

    @Test
    void restartResumesWithoutApplyingTwice() throws Exception {
        try (MiniCluster c = start()) {
            c.createTopic(TOPIC, 1, 3);
            Workload w = Workload.start(c, TOPIC, 0, "r");
            w.awaitMoreAcks(100, PROGRESS);
            // A snapshot, then more entries: at the restart Raft replays from the snapshot, below what the extension
            // already persisted.
            for (int b : c.runningIds()) {
                c.get(c.partitionOn(b, TOPIC, 0).snapshot());
            }
            w.awaitMoreAcks(100, PROGRESS);
            w.stop();
            awaitExtensionsCaughtUp(c, w.maxAckedOffset() + 1);
            Map<Integer, Integer> before = new java.util.TreeMap<>();
            for (int b : List.of(1, 2, 3)) {
                before.put(b, ext(b).lines().size());
                c.kill(b);
            }
            for (int b : List.of(1, 2, 3)) {
                c.restart(b);
            }
            Workload more = Workload.start(c, TOPIC, 0, "more");
            more.awaitMoreAcks(50, PROGRESS);
            more.stop();
            awaitExtensionsCaughtUp(c, more.maxAckedOffset() + 1);
            List<String> expected = logBatches(c.partitionOn(c.awaitLeader(TOPIC, 0), TOPIC, 0));
            for (int b : List.of(1, 2, 3)) {
                RecordingExtension e = ext(b);
                assertEquals(expected, withoutTerm(e.lines()), "extension of broker " + b);
                assertAppliedOnceEach(e, "broker " + b);
                int appliedNow = e.appliedCounts().size();
                assertEquals(
                        e.lines().size() - before.get(b),
                        appliedNow,
                        "broker " + b + " applied only what came after its persisted state");
            }
        }
    }
}
