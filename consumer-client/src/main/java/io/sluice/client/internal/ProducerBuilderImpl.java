package io.sluice.client.internal;

import io.sluice.client.Acks;
import io.sluice.client.Compression;
import io.sluice.client.Producer;
import io.sluice.client.ProducerBuilder;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@link ProducerBuilder}; defaults are documented there. Not thread-safe.
 */
final class ProducerBuilderImpl implements ProducerBuilder {
    private final SluiceClientImpl client;
    Duration linger = Duration.ofMillis(5);
    int batchSize = 65536;
    Compression compression = Compression.NONE;
    Acks acks = Acks.QUORUM;
    int maxInFlight = 10;
    long bufferMemory = 32L * 1024 * 1024;
    Duration maxBlock = Duration.ofSeconds(60);
    int retries = Integer.MAX_VALUE;
    Duration deliveryTimeout = Duration.ofSeconds(120);
    Duration requestTimeout = Duration.ofSeconds(30);
    Duration retryBackoff = Duration.ofMillis(100);

    ProducerBuilderImpl(SluiceClientImpl client) {
        this.client = client;
    }

    @Override
    public ProducerBuilder linger(Duration linger) {
        this.linger = Objects.requireNonNull(linger);
        return this;
    }

    @Override
    public ProducerBuilder batchSize(int bytes) {
        this.batchSize = bytes;
        return this;
    }

    @Override
    public ProducerBuilder compression(Compression compression) {
        this.compression = Objects.requireNonNull(compression);
        return this;
    }

    @Override
    public ProducerBuilder acks(Acks acks) {
        this.acks = Objects.requireNonNull(acks);
        return this;
    }

    @Override
    public ProducerBuilder maxInFlight(int requests) {
        this.maxInFlight = requests;
        return this;
    }

    @Override
    public ProducerBuilder bufferMemory(long bytes) {
        this.bufferMemory = bytes;
        return this;
    }

    @Override
    public ProducerBuilder maxBlock(Duration maxBlock) {
        this.maxBlock = Objects.requireNonNull(maxBlock);
        return this;
    }

    @Override
    public ProducerBuilder retries(int retries) {
        this.retries = retries;
        return this;
    }

    @Override
    public ProducerBuilder deliveryTimeout(Duration timeout) {
        this.deliveryTimeout = Objects.requireNonNull(timeout);
        return this;
    }

    @Override
    public ProducerBuilder requestTimeout(Duration timeout) {
        this.requestTimeout = Objects.requireNonNull(timeout);
        return this;
    }

    @Override
    public ProducerBuilder retryBackoff(Duration backoff) {
        this.retryBackoff = Objects.requireNonNull(backoff);
        return this;
    }

    @Override
    public Producer create() {
        require(!linger.isNegative(), "linger must be >= 0");
        require(batchSize >= 1024, "batchSize must be >= 1024 bytes");
        require(maxInFlight >= 1, "maxInFlight must be >= 1");
        require(bufferMemory >= batchSize, "bufferMemory must be >= batchSize");
        require(!maxBlock.isNegative(), "maxBlock must be >= 0");
        require(retries >= 0, "retries must be >= 0");
        require(deliveryTimeout.compareTo(Duration.ZERO) > 0, "deliveryTimeout must be > 0");
        require(requestTimeout.compareTo(Duration.ZERO) > 0, "requestTimeout must be > 0");
        require(!retryBackoff.isNegative(), "retryBackoff must be >= 0");
        ProducerImpl p = new ProducerImpl(client, this);
        client.register(p);
        p.start();
        return p;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
