package io.sluice.broker.internal;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.sluice.proto.v1.ErrorInfo;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Service-definition wrappers shared by the broker's gRPC services.
 *
 * <p>Stateless and thread-safe.
 */
public final class BrokerServices {
    private BrokerServices() {}

    /**
     * Makes a request that is not a valid protobuf message fail its call with INVALID_ARGUMENT and an INVALID_REQUEST
     * {@link ErrorInfo} trailer. gRPC itself would answer UNKNOWN/INTERNAL, which reads like a broker bug. Parsing
     * happens before any interceptor sees the message, so the request marshaller is wrapped instead: a parse failure
     * yields a marker the wrapping handler turns into the error.
     */
    public static ServerServiceDefinition rejectMalformed(ServerServiceDefinition def) {
        ServiceDescriptor sd = def.getServiceDescriptor();
        ServiceDescriptor.Builder sdb =
                ServiceDescriptor.newBuilder(sd.getName()).setSchemaDescriptor(sd.getSchemaDescriptor());
        List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : def.getMethods()) {
            ServerMethodDefinition<?, ?> w = wrap(m);
            methods.add(w);
            sdb.addMethod(w.getMethodDescriptor());
        }
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(sdb.build());
        methods.forEach(b::addMethod);
        return b.build();
    }

    /** Stands for a request that could not be parsed. */
    private record Malformed(String reason) {}

    private static <Q, R> MethodDescriptor<Object, R> wrapDescriptor(MethodDescriptor<Q, R> md) {
        MethodDescriptor.Marshaller<Q> inner = md.getRequestMarshaller();
        MethodDescriptor.Marshaller<Object> outer = new MethodDescriptor.Marshaller<>() {
            @Override
            @SuppressWarnings("unchecked")
            public InputStream stream(Object value) {
                return inner.stream((Q) value);
            }

            @Override
            public Object parse(InputStream stream) {
                try {
                    return inner.parse(stream);
                } catch (RuntimeException e) {
                    return new Malformed(Status.fromThrowable(e).getDescription());
                }
            }
        };
        return md.toBuilder(outer, md.getResponseMarshaller()).build();
    }

    private static <Q, R> ServerMethodDefinition<Object, R> wrap(ServerMethodDefinition<Q, R> m) {
        MethodDescriptor<Object, R> md = wrapDescriptor(m.getMethodDescriptor());
        ServerCallHandler<Q, R> inner = m.getServerCallHandler();
        ServerCallHandler<Object, R> handler = (call, headers) -> {
            @SuppressWarnings("unchecked")
            ServerCall<Q, R> typed = (ServerCall<Q, R>) (ServerCall<?, R>) call;
            ServerCall.Listener<Q> delegate = inner.startCall(typed, headers);
            return new ServerCall.Listener<>() {
                private boolean failed;

                @Override
                @SuppressWarnings("unchecked")
                public void onMessage(Object message) {
                    if (failed) {
                        return;
                    }
                    if (message instanceof Malformed bad) {
                        failed = true;
                        var e = Errors.toStatusException(BrokerException.invalidRequest(
                                "request", "the message is not a valid protobuf message (" + bad.reason() + ")"));
                        call.close(e.getStatus(), e.getTrailers() == null ? new Metadata() : e.getTrailers());
                        return;
                    }
                    delegate.onMessage((Q) message);
                }

                @Override
                public void onHalfClose() {
                    if (!failed) {
                        delegate.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    delegate.onCancel();
                }

                @Override
                public void onComplete() {
                    delegate.onComplete();
                }

                @Override
                public void onReady() {
                    if (!failed) {
                        delegate.onReady();
                    }
                }
            };
        };
        return ServerMethodDefinition.create(md, handler);
    }
}
