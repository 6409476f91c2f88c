package io.sluice.broker.internal.group;

/**
 * The coordinator's settings, read once from the broker configuration.
 *
 * @param heartbeatIntervalMs interval members are told to heartbeat at ({@code group.heartbeat.interval.ms})
 * @param sessionTimeoutMs session timeout of a member that asks for none ({@code group.session.timeout.ms})
 * @param minSessionTimeoutMs smallest session timeout a member may ask for ({@code group.min.session.timeout.ms})
 * @param maxSessionTimeoutMs largest session timeout a member may ask for ({@code group.max.session.timeout.ms})
 * @param rebalanceTimeoutMs rebalance timeout of a member that asks for none ({@code group.rebalance.timeout.ms})
 * @param offsetsRetentionMs how long an empty group's offsets outlive its last commit ({@code offsets.retention.ms})
 * @param retentionCheckIntervalMs how often expired groups are looked for ({@code
 *     offsets.retention.check.interval.ms})
 */
public record GroupConfig(
        int heartbeatIntervalMs,
        int sessionTimeoutMs,
        int minSessionTimeoutMs,
        int maxSessionTimeoutMs,
        int rebalanceTimeoutMs,
        long offsetsRetentionMs,
        long retentionCheckIntervalMs) {

    /** The documented defaults. */
    public static GroupConfig defaults() {
        return new GroupConfig(1000, 10_000, 2000, 300_000, 60_000, 7L * 24 * 3600 * 1000, 600_000);
    }

    public GroupConfig {
        if (heartbeatIntervalMs < 1
                || minSessionTimeoutMs <= heartbeatIntervalMs
                || sessionTimeoutMs < minSessionTimeoutMs
                || sessionTimeoutMs > maxSessionTimeoutMs
                || rebalanceTimeoutMs < 1
                || offsetsRetentionMs < 1
                || retentionCheckIntervalMs < 1) {
            throw new IllegalArgumentException("inconsistent group settings: need 0 < heartbeat interval ("
                    + heartbeatIntervalMs + ") < min session timeout (" + minSessionTimeoutMs
                    + ") <= session timeout (" + sessionTimeoutMs + ") <= max session timeout ("
                    + maxSessionTimeoutMs + "), and positive rebalance timeout and retention settings");
        }
    }
}
