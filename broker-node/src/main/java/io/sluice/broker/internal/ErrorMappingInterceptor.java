package io.sluice.broker.internal;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one server interceptor that turns an exception thrown by a handler (synchronously, from any listener callback)
 * into a gRPC status with the typed {@code sluice-error-bin} trailer, through {@link Errors}. Asynchronous failures are
 * mapped by the same {@link Errors#toStatusException} where the handlers complete their calls.
 *
 * <p>Stateless and thread-safe; per-call state lives in the listener it creates.
 */
public final class ErrorMappingInterceptor implements ServerInterceptor {

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        AtomicBoolean closed = new AtomicBoolean();
        ServerCall.Listener<Q> delegate;
        try {
            delegate = next.startCall(call, headers);
        } catch (RuntimeException e) {
            closeWith(call, closed, e);
            return new ServerCall.Listener<>() {};
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
            @Override
            public void onMessage(Q message) {
                try {
                    super.onMessage(message);
                } catch (RuntimeException e) {
                    closeWith(call, closed, e);
                }
            }

            @Override
            public void onHalfClose() {
                try {
                    super.onHalfClose();
                } catch (RuntimeException e) {
                    closeWith(call, closed, e);
                }
            }

            @Override
            public void onReady() {
                try {
                    super.onReady();
                } catch (RuntimeException e) {
                    closeWith(call, closed, e);
                }
            }
        };
    }

    private static void closeWith(ServerCall<?, ?> call, AtomicBoolean closed, RuntimeException e) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        StatusRuntimeException sre = Errors.toStatusException(e);
        try {
            call.close(sre.getStatus(), sre.getTrailers() == null ? new Metadata() : sre.getTrailers());
        } catch (IllegalStateException alreadyClosed) {
            // The handler closed the call itself before throwing; nothing more to tell the client.
        }
    }
}
