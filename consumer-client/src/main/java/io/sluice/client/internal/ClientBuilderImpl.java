package io.sluice.client.internal;

import io.grpc.ManagedChannel;
import io.sluice.client.SluiceClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The {@link SluiceClient.Builder}. Not thread-safe.
 */
public final class ClientBuilderImpl implements SluiceClient.Builder {
    private String bootstrap;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Function<String, ManagedChannel> channelFactory = Connections.plaintext();

    @Override
    public SluiceClient.Builder bootstrap(String hostPorts) {
        this.bootstrap = Objects.requireNonNull(hostPorts, "bootstrap");
        return this;
    }

    @Override
    public SluiceClient.Builder requestTimeout(Duration timeout) {
        this.requestTimeout = Objects.requireNonNull(timeout, "requestTimeout");
        return this;
    }

    /** Replaces how channels are opened (tests use in-process channels named by endpoint). */
    public ClientBuilderImpl channelFactory(Function<String, ManagedChannel> factory) {
        this.channelFactory = Objects.requireNonNull(factory);
        return this;
    }

    @Override
    public SluiceClient build() {
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException("bootstrap is required (host:port,...)");
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive");
        }
        return new SluiceClientImpl(parseBootstrap(bootstrap), requestTimeout, channelFactory);
    }

    /** Splits and validates a {@code host:port,...} list. */
    public static List<String> parseBootstrap(String s) {
        List<String> out = new ArrayList<>();
        for (String part : s.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            Connections.HostPort hp = Connections.HostPort.parse(part);
            out.add(hp.host() + ":" + hp.port());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("bootstrap lists no broker: '" + s + "'");
        }
        return out;
    }
}
