package io.sluice.replication.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.ReplicationConfig;
import io.sluice.replication.testkit.MiniCluster;
import io.sluice.replication.testkit.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's in-sync replica set on real replicas: every replica while all are up (also under load), the crashed
 * follower drops out after {@code raft.replica.lag.time.max.ms}, and comes back once restarted and caught up. Only the
 * leader reports a set.
 */
class InSyncReplicasIT {
    private static final Duration PROGRESS = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aCrashedFollowerLeavesTheInSyncSetAndReturnsAfterItsRestart() throws Exception {
        try (MiniCluster c = MiniCluster.builder(dir)
                .brokers(3)
                .voters(3)
                .configure(cfg ->
                        cfg.withReplication(cfg.replication().with(ReplicationConfig.REPLICA_LAG_TIME_MAX_MS, "1500")))
                .start()) {
            c.createTopic("isr", 1, 3);
            int leader = c.awaitLeader("isr", 0);
            ReplicatedPartition lead = c.partitionOn(leader, "isr", 0);
            Workload w = Workload.start(c, "isr", 0, "w");
            try {
                w.awaitMoreAcks(200, PROGRESS);
                // Under load, followers that keep up stay in sync (checked after the lag bound has passed).
                long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
                while (System.nanoTime() < until) {
                    w.awaitMoreAcks(20, PROGRESS);
                }
                // Waited for, not sampled once: a follower's fsync stall on a loaded machine may drop it for a moment.
                MiniCluster.waitFor(
                        () -> !lead.isLeader() || lead.inSyncReplicas().size() == 3,
                        PROGRESS,
                        () -> "3 replicas in sync: " + lead.inSyncReplicas());
                List<ReplicaId> isr = lead.inSyncReplicas();
                if (!isr.isEmpty()) {
                    assertEquals(leader, isr.get(0).brokerId(), "the leader comes first");
                }
            } finally {
                w.stop();
            }
            leader = c.awaitLeader("isr", 0);
            ReplicatedPartition current = c.partitionOn(leader, "isr", 0);
            int follower = c.replicasOf("isr", 0).stream()
                    .filter(id -> id != current.self().brokerId())
                    .findFirst()
                    .orElseThrow();
            assertEquals(List.of(), c.partitionOn(follower, "isr", 0).inSyncReplicas(), "only the leader knows");

            c.kill(follower);
            MiniCluster.waitFor(
                    () -> current.isLeader()
                            && current.inSyncReplicas().size() == 2
                            && current.inSyncReplicas().stream().noneMatch(r -> r.brokerId() == follower),
                    c.timeout(),
                    "broker " + follower + " leaves the in-sync set of " + current);
            List<ReplicaId> inSync = current.inSyncReplicas();
            assertTrue(
                    inSync.stream().anyMatch(r -> r.brokerId() == current.self().brokerId()), inSync.toString());

            c.restart(follower);
            MiniCluster.waitFor(
                    () -> current.isLeader() && current.inSyncReplicas().size() == 3,
                    c.timeout(),
                    "broker " + follower + " is back in the in-sync set of " + current);
        }
    }
}
