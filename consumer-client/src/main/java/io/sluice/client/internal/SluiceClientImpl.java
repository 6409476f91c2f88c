package io.sluice.client.internal;

import io.grpc.ManagedChannel;
import io.sluice.client.Admin;
import io.sluice.client.ConsumerBuilder;
import io.sluice.client.ProducerBuilder;
import io.sluice.client.SluiceClient;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The {@link SluiceClient}: owns the connections, the metadata cache, the admin API and every producer and
 * consumer it created, which it closes on {@link #close()}.
 *
 * <p>Thread-safe.
 */
public final class SluiceClientImpl implements SluiceClient {
    private final Connections connections;
    private final MetadataCache metadata;
    private final AdminImpl admin;
    private final GroupCalls groupCalls;
    private final Duration requestTimeout;
    private final Set<AutoCloseable> children = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    SluiceClientImpl(List<String> bootstrap, Duration requestTimeout, Function<String, ManagedChannel> factory) {
        this.connections = new Connections(factory);
        this.requestTimeout = requestTimeout;
        this.metadata = new MetadataCache(connections, bootstrap, requestTimeout);
        this.groupCalls = new GroupCalls(connections, metadata, requestTimeout);
        this.admin = new AdminImpl(connections, metadata, requestTimeout, groupCalls);
    }

    GroupCalls groupCalls() {
        return groupCalls;
    }

    Connections connections() {
        return connections;
    }

    MetadataCache metadata() {
        return metadata;
    }

    Duration requestTimeout() {
        return requestTimeout;
    }

    AdminImpl adminImpl() {
        return admin;
    }

    void register(AutoCloseable child) {
        checkOpen();
        children.add(child);
    }

    void unregister(AutoCloseable child) {
        children.remove(child);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("client is closed");
        }
    }

    @Override
    public ProducerBuilder newProducer() {
        checkOpen();
        return new ProducerBuilderImpl(this);
    }

    @Override
    public ConsumerBuilder newConsumer() {
        checkOpen();
        return new ConsumerBuilderImpl(this);
    }

    @Override
    public Admin admin() {
        checkOpen();
        return admin;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (AutoCloseable c : List.copyOf(children)) {
            try {
                c.close();
            } catch (Exception e) {
                // closing the rest matters more than this failure; the child already reported to its users
            }
        }
        connections.close();
    }
}
