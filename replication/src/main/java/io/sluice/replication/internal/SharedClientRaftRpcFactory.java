package io.sluice.replication.internal;

import com.alipay.remoting.ConnectionEventType;
import com.alipay.sofa.jraft.ReplicatorGroup;
import com.alipay.sofa.jraft.error.RemotingException;
import com.alipay.sofa.jraft.option.RpcOptions;
import com.alipay.sofa.jraft.rpc.InvokeCallback;
import com.alipay.sofa.jraft.rpc.InvokeContext;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.impl.BoltRaftRpcFactory;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcClient;
import com.alipay.sofa.jraft.rpc.impl.core.ClientServiceConnectionEventProcessor;
import com.alipay.sofa.jraft.util.Endpoint;
import com.alipay.sofa.jraft.util.SPI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JRaft's RPC factory for this process, picked by JRaft's service loader over bolt's plain one (higher priority): every
 * Raft group gets a handle on ONE bolt client instead of a client of its own.
 *
 * <p>JRaft gives each group (node) its own RPC client: three bolt threads (timeout scanner, connection healing,
 * connection events) and its own connections to every peer. A broker with 750 replicas held 2,250 such threads and
 * 1,500 connections for clients that all talk to the same two or three brokers. Sharing one client keeps a single
 * connection pool per process, which bolt multiplexes (requests carry ids; callbacks run on the caller's executor).
 * Servers are unchanged, and faults are injected on the server side (by sender id), so sharing the client across the
 * brokers of an in-JVM test cluster does not blur which broker a request came from.
 *
 * <p>The shared client starts with its first user and shuts down with its last. A group's connect listener (which
 * restarts replicators that could not connect) is told about every new connection and is removed when the group's
 * handle shuts down. Thread-safe.
 */
@SPI(priority = 10)
public final class SharedClientRaftRpcFactory extends BoltRaftRpcFactory {
    private static final Object LOCK = new Object();
    private static BoltRpcClient shared;
    private static HeartbeatCoalescer coalescer;
    private static int users;
    private static volatile long coalesceWindowMs =
            io.sluice.replication.ReplicationConfig.DEFAULT_HEARTBEAT_COALESCE_MS;
    private static final Set<ReplicatorGroup> LISTENERS = ConcurrentHashMap.newKeySet();

    @Override
    public RpcClient createRpcClient(ConfigHelper<RpcClient> helper) {
        RpcClient handle = new Handle();
        if (helper != null) {
            helper.config(handle);
        }
        return handle;
    }

    /** When the empty connection pool of an address was last dropped (System.nanoTime), per address. */
    private static final ConcurrentHashMap<String, Long> POOL_DROPS = new ConcurrentHashMap<>();

    private static final long POOL_DROP_INTERVAL_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    /** True at most once per {@link #POOL_DROP_INTERVAL_NANOS} per address (across all groups of the process). */
    static boolean mayDropPool(Endpoint endpoint) {
        long now = System.nanoTime();
        boolean[] allowed = {false};
        POOL_DROPS.compute(endpoint.toString(), (k, last) -> {
            if (last == null || now - last >= POOL_DROP_INTERVAL_NANOS) {
                allowed[0] = true;
                return now;
            }
            return last;
        });
        return allowed[0];
    }

    /**
     * Sets how long heartbeats to one broker wait to travel together ({@code raft.heartbeat.coalesce.ms}; 0 sends each
     * on its own). Process-wide, like the client: takes effect when the shared client next starts.
     */
    public static void setHeartbeatCoalesceWindowMs(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("heartbeat coalesce window must be >= 0 ms, got " + ms);
        }
        coalesceWindowMs = ms;
    }

    /** The running coalescer, or null when heartbeats go one by one (or no client runs). */
    static HeartbeatCoalescer coalescer() {
        synchronized (LOCK) {
            return coalescer;
        }
    }

    /** How many groups hold a handle on the shared client (0 when it is not running). */
    static int users() {
        synchronized (LOCK) {
            return users;
        }
    }

    private static BoltRpcClient acquire(RpcOptions opts) {
        synchronized (LOCK) {
            if (shared == null) {
                com.alipay.remoting.rpc.RpcClient bolt = new com.alipay.remoting.rpc.RpcClient();
                BoltRpcClient c = new BoltRpcClient(bolt);
                c.init(opts);
                // One listener for the process, fanned out to the groups registered now.
                bolt.addConnectionEventProcessor(ConnectionEventType.CONNECT, (remoteAddr, conn) -> {
                    for (ReplicatorGroup g : LISTENERS) {
                        new ClientServiceConnectionEventProcessor(g).onEvent(remoteAddr, conn);
                    }
                });
                shared = c;
                HeartbeatBatch.registerSerializer();
                long window = coalesceWindowMs;
                coalescer = window > 0 ? new HeartbeatCoalescer(c, window) : null;
            }
            users++;
            return shared;
        }
    }

    private static void release() {
        BoltRpcClient toStop = null;
        HeartbeatCoalescer coalescerToStop = null;
        synchronized (LOCK) {
            if (--users == 0) {
                toStop = shared;
                shared = null;
                coalescerToStop = coalescer;
                coalescer = null;
            }
        }
        if (coalescerToStop != null) {
            coalescerToStop.shutdown(); // sends what it holds first
        }
        if (toStop != null) {
            toStop.shutdown();
        }
    }

    /** One group's view of the shared client. */
    private static final class Handle implements RpcClient {
        private volatile BoltRpcClient client;
        private volatile HeartbeatCoalescer heartbeats;
        private volatile ReplicatorGroup listener;

        @Override
        public boolean init(RpcOptions opts) {
            synchronized (this) {
                if (client == null) {
                    client = acquire(opts);
                    heartbeats = coalescer();
                }
            }
            return true;
        }

        @Override
        public void shutdown() {
            synchronized (this) {
                if (client == null) {
                    return;
                }
                client = null;
                heartbeats = null;
            }
            ReplicatorGroup l = listener;
            if (l != null) {
                LISTENERS.remove(l);
            }
            release();
        }

        private BoltRpcClient client() {
            BoltRpcClient c = client;
            if (c == null) {
                throw new IllegalStateException("RPC client not started or already shut down");
            }
            return c;
        }

        @Override
        public boolean checkConnection(Endpoint endpoint) {
            return client().checkConnection(endpoint);
        }

        @Override
        public boolean checkConnection(Endpoint endpoint, boolean createIfAbsent) {
            BoltRpcClient c = client();
            boolean ok = c.checkConnection(endpoint, createIfAbsent);
            if (!ok && createIfAbsent && mayDropPool(endpoint)) {
                // Bolt keeps the connection pool of an address whose asynchronous (re)connection failed (the peer was
                // down), empty, and answers "Connection is null" from it until a heal happens to succeed: seen to
                // last over 30 s after the peer came back. Dropping the empty pool makes the next check create a
                // connection anew. At most once a second per address, since that creation connects synchronously.
                c.closeConnection(endpoint);
            }
            return ok;
        }

        @Override
        public void closeConnection(Endpoint endpoint) {
            client().closeConnection(endpoint);
        }

        @Override
        public void registerConnectEventListener(ReplicatorGroup replicatorGroup) {
            listener = replicatorGroup;
            LISTENERS.add(replicatorGroup);
        }

        @Override
        public Object invokeSync(Endpoint endpoint, Object request, InvokeContext ctx, long timeoutMs)
                throws InterruptedException, RemotingException {
            return client().invokeSync(endpoint, request, ctx, timeoutMs);
        }

        @Override
        public void invokeAsync(
                Endpoint endpoint, Object request, InvokeContext ctx, InvokeCallback callback, long timeoutMs)
                throws InterruptedException, RemotingException {
            BoltRpcClient c = client();
            HeartbeatCoalescer h = heartbeats;
            if (h != null && HeartbeatCoalescer.isHeartbeat(request)) {
                h.submit(endpoint, (AppendEntriesRequest) request, callback, timeoutMs);
                return;
            }
            c.invokeAsync(endpoint, request, ctx, callback, timeoutMs);
        }
    }
}
