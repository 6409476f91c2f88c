package io.sluice.broker.internal.metrics;

import io.sluice.proto.v1.ErrorCode;

/**
 * What the Produce and Fetch services record, as plain calls: the services stay free of the metrics library and their
 * tests can pass {@link #NONE}. {@link BrokerMetrics#requests()} is the real implementation.
 *
 * <p>Implementations are thread-safe and cheap (no allocation per call on the success paths).
 */
public interface RequestMetrics {

    /** Records nothing. */
    RequestMetrics NONE = new RequestMetrics() {};

    /**
     * A produce batch was appended and acknowledged.
     *
     * @param records records in the batch
     * @param bytes the batch's size
     * @param quorum whether it was acknowledged after a quorum commit ({@code acks=quorum}) rather than the leader's
     *     own fsync
     * @param nanos from receiving the request to acknowledging it
     */
    default void produced(String topic, int records, int bytes, boolean quorum, long nanos) {}

    /** A produce batch was answered with {@code code}. */
    default void produceFailed(String topic, ErrorCode code) {}

    /**
     * One fetch response was handed to gRPC.
     *
     * @param records data records in its batches (control batches excluded)
     * @param bytes its batch bytes
     * @param nanos from the start of the log read to handing the response over
     */
    default void fetched(String topic, int records, int bytes, long nanos) {}
}
