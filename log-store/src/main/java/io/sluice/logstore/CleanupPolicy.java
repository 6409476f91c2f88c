package io.sluice.logstore;

/**
 * How old data leaves a log.
 *
 * <ul>
 *   <li>{@link #DELETE}: whole closed segments are deleted by size and time retention.
 *   <li>{@link #COMPACT}: closed segments are compacted to the latest record per key; nothing is deleted by
 *       retention.
 *   <li>{@link #COMPACT_DELETE}: both.
 * </ul>
 *
 * <p>This enum is immutable and thread-safe.
 */
public enum CleanupPolicy {
    DELETE,
    COMPACT,
    COMPACT_DELETE;

    /** True when size/time retention applies. */
    public boolean deletes() {
        return this != COMPACT;
    }

    /** True when {@code Log.compact()} rewrites segments. */
    public boolean compacts() {
        return this != DELETE;
    }
}
