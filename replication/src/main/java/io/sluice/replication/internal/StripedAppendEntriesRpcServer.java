package io.sluice.replication.internal;

import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequestHeader;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.ConnectionClosedEventListener;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A decorator of the broker's Raft {@link RpcServer} that runs pipelined AppendEntries requests on a fixed set of
 * single-threaded stripes instead of one thread per (group, leader, follower).
 *
 * <p>JRaft's {@code AppendEntriesRequestProcessor} gives every peer pair of every group its own single-thread executor so
 * that a follower handles one leader's pipelined requests in order. A broker following 500 groups then holds 500 such
 * threads. Here the pair is hashed onto one of {@code stripes} threads: still one thread per pair, so the order is
 * kept, but shared by many pairs. The per-pair executor JRaft creates is never used, so its thread never starts.
 * Handling a request only hands the entries to the log manager's queue (the disk write happens on the group's own
 * thread), so a stripe is not held up by another group's fsync. Requests that are not pipelined keep JRaft's
 * choice. Thread-safe.
 */
final class StripedAppendEntriesRpcServer implements RpcServer {
    private static final String APPEND_ENTRIES = AppendEntriesRequest.class.getName();

    private final RpcServer delegate;
    private final ExecutorService[] stripes;

    StripedAppendEntriesRpcServer(RpcServer delegate, int stripeCount, String name) {
        if (stripeCount < 1) {
            throw new IllegalArgumentException("stripeCount must be >= 1, got " + stripeCount);
        }
        this.delegate = delegate;
        this.stripes = new ExecutorService[stripeCount];
        AtomicInteger n = new AtomicInteger();
        for (int i = 0; i < stripeCount; i++) {
            stripes[i] = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, name + "-append-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
    }

    @Override
    public boolean init(Void opts) {
        return delegate.init(opts);
    }

    @Override
    public void shutdown() {
        try {
            delegate.shutdown();
        } finally {
            for (ExecutorService s : stripes) {
                s.shutdownNow();
            }
            for (ExecutorService s : stripes) {
                try {
                    s.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void registerConnectionClosedEventListener(ConnectionClosedEventListener listener) {
        delegate.registerConnectionClosedEventListener(listener);
    }

    @Override
    public void registerProcessor(RpcProcessor<?> processor) {
        delegate.registerProcessor(APPEND_ENTRIES.equals(processor.interest()) ? striped(processor) : processor);
    }

    @Override
    public int boundPort() {
        return delegate.boundPort();
    }

    /** The stripe of a pair: the same for every request of the pair, so its requests stay in order. */
    ExecutorService stripeOf(String groupId, String serverId, String peerId) {
        int h = (groupId.hashCode() * 31 + serverId.hashCode()) * 31 + peerId.hashCode();
        return stripes[Math.floorMod(h ^ (h >>> 16), stripes.length)];
    }

    private <T> RpcProcessor<T> striped(RpcProcessor<T> p) {
        RpcProcessor.ExecutorSelector real = p.executorSelector();
        RpcProcessor.ExecutorSelector selector = (reqClass, reqHeader) -> {
            java.util.concurrent.Executor chosen = real == null ? p.executor() : real.select(reqClass, reqHeader);
            if (chosen == p.executor() || !(reqHeader instanceof AppendEntriesRequestHeader h)) {
                return chosen;
            }
            return stripeOf(h.getGroupId(), h.getServerId(), h.getPeerId());
        };
        return new RpcProcessor<>() {
            @Override
            public void handleRequest(com.alipay.sofa.jraft.rpc.RpcContext ctx, T request) {
                p.handleRequest(ctx, request);
            }

            @Override
            public String interest() {
                return p.interest();
            }

            @Override
            public java.util.concurrent.Executor executor() {
                return p.executor();
            }

            @Override
            public RpcProcessor.ExecutorSelector executorSelector() {
                return selector;
            }
        };
    }
}
