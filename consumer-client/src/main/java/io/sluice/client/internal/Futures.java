package io.sluice.client.internal;

import io.grpc.stub.StreamObserver;
import io.sluice.client.SluiceException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Helpers that bridge gRPC callbacks and blocking calls to {@link CompletableFuture}s.
 *
 * <p>Stateless and thread-safe.
 */
public final class Futures {
    private Futures() {}

    /** Waits for {@code future}; rethrows its failure as the mapped {@link SluiceException}. */
    public static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SluiceException(io.sluice.client.ErrorCode.UNKNOWN, "interrupted", e);
        } catch (ExecutionException e) {
            throw ErrorMapper.map(e);
        }
    }

    /** A unary-call observer completing {@code future} with the response or the mapped failure. */
    public static <T> StreamObserver<T> unary(CompletableFuture<T> future) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                future.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                future.completeExceptionally(ErrorMapper.map(t));
            }

            @Override
            public void onCompleted() {
                if (!future.isDone()) {
                    future.completeExceptionally(new SluiceException(
                            io.sluice.client.ErrorCode.INTERNAL, "call completed without a response"));
                }
            }
        };
    }
}
