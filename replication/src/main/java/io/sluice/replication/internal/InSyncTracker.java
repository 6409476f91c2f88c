package io.sluice.replication.internal;

import io.sluice.replication.ReplicaId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The leader's view of which followers are in sync, after Kafka's ISR rule: a follower is in sync while it acknowledged
 * a Raft request within {@code lagMaxMs} AND was caught up with the leader's log at some point within {@code lagMaxMs}.
 *
 * <p>"Caught up" is judged from periodic samples (time, leader's last log index, each follower's match index): at a
 * sample a follower holding the leader's current last index is caught up now; one holding at least the last index of
 * the previous sample was caught up as of the previous sample. So a follower that keeps up with a steady stream of
 * appends never drops out (it always holds what the leader had one sample ago), while one that stops acknowledging, or
 * falls and stays behind, drops out after {@code lagMaxMs}. A new leader starts by counting every follower caught up
 * (as Kafka's new leader starts from the ISR it was given); followers that appear later (a membership change) are out
 * of sync until they catch up. Times are monotonic milliseconds.
 *
 * <p>Thread-safe (synchronized); sampled by one housekeeping thread, read by any.
 */
final class InSyncTracker {
    private final long lagMaxMs;
    private final Map<ReplicaId, Long> caughtUpMs = new HashMap<>();
    private long prevSampleMs = Long.MIN_VALUE;
    private long prevLeaderLastIndex = Long.MAX_VALUE;

    /** One follower's progress as the leader's replicator sees it. */
    record Progress(ReplicaId follower, long matchIndex, long lastAckMs) {}

    InSyncTracker(long lagMaxMs) {
        this.lagMaxMs = lagMaxMs;
    }

    /** A new leadership starts at {@code nowMs}: every follower counts as caught up now. */
    synchronized void reset(long nowMs, List<ReplicaId> followers) {
        caughtUpMs.clear();
        for (ReplicaId f : followers) {
            caughtUpMs.put(f, nowMs);
        }
        prevSampleMs = Long.MIN_VALUE;
        prevLeaderLastIndex = Long.MAX_VALUE;
    }

    /**
     * Records one sample and returns the followers in sync, in the order given.
     *
     * @param leaderLastIndex the leader's last log index now
     * @param followers every follower of the current configuration with its progress
     */
    synchronized List<ReplicaId> sample(long nowMs, long leaderLastIndex, List<Progress> followers) {
        List<ReplicaId> inSync = new ArrayList<>(followers.size());
        Map<ReplicaId, Long> kept = new HashMap<>();
        for (Progress p : followers) {
            long caughtUp = caughtUpMs.getOrDefault(p.follower(), Long.MIN_VALUE);
            if (p.matchIndex() >= leaderLastIndex) {
                caughtUp = nowMs;
            } else if (p.matchIndex() >= prevLeaderLastIndex && prevSampleMs > caughtUp) {
                caughtUp = prevSampleMs;
            }
            kept.put(p.follower(), caughtUp);
            if (within(nowMs, caughtUp) && within(nowMs, p.lastAckMs())) {
                inSync.add(p.follower());
            }
        }
        // Followers no longer in the configuration are forgotten.
        caughtUpMs.clear();
        caughtUpMs.putAll(kept);
        prevSampleMs = nowMs;
        prevLeaderLastIndex = leaderLastIndex;
        return inSync;
    }

    private boolean within(long nowMs, long thenMs) {
        return thenMs != Long.MIN_VALUE && nowMs - thenMs <= lagMaxMs;
    }
}
