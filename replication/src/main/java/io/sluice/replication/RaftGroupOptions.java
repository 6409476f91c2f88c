package io.sluice.replication;

/**
 * Raft options of one partition's group.
 *
 * <p>Invariants: {@code electionTimeoutMs >= 100}; {@code snapshotIntervalMs >= 0} (0 disables periodic snapshots;
 * the value is rounded up to whole seconds). Immutable and thread-safe.
 *
 * @param electionTimeoutMs the election timeout ({@value ReplicationConfig#ELECTION_TIMEOUT_MS})
 * @param snapshotIntervalMs the snapshot interval ({@value ReplicationConfig#SNAPSHOT_INTERVAL_MS})
 */
public record RaftGroupOptions(int electionTimeoutMs, long snapshotIntervalMs) {

    public RaftGroupOptions {
        if (electionTimeoutMs < 100) {
            throw new IllegalArgumentException("electionTimeoutMs must be >= 100: " + electionTimeoutMs);
        }
        if (snapshotIntervalMs < 0) {
            throw new IllegalArgumentException("snapshotIntervalMs must be >= 0: " + snapshotIntervalMs);
        }
    }
}
