package io.sluice.client.internal;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.sluice.proto.v1.FetchRequest;
import io.sluice.proto.v1.FetchResponse;
import io.sluice.proto.v1.FetchServiceGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * The consumer's fetch stream, with a response parser that copies each response's bytes once.
 *
 * <p>gRPC's stock protobuf parser copies a message out of the transport's buffers into a per-thread scratch array,
 * then copies every {@code bytes} field out of that array again, since the scratch array is reused. A fetch response
 * is almost all {@code records}, so that is two copies of every record byte before the consumer decodes anything.
 * {@link #parse} reads each response into an array of its own and lets the {@code records} field share it ({@link
 * CodedInputStream#enableAliasing}): one copy. {@link #records} then hands the decoder a plain heap buffer over that
 * array, so the CRC32C check runs straight on it (the JDK's CRC copies a read-only buffer in 4 KiB chunks first).
 *
 * <p>Stateless and thread-safe.
 */
final class FetchCall {
    private static final MethodDescriptor.Marshaller<FetchResponse> RESPONSES = new ResponseMarshaller();
    private static final CallOptions DIRECT = CallOptions.DEFAULT.withExecutor(MoreExecutors.directExecutor());

    /** {@code FetchService/Fetch} with {@link ResponseMarshaller}; the request side is the generated one. */
    static final MethodDescriptor<FetchRequest, FetchResponse> METHOD = FetchServiceGrpc.getFetchMethod().toBuilder(
                    FetchServiceGrpc.getFetchMethod().getRequestMarshaller(), RESPONSES)
            .build();

    private FetchCall() {}

    /**
     * Opens a fetch stream on {@code channel}, as {@code FetchServiceGrpc.newStub(channel).fetch(observer)} does,
     * except that {@code observer} is called on the transport's own thread (a direct executor), with each response
     * parsed there too. That saves a hand-off to gRPC's callback pool per response, which a consumer tailing a partition pays
     * on every record's way to it. So {@code observer} must only hand the responses on, never block.
     */
    static StreamObserver<FetchRequest> open(Channel channel, StreamObserver<FetchResponse> observer) {
        return ClientCalls.asyncBidiStreamingCall(channel.newCall(METHOD, DIRECT), observer);
    }

    /** Parses one serialized response the way {@link #METHOD} does. */
    static FetchResponse parse(InputStream in) {
        try {
            byte[] bytes = readAll(in);
            CodedInputStream cis = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
            cis.enableAliasing(true); // the array is this message's alone and nobody writes to it
            cis.setSizeLimit(Integer.MAX_VALUE); // the channel's max inbound message size already bounds it
            return FetchResponse.parseFrom(cis);
        } catch (IOException e) {
            throw Status.INTERNAL
                    .withDescription("invalid fetch response from the broker: " + e.getMessage())
                    .withCause(e)
                    .asRuntimeException();
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        if (in instanceof KnownLength) {
            int size = in.available();
            byte[] bytes = new byte[size];
            int n = 0;
            while (n < size) {
                int r = in.read(bytes, n, size - n);
                if (r < 0) {
                    throw new IOException("message ended after " + n + " of " + size + " bytes");
                }
                n += r;
            }
            if (in.read() != -1) {
                throw new IOException("message longer than its stated " + size + " bytes");
            }
            return bytes;
        }
        return in.readAllBytes();
    }

    /**
     * The records of a response as a heap buffer from position 0, sharing the response's bytes. It is writable only
     * so that JDK code takes its array fast paths; nothing may write to it.
     */
    static ByteBuffer records(FetchResponse response) {
        ByteString records = response.getRecords();
        ArrayView view = new ArrayView();
        try {
            UnsafeByteOperations.unsafeWriteTo(records, view);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // ArrayView never throws
        }
        if (view.pieces == 1 && view.array != null) {
            return ByteBuffer.wrap(view.array, view.offset, view.length).slice();
        }
        return records.asReadOnlyByteBuffer().slice(); // made of several pieces, or not on the heap
    }

    /** Learns the array behind a {@link ByteString} made of one heap piece, without copying it. */
    private static final class ArrayView extends ByteOutput {
        int pieces;
        byte[] array;
        int offset;
        int length;

        @Override
        public void write(byte value) {
            pieces += 2;
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            pieces += 2; // a copy was asked for: not a view
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            pieces++;
            this.array = value;
            this.offset = offset;
            this.length = length;
        }

        @Override
        public void write(ByteBuffer value) {
            pieces += 2;
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            pieces += 2;
        }
    }

    private static final class ResponseMarshaller implements MethodDescriptor.Marshaller<FetchResponse> {
        @Override
        public InputStream stream(FetchResponse value) {
            return FetchServiceGrpc.getFetchMethod().getResponseMarshaller().stream(value);
        }

        @Override
        public FetchResponse parse(InputStream stream) {
            return FetchCall.parse(stream);
        }
    }
}
