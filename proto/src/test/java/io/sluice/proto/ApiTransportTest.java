package io.sluice.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.DescribeTopicRequest;
import io.sluice.proto.v1.DescribeTopicResponse;
import io.sluice.proto.v1.Endpoint;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.GroupServiceGrpc;
import io.sluice.proto.v1.NotLeaderDetail;
import io.sluice.proto.v1.ProduceRequest;
import io.sluice.proto.v1.ProduceResponse;
import io.sluice.proto.v1.ProduceServiceGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API's shape over a real (in-process) gRPC transport: stream types of the RPCs, the error
 * trailer reaching the client, and in-band per-request errors on the produce stream.
 */
class ApiTransportTest {
    private Server server;
    private ManagedChannel channel;

    /** Fails every DescribeTopic with UNKNOWN_TOPIC through the status and trailer. */
    private static final class FailingAdmin extends AdminServiceGrpc.AdminServiceImplBase {
        @Override
        public void describeTopic(DescribeTopicRequest request, StreamObserver<DescribeTopicResponse> responses) {
            responses.onError(GrpcErrors.toStatusException(
                    GrpcErrors.errorInfo(ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, "no topic " + request.getName())));
        }
    }

    /** Answers even partitions with offsets and odd ones with an in-band NOT_LEADER. */
    private static final class EchoProducer extends ProduceServiceGrpc.ProduceServiceImplBase {
        @Override
        public StreamObserver<ProduceRequest> produce(StreamObserver<ProduceResponse> responses) {
            return new StreamObserver<>() {
                @Override
                public void onNext(ProduceRequest request) {
                    ProduceResponse.Builder response = ProduceResponse.newBuilder()
                            .setRequestId(request.getRequestId())
                            .setTopic(request.getTopic())
                            .setPartition(request.getPartition());
                    if (request.getPartition() % 2 == 0) {
                        response.setBaseOffset(request.getRequestId() * 10)
                                .setLastOffset(request.getRequestId() * 10 + 9);
                    } else {
                        response.setError(ErrorInfo.newBuilder()
                                .setCode(ErrorCode.ERROR_CODE_NOT_LEADER)
                                .setNotLeader(NotLeaderDetail.newBuilder()
                                        .setLeaderId(2)
                                        .setLeaderEndpoint(Endpoint.newBuilder()
                                                .setHost("127.0.0.1")
                                                .setPort(9200))
                                        .setLeaderTerm(5)));
                    }
                    responses.onNext(response.build());
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    responses.onCompleted();
                }
            };
        }
    }

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .directExecutor()
                .addService(new FailingAdmin())
                .addService(new EchoProducer())
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void streamingRpcsAreBidirectionalAndTheRestUnary() {
        assertEquals(
                MethodType.BIDI_STREAMING, ProduceServiceGrpc.getProduceMethod().getType());
        assertEquals(
                MethodType.BIDI_STREAMING, FetchServiceGrpc.getFetchMethod().getType());
        assertEquals(
                MethodType.UNARY, ProduceServiceGrpc.getInitProducerMethod().getType());
        assertEquals(MethodType.UNARY, FetchServiceGrpc.getListOffsetsMethod().getType());
        assertEquals(MethodType.UNARY, GroupServiceGrpc.getHeartbeatMethod().getType());
        assertEquals(
                "sluice.v1.ProduceService/Produce",
                ProduceServiceGrpc.getProduceMethod().getFullMethodName());
    }

    @Test
    void unaryFailureReachesTheClientWithItsErrorInfo() {
        AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel);
        StatusRuntimeException e = assertThrows(
                StatusRuntimeException.class,
                () -> admin.describeTopic(
                        DescribeTopicRequest.newBuilder().setName("orders").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        ErrorInfo error = GrpcErrors.fromThrowable(e).orElseThrow();
        assertEquals(ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, error.getCode());
        assertEquals("no topic orders", error.getMessage());
    }

    @Test
    void produceStreamCarriesPerRequestErrorsInBand() throws Exception {
        List<ProduceResponse> received = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<ProduceRequest> requests = ProduceServiceGrpc.newStub(channel)
                .produce(new StreamObserver<>() {
                    @Override
                    public void onNext(ProduceResponse response) {
                        received.add(response);
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        for (int id = 1; id <= 4; id++) {
            requests.onNext(ProduceRequest.newBuilder()
                    .setRequestId(id)
                    .setTopic("orders")
                    .setPartition(id % 2)
                    .build());
        }
        requests.onCompleted();
        done.get(5, TimeUnit.SECONDS);

        assertEquals(4, received.size());
        for (ProduceResponse response : received) {
            if (response.getPartition() == 0) {
                assertTrue(!response.hasError(), "even partitions succeed");
                assertEquals(response.getRequestId() * 10, response.getBaseOffset());
            } else {
                assertEquals(
                        ErrorCode.ERROR_CODE_NOT_LEADER, response.getError().getCode());
                assertEquals(2, response.getError().getNotLeader().getLeaderId());
            }
        }
    }
}
