package io.sluice.replication.internal;

import com.alipay.sofa.jraft.rpc.Connection;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.ConnectionClosedEventListener;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.sluice.replication.NetworkFaults;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A decorator of the broker's Raft {@link RpcServer} that wraps every registered processor so that requests from a
 * blocked peer are dropped before they reach JRaft: no handling, no response. Per instance, so several brokers in one
 * JVM can be partitioned from each other.
 *
 * <p>The sender of a request is its {@code server_id} field (every Raft request has one: the leader for
 * AppendEntries/InstallSnapshot/TimeoutNow, the candidate for votes, the follower for ReadIndex); it is reduced to
 * {@code host:port}. Requests without one (snapshot file reads) are attributed through the remote address of the
 * connection, learnt from earlier attributed requests on it. Thread-safe.
 */
final class FaultInjectingRpcServer implements RpcServer, NetworkFaults {
    /** The sender field of each request type: a fixed, small set (the Raft and CLI request messages). */
    private static final Map<Descriptor, Optional<FieldDescriptor>> SENDER_FIELDS = new ConcurrentHashMap<>();

    private final RpcServer delegate;
    private final Set<String> blocked = ConcurrentHashMap.newKeySet();
    private final Map<String, String> senderByRemoteAddress = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean dropAll;

    FaultInjectingRpcServer(RpcServer delegate) {
        this.delegate = delegate;
    }

    /** Drops every request from now on and closes the connection it came on (an abrupt halt; and after shutdown). */
    void dropAll() {
        dropAll = true;
    }

    @Override
    public boolean init(Void opts) {
        return delegate.init(opts);
    }

    /**
     * Stops the server; whatever still arrives is dropped and its connection closed, as after a halt. Bolt closes the
     * connections its stopping server knows of, but one a peer opens while it stops escapes that cleanup and stays
     * wired to the stopped server in this JVM: after a restart on the same port (in-JVM test clusters), AppendEntries
     * on it would get "server thread pool busy" from the stopped server while coalesced heartbeats reach the new
     * nodes (JRaft's node registry is per JVM), so the leader would see a live follower that never takes entries.
     */
    @Override
    public void shutdown() {
        dropAll = true;
        delegate.shutdown();
    }

    @Override
    public void registerConnectionClosedEventListener(ConnectionClosedEventListener listener) {
        delegate.registerConnectionClosedEventListener(listener);
    }

    @Override
    public void registerProcessor(RpcProcessor<?> processor) {
        delegate.registerProcessor(wrap(processor));
    }

    @Override
    public int boundPort() {
        return delegate.boundPort();
    }

    private <T> RpcProcessor<T> wrap(RpcProcessor<T> p) {
        return new RpcProcessor<>() {
            @Override
            public void handleRequest(RpcContext ctx, T request) {
                if (shouldDrop(ctx, request)) {
                    dropped.incrementAndGet();
                    if (dropAll) {
                        closeConnection(ctx);
                    }
                    return;
                }
                p.handleRequest(ctx, request);
            }

            @Override
            public String interest() {
                return p.interest();
            }

            @Override
            public Executor executor() {
                return p.executor();
            }

            @Override
            public ExecutorSelector executorSelector() {
                return p.executorSelector();
            }
        };
    }

    /**
     * A halted server answers nothing, but its connections must not outlive it: a connection accepted while the
     * server stopped escapes bolt's connection cleanup and stays open in this JVM, so the peer that holds it would
     * send every request into a void, even after the broker restarted on the same port (its other connections reach
     * the new server). A crashed process's sockets are reset by the OS; closing the connection imitates that, and the
     * peer reconnects.
     */
    private static void closeConnection(RpcContext ctx) {
        Connection c = ctx == null ? null : ctx.getConnection();
        if (c != null) {
            c.close();
        }
    }

    private boolean shouldDrop(RpcContext ctx, Object request) {
        if (dropAll) {
            return true;
        }
        Optional<String> sender = senderOf(request);
        String remote = ctx == null ? null : ctx.getRemoteAddress();
        if (sender.isPresent() && remote != null) {
            senderByRemoteAddress.put(remote, sender.get());
        }
        if (blocked.isEmpty()) {
            return false;
        }
        if (sender.isEmpty() && remote != null) {
            sender = Optional.ofNullable(senderByRemoteAddress.get(remote));
        }
        return sender.isPresent() && blocked.contains(sender.get());
    }

    /** {@code host:port} of the request's {@code server_id}, if it has one. */
    static Optional<String> senderOf(Object request) {
        if (request instanceof HeartbeatBatch.Request batch) {
            return Optional.of(hostPort(batch.sender()));
        }
        if (!(request instanceof Message m)) {
            return Optional.empty();
        }
        Optional<FieldDescriptor> field = SENDER_FIELDS.computeIfAbsent(m.getDescriptorForType(), d -> {
            FieldDescriptor f = d.findFieldByName("server_id");
            return f != null && f.getJavaType() == FieldDescriptor.JavaType.STRING ? Optional.of(f) : Optional.empty();
        });
        if (field.isEmpty() || !m.hasField(field.get())) {
            return Optional.empty();
        }
        FieldDescriptor f = field.get();
        return Optional.of(hostPort((String) m.getField(f)));
    }

    /** Reduces a JRaft peer id ({@code host:port[:index[:priority]]}) to {@code host:port}. */
    static String hostPort(String peer) {
        int first = peer.indexOf(':');
        if (first < 0) {
            return peer;
        }
        int second = peer.indexOf(':', first + 1);
        return second < 0 ? peer : peer.substring(0, second);
    }

    @Override
    public void block(String hostPort) {
        blocked.add(hostPort(hostPort));
    }

    @Override
    public void unblock(String hostPort) {
        blocked.remove(hostPort(hostPort));
    }

    @Override
    public void heal() {
        blocked.clear();
    }

    @Override
    public Set<String> blocked() {
        return Set.copyOf(blocked);
    }

    @Override
    public boolean isBlocked(String hostPort) {
        return dropAll || blocked.contains(hostPort(hostPort));
    }

    @Override
    public long droppedRequests() {
        return dropped.get();
    }
}
