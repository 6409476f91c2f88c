package io.sluice.client;

import java.time.Duration;

/**
 * Configures a {@link Consumer}. Values are validated by {@link #create()}. Not thread-safe: configure from one
 * thread.
 */
public interface ConsumerBuilder {
    /**
     * Fetch responses each partition's stream may deliver ahead of {@code poll}. Client memory per partition is
     * bounded by {@code credits × maxBytesPerResponse}. Default 16 (4 MiB with the default response size). Credits
     * go back to the broker a quarter at a time (at least one), so it always holds three quarters of them.
     */
    ConsumerBuilder credits(int credits);

    /**
     * Upper bound on record bytes in one fetch response (one larger batch is still delivered). Default 256 KiB:
     * responses of 512 KiB or more become humongous objects in a G1 heap of up to 2 GiB, which a JVM whose heap is
     * still cold allocates in untouched memory, paying a page fault per page.
     */
    ConsumerBuilder maxBytesPerResponse(int bytes);

    /** Records returned by one {@code poll} at most. Default 500. */
    ConsumerBuilder maxPollRecords(int records);

    /**
     * What to do when the position is out of the readable range. Default {@link OffsetReset#NONE}; with a group id
     * the default is the {@link #autoOffsetReset} policy.
     */
    ConsumerBuilder offsetReset(OffsetReset policy);

    /**
     * The consumer group this consumer belongs to: needed for {@link Consumer#subscribe} and for commits. With a
     * group id, partitions given to {@link Consumer#assign} also start at the group's committed offsets (and commit
     * without membership, allowed while the group has no members). 1-255 bytes of UTF-8. Default: none.
     */
    ConsumerBuilder groupId(String groupId);

    /**
     * Static membership: a stable id of this consumer instance (e.g. its host name), unique in the group. A
     * restarted consumer with the same instance id takes over its previous assignment without a rebalance, as long
     * as it returns within the session timeout; {@link Consumer#close()} therefore does not leave the group. Two
     * running consumers with the same instance id are a configuration error: the older one fails with
     * FENCED_INSTANCE_ID. Default: none (a dynamic member).
     */
    ConsumerBuilder groupInstanceId(String instanceId);

    /**
     * Whether positions are committed automatically: every {@link #autoCommitInterval}, from within
     * {@code poll}, before partitions are revoked, and on close. Default true.
     */
    ConsumerBuilder autoCommit(boolean enabled);

    /** How often auto-commit commits the positions. Default 5 s. */
    ConsumerBuilder autoCommitInterval(Duration interval);

    /**
     * How long the coordinator waits for a heartbeat before it removes this member and reassigns its partitions
     * (heartbeats come from a consumer-owned thread, independent of {@code poll}). Whole milliseconds. Default: the
     * broker's default.
     */
    ConsumerBuilder sessionTimeout(Duration timeout);

    /**
     * The server-side assignor the group uses, e.g. {@code "sticky"}, {@code "range"} or {@code "round-robin"}
     * (the names the broker offers; an unknown one fails {@code poll} with UNSUPPORTED_ASSIGNOR). All members of a
     * group must name the same one (else INCONSISTENT_ASSIGNOR). Default: empty, the broker's default
     * ({@code uniform}: spreads partitions evenly and keeps them where they are when it can).
     */
    ConsumerBuilder assignor(String name);

    /**
     * Where a group partition without a committed offset starts: {@link OffsetReset#EARLIEST} (the log start) or
     * {@link OffsetReset#LATEST} (only records committed from then on). Default {@link OffsetReset#EARLIEST}, as for
     * partitions given to {@code assign} (Kafka's default is latest).
     */
    ConsumerBuilder autoOffsetReset(OffsetReset policy);

    /** Builds the consumer, with nothing assigned. */
    Consumer create();

    /** What a consumer does when its position is out of the partition's readable range. */
    enum OffsetReset {
        /** Fail {@code poll} with {@link OffsetOutOfRangeException}. */
        NONE,
        /** Jump to the log start offset. */
        EARLIEST,
        /** Jump to the high watermark. */
        LATEST
    }
}
