package io.sluice.logstore;

/**
 * When appended bytes are forced to stable storage ({@code FileChannel.force}).
 *
 * <ul>
 *   <li>{@link #FSYNC_PER_APPEND}: every {@code append}/{@code appendAll} call forces the log before it
 *       returns; {@code durableEndOffset()} equals the log end offset on return.
 *   <li>{@link #GROUPED}: appends return at once; callers that need durability call {@code flushAsync()},
 *       whose fsyncs run on the shared {@link FsyncScheduler} thread and are shared by every request that
 *       is waiting at the time (group commit).
 *   <li>{@link #NONE}: the log forces only when a segment rolls, on {@code close()}, and when someone
 *       explicitly calls {@code flushAsync()}.
 * </ul>
 *
 * <p>This enum is immutable and thread-safe.
 */
public enum DurabilityPolicy {
    FSYNC_PER_APPEND,
    GROUPED,
    NONE
}
