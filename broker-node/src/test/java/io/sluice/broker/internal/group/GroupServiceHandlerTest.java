package io.sluice.broker.internal.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.sluice.broker.internal.BrokerServices;
import io.sluice.broker.internal.ErrorMappingInterceptor;
import io.sluice.broker.internal.InMemoryBackend;
import io.sluice.broker.internal.PartitionHandle;
import io.sluice.broker.internal.PeerChannels;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.proto.GrpcErrors;
import io.sluice.proto.v1.CommitOffsetsRequest;
import io.sluice.proto.v1.CommitOffsetsResponse;
import io.sluice.proto.v1.DeleteGroupRequest;
import io.sluice.proto.v1.DescribeGroupRequest;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.FetchOffsetsRequest;
import io.sluice.proto.v1.FetchOffsetsResponse;
import io.sluice.proto.v1.FindCoordinatorRequest;
import io.sluice.proto.v1.GroupDescription;
import io.sluice.proto.v1.GroupServiceGrpc;
import io.sluice.proto.v1.GroupState;
import io.sluice.proto.v1.HeartbeatRequest;
import io.sluice.proto.v1.HeartbeatResponse;
import io.sluice.proto.v1.LeaveGroupRequest;
import io.sluice.proto.v1.ListGroupsRequest;
import io.sluice.proto.v1.OffsetCommit;
import io.sluice.proto.v1.ResetOffsetsRequest;
import io.sluice.proto.v1.ResetOffsetsResponse;
import io.sluice.proto.v1.SubscribedTopics;
import io.sluice.proto.v1.TopicPartitions;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * GroupService over the in-process transport, behind the broker's error interceptor, against the in-memory backend
 * (this broker leads every partition, so log positions come from {@link LeaderLogOffsets}' local path) and a fake
 * offset store: happy paths and the error table (status, code, detail).
 */
class GroupServiceHandlerTest {
    InMemoryBackend backend;
    FakeOffsetStore store;
    GroupCoordinator coordinator;
    ExecutorService executor;
    Server server;
    ManagedChannel channel;
    GroupServiceGrpc.GroupServiceBlockingStub stub;

    @BeforeEach
    void setUp() throws Exception {
        MutableClock clock = new MutableClock(1_000_000);
        backend = new InMemoryBackend(1, 3);
        store = new FakeOffsetStore(1, clock);
        coordinator = new GroupCoordinator(
                backend, GroupConfig.defaults(), clock, new LeaderLogOffsets(backend, PeerChannels.none()));
        coordinator.attach(store, false);
        clock.advance(GroupConfig.defaults().maxSessionTimeoutMs() + 1);
        executor = Executors.newFixedThreadPool(4);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .executor(executor)
                .addService(BrokerServices.rejectMalformed(ServerInterceptors.intercept(
                        new GroupServiceImpl(coordinator), new ErrorMappingInterceptor(), PeerChannels.interceptor())))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        stub = GroupServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        backend.createTopic("t", 2, 3, Map.of()).join();
        PartitionHandle p0 = backend.partition("t", 0).orElseThrow();
        for (int i = 0; i < 3; i++) {
            RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
            for (int r = 0; r < 10; r++) {
                b.append(
                        1000L * (10 * i + r),
                        ("k" + r).getBytes(StandardCharsets.UTF_8),
                        ("v" + r).getBytes(StandardCharsets.UTF_8));
            }
            p0.append(b.build(), true).join();
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        channel.shutdownNow();
        server.shutdownNow();
        executor.shutdownNow();
        assertTrue(channel.awaitTermination(5, TimeUnit.SECONDS));
    }

    static ErrorInfo error(StatusRuntimeException e) {
        return GrpcErrors.fromThrowable(e).orElseThrow(() -> new AssertionError("no error trailer: " + e));
    }

    HeartbeatResponse join() {
        return stub.heartbeat(HeartbeatRequest.newBuilder()
                .setGroupId("g")
                .setClientId("app")
                .setTopics(SubscribedTopics.newBuilder().addNames("t"))
                .build());
    }

    @Test
    void everyRpcIsServed() {
        assertEquals(
                1,
                stub.findCoordinator(FindCoordinatorRequest.newBuilder()
                                .setGroupId("g")
                                .build())
                        .getCoordinator()
                        .getId());
        HeartbeatResponse hb = join();
        assertFalse(hb.getMemberId().isEmpty());
        assertEquals(1, hb.getMemberEpoch());
        assertEquals(1000, hb.getHeartbeatIntervalMs());
        assertEquals(
                TopicPartitions.newBuilder()
                        .setTopic("t")
                        .addPartitions(0)
                        .addPartitions(1)
                        .build(),
                hb.getAssignment(0));

        CommitOffsetsResponse c = stub.commitOffsets(CommitOffsetsRequest.newBuilder()
                .setGroupId("g")
                .setMemberId(hb.getMemberId())
                .setMemberEpoch(hb.getMemberEpoch())
                .addOffsets(OffsetCommit.newBuilder()
                        .setTopic("t")
                        .setPartition(0)
                        .setOffset(12)
                        .setMetadata("m"))
                .addOffsets(
                        OffsetCommit.newBuilder().setTopic("t").setPartition(1).setOffset(5))
                .build());
        assertFalse(c.getResults(0).hasError());
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_OFFSET, c.getResults(1).getError().getCode(), "beyond the log end");

        FetchOffsetsResponse f = stub.fetchOffsets(FetchOffsetsRequest.newBuilder()
                .setGroupId("g")
                .addPartitions(TopicPartitions.newBuilder()
                        .setTopic("t")
                        .addPartitions(1)
                        .addPartitions(0))
                .build());
        assertEquals(2, f.getOffsetsCount());
        assertFalse(f.getOffsets(0).hasOffset(), "never committed");
        assertEquals(12, f.getOffsets(1).getOffset());
        assertEquals("m", f.getOffsets(1).getMetadata());
        assertTrue(f.getOffsets(1).hasCommitTimestampMs());

        GroupDescription d = stub.describeGroup(
                        DescribeGroupRequest.newBuilder().setGroupId("g").build())
                .getGroup();
        assertEquals(GroupState.GROUP_STATE_STABLE, d.getState());
        assertEquals("app", d.getMembers(0).getClientId());
        assertEquals("t", d.getMembers(0).getTopics().getNames(0));
        assertEquals(30, d.getPartitions(0).getHighWatermark());
        assertEquals(18, d.getPartitions(0).getLag());
        assertEquals(0, d.getPartitions(1).getHighWatermark());

        assertEquals(1, stub.listGroups(ListGroupsRequest.getDefaultInstance()).getGroupsCount());

        StatusRuntimeException busy = assertThrows(
                StatusRuntimeException.class,
                () -> stub.resetOffsets(ResetOffsetsRequest.newBuilder()
                        .setGroupId("g")
                        .setTopic("t")
                        .setTimestampMs(15_000)
                        .build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, busy.getStatus().getCode());
        assertEquals(ErrorCode.ERROR_CODE_GROUP_NOT_EMPTY, error(busy).getCode());

        stub.leaveGroup(LeaveGroupRequest.newBuilder()
                .setGroupId("g")
                .setMemberId(hb.getMemberId())
                .setMemberEpoch(hb.getMemberEpoch())
                .build());
        ResetOffsetsResponse r = stub.resetOffsets(ResetOffsetsRequest.newBuilder()
                .setGroupId("g")
                .setTopic("t")
                .setTimestampMs(15_000)
                .build());
        assertEquals(15, r.getPartitions(0).getNewOffset(), "the first record at or after the time");
        assertEquals(12, r.getPartitions(0).getCurrentOffset());
        assertEquals(0, r.getPartitions(1).getNewOffset(), "an empty partition resets to its high watermark");
        assertEquals(
                15,
                stub.fetchOffsets(
                                FetchOffsetsRequest.newBuilder().setGroupId("g").build())
                        .getOffsets(0)
                        .getOffset());

        stub.deleteGroup(DeleteGroupRequest.newBuilder().setGroupId("g").build());
        StatusRuntimeException gone = assertThrows(
                StatusRuntimeException.class,
                () -> stub.describeGroup(
                        DescribeGroupRequest.newBuilder().setGroupId("g").build()));
        assertEquals(Status.Code.NOT_FOUND, gone.getStatus().getCode());
        assertEquals(ErrorCode.ERROR_CODE_UNKNOWN_GROUP, error(gone).getCode());
    }

    @Test
    void errorsCarryTheirStatusAndDetail() {
        StatusRuntimeException badId = assertThrows(
                StatusRuntimeException.class,
                () -> stub.findCoordinator(FindCoordinatorRequest.newBuilder()
                        .setGroupId("x".repeat(256))
                        .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, badId.getStatus().getCode());
        assertEquals(ErrorCode.ERROR_CODE_INVALID_GROUP_ID, error(badId).getCode());

        HeartbeatResponse hb = join();
        StatusRuntimeException fenced = assertThrows(
                StatusRuntimeException.class,
                () -> stub.heartbeat(HeartbeatRequest.newBuilder()
                        .setGroupId("g")
                        .setMemberId(hb.getMemberId())
                        .setMemberEpoch(hb.getMemberEpoch() + 1)
                        .setTopics(SubscribedTopics.newBuilder().addNames("t"))
                        .build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, fenced.getStatus().getCode());
        assertEquals(ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH, error(fenced).getCode());
        assertFalse(fenced.getStatus().getDescription().contains("at io."), "no stack trace");

        store.lose("g", 3);
        StatusRuntimeException moved = assertThrows(StatusRuntimeException.class, this::join);
        assertEquals(Status.Code.UNAVAILABLE, moved.getStatus().getCode());
        ErrorInfo info = error(moved);
        assertEquals(ErrorCode.ERROR_CODE_NOT_COORDINATOR, info.getCode());
        assertEquals(3, info.getNotLeader().getLeaderId());
        assertEquals("127.0.0.1", info.getNotLeader().getLeaderEndpoint().getHost());
        assertEquals(7072, info.getNotLeader().getLeaderEndpoint().getPort());
        assertTrue(GrpcErrors.isRetriable(info.getCode()));

        // Back as coordinator (fresh state): a commit from a member it has not heard from yet.
        store.gain("g");
        StatusRuntimeException notMember = assertThrows(
                StatusRuntimeException.class,
                () -> stub.commitOffsets(CommitOffsetsRequest.newBuilder()
                        .setGroupId("g")
                        .setMemberId("someone")
                        .setMemberEpoch(1)
                        .build()));
        assertEquals(
                ErrorCode.ERROR_CODE_COORDINATOR_LOAD_IN_PROGRESS,
                error(notMember).getCode(),
                "just after a failover an unknown member is told to heartbeat first");
    }
}
