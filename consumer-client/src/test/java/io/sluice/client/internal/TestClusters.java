package io.sluice.client.internal;

import io.grpc.ManagedChannel;
import java.util.function.Function;

/** Opens {@link FakeCluster}s for tests in other packages. */
public final class TestClusters {
    private TestClusters() {}

    /**
     * A running fake cluster's handles.
     *
     * @param channels channel factory for {@link ClientBuilderImpl#channelFactory}
     * @param closer stops the cluster
     */
    public record Handle(Function<String, ManagedChannel> channels, AutoCloseable closer) {}

    /** Starts a fake cluster of {@code brokers} brokers named {@code b<id>:1}. */
    public static Handle start(int brokers) throws Exception {
        FakeCluster c = new FakeCluster(brokers);
        return new Handle(c.channels(), c::close);
    }
}
