package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.ReplicatorGroup;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.option.RpcOptions;
import com.alipay.sofa.jraft.rpc.InvokeCallback;
import com.alipay.sofa.jraft.rpc.InvokeContext;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesResponse;
import com.alipay.sofa.jraft.rpc.RpcRequests.ErrorResponse;
import com.alipay.sofa.jraft.util.Endpoint;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HeartbeatCoalescingTest {
    private static final Endpoint B2 = new Endpoint("127.0.0.1", 2);
    private static final Endpoint B3 = new Endpoint("127.0.0.1", 3);

    static AppendEntriesRequest heartbeat(String group, String leader, String follower, long commit) {
        return AppendEntriesRequest.newBuilder()
                .setGroupId(group)
                .setServerId(leader)
                .setPeerId(follower)
                .setTerm(3)
                .setPrevLogIndex(7)
                .setPrevLogTerm(2)
                .setCommittedIndex(commit)
                .build();
    }

    @Test
    void onlyHeartbeatsAreCoalescedNotProbesOrEntries() {
        AppendEntriesRequest hb = heartbeat("g", "127.0.0.1:1:0", "127.0.0.1:2:0", 5);
        assertTrue(HeartbeatCoalescer.isHeartbeat(hb));
        assertFalse(
                HeartbeatCoalescer.isHeartbeat(
                        hb.toBuilder().setData(ByteString.EMPTY).build()),
                "a probe");
        assertFalse(HeartbeatCoalescer.isHeartbeat(hb.toBuilder()
                .addEntries(com.alipay.sofa.jraft.entity.RaftOutter.EntryMeta.newBuilder()
                        .setTerm(3)
                        .setType(com.alipay.sofa.jraft.entity.EnumOutter.EntryType.ENTRY_TYPE_DATA)
                        .setDataLen(0))
                .build()));
        assertFalse(HeartbeatCoalescer.isHeartbeat("other"));
    }

    @Test
    void requestAndResponseRoundTripThroughTheCodec() throws IOException {
        HeartbeatBatch.Request req = new HeartbeatBatch.Request(
                "127.0.0.1:1",
                List.of(
                        heartbeat("orders-0", "127.0.0.1:1:0", "127.0.0.1:2:0", 5),
                        heartbeat("orders-1", "127.0.0.1:1:0", "127.0.0.1:2:0", 9)));
        assertEquals(req, HeartbeatBatch.decodeRequest(HeartbeatBatch.encode(req)));
        HeartbeatBatch.Response resp = new HeartbeatBatch.Response(List.of(
                AppendEntriesResponse.newBuilder()
                        .setSuccess(true)
                        .setTerm(3)
                        .setLastLogIndex(12)
                        .build(),
                ErrorResponse.newBuilder()
                        .setErrorCode(RaftError.ENOENT.getNumber())
                        .setErrorMsg("no such peer")
                        .build()));
        assertEquals(resp, HeartbeatBatch.decodeResponse(HeartbeatBatch.encode(resp)));
        assertEquals(
                new HeartbeatBatch.Request("x", List.of()),
                HeartbeatBatch.decodeRequest(HeartbeatBatch.encode(new HeartbeatBatch.Request("x", List.of()))));

        byte[] bytes = HeartbeatBatch.encode(req);
        byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 3);
        assertThrows(IOException.class, () -> HeartbeatBatch.decodeRequest(truncated));
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        assertThrows(IOException.class, () -> HeartbeatBatch.decodeRequest(longer));
    }

    @Test
    void heartbeatsToOneBrokerTravelTogetherAndEachGetsItsOwnAnswerOnAPooledThread() throws Exception {
        FakeClient client = new FakeClient();
        HeartbeatCoalescer c = new HeartbeatCoalescer(client, 500);
        try {
            int n = 20;
            CountDownLatch done = new CountDownLatch(2 * n);
            Map<String, Object> answers = new ConcurrentHashMap<>();
            List<Thread> ranOn = new CopyOnWriteArrayList<>();
            Executor groupExecutor = r -> {
                Thread t = new Thread(r, "group-callback");
                t.start();
            };
            for (int i = 0; i < n; i++) {
                for (Endpoint to : List.of(B2, B3)) {
                    String group = "g-" + i + "@" + to.getPort();
                    c.submit(
                            to,
                            heartbeat(group, "127.0.0.1:1:0", to + ":0", i),
                            new Callback(groupExecutor, (result, err) -> {
                                answers.put(group, err == null ? result : err);
                                ranOn.add(Thread.currentThread());
                                done.countDown();
                            }),
                            20_000);
                }
            }
            assertTrue(done.await(30, TimeUnit.SECONDS));
            assertEquals(2, client.sent.size(), "one RPC per destination: " + client.sent);
            for (HeartbeatBatch.Request r : client.sent) {
                assertEquals("127.0.0.1:1", r.sender());
                assertEquals(n, r.requests().size());
            }
            assertEquals(List.of(20_000L, 20_000L), client.timeouts);
            for (int i = 0; i < n; i++) {
                AppendEntriesResponse a = (AppendEntriesResponse) answers.get("g-" + i + "@2");
                assertEquals(i, a.getLastLogIndex(), "each group gets the answer to its own heartbeat");
            }
            // one hand-off per batch: answers run on the coalescer's pooled threads, never the caller's or bolt's
            assertTrue(
                    ranOn.stream().allMatch(t -> t.getName().startsWith("sluice-raft-heartbeats-send-")),
                    ranOn.toString());
            assertEquals(2, c.counts()[0]);
            assertEquals(2L * n, c.counts()[1]);
        } finally {
            c.shutdown();
        }
    }

    @Test
    void aHeartbeatNeverWaitsMoreThanATenthOfItsTimeout() throws Exception {
        FakeClient client = new FakeClient();
        HeartbeatCoalescer c = new HeartbeatCoalescer(client, 3_600_000); // an hour: only the clamp can send it
        try {
            CountDownLatch done = new CountDownLatch(1);
            c.submit(
                    B2,
                    heartbeat("g", "127.0.0.1:1:0", "127.0.0.1:2:0", 1),
                    new Callback(null, (result, err) -> done.countDown()),
                    100);
            assertTrue(done.await(30, TimeUnit.SECONDS), "sent within 10 ms, not an hour");
        } finally {
            c.shutdown();
        }
    }

    @Test
    void aHeartbeatOfAnotherSenderInABatchIsRefused() {
        List<Object> sent = new CopyOnWriteArrayList<>();
        com.alipay.sofa.jraft.rpc.RpcContext ctx = new com.alipay.sofa.jraft.rpc.RpcContext() {
            @Override
            public void sendResponse(Object responseObj) {
                sent.add(responseObj);
            }

            @Override
            public com.alipay.sofa.jraft.rpc.Connection getConnection() {
                return null;
            }

            @Override
            public String getRemoteAddress() {
                return "127.0.0.1:9";
            }
        };
        new HeartbeatBatchProcessor()
                .handleRequest(
                        ctx,
                        new HeartbeatBatch.Request(
                                "127.0.0.1:1",
                                List.of(
                                        heartbeat("no-such-group", "127.0.0.1:1:0", "127.0.0.1:2:0", 1),
                                        heartbeat("g", "127.0.0.1:5:0", "127.0.0.1:2:0", 1))));
        HeartbeatBatch.Response r = assertInstanceOf(HeartbeatBatch.Response.class, sent.get(0));
        assertEquals(
                RaftError.ENOENT.getNumber(), ((ErrorResponse) r.responses().get(0)).getErrorCode());
        assertEquals(
                RaftError.EINVAL.getNumber(), ((ErrorResponse) r.responses().get(1)).getErrorCode());
    }

    @Test
    void afterShutdownAHeartbeatFailsAtOnceOnAnotherThread() throws Exception {
        HeartbeatCoalescer c = new HeartbeatCoalescer(new FakeClient(), 10);
        c.shutdown();
        CountDownLatch done = new CountDownLatch(1);
        List<Thread> ranOn = new CopyOnWriteArrayList<>();
        c.submit(
                B2,
                heartbeat("g", "127.0.0.1:1:0", "127.0.0.1:2:0", 1),
                new Callback(null, (result, err) -> {
                    assertInstanceOf(IllegalStateException.class, err);
                    ranOn.add(Thread.currentThread());
                    done.countDown();
                }),
                500);
        assertTrue(done.await(30, TimeUnit.SECONDS));
        assertFalse(ranOn.contains(Thread.currentThread()), "not on the caller's thread");
    }

    @Test
    void aFailedBatchFailsEveryHeartbeatInIt() throws Exception {
        FakeClient client = new FakeClient();
        client.fail = new com.alipay.sofa.jraft.error.InvokeTimeoutException("timed out");
        HeartbeatCoalescer c = new HeartbeatCoalescer(client, 20);
        try {
            CountDownLatch done = new CountDownLatch(3);
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 3; i++) {
                c.submit(
                        B2,
                        heartbeat("g-" + i, "127.0.0.1:1:0", "127.0.0.1:2:0", i),
                        new Callback(null, (result, err) -> {
                            assertNull(result);
                            errors.add(err);
                            done.countDown();
                        }),
                        500);
            }
            assertTrue(done.await(30, TimeUnit.SECONDS));
            assertEquals(3, errors.size());
            errors.forEach(e -> assertSame(client.fail, e));
        } finally {
            c.shutdown();
        }
    }

    @Test
    void aBatchAnsweredWithTheWrongCountFailsEveryHeartbeat() throws Exception {
        FakeClient client = new FakeClient();
        client.dropOneAnswer = true;
        HeartbeatCoalescer c = new HeartbeatCoalescer(client, 20);
        try {
            CountDownLatch done = new CountDownLatch(2);
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 2; i++) {
                c.submit(
                        B2,
                        heartbeat("g-" + i, "127.0.0.1:1:0", "127.0.0.1:2:0", i),
                        new Callback(null, (result, err) -> {
                            errors.add(err);
                            done.countDown();
                        }),
                        500);
            }
            assertTrue(done.await(30, TimeUnit.SECONDS));
            errors.forEach(e -> assertInstanceOf(IllegalStateException.class, e));
        } finally {
            c.shutdown();
        }
    }

    @Test
    void anUnknownGroupIsAnsweredWithJraftsNotFoundError() {
        Message m =
                HeartbeatBatchProcessor.handle(heartbeat("no-such-group", "127.0.0.1:1:0", "127.0.0.1:2:0", 1), null);
        assertEquals(
                RaftError.ENOENT.getNumber(),
                assertInstanceOf(ErrorResponse.class, m).getErrorCode());
        Message bad = HeartbeatBatchProcessor.handle(heartbeat("g", "127.0.0.1:1:0", "not a peer", 1), null);
        assertEquals(
                RaftError.EINVAL.getNumber(),
                assertInstanceOf(ErrorResponse.class, bad).getErrorCode());
    }

    @Test
    void theFaultInjectorAttributesABatchToItsSender() {
        assertEquals(
                java.util.Optional.of("127.0.0.1:1"),
                FaultInjectingRpcServer.senderOf(new HeartbeatBatch.Request("127.0.0.1:1", List.of())));
    }

    /** A JRaft callback with an executor, recording what it got. */
    private record Callback(Executor executor, java.util.function.BiConsumer<Object, Throwable> then)
            implements InvokeCallback {
        @Override
        public void complete(Object result, Throwable err) {
            then.accept(result, err);
        }
    }

    /** Answers each heartbeat of a batch with lastLogIndex = its committed index, from another thread. */
    private static final class FakeClient implements RpcClient {
        final List<HeartbeatBatch.Request> sent = new CopyOnWriteArrayList<>();
        final List<Long> timeouts = new CopyOnWriteArrayList<>();
        volatile Throwable fail;
        volatile boolean dropOneAnswer;

        @Override
        public void invokeAsync(
                Endpoint endpoint, Object request, InvokeContext ctx, InvokeCallback callback, long timeoutMs) {
            HeartbeatBatch.Request r = (HeartbeatBatch.Request) request;
            sent.add(r);
            timeouts.add(timeoutMs);
            List<Message> answers = new ArrayList<>();
            for (AppendEntriesRequest hb : r.requests()) {
                answers.add(AppendEntriesResponse.newBuilder()
                        .setSuccess(true)
                        .setTerm(hb.getTerm())
                        .setLastLogIndex(hb.getCommittedIndex())
                        .build());
            }
            if (dropOneAnswer) {
                answers.remove(0);
            }
            Throwable f = fail;
            // as bolt: the callback runs on the executor it names, else on the connection's thread
            Runnable done = () -> callback.complete(f == null ? new HeartbeatBatch.Response(answers) : null, f);
            new Thread(() -> {
                        if (callback.executor() != null) {
                            callback.executor().execute(done);
                        } else {
                            done.run();
                        }
                    })
                    .start();
        }

        @Override
        public boolean checkConnection(Endpoint endpoint) {
            return true;
        }

        @Override
        public boolean checkConnection(Endpoint endpoint, boolean createIfAbsent) {
            return true;
        }

        @Override
        public void closeConnection(Endpoint endpoint) {}

        @Override
        public void registerConnectEventListener(ReplicatorGroup replicatorGroup) {}

        @Override
        public Object invokeSync(Endpoint endpoint, Object request, InvokeContext ctx, long timeoutMs) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean init(RpcOptions opts) {
            return true;
        }

        @Override
        public void shutdown() {}
    }
}
