package io.sluice.replication.internal;

import com.alipay.sofa.jraft.util.ThreadPoolMetricRegistry;
import com.codahale.metrics.Clock;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Reservoir;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import com.codahale.metrics.UniformSnapshot;
import java.util.List;

/**
 * Turns off the latency histograms JRaft keeps for its busiest thread pools, which nothing in Sluice reads.
 *
 * <p>JRaft times every task of its metric-enabled pools into a Dropwizard {@link Timer} of a process-wide registry
 * ({@link ThreadPoolMetricRegistry}), named {@code threadPool.<pool>}. A default timer's reservoir takes a lock and
 * inserts into a skip list on every update; the pools below run a task per heartbeat, per RPC answer or per
 * committed batch, so at 1,000 partitions that is thousands of contended updates a second. Registering the names
 * first with timers whose reservoir keeps nothing leaves JRaft's code unchanged (it looks the timer up by name)
 * while the per-task cost drops to a counter. Sluice's own metrics are Micrometer's and are not affected.
 */
final class JraftPoolTimers {
    /** The pools whose tasks run per heartbeat, answer or batch (names as JRaft gives them). */
    static final List<String> POOLS = List.of(
            "JRAFT_RPC_CLOSURE_EXECUTOR", // RpcUtils: every heartbeat's send, every closure
            "JRaft-RPC-Processor", // each group's RPC answers
            "JRAFT_GROUP_DEFAULT_EXECUTOR", // the leader's AppendEntries encoding
            "JRAFT_CLOSURE_EXECUTOR"); // Utils.runInThread

    private static volatile boolean installed;

    private JraftPoolTimers() {}

    /** Registers the quiet timers once per process, before JRaft's pools first time a task. */
    static synchronized void install() {
        if (installed) {
            return;
        }
        MetricRegistry registry = ThreadPoolMetricRegistry.metricRegistry();
        for (String pool : POOLS) {
            String name = "threadPool." + pool;
            if (!registry.getTimers().containsKey(name)) {
                try {
                    registry.register(name, new Timer(new KeepsNothing(), Clock.defaultClock()));
                } catch (IllegalArgumentException raced) {
                    // JRaft timed a task of this pool first: its timer stays
                }
            }
        }
        installed = true;
    }

    /** A reservoir that records nothing: the timer still counts tasks and their rate. */
    static final class KeepsNothing implements Reservoir {
        private static final Snapshot EMPTY = new UniformSnapshot(new long[0]);

        @Override
        public int size() {
            return 0;
        }

        @Override
        public void update(long value) {}

        @Override
        public Snapshot getSnapshot() {
            return EMPTY;
        }
    }
}
