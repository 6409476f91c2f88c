package io.sluice.client;

import java.time.Instant;
import java.util.Objects;

/**
 * Where {@link Admin#resetOffsets} moves a group's committed offsets. Every new offset is clamped by the coordinator
 * to the partition's readable range {@code [log start, high watermark]}.
 *
 * <p>Immutable and thread-safe.
 */
public sealed interface OffsetResetSpec {
    /** To the log start offset. */
    static OffsetResetSpec earliest() {
        return Earliest.INSTANCE;
    }

    /** To the high watermark: the group skips everything written so far. */
    static OffsetResetSpec latest() {
        return Latest.INSTANCE;
    }

    /** To this offset ({@code >= 0}). */
    static OffsetResetSpec toOffset(long offset) {
        return new ToOffset(offset);
    }

    /** To the first record whose timestamp is {@code >= time}; the high watermark when there is none. */
    static OffsetResetSpec toTime(Instant time) {
        return new ToTime(time);
    }

    /** By {@code delta} offsets from the committed offset (negative moves back); needs a committed offset. */
    static OffsetResetSpec shiftBy(long delta) {
        return new ShiftBy(delta);
    }

    /** See {@link #earliest()}. */
    enum Earliest implements OffsetResetSpec {
        INSTANCE
    }

    /** See {@link #latest()}. */
    enum Latest implements OffsetResetSpec {
        INSTANCE
    }

    /**
     * See {@link #toOffset(long)}.
     *
     * @param offset the offset, {@code >= 0}
     */
    record ToOffset(long offset) implements OffsetResetSpec {
        public ToOffset {
            if (offset < 0) {
                throw new IllegalArgumentException("offset must be >= 0, got " + offset);
            }
        }
    }

    /**
     * See {@link #toTime(Instant)}.
     *
     * @param time the time
     */
    record ToTime(Instant time) implements OffsetResetSpec {
        public ToTime {
            Objects.requireNonNull(time, "time");
            if (time.toEpochMilli() < 0) {
                throw new IllegalArgumentException("time must not be before 1970-01-01T00:00:00Z, got " + time);
            }
        }
    }

    /**
     * See {@link #shiftBy(long)}.
     *
     * @param delta offsets to move by; negative moves back
     */
    record ShiftBy(long delta) implements OffsetResetSpec {}
}
