package io.sluice.client;

import java.time.Instant;
import java.util.Objects;

/**
 * What offset to look up in a partition: the earliest retained, the latest (the high watermark, where the next
 * committed record will land) or the first record at or after a time.
 *
 * <p>Immutable and thread-safe.
 */
public sealed interface OffsetSpec {
    /** The log start offset. */
    static OffsetSpec earliest() {
        return Earliest.INSTANCE;
    }

    /** The high watermark. */
    static OffsetSpec latest() {
        return Latest.INSTANCE;
    }

    /** The first record whose timestamp is {@code >= time}; the high watermark when there is none. */
    static OffsetSpec forTimestamp(Instant time) {
        return new ForTimestamp(time);
    }

    /** See {@link OffsetSpec#earliest()}. */
    enum Earliest implements OffsetSpec {
        INSTANCE
    }

    /** See {@link OffsetSpec#latest()}. */
    enum Latest implements OffsetSpec {
        INSTANCE
    }

    /**
     * See {@link OffsetSpec#forTimestamp(Instant)}.
     *
     * @param time the time to look up
     */
    record ForTimestamp(Instant time) implements OffsetSpec {
        public ForTimestamp {
            Objects.requireNonNull(time, "time");
        }
    }
}
