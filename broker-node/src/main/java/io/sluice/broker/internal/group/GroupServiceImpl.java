package io.sluice.broker.internal.group;

import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.sluice.broker.internal.Errors;
import io.sluice.proto.v1.CommitOffsetsRequest;
import io.sluice.proto.v1.CommitOffsetsResponse;
import io.sluice.proto.v1.DeleteGroupRequest;
import io.sluice.proto.v1.DeleteGroupResponse;
import io.sluice.proto.v1.DescribeGroupRequest;
import io.sluice.proto.v1.DescribeGroupResponse;
import io.sluice.proto.v1.FetchOffsetsRequest;
import io.sluice.proto.v1.FetchOffsetsResponse;
import io.sluice.proto.v1.FindCoordinatorRequest;
import io.sluice.proto.v1.FindCoordinatorResponse;
import io.sluice.proto.v1.GroupServiceGrpc;
import io.sluice.proto.v1.HeartbeatRequest;
import io.sluice.proto.v1.HeartbeatResponse;
import io.sluice.proto.v1.LeaveGroupRequest;
import io.sluice.proto.v1.LeaveGroupResponse;
import io.sluice.proto.v1.ListGroupsRequest;
import io.sluice.proto.v1.ListGroupsResponse;
import io.sluice.proto.v1.ResetOffsetsRequest;
import io.sluice.proto.v1.ResetOffsetsResponse;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * The GroupService: every RPC of {@code group.proto}, answered by this broker's {@link GroupCoordinator}. Synchronous
 * failures are thrown and mapped by the broker's error interceptor; failures of the asynchronous offset writes are
 * mapped where the call completes, through the same {@link Errors}.
 *
 * <p>Thread-safe (stateless over the coordinator). Handlers run on the broker's request executor.
 */
public final class GroupServiceImpl implements GroupServiceGrpc.AsyncService, BindableService {
    private static final Context.Key<String> CLIENT_HOST = Context.key("sluice-client-host");

    private final GroupCoordinator coordinator;

    public GroupServiceImpl(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    /** Binds the service behind an interceptor that records the caller's address (shown by DescribeGroup). */
    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(GroupServiceGrpc.bindService(this), new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                SocketAddress a = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                String host = a instanceof InetSocketAddress isa ? isa.getHostString() : a == null ? "" : a.toString();
                return Contexts.interceptCall(Context.current().withValue(CLIENT_HOST, host), call, headers, next);
            }
        });
    }

    @Override
    public void findCoordinator(FindCoordinatorRequest req, StreamObserver<FindCoordinatorResponse> out) {
        reply(
                out,
                FindCoordinatorResponse.newBuilder()
                        .setCoordinator(coordinator.findCoordinator(req.getGroupId()))
                        .build());
    }

    @Override
    public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatResponse> out) {
        String host = CLIENT_HOST.get();
        reply(out, coordinator.heartbeat(req, host == null ? "" : host));
    }

    @Override
    public void leaveGroup(LeaveGroupRequest req, StreamObserver<LeaveGroupResponse> out) {
        coordinator.leave(req);
        reply(out, LeaveGroupResponse.getDefaultInstance());
    }

    @Override
    public void commitOffsets(CommitOffsetsRequest req, StreamObserver<CommitOffsetsResponse> out) {
        complete(out, coordinator.commit(req));
    }

    @Override
    public void fetchOffsets(FetchOffsetsRequest req, StreamObserver<FetchOffsetsResponse> out) {
        reply(out, coordinator.fetch(req));
    }

    @Override
    public void listGroups(ListGroupsRequest req, StreamObserver<ListGroupsResponse> out) {
        reply(out, coordinator.list(req));
    }

    @Override
    public void describeGroup(DescribeGroupRequest req, StreamObserver<DescribeGroupResponse> out) {
        reply(out, coordinator.describe(req));
    }

    @Override
    public void resetOffsets(ResetOffsetsRequest req, StreamObserver<ResetOffsetsResponse> out) {
        complete(out, coordinator.reset(req));
    }

    @Override
    public void deleteGroup(DeleteGroupRequest req, StreamObserver<DeleteGroupResponse> out) {
        complete(out, coordinator.delete(req).thenApply(v -> DeleteGroupResponse.getDefaultInstance()));
    }

    private static <T> void reply(StreamObserver<T> out, T response) {
        out.onNext(response);
        out.onCompleted();
    }

    private static <T> void complete(StreamObserver<T> out, CompletableFuture<T> f) {
        f.whenComplete((r, e) -> {
            if (e != null) {
                out.onError(Errors.toStatusException(e));
            } else {
                reply(out, r);
            }
        });
    }
}
