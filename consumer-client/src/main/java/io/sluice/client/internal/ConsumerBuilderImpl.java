package io.sluice.client.internal;

import io.sluice.client.Consumer;
import io.sluice.client.ConsumerBuilder;
import java.util.Objects;

/**
 * The {@link ConsumerBuilder}; defaults are documented there. Not thread-safe.
 */
final class ConsumerBuilderImpl implements ConsumerBuilder {
    private final SluiceClientImpl client;
    int credits = 4;
    int maxBytesPerResponse = 1024 * 1024;
    int maxPollRecords = 500;
    OffsetReset offsetReset = OffsetReset.NONE;

    ConsumerBuilderImpl(SluiceClientImpl client) {
        this.client = client;
    }

    @Override
    public ConsumerBuilder credits(int credits) {
        this.credits = credits;
        return this;
    }

    @Override
    public ConsumerBuilder maxBytesPerResponse(int bytes) {
        this.maxBytesPerResponse = bytes;
        return this;
    }

    @Override
    public ConsumerBuilder maxPollRecords(int records) {
        this.maxPollRecords = records;
        return this;
    }

    @Override
    public ConsumerBuilder offsetReset(OffsetReset policy) {
        this.offsetReset = Objects.requireNonNull(policy);
        return this;
    }

    @Override
    public Consumer create() {
        if (credits < 1) {
            throw new IllegalArgumentException("credits must be >= 1");
        }
        if (maxBytesPerResponse < 1) {
            throw new IllegalArgumentException("maxBytesPerResponse must be >= 1");
        }
        if (maxPollRecords < 1) {
            throw new IllegalArgumentException("maxPollRecords must be >= 1");
        }
        ConsumerImpl c = new ConsumerImpl(client, this);
        client.register(c);
        return c;
    }
}
