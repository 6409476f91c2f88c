package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.alipay.sofa.jraft.rpc.RpcUtils;
import com.alipay.sofa.jraft.util.ThreadPoolMetricRegistry;
import com.codahale.metrics.Timer;
import io.sluice.replication.Conditions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class JraftPoolTimersTest {

    @Test
    void jraftsBusiestPoolsCountTasksButKeepNoHistogram() throws Exception {
        JraftPoolTimers.install();
        JraftPoolTimers.install(); // idempotent
        Timer closures = ThreadPoolMetricRegistry.metricRegistry().timer("threadPool.JRAFT_RPC_CLOSURE_EXECUTOR");
        long before = closures.getCount();
        RpcUtils.runInThread(() -> {}).get();
        // JRaft stops the task's timer after the task, on the pool's thread
        Conditions.waitFor(() -> closures.getCount() > before, Duration.ofSeconds(10), "the task was counted");
        assertEquals(0, closures.getSnapshot().size(), "no per-task histogram");
        for (String pool : JraftPoolTimers.POOLS) {
            assertEquals(
                    JraftPoolTimers.KeepsNothing.class.getName(),
                    reservoirOf(ThreadPoolMetricRegistry.metricRegistry().timer("threadPool." + pool)));
        }
    }

    private static String reservoirOf(Timer t) throws Exception {
        var histogram = Timer.class.getDeclaredField("histogram");
        histogram.setAccessible(true);
        Object h = histogram.get(t);
        var reservoir = h.getClass().getDeclaredField("reservoir");
        reservoir.setAccessible(true);
        return reservoir.get(h).getClass().getName();
    }
}
