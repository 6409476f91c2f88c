package io.sluice.replication.it;

import static io.sluice.replication.testkit.ReplicaInvariants.assertAcknowledgedExactlyOnce;
import static io.sluice.replication.testkit.ReplicaInvariants.assertByteIdentical;
import static io.sluice.replication.testkit.ReplicaInvariants.awaitConverged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.logstore.LogConfig;
import io.sluice.replication.AppendResult;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.testkit.MiniCluster;
import io.sluice.replication.testkit.PartitionData;
import io.sluice.replication.testkit.ReplicaInvariants;
import io.sluice.replication.testkit.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replication under faults, on real replicas in a {@link MiniCluster} of three brokers (RF 3): leader crash under load,
 * minority/majority partition with a divergent uncommitted tail, catch-up through a snapshot after retention, restart
 * of every broker. Each test ends by healing everything and checking that every acknowledged batch is on every replica
 * exactly once at its acknowledged offset and that the logs are byte-identical up to the committed offset.
 */
class FaultIT {

    private static final Duration PROGRESS = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private MiniCluster start() throws Exception {
        return MiniCluster.builder(dir).brokers(3).voters(3).start();
    }

    private static void assertHealthy(
            MiniCluster c, String topic, int partition, Map<String, AppendResult> acked, long maxAcked) {
        awaitConverged(c, topic, partition, maxAcked + 1);
        assertAcknowledgedExactlyOnce(c, topic, partition, acked);
        assertByteIdentical(c, topic, partition);
    }

    @Test
    void leaderKilledUnderContinuousLoadLosesNoAcknowledgedBatch() throws Exception {
        try (MiniCluster c = start()) {
            c.createTopic("load", 1, 3);
            Workload w = Workload.start(c, "load", 0, "w");
            try {
                w.awaitMoreAcks(300, PROGRESS);
                int leader = c.awaitLeader("load", 0);
                c.kill(leader);
                int next = c.awaitLeader("load", 0);
                assertNotEquals(leader, next);
                w.awaitMoreAcks(300, PROGRESS);
                c.restart(leader);
                w.awaitMoreAcks(200, PROGRESS);
            } finally {
                w.stop();
            }
            assertHealthy(c, "load", 0, w.acked(), w.maxAckedOffset());
        }
    }

    @Test
    void minorityCannotCommitMajorityContinuesAndDivergentTailIsTruncated() throws Exception {
        try (MiniCluster c = start()) {
            c.createTopic("split", 1, 3);
            Workload before = Workload.start(c, "split", 0, "pre");
            before.awaitMoreAcks(100, PROGRESS);
            before.stop();
            int old = c.awaitLeader("split", 0);
            ReplicatedPartition oldReplica = c.partitionOn(old, "split", 0);
            MiniCluster.waitFor(
                    () -> oldReplica.highWatermark() == oldReplica.logEndOffset(),
                    PROGRESS,
                    "old leader fully committed");
            long oldHw = oldReplica.highWatermark();

            c.isolate(old);
            // Proposed at once, before the isolated leader can notice it lost its quorum: it takes this into its log.
            oldReplica.append(PartitionData.batch("minority-first"), io.sluice.replication.AckMode.QUORUM);
            Workload minority = Workload.start(c, "split", 0, "minority");
            minority.pinTo(old);
            // The isolated leader takes appends into its log until it notices it lost its quorum...
            MiniCluster.waitFor(
                    () -> oldReplica.logEndOffset() > oldHw, PROGRESS, "an uncommitted tail on the old leader");
            // ...while the majority elects another leader and keeps committing.
            int fresh = c.awaitLeader("split", 0, id -> id != old);
            Workload majority = Workload.start(c, "split", 0, "majority");
            majority.awaitMoreAcks(200, PROGRESS);
            assertEquals(0, minority.ackedCount(), "the minority side acknowledged a write");
            assertEquals(oldHw, oldReplica.highWatermark(), "the minority side advanced its high watermark");
            assertTrue(oldReplica.logEndOffset() > oldHw);
            minority.stop();
            assertEquals(0, minority.ackedCount());

            c.heal();
            majority.awaitMoreAcks(100, PROGRESS);
            majority.stop();
            Map<String, AppendResult> acked = new HashMap<>(before.acked());
            acked.putAll(majority.acked());
            assertHealthy(c, "split", 0, acked, majority.maxAckedOffset());
            // The old leader's divergent tail was truncated: no minority write survives anywhere.
            for (ReplicatedPartition p :
                    ReplicaInvariants.runningReplicas(c, "split", 0).values()) {
                for (PartitionData.Entry e : PartitionData.committedRecords(p)) {
                    assertTrue(!e.value().startsWith("minority-"), "minority write " + e + " survived on " + p.self());
                }
            }
            assertNotEquals(old, fresh);
        }
    }

    @Test
    void followerFarBehindCatchesUpThroughASnapshot() throws Exception {
        try (MiniCluster c = MiniCluster.builder(dir).brokers(3).voters(3).start()) {
            // Small segments and size retention, so the leader deletes what the stopped follower needs.
            c.createTopic("snap", 1, 3, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_BYTES, "4096"));
            int leader = c.awaitLeader("snap", 0);
            int follower = c.replicasOf("snap", 0).stream()
                    .filter(b -> b != leader)
                    .findFirst()
                    .orElseThrow();
            Workload w = Workload.start(c, "snap", 0, "s");
            w.awaitMoreAcks(50, PROGRESS);
            long followerEnd = c.partitionOn(follower, "snap", 0).logEndOffset();
            c.kill(follower);
            // Retention runs through snapshots: a snapshot lets the log drop what the previous snapshot covers (and
            // retention allows), so two rounds of writes + snapshots move the leader's log start on.
            for (int round = 0; round < 2; round++) {
                w.awaitMoreAcks(300, PROGRESS);
                for (int b : c.runningIds()) {
                    c.get(c.partitionOn(b, "snap", 0).snapshot());
                }
            }
            w.stop();
            long end = w.maxAckedOffset() + 1;
            awaitConverged(c, "snap", 0, end);
            int currentLeader = c.awaitLeader("snap", 0);
            ReplicatedPartition lp = c.partitionOn(currentLeader, "snap", 0);
            // The prefix is cut on the log's disk thread after the snapshot completes: waited for.
            MiniCluster.waitFor(
                    () -> lp.logStartOffset() > followerEnd,
                    PROGRESS,
                    () -> "retention deleted what the stopped follower (log end " + followerEnd + ") needs: "
                            + ReplicaInvariants.describe(c, "snap", 0));

            c.restart(follower);
            ReplicatedPartition fp = c.partitionOn(follower, "snap", 0);
            awaitConverged(c, "snap", 0, end);
            assertTrue(fp.logStartOffset() > followerEnd, "the follower's log now starts at the snapshot");
            assertAcknowledgedExactlyOnce(c, "snap", 0, w.acked());
            assertByteIdentical(c, "snap", 0);
            // And it keeps replicating normally afterwards.
            Workload after = Workload.start(c, "snap", 0, "after");
            after.awaitMoreAcks(50, PROGRESS);
            after.stop();
            assertHealthy(c, "snap", 0, after.acked(), after.maxAckedOffset());
        }
    }

    @Test
    void restartOfEveryBrokerRecoversEveryCommittedEntry() throws Exception {
        try (MiniCluster c = start()) {
            c.createTopic("durable", 2, 3);
            Workload w0 = Workload.start(c, "durable", 0, "a");
            Workload w1 = Workload.start(c, "durable", 1, "b");
            w0.awaitMoreAcks(300, PROGRESS);
            w1.awaitMoreAcks(300, PROGRESS);
            // Crash everyone while writes are in flight.
            for (int b : List.of(1, 2, 3)) {
                c.kill(b);
            }
            w0.stop();
            w1.stop();
            for (int b : List.of(3, 1, 2)) {
                c.restart(b);
            }
            c.awaitLeader("durable", 0);
            c.awaitLeader("durable", 1);
            assertHealthy(c, "durable", 0, w0.acked(), w0.maxAckedOffset());
            assertHealthy(c, "durable", 1, w1.acked(), w1.maxAckedOffset());
        }
    }
}
