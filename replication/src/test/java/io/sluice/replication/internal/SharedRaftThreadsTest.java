package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.alipay.sofa.jraft.option.RpcOptions;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequestHeader;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.ConnectionClosedEventListener;
import com.alipay.sofa.jraft.util.RpcFactoryHelper;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** The two pieces that keep a broker's thread count independent of its number of Raft groups. */
class SharedRaftThreadsTest {

    @Test
    void jraftUsesTheSharedClientFactoryAndItIsReferenceCounted() {
        assertInstanceOf(SharedClientRaftRpcFactory.class, RpcFactoryHelper.rpcFactory());
        int before = SharedClientRaftRpcFactory.users();
        RpcClient a = RpcFactoryHelper.rpcFactory().createRpcClient(null);
        RpcClient b = RpcFactoryHelper.rpcFactory().createRpcClient(null);
        a.init(new RpcOptions());
        b.init(new RpcOptions());
        assertEquals(before + 2, SharedClientRaftRpcFactory.users());
        a.shutdown();
        a.shutdown(); // idempotent: releases once
        assertEquals(before + 1, SharedClientRaftRpcFactory.users());
        b.shutdown();
        assertEquals(before, SharedClientRaftRpcFactory.users());
    }

    @Test
    void pipelinedAppendEntriesOfOnePairAlwaysLandOnTheSameStripeAndOthersKeepJraftsChoice() {
        Executor jraftDefault = Runnable::run;
        Executor perPair = r -> {};
        RecordingServer inner = new RecordingServer();
        StripedAppendEntriesRpcServer server = new StripedAppendEntriesRpcServer(inner, 4, "test");
        try {
            server.registerProcessor(new FakeProcessor(AppendEntriesRequest.class.getName(), jraftDefault, perPair));
            server.registerProcessor(new FakeProcessor("other", jraftDefault, perPair));
            RpcProcessor.ExecutorSelector selector = inner.processors.get(0).executorSelector();
            assertSame(perPair, inner.processors.get(1).executorSelector().select("other", header("g", "a", "b")));

            Executor first = selector.select("x", header("g-1", "10.0.0.1:1@0", "10.0.0.2:1@0"));
            assertNotSame(perPair, first);
            assertSame(first, selector.select("x", header("g-1", "10.0.0.1:1@0", "10.0.0.2:1@0")));
            Set<Executor> used = new HashSet<>();
            for (int i = 0; i < 200; i++) {
                used.add(selector.select("x", header("g-" + i, "10.0.0.1:1@0", "10.0.0.2:1@0")));
            }
            assertEquals(4, used.size(), "groups spread over every stripe");
        } finally {
            server.shutdown();
        }
    }

    private static AppendEntriesRequestHeader header(String group, String server, String peer) {
        return AppendEntriesRequestHeader.newBuilder()
                .setGroupId(group)
                .setServerId(server)
                .setPeerId(peer)
                .build();
    }

    /** A processor whose selector answers like JRaft's: per-pair executor for pipelined requests. */
    private record FakeProcessor(String interest, Executor executor, Executor perPair) implements RpcProcessor<Object> {
        @Override
        public void handleRequest(RpcContext ctx, Object request) {}

        @Override
        public ExecutorSelector executorSelector() {
            return (reqClass, header) -> perPair;
        }
    }

    private static final class RecordingServer implements RpcServer {
        final List<RpcProcessor<?>> processors = new ArrayList<>();

        @Override
        public void registerConnectionClosedEventListener(ConnectionClosedEventListener listener) {}

        @Override
        public void registerProcessor(RpcProcessor<?> processor) {
            processors.add(processor);
        }

        @Override
        public int boundPort() {
            return 0;
        }

        @Override
        public boolean init(Void opts) {
            return true;
        }

        @Override
        public void shutdown() {}
    }
}
