package io.sluice.client.internal;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One gRPC channel per broker endpoint ({@code host:port}), opened on first use and shared by everything a
 * client created. gRPC channels reconnect by themselves, so a channel is kept for the client's lifetime.
 *
 * <p>Thread-safe.
 */
public final class Connections implements AutoCloseable {
    private final Function<String, ManagedChannel> factory;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public Connections(Function<String, ManagedChannel> factory) {
        this.factory = factory;
    }

    /** Plaintext channels to real brokers. */
    public static Function<String, ManagedChannel> plaintext() {
        return endpoint -> {
            HostPort hp = HostPort.parse(endpoint);
            return Grpc.newChannelBuilderForAddress(hp.host(), hp.port(), InsecureChannelCredentials.create())
                    .maxInboundMessageSize(64 * 1024 * 1024)
                    .build();
        };
    }

    /** The channel to {@code endpoint}, opening it if needed. */
    public ManagedChannel channel(String endpoint) {
        if (closed) {
            throw new IllegalStateException("client is closed");
        }
        return channels.computeIfAbsent(endpoint, factory);
    }

    @Override
    public void close() {
        closed = true;
        // producers and consumers are closed before the connections, so no call still matters here
        for (ManagedChannel c : channels.values()) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels.values()) {
            try {
                c.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                c.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        channels.clear();
    }

    /**
     * A parsed {@code host:port}.
     *
     * @param host host name or IP literal
     * @param port TCP port
     */
    public record HostPort(String host, int port) {
        /** Parses {@code host:port} (IPv6 literals in brackets). */
        public static HostPort parse(String s) {
            String t = s.trim();
            int colon = t.lastIndexOf(':');
            if (colon <= 0 || colon == t.length() - 1) {
                throw new IllegalArgumentException("expected host:port, got '" + s + "'");
            }
            String host = t.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port in '" + s + "'");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port out of range in '" + s + "'");
            }
            return new HostPort(host, port);
        }
    }
}
