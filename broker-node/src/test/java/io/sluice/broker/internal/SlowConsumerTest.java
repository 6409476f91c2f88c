package io.sluice.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.proto.v1.FetchRequest;
import io.sluice.proto.v1.FetchResponse;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.FetchStart;
import io.sluice.proto.v1.LogBoundary;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A consumer that opens a fetch stream with plenty of credit and never reads: over real HTTP/2 (Netty), the broker
 * stops sending once its buffer bound is reached, so what it hands to gRPC stays bounded, and other consumers are still
 * served in full.
 */
class SlowConsumerTest {
    static final int BATCH_BYTES = 64 * 1024;
    static final int BATCHES = 400; // 25 MiB in the log
    static final int BUFFERED = 256 * 1024;

    @Test
    void neverReadingConsumerCannotMakeTheBrokerBufferTheLog() throws Exception {
        InMemoryBackend backend = new InMemoryBackend(1, 1);
        backend.createTopic("big", 1, 1, java.util.Map.of()).join();
        InMemoryPartition p = backend.local("big", 0);
        for (int i = 0; i < BATCHES; i++) {
            ByteBuffer b = RecordBatchBuilder.create(CompressionType.NONE)
                    .append(i, null, new byte[BATCH_BYTES])
                    .build();
            p.append(b, true).join();
        }
        ExecutorService executor = Executors.newFixedThreadPool(4);
        FetchServiceImpl fetch = new FetchServiceImpl(backend, executor, BATCH_BYTES * 2, BUFFERED);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .executor(executor)
                .addService(ServerInterceptors.intercept(fetch, new ErrorMappingInterceptor()))
                .build()
                .start();
        ManagedChannel stalled = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                .usePlaintext()
                .build();
        ManagedChannel healthy = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                .usePlaintext()
                .build();
        try {
            // The stalled client never calls request(): gRPC stops reading its HTTP/2 stream.
            ClientCall<FetchRequest, FetchResponse> call =
                    stalled.newCall(FetchServiceGrpc.getFetchMethod(), CallOptions.DEFAULT);
            call.start(new ClientCall.Listener<>() {}, new Metadata());
            call.sendMessage(FetchRequest.newBuilder()
                    .setStart(FetchStart.newBuilder()
                            .setTopic("big")
                            .setPartition(0)
                            .setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST)
                            .setInitialCredits(1_000_000))
                    .build());
            // The healthy client reads everything while the stalled one sits there.
            AtomicLong next = new AtomicLong();
            var it = FetchServiceGrpc.newBlockingV2Stub(healthy);
            var stream = it.fetch();
            stream.write(FetchRequest.newBuilder()
                    .setStart(FetchStart.newBuilder()
                            .setTopic("big")
                            .setPartition(0)
                            .setOffset(0)
                            .setInitialCredits(1_000_000))
                    .build());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (next.get() < BATCHES && System.nanoTime() < deadline) {
                FetchResponse r = stream.read(10, TimeUnit.SECONDS);
                next.set(r.getNextOffset());
            }
            assertEquals(BATCHES, next.get(), "the healthy consumer is served in full");
            stream.cancel("done", null);
            long healthyBytes = (long) BATCHES * BATCH_BYTES;
            long stalledBytes = fetch.bytesSent() - healthyBytes;
            // Bound: the onReady threshold, plus one response of up to 2 batches, plus HTTP/2 windows in flight
            // (client and connection windows of ~1 MiB each with Netty's defaults).
            long bound = BUFFERED + 2L * BATCH_BYTES + 4L * 1024 * 1024;
            assertTrue(
                    stalledBytes < bound,
                    "a never-reading consumer got " + stalledBytes + " bytes queued, more than " + bound);
            assertTrue(stalledBytes < healthyBytes / 4, "nowhere near the whole log");
            call.cancel("test over", null);
        } finally {
            stalled.shutdownNow();
            healthy.shutdownNow();
            server.shutdownNow();
            executor.shutdownNow();
        }
    }
}
