package io.sluice.client.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sluice.proto.v1.FetchResponse;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The fetch call: responses delivered without a hand-off, one copy per response, records shared with it, bad bytes a
 * clear status.
 */
class FetchCallTest {
    /** A stream that states its length, as gRPC's transports' streams do. */
    private static final class Known extends ByteArrayInputStream implements KnownLength {
        private final int stated;

        Known(byte[] bytes) {
            this(bytes, bytes.length);
        }

        Known(byte[] bytes, int stated) {
            super(bytes);
            this.stated = stated;
        }

        @Override
        public synchronized int available() {
            return stated - pos;
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }

    private static FetchResponse response(ByteString records) {
        return FetchResponse.newBuilder()
                .setTopic("orders")
                .setPartition(3)
                .setRecords(records)
                .setHighWatermark(900)
                .setLogStartOffset(7)
                .setNextOffset(812)
                .build();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void responsesAreDeliveredOnTheTransportsThreadWithoutAHandOff() {
        AtomicReference<MethodDescriptor<?, ?>> method = new AtomicReference<>();
        AtomicReference<CallOptions> options = new AtomicReference<>();
        Channel channel = new Channel() {
            @Override
            public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> m, CallOptions o) {
                method.set(m);
                options.set(o);
                return new ClientCall<>() {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {}

                    @Override
                    public void request(int n) {}

                    @Override
                    public void cancel(String message, Throwable cause) {}

                    @Override
                    public void halfClose() {}

                    @Override
                    public void sendMessage(Q message) {}
                };
            }

            @Override
            public String authority() {
                return "broker-1:7070";
            }
        };
        FetchCall.open(channel, new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(FetchResponse value) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
        assertSame(FetchCall.METHOD, method.get(), "the method with the one-copy parser");
        assertSame(MoreExecutors.directExecutor(), options.get().getExecutor(), "gRPC's direct executor");
    }

    @Test
    void recordsShareTheOneArrayTheResponseWasReadInto() {
        byte[] records = randomBytes(100_000);
        FetchResponse sent = response(ByteString.copyFrom(records));
        byte[] wire = sent.toByteArray();

        FetchResponse got = FetchCall.parse(new Known(wire));

        assertEquals(sent, got);
        ByteBuffer view = FetchCall.records(got);
        assertEquals(0, view.position());
        assertArrayEquals(records, bytes(view));
        assertTrue(view.hasArray(), "a heap buffer the CRC32C can read without copying");
        assertFalse(view.isDirect());
        // shared, not copied: the array behind the records is the whole message, and the same on every call
        assertEquals(wire.length, view.array().length);
        assertSame(view.array(), FetchCall.records(got).array());
        assertArrayEquals(wire, view.array());
    }

    @Test
    void streamsWithoutAStatedLengthAreReadWhole() {
        byte[] records = randomBytes(5_000);
        FetchResponse sent = response(ByteString.copyFrom(records));

        FetchResponse got = FetchCall.parse(new ByteArrayInputStream(sent.toByteArray()));

        assertEquals(sent, got);
        assertArrayEquals(records, bytes(FetchCall.records(got)));
    }

    @Test
    void theGeneratedMarshallersStreamParsesToTheSameMessage() {
        FetchResponse sent = response(ByteString.copyFrom(randomBytes(3_000)));

        FetchResponse got = FetchCall.METHOD.parseResponse(FetchCall.METHOD.streamResponse(sent));

        assertEquals(sent, got);
        assertEquals(FetchCall.METHOD.getFullMethodName(), "sluice.v1.FetchService/Fetch");
    }

    @Test
    void responsesWithoutRecordsAndRecordsOfSeveralPiecesAreViewedToo() {
        FetchResponse empty =
                FetchCall.parse(new Known(response(ByteString.EMPTY).toByteArray()));
        assertEquals(0, FetchCall.records(empty).remaining());

        byte[] a = randomBytes(40_000);
        byte[] b = Arrays.copyOf(randomBytes(50_000), 30_000);
        FetchResponse rope = response(ByteString.copyFrom(a).concat(ByteString.copyFrom(b)));
        ByteBuffer view = FetchCall.records(rope);
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        assertArrayEquals(both, bytes(view));
        assertEquals(0, view.position());
    }

    @Test
    void garbageAndShortMessagesAreAnInternalStatusNamingTheBroker() {
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2, 3};
        StatusRuntimeException e =
                assertThrows(StatusRuntimeException.class, () -> FetchCall.parse(new Known(garbage)));
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("invalid fetch response from the broker"), e.getMessage());

        byte[] wire = response(ByteString.copyFrom(randomBytes(1_000))).toByteArray();
        Known truncated = new Known(Arrays.copyOf(wire, wire.length / 2), wire.length); // states more than it holds
        e = assertThrows(StatusRuntimeException.class, () -> FetchCall.parse(truncated));
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("ended after"), e.getMessage());
    }
}
