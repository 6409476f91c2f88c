package io.sluice.replication.it;

import static io.sluice.replication.testkit.ReplicaInvariants.assertAcknowledgedExactlyOnce;
import static io.sluice.replication.testkit.ReplicaInvariants.assertByteIdentical;
import static io.sluice.replication.testkit.ReplicaInvariants.awaitConverged;

import io.sluice.replication.testkit.MiniCluster;
import io.sluice.replication.testkit.PartitionData;
import io.sluice.replication.testkit.ReplicaInvariants;
import io.sluice.replication.testkit.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded, randomized fault schedule on three brokers under a continuous write load on two partitions: each step
 * kills a broker (often the leader), restarts one, isolates one, cuts a link between two, or heals, keeping at most one
 * broker faulty at a time so that a majority can always make progress; after every step both partitions must commit
 * again. At the end everything is healed and restarted, and the invariants are checked: every acknowledged batch on
 * every replica exactly once at its offset, no committed entry lost (what was committed before a step is still a
 * prefix afterwards), byte-identical logs.
 *
 * <p>The seed is printed and part of every failure message; run again with {@code -Dsluice.seed=<seed>} (and {@code
 * -Dsluice.steps=<n>} for a longer schedule).
 */
class RandomizedFaultIT {

    private static final Duration PROGRESS = Duration.ofSeconds(30);
    private static final String TOPIC = "chaos";

    @TempDir
    Path dir;

    @Test
    void randomizedFaultScheduleKeepsEveryInvariant() throws Exception {
        long seed = Long.getLong("sluice.seed", new Random().nextLong());
        int steps = Integer.getInteger("sluice.steps", 12);
        System.out.println(
                "RandomizedFaultIT seed=" + seed + " steps=" + steps + " (rerun: -Dsluice.seed=" + seed + ")");
        try {
            run(new Random(seed), steps);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("randomized fault schedule failed with -Dsluice.seed=" + seed + ": " + e, e);
        }
    }

    private void run(Random rnd, int steps) throws Exception {
        try (MiniCluster c = MiniCluster.builder(dir)
                .brokers(3)
                .voters(3)
                .leaderRebalanceIntervalMs(1000)
                .start()) {
            c.createTopic(TOPIC, 2, 3);
            List<Workload> loads = List.of(Workload.start(c, TOPIC, 0, "p0"), Workload.start(c, TOPIC, 1, "p1"));
            List<String> log = new ArrayList<>();
            // Committed prefixes seen so far: offset -> value, per partition. A committed entry never changes.
            List<Map<Long, String>> committed = List.of(new HashMap<>(), new HashMap<>());
            Integer faulty = null; // the one broker that is down or cut off, if any
            boolean down = false;
            try {
                for (Workload w : loads) {
                    w.awaitMoreAcks(50, PROGRESS);
                }
                for (int step = 0; step < steps; step++) {
                    String action;
                    if (faulty != null && rnd.nextInt(3) > 0) {
                        if (down) {
                            c.restart(faulty);
                            action = "restart " + faulty;
                        } else {
                            c.heal();
                            action = "heal";
                        }
                        faulty = null;
                        down = false;
                    } else if (faulty == null) {
                        int kind = rnd.nextInt(4);
                        int victim = kind == 0
                                ? c.awaitLeader(TOPIC, rnd.nextInt(2))
                                : new ArrayList<>(c.runningIds())
                                        .get(rnd.nextInt(c.runningIds().size()));
                        switch (kind) {
                            case 0, 1 -> {
                                c.kill(victim);
                                down = true;
                                action = "kill " + victim + (kind == 0 ? " (a leader)" : "");
                            }
                            case 2 -> {
                                c.isolate(victim);
                                action = "isolate " + victim;
                            }
                            default -> {
                                List<Integer> others = new ArrayList<>(c.brokerIds());
                                others.remove(Integer.valueOf(victim));
                                int peer = others.get(rnd.nextInt(others.size()));
                                c.partition(victim, peer);
                                action = "cut " + victim + "<->" + peer;
                            }
                        }
                        faulty = victim;
                    } else {
                        action = "no change";
                    }
                    log.add(action);
                    System.out.println("RandomizedFaultIT step " + step + ": " + action);
                    // Progress: a majority is always up and connected, so both partitions must commit again.
                    for (Workload w : loads) {
                        w.awaitMoreAcks(10 + rnd.nextInt(40), PROGRESS);
                    }
                    recordCommitted(c, committed);
                }
                if (faulty != null && down) {
                    c.restart(faulty);
                }
                c.heal();
                log.add("final heal");
                for (Workload w : loads) {
                    w.awaitMoreAcks(50, PROGRESS);
                }
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("after steps " + log + ": " + e.getMessage(), e);
            } finally {
                loads.forEach(Workload::stop);
            }
            for (int p = 0; p < 2; p++) {
                Workload w = loads.get(p);
                awaitConverged(c, TOPIC, p, w.maxAckedOffset() + 1);
                assertAcknowledgedExactlyOnce(c, TOPIC, p, w.acked());
                assertByteIdentical(c, TOPIC, p);
                for (var replica :
                        ReplicaInvariants.runningReplicas(c, TOPIC, p).entrySet()) {
                    Map<Long, String> now = new HashMap<>();
                    PartitionData.committedRecords(replica.getValue()).forEach(e -> now.put(e.offset(), e.value()));
                    for (Map.Entry<Long, String> e : committed.get(p).entrySet()) {
                        String v = now.get(e.getKey());
                        if (!e.getValue().equals(v)) {
                            throw new AssertionError("partition " + p + " broker " + replica.getKey()
                                    + ": committed offset " + e.getKey() + " was " + e.getValue() + ", now " + v
                                    + " (steps " + log + ")");
                        }
                    }
                }
            }
        }
    }

    /** Remembers what every running replica reports as committed, failing if it contradicts what was seen before. */
    private static void recordCommitted(MiniCluster c, List<Map<Long, String>> committed) {
        for (int p = 0; p < 2; p++) {
            for (int b : c.runningIds()) {
                var replica = c.node(b).partition(TOPIC, p);
                if (replica.isEmpty() || !replica.get().isOpen()) {
                    continue;
                }
                for (PartitionData.Entry e : PartitionData.committedRecords(replica.get())) {
                    String before = committed.get(p).putIfAbsent(e.offset(), e.value());
                    if (before != null && !before.equals(e.value())) {
                        throw new AssertionError("partition " + p + " broker " + b + ": committed offset " + e.offset()
                                + " holds " + e.value() + " but held " + before + " before");
                    }
                }
            }
        }
    }
}
