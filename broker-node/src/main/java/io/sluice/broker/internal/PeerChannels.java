package io.sluice.broker.internal;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.netty.NettyChannelBuilder;
import io.sluice.replication.metadata.BrokerInfo;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * gRPC channels from this broker to the client API of its peers, created on first use from the metadata endpoints;
 * used to ask partition leaders for their log state. A forwarded call carries the {@code sluice-local-only} header so
 * the peer answers from its own state and never forwards again.
 *
 * <p>Thread-safe.
 */
public final class PeerChannels implements AutoCloseable {
    static final Metadata.Key<String> LOCAL_ONLY_HEADER =
            Metadata.Key.of("sluice-local-only", Metadata.ASCII_STRING_MARSHALLER);
    static final Context.Key<Boolean> LOCAL_ONLY = Context.key("sluice-local-only");

    private final BrokerBackend backend;
    private final boolean enabled;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    private PeerChannels(BrokerBackend backend, boolean enabled) {
        this.backend = backend;
        this.enabled = enabled;
    }

    public static PeerChannels over(BrokerBackend backend) {
        return new PeerChannels(backend, true);
    }

    /** No peers: every lookup is empty (single-process tests). */
    public static PeerChannels none() {
        return new PeerChannels(null, false);
    }

    /** A channel to broker {@code id}'s client API, if its endpoint is known. */
    public Optional<ManagedChannel> channel(int id) {
        if (!enabled) {
            return Optional.empty();
        }
        return backend.broker(id).filter(b -> b.grpcPort() > 0).map(this::channelTo);
    }

    private ManagedChannel channelTo(BrokerInfo b) {
        return channels.computeIfAbsent(
                b.host() + ":" + b.grpcPort(), k -> NettyChannelBuilder.forAddress(b.host(), b.grpcPort())
                        .usePlaintext()
                        .build());
    }

    /** Whether the current call was forwarded by a peer and must be answered from local state only. */
    static boolean localOnly() {
        return Boolean.TRUE.equals(LOCAL_ONLY.get());
    }

    /** Marks calls carrying the local-only header (see {@link #localOnly()}). */
    public static ServerInterceptor interceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                if (headers.containsKey(LOCAL_ONLY_HEADER)) {
                    return Contexts.interceptCall(Context.current().withValue(LOCAL_ONLY, true), call, headers, next);
                }
                return next.startCall(call, headers);
            }
        };
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        channels.clear();
    }
}
