package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.replication.ReplicaId;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The leader's in-sync rule: acknowledged recently and caught up recently, judged from periodic samples. */
class InSyncTrackerTest {
    static final ReplicaId F1 = new ReplicaId(2, "127.0.0.1", 7001);
    static final ReplicaId F2 = new ReplicaId(3, "127.0.0.1", 7002);
    static final long LAG = 1000;

    static InSyncTracker.Progress p(ReplicaId f, long match, long ackMs) {
        return new InSyncTracker.Progress(f, match, ackMs);
    }

    @Test
    void theProbeReadsFollowerProgressFromThisJRaftVersion() {
        // Otherwise in-sync replicas silently degrade to JRaft's liveness view.
        assertTrue(ReplicatorProbe.available(), "JRaft's NodeImpl.replicatorGroup field is readable");
    }

    @Test
    void aNewLeaderCountsEveryFollowerInSyncUntilTheLagBoundPasses() {
        InSyncTracker t = new InSyncTracker(LAG);
        t.reset(0, List.of(F1, F2));
        // F2 is behind and silent since the leader started; within the bound it still counts.
        assertEquals(List.of(F1, F2), t.sample(500, 10, List.of(p(F1, 10, 500), p(F2, 3, 0))));
        assertEquals(List.of(F1, F2), t.sample(1000, 10, List.of(p(F1, 10, 1000), p(F2, 3, 0))));
        assertEquals(List.of(F1), t.sample(1500, 10, List.of(p(F1, 10, 1500), p(F2, 3, 0))));
    }

    @Test
    void aFollowerKeepingUpWithSteadyAppendsStaysInSync() {
        InSyncTracker t = new InSyncTracker(LAG);
        t.reset(0, List.of(F1));
        long leaderLast = 100;
        for (long now = 500; now <= 10_000; now += 500) {
            // The follower always holds what the leader had one sample ago, never the very latest entry.
            long match = leaderLast;
            leaderLast += 50;
            assertEquals(List.of(F1), t.sample(now, leaderLast, List.of(p(F1, match, now))), "at " + now);
        }
    }

    @Test
    void aFollowerThatAcknowledgesButFallsBehindDropsOutAndReturnsWhenCaughtUp() {
        InSyncTracker t = new InSyncTracker(LAG);
        t.reset(0, List.of(F1));
        long leaderLast = 100;
        long now = 0;
        List<ReplicaId> last = List.of();
        for (int i = 0; i < 6; i++) {
            now += 500;
            leaderLast += 1000;
            // Heartbeats succeed, but the follower stays at index 100 (e.g. a slow disk or a snapshot install).
            last = t.sample(now, leaderLast, List.of(p(F1, 100, now)));
        }
        assertEquals(List.of(), last, "behind for longer than the lag bound");
        now += 500;
        assertEquals(List.of(F1), t.sample(now, leaderLast, List.of(p(F1, leaderLast, now))));
    }

    @Test
    void aSilentFollowerDropsOutEvenWhenNothingIsAppended() {
        InSyncTracker t = new InSyncTracker(LAG);
        t.reset(0, List.of(F1));
        // Nothing is written, so the stopped follower still holds the whole log: only the missing acks show it.
        assertEquals(List.of(F1), t.sample(500, 7, List.of(p(F1, 7, 200))));
        assertEquals(List.of(F1), t.sample(1000, 7, List.of(p(F1, 7, 200))));
        assertEquals(List.of(), t.sample(1500, 7, List.of(p(F1, 7, 200))));
    }

    @Test
    void aFollowerAddedLaterIsOutOfSyncUntilItCatchesUp() {
        InSyncTracker t = new InSyncTracker(LAG);
        t.reset(0, List.of(F1));
        assertEquals(List.of(F1), t.sample(500, 50, List.of(p(F1, 50, 500), p(F2, 0, 500))));
        assertEquals(List.of(F1, F2), t.sample(1000, 50, List.of(p(F1, 50, 1000), p(F2, 50, 1000))));
    }
}
