package io.sluice.client;

import java.time.Duration;

/**
 * Configures a {@link Producer}. Values are validated by {@link #create()}. Not thread-safe: configure from one
 * thread.
 */
public interface ProducerBuilder {
    /** How long a batch waits for more records before it is sent. Default 5 ms; 0 sends as soon as possible. */
    ProducerBuilder linger(Duration linger);

    /** Target size in bytes of one batch; a larger single record gets a batch of its own. Default 65536. */
    ProducerBuilder batchSize(int bytes);

    /** Codec for batch payloads. Default {@link Compression#NONE}. */
    ProducerBuilder compression(Compression compression);

    /** When a batch counts as written. Default {@link Acks#QUORUM}. */
    ProducerBuilder acks(Acks acks);

    /**
     * Maximum produce requests awaiting a response on one broker's stream. Default 10. Partitions led by the same
     * broker take turns for these slots, one batch each, so a busy partition cannot hold back the others.
     */
    ProducerBuilder maxInFlight(int requests);

    /** Bytes of records the producer may hold unacknowledged before {@code sendAsync} blocks. Default 32 MiB. */
    ProducerBuilder bufferMemory(long bytes);

    /** How long {@code sendAsync} may block for buffer space or topic metadata before failing. Default 60 s. */
    ProducerBuilder maxBlock(Duration maxBlock);

    /**
     * How many times a batch is resent after a retriable failure. Default {@link Integer#MAX_VALUE}, bounded by
     * {@link #deliveryTimeout(Duration)}.
     */
    ProducerBuilder retries(int retries);

    /** Upper bound on the time from {@code sendAsync} to the record's outcome. Default 120 s. */
    ProducerBuilder deliveryTimeout(Duration timeout);

    /** Time the broker may take to acknowledge one request before it answers REQUEST_TIMED_OUT. Default 30 s. */
    ProducerBuilder requestTimeout(Duration timeout);

    /** Pause before resending a batch after a retriable failure. Default 100 ms. */
    ProducerBuilder retryBackoff(Duration backoff);

    /** Builds and starts the producer. */
    Producer create();
}
