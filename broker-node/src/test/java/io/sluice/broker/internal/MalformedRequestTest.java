package io.sluice.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.sluice.logstore.LogConfig;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.ListTopicsRequest;
import io.sluice.proto.v1.ProduceServiceGrpc;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Bytes that are not a valid protobuf message: the call fails with a clear status and the broker keeps serving. */
class MalformedRequestTest {

    static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    @Test
    void malformedProtobufIsRejectedAndTheBrokerStillServes() throws Exception {
        InMemoryBackend backend = new InMemoryBackend(1, 1);
        ExecutorService executor = Executors.newFixedThreadPool(2);
        ErrorMappingInterceptor i = new ErrorMappingInterceptor();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .executor(executor)
                .addService(BrokerServices.rejectMalformed(
                        ServerInterceptors.intercept(new ProduceServiceImpl(backend, executor, 4, 1 << 20, 1000), i)))
                .addService(BrokerServices.rejectMalformed(
                        ServerInterceptors.intercept(new AdminServiceImpl(backend, LogConfig.defaults(), 10, 1, 1), i)))
                .build()
                .start();
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                .usePlaintext()
                .build();
        try {
            MethodDescriptor<byte[], byte[]> raw =
                    ProduceServiceGrpc.getProduceMethod().toBuilder(RAW, RAW).build();
            ClientCall<byte[], byte[]> call = ch.newCall(raw, CallOptions.DEFAULT);
            CompletableFuture<Status> closed = new CompletableFuture<>();
            CompletableFuture<Metadata> trailers = new CompletableFuture<>();
            call.start(
                    new ClientCall.Listener<>() {
                        @Override
                        public void onClose(Status status, Metadata t) {
                            trailers.complete(t);
                            closed.complete(status);
                        }
                    },
                    new Metadata());
            call.request(1);
            // Field 2 (topic, length-delimited) claiming 100 bytes with 3 present: not a parseable message.
            call.sendMessage(new byte[] {0x12, 100, 'a', 'b', 'c'});
            call.halfClose();
            Status s = closed.get(10, TimeUnit.SECONDS);
            assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
            assertNotNull(trailers.get().get(Errors.ERROR_TRAILER), "typed error in the trailer");
            assertFalse(String.valueOf(s.getDescription()).contains("\tat "));
            // Unharmed: the next call on the same connection is served.
            AdminServiceGrpc.newBlockingStub(ch).listTopics(ListTopicsRequest.getDefaultInstance());
        } finally {
            ch.shutdownNow();
            server.shutdownNow();
            executor.shutdownNow();
        }
    }
}
