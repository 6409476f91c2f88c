package io.sluice.client;

import io.sluice.client.internal.ClientBuilderImpl;
import java.time.Duration;

/**
 * The entry point: a connection to a Sluice cluster from which producers, consumers and the admin API are
 * created.
 *
 * <pre>{@code
 * try (SluiceClient client = SluiceClient.builder().bootstrap("127.0.0.1:7070").build();
 *      Producer producer = client.newProducer().linger(Duration.ofMillis(5)).create()) {
 *     producer.send(Record.of("orders", "key", "value"));
 * }
 * }</pre>
 *
 * <p>The client keeps a metadata cache (topic → partitions → leader endpoint) filled from the brokers and
 * refreshed when a broker answers NOT_LEADER, UNKNOWN_TOPIC or cannot be reached, and one connection per broker,
 * shared by everything it created. {@link #close()} closes the producers and consumers it created, then the
 * connections; it is idempotent.
 *
 * <p>This interface's implementation is thread-safe.
 */
public interface SluiceClient extends AutoCloseable {

    /** A builder with the defaults documented on {@link Builder}. */
    static Builder builder() {
        return new ClientBuilderImpl();
    }

    /** A builder for a producer sharing this client's connections and metadata. */
    ProducerBuilder newProducer();

    /** A builder for a consumer sharing this client's connections and metadata. */
    ConsumerBuilder newConsumer();

    /** The admin API (one instance per client; closing the client closes it). */
    Admin admin();

    /** Closes everything this client created; idempotent. */
    @Override
    void close();

    /**
     * Configures a {@link SluiceClient}. Not thread-safe: configure from one thread, then {@link #build()}.
     */
    interface Builder {
        /**
         * Comma-separated {@code host:port} list of brokers to ask for metadata first (any subset of the
         * cluster). Required; e.g. {@code "127.0.0.1:7070,127.0.0.1:7071"}.
         */
        Builder bootstrap(String hostPorts);

        /** Deadline of each unary RPC (metadata, admin, list offsets). Default 30 s. */
        Builder requestTimeout(Duration timeout);

        /** Builds the client; validates the configuration. Connections are opened lazily. */
        SluiceClient build();
    }
}
