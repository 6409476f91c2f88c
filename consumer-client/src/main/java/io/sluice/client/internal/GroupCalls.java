package io.sluice.client.internal;

import io.sluice.client.ErrorCode;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TimeoutException;
import io.sluice.proto.v1.FindCoordinatorRequest;
import io.sluice.proto.v1.FindCoordinatorResponse;
import io.sluice.proto.v1.GroupServiceGrpc;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Routes GroupService calls to a group's coordinator: FindCoordinator at any broker (the metadata cache's order),
 * a cache of group → coordinator endpoint, and retries with back-off while the coordinator moves
 * (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, or an unreachable broker), within
 * the client's request timeout. Calls that are not idempotent are not retried after an outcome-unknown failure.
 *
 * <p>Thread-safe.
 */
final class GroupCalls {
    private static final long MAX_BACKOFF_MS = 1000;

    private final Connections connections;
    private final MetadataCache metadata;
    private final Duration timeout;
    private final Map<String, String> coordinators = new ConcurrentHashMap<>();

    GroupCalls(Connections connections, MetadataCache metadata, Duration timeout) {
        this.connections = connections;
        this.metadata = metadata;
        this.timeout = timeout;
    }

    Duration timeout() {
        return timeout;
    }

    /** A stub to {@code endpoint} whose calls end at {@code deadlineNanos} (System.nanoTime based). */
    GroupServiceGrpc.GroupServiceStub stub(String endpoint, long deadlineNanos) {
        long left = Math.max(1, deadlineNanos - System.nanoTime());
        return GroupServiceGrpc.newStub(connections.channel(endpoint)).withDeadlineAfter(left, TimeUnit.NANOSECONDS);
    }

    /** The cached coordinator of {@code groupId}, or FindCoordinator (trying brokers in turn). */
    CompletableFuture<String> coordinator(String groupId, long deadlineNanos) {
        String known = coordinators.get(groupId);
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        return find(groupId, metadata.candidates(), 0, deadlineNanos, null).thenApply(endpoint -> {
            coordinators.put(groupId, endpoint);
            return endpoint;
        });
    }

    private CompletableFuture<String> find(
            String groupId, List<String> endpoints, int i, long deadlineNanos, SluiceException last) {
        if (i >= endpoints.size()) {
            return CompletableFuture.failedFuture(
                    last != null ? last : new RetriableException(ErrorCode.BROKER_NOT_AVAILABLE, "no broker to ask"));
        }
        CompletableFuture<FindCoordinatorResponse> f = new CompletableFuture<>();
        try {
            stub(endpoints.get(i), deadlineNanos)
                    .findCoordinator(
                            FindCoordinatorRequest.newBuilder()
                                    .setGroupId(groupId)
                                    .build(),
                            Futures.unary(f));
        } catch (RuntimeException e) {
            f.completeExceptionally(ErrorMapper.map(e));
        }
        return f.handle((r, t) -> {
                    if (t == null) {
                        var b = r.getCoordinator();
                        return CompletableFuture.completedFuture(b.getHost() + ":" + b.getGrpcPort());
                    }
                    SluiceException e = ErrorMapper.map(t);
                    if (e instanceof RetriableException && System.nanoTime() < deadlineNanos) {
                        return find(groupId, endpoints, i + 1, deadlineNanos, e);
                    }
                    return CompletableFuture.<String>failedFuture(e);
                })
                .thenCompose(Function.identity());
    }

    /** Forgets the coordinator of a group so that the next call runs FindCoordinator again. */
    void invalidate(String groupId) {
        coordinators.remove(groupId);
    }

    /** True for failures after which the coordinator must be looked up again. */
    static boolean coordinatorMoved(SluiceException e) {
        return switch (e.code()) {
            case NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, BROKER_NOT_AVAILABLE -> true;
            default -> false;
        };
    }

    /**
     * Runs {@code call} at the coordinator of {@code groupId}, retrying (FindCoordinator again, back-off 100 ms
     * growing to 1 s) on coordinator moves and, when {@code idempotent}, on timeouts, until the request timeout.
     */
    <T> CompletableFuture<T> call(
            String groupId,
            boolean idempotent,
            BiConsumer<GroupServiceGrpc.GroupServiceStub, CompletableFuture<T>> call) {
        return attempt(groupId, idempotent, call, System.nanoTime() + timeout.toNanos(), 1);
    }

    private <T> CompletableFuture<T> attempt(
            String groupId,
            boolean idempotent,
            BiConsumer<GroupServiceGrpc.GroupServiceStub, CompletableFuture<T>> call,
            long deadlineNanos,
            int attempt) {
        CompletableFuture<T> result = coordinator(groupId, deadlineNanos).thenCompose(endpoint -> {
            CompletableFuture<T> f = new CompletableFuture<>();
            try {
                call.accept(stub(endpoint, deadlineNanos), f);
            } catch (RuntimeException e) {
                f.completeExceptionally(ErrorMapper.map(e));
            }
            return f;
        });
        return result.handle((v, t) -> {
                    if (t == null) {
                        return CompletableFuture.completedFuture(v);
                    }
                    SluiceException e = ErrorMapper.map(t);
                    boolean moved = coordinatorMoved(e);
                    boolean retry = moved || (idempotent && e instanceof TimeoutException);
                    if (moved) {
                        invalidate(groupId);
                    }
                    long backoffMs = Math.min(MAX_BACKOFF_MS, 100L * attempt);
                    if (!retry || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs) >= deadlineNanos) {
                        return CompletableFuture.<T>failedFuture(e);
                    }
                    return CompletableFuture.runAsync(
                                    () -> {}, CompletableFuture.delayedExecutor(backoffMs, TimeUnit.MILLISECONDS))
                            .thenCompose(x -> attempt(groupId, idempotent, call, deadlineNanos, attempt + 1));
                })
                .thenCompose(Function.identity());
    }
}
