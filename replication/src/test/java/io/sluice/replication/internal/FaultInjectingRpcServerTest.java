package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.rpc.Connection;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.RpcRequests.GetFileRequest;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.ConnectionClosedEventListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FaultInjectingRpcServerTest {
    /** Records registered processors instead of serving them. */
    static final class CapturingServer implements RpcServer {
        final List<RpcProcessor<?>> processors = new ArrayList<>();

        @Override
        public boolean init(Void opts) {
            return true;
        }

        @Override
        public void shutdown() {}

        @Override
        public void registerConnectionClosedEventListener(ConnectionClosedEventListener listener) {}

        @Override
        public void registerProcessor(RpcProcessor<?> processor) {
            processors.add(processor);
        }

        @Override
        public int boundPort() {
            return 1;
        }
    }

    /** A fault-injecting server over a capturing one, with a processor that records what reaches it. */
    private record Wired(FaultInjectingRpcServer server, RpcProcessor<Object> processor, List<Object> handled) {}

    @SuppressWarnings("unchecked")
    private static Wired wired() {
        CapturingServer inner = new CapturingServer();
        FaultInjectingRpcServer server = new FaultInjectingRpcServer(inner);
        List<Object> handled = new ArrayList<>();
        server.registerProcessor(new RpcProcessor<Object>() {
            @Override
            public void handleRequest(RpcContext rpcCtx, Object request) {
                handled.add(request);
            }

            @Override
            public String interest() {
                return "any";
            }
        });
        return new Wired(server, (RpcProcessor<Object>) inner.processors.get(0), handled);
    }

    static RpcContext from(String remote) {
        return new RpcContext() {
            @Override
            public void sendResponse(Object responseObj) {}

            @Override
            public Connection getConnection() {
                return null;
            }

            @Override
            public String getRemoteAddress() {
                return remote;
            }
        };
    }

    static AppendEntriesRequest append(String sender) {
        return AppendEntriesRequest.newBuilder()
                .setGroupId("t-0")
                .setServerId(sender)
                .setPeerId("127.0.0.1:7000")
                .setTerm(1)
                .setPrevLogIndex(0)
                .setPrevLogTerm(0)
                .setCommittedIndex(0)
                .build();
    }

    @Test
    void dropsRequestsFromBlockedSendersOnly() {
        Wired w = wired();
        FaultInjectingRpcServer server = w.server();
        List<Object> handled = w.handled();
        RpcProcessor<Object> p = w.processor();
        assertEquals("any", p.interest());

        p.handleRequest(from("127.0.0.1:50001"), append("127.0.0.1:7001:1"));
        server.block("127.0.0.1:7001");
        assertEquals(Optional.of("127.0.0.1:7001"), FaultInjectingRpcServer.senderOf(append("127.0.0.1:7001:1")));
        p.handleRequest(from("127.0.0.1:50001"), append("127.0.0.1:7001:1"));
        p.handleRequest(from("127.0.0.1:50002"), append("127.0.0.1:7002:2"));
        // No server_id: attributed through the connection that carried 7001's requests.
        GetFileRequest file = GetFileRequest.newBuilder()
                .setReaderId(1)
                .setFilename("f")
                .setCount(1)
                .setOffset(0)
                .build();
        p.handleRequest(from("127.0.0.1:50001"), file);
        p.handleRequest(from("127.0.0.1:50009"), file);
        assertEquals(3, handled.size());
        assertEquals(2, server.droppedRequests());
        assertTrue(server.blocked().contains("127.0.0.1:7001"));
        assertTrue(server.isBlocked("127.0.0.1:7001:1"));
        assertTrue(!server.isBlocked("127.0.0.1:7002"));

        server.heal();
        p.handleRequest(from("127.0.0.1:50001"), append("127.0.0.1:7001:1"));
        assertEquals(4, handled.size());
        server.dropAll();
        p.handleRequest(from("127.0.0.1:50002"), append("127.0.0.1:7002:2"));
        assertEquals(4, handled.size());
    }

    /** A connection that only records whether it was closed. */
    static final class RecordingConnection implements Connection {
        volatile boolean closed;

        @Override
        public Object getAttribute(String key) {
            return null;
        }

        @Override
        public void setAttribute(String key, Object value) {}

        @Override
        public Object setAttributeIfAbsent(String key, Object value) {
            return null;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /**
     * A halted server closes the connection a request came on (as the OS resets a crashed process's sockets): a
     * connection that outlives the server would otherwise swallow its peer's requests even after a restart on the
     * same port. Blocked senders, by contrast, keep their connection (a cut link, not a crash).
     */
    @Test
    void haltedServerClosesTheConnectionsRequestsArriveOn() {
        Wired w = wired();
        FaultInjectingRpcServer server = w.server();
        List<Object> handled = w.handled();
        RpcProcessor<Object> p = w.processor();
        RecordingConnection cutLink = new RecordingConnection();
        server.block("127.0.0.1:7001");
        p.handleRequest(on(cutLink, "127.0.0.1:50001"), append("127.0.0.1:7001:1"));
        assertFalse(cutLink.closed, "a blocked sender's connection stays open");

        server.dropAll();
        RecordingConnection conn = new RecordingConnection();
        p.handleRequest(on(conn, "127.0.0.1:50002"), append("127.0.0.1:7002:2"));
        assertTrue(conn.closed, "connection of a request to a halted server closed");
        assertEquals(List.of(), handled);
        assertEquals(2, server.droppedRequests());
        // No connection known: still dropped, nothing to close.
        p.handleRequest(from("127.0.0.1:50003"), append("127.0.0.1:7002:2"));
        assertEquals(3, server.droppedRequests());
    }

    /**
     * A stopped server behaves like a halted one: a connection a peer opened while it stopped escapes bolt's cleanup,
     * and in an in-JVM cluster it would stay wired to the stopped server after a restart on the same port (a wiped
     * broker then never caught up with the controller: WipedBrokerIT).
     */
    @Test
    void stoppedServerClosesTheConnectionsRequestsStillArriveOn() {
        Wired w = wired();
        FaultInjectingRpcServer server = w.server();
        List<Object> handled = w.handled();
        RpcProcessor<Object> p = w.processor();
        p.handleRequest(from("127.0.0.1:50001"), append("127.0.0.1:7001:1"));
        assertEquals(1, handled.size());

        server.shutdown();
        RecordingConnection late = new RecordingConnection();
        p.handleRequest(on(late, "127.0.0.1:50002"), append("127.0.0.1:7001:1"));
        assertTrue(late.closed, "connection of a request to a stopped server closed");
        assertEquals(1, handled.size());
    }

    static RpcContext on(Connection conn, String remote) {
        return new RpcContext() {
            @Override
            public void sendResponse(Object responseObj) {}

            @Override
            public Connection getConnection() {
                return conn;
            }

            @Override
            public String getRemoteAddress() {
                return remote;
            }
        };
    }
}
