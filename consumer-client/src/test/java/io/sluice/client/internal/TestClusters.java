package io.sluice.client.internal;

import io.grpc.ManagedChannel;
import io.sluice.client.TopicPartition;
import java.util.List;
import java.util.function.Function;

/** Opens {@link FakeCluster}s for tests in other packages. */
public final class TestClusters {
    private TestClusters() {}

    /**
     * A running fake cluster's handles. Thread-safe.
     *
     * @param channels channel factory for {@link ClientBuilderImpl#channelFactory}
     * @param closer stops the cluster
     * @param cluster the fake itself, for the helpers below
     */
    public record Handle(Function<String, ManagedChannel> channels, AutoCloseable closer, FakeCluster cluster) {
        /** Stores a committed offset for a group, as the coordinator would. */
        public void commit(String group, TopicPartition tp, long offset) {
            cluster.groups.commit(group, tp, offset);
        }

        /** The group's committed offset, or null. */
        public Long committed(String group, TopicPartition tp) {
            return cluster.groups.committed(group, tp);
        }

        /** Appends a stored batch (a control batch, say) to a partition as its leader would. */
        public void append(TopicPartition tp, java.nio.ByteBuffer batch) {
            cluster.append(tp, batch);
        }

        /** Current member ids of a group. */
        public List<String> members(String group) {
            return cluster.groups.memberIds(group);
        }
    }

    /** Starts a fake cluster of {@code brokers} brokers named {@code b<id>:1}. */
    public static Handle start(int brokers) throws Exception {
        FakeCluster c = new FakeCluster(brokers);
        return new Handle(c.channels(), c::close, c);
    }
}
