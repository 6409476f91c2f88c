package io.sluice.replication.internal;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.core.NodeImpl;
import com.alipay.sofa.jraft.core.ReadOnlyServiceImpl;
import java.lang.reflect.Field;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops the read-only service's scanner of a JRaft node: a thread per group that wakes every second to complete
 * read-index requests waiting for their index to apply.
 *
 * <p>Sluice never issues read-index reads (consumers read up to the high watermark the state machine publishes), so
 * the scanner only ever finds nothing to do, and with one thread per group it costs 1,000 threads and ~9 % of a core
 * on a broker with 1,000 replicas. JRaft 1.3 neither shares nor disables it, so it is stopped through its private
 * field right after the node starts. A read-index request would still complete: the service is also told of every
 * applied index, and only a request whose index had applied before it was queued would wait for the next apply. If a
 * JRaft upgrade renames the fields, the scanner keeps running (logged once) and nothing else changes. Stateless.
 */
final class ReadOnlyScanner {
    private static final Logger LOG = LoggerFactory.getLogger(ReadOnlyScanner.class);
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final Field SERVICE = field(NodeImpl.class, "readOnlyService");
    private static final Field SCANNER = field(ReadOnlyServiceImpl.class, "scheduledExecutorService");

    private ReadOnlyScanner() {}

    /** Stops {@code node}'s scanner thread; true if it was found and stopped. */
    static boolean stop(Node node) {
        if (SERVICE == null || SCANNER == null || !(node instanceof NodeImpl)) {
            return false;
        }
        try {
            Object service = SERVICE.get(node);
            if (!(service instanceof ReadOnlyServiceImpl)) {
                return false;
            }
            Object scanner = SCANNER.get(service);
            if (!(scanner instanceof ScheduledExecutorService s)) {
                return false;
            }
            s.shutdownNow();
            return true;
        } catch (IllegalAccessException | RuntimeException e) {
            warnOnce(e.toString());
            return false;
        }
    }

    private static Field field(Class<?> type, String name) {
        try {
            Field f = type.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException | RuntimeException e) {
            warnOnce("no field " + type.getSimpleName() + "." + name + ": " + e);
            return null;
        }
    }

    private static void warnOnce(String why) {
        if (WARNED.compareAndSet(false, true)) {
            LOG.warn("cannot stop JRaft's read-only scanner threads (one per Raft group keeps running): {}", why);
        }
    }
}
