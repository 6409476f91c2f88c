package io.sluice.logstore;

/**
 * Timings of a broker's logs, for metrics: how long appends and fsyncs take. The log store has no metrics library; the
 * broker implements this interface over its own registry and passes it to the {@link FsyncScheduler} that every log of
 * the broker shares ({@link FsyncScheduler#start(String, LogStats)}), so one sink sees every log.
 *
 * <p>Callbacks run on the appending thread or on the fsync thread, once per append call and per fsync, with durations
 * measured by {@link System#nanoTime()}. They must be cheap and must not block or throw; what they throw is ignored.
 * Implementations must be thread-safe.
 */
public interface LogStats {

    /** Records nothing. */
    LogStats NONE = new LogStats() {};

    /**
     * One {@link Log#append} or {@link Log#appendAll} call finished: validation, the write of its batches into the
     * segment (one write per segment touched) and the index updates, plus the fsync under {@link
     * DurabilityPolicy#FSYNC_PER_APPEND}.
     *
     * @param batches batches written by the call
     * @param nanos duration of the call
     */
    default void onAppend(int batches, long nanos) {}

    /**
     * One fsync of a log's active segment finished (a grouped fsync covers every append queued before it started).
     *
     * @param nanos duration of the force call
     */
    default void onFsync(long nanos) {}
}
