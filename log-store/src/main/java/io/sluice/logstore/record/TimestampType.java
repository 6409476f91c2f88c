package io.sluice.logstore.record;

/**
 * What a batch's timestamps mean: the producer's create time, or the broker's log-append time
 * (attribute bit {@link BatchHeader#ATTR_LOG_APPEND_TIME}). With log-append time every record of the
 * batch reports the batch's {@code maxTimestamp}.
 *
 * <p>This enum is immutable and thread-safe.
 */
public enum TimestampType {
    CREATE_TIME,
    LOG_APPEND_TIME
}
