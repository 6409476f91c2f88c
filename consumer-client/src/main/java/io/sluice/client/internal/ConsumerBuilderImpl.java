package io.sluice.client.internal;

import io.sluice.client.Consumer;
import io.sluice.client.ConsumerBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@link ConsumerBuilder}; defaults are documented there. Not thread-safe.
 */
final class ConsumerBuilderImpl implements ConsumerBuilder {
    private final SluiceClientImpl client;
    int credits = 16;
    int maxBytesPerResponse = 256 * 1024;
    int maxPollRecords = 500;
    Optional<OffsetReset> offsetReset = Optional.empty();
    Optional<String> groupId = Optional.empty();
    Optional<String> instanceId = Optional.empty();
    boolean autoCommit = true;
    Duration autoCommitInterval = Duration.ofSeconds(5);
    Duration sessionTimeout = Duration.ZERO;
    String assignor = "";
    OffsetReset autoOffsetReset = OffsetReset.EARLIEST;

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
        this.offsetReset = Optional.of(Objects.requireNonNull(policy));
        return this;
    }

    @Override
    public ConsumerBuilder groupId(String groupId) {
        this.groupId = Optional.of(Objects.requireNonNull(groupId, "groupId"));
        return this;
    }

    @Override
    public ConsumerBuilder groupInstanceId(String instanceId) {
        this.instanceId = Optional.of(Objects.requireNonNull(instanceId, "instanceId"));
        return this;
    }

    @Override
    public ConsumerBuilder autoCommit(boolean enabled) {
        this.autoCommit = enabled;
        return this;
    }

    @Override
    public ConsumerBuilder autoCommitInterval(Duration interval) {
        this.autoCommitInterval = Objects.requireNonNull(interval, "autoCommitInterval");
        return this;
    }

    @Override
    public ConsumerBuilder sessionTimeout(Duration timeout) {
        this.sessionTimeout = Objects.requireNonNull(timeout, "sessionTimeout");
        return this;
    }

    @Override
    public ConsumerBuilder assignor(String name) {
        this.assignor = Objects.requireNonNull(name, "assignor");
        return this;
    }

    @Override
    public ConsumerBuilder autoOffsetReset(OffsetReset policy) {
        this.autoOffsetReset = Objects.requireNonNull(policy, "autoOffsetReset");
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
        if (groupId.isPresent()) {
            int bytes = groupId.get().getBytes(StandardCharsets.UTF_8).length;
            if (bytes < 1 || bytes > 255) {
                throw new IllegalArgumentException("groupId must be 1-255 bytes of UTF-8, got " + bytes + " bytes");
            }
        }
        if (instanceId.isPresent() && (groupId.isEmpty() || instanceId.get().isBlank())) {
            throw new IllegalArgumentException("groupInstanceId must not be blank and needs a groupId");
        }
        if (autoCommitInterval.isNegative() || autoCommitInterval.isZero()) {
            throw new IllegalArgumentException("autoCommitInterval must be positive");
        }
        if (sessionTimeout.isNegative() || sessionTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sessionTimeout must be >= 0 and fit in an int of milliseconds");
        }
        if (autoOffsetReset == OffsetReset.NONE) {
            throw new IllegalArgumentException("autoOffsetReset must be EARLIEST or LATEST");
        }
        ConsumerImpl c = new ConsumerImpl(client, this);
        client.register(c);
        return c;
    }
}
