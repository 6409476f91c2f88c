package io.sluice.replication.metadata.internal;

import io.sluice.replication.internal.ContentSerializer;
import io.sluice.replication.metadata.MetadataError;
import java.util.Objects;

/**
 * The controller RPC messages, carried by JRaft's RPC layer (bolt) on each broker's shared Raft RPC server.
 *
 * <p>Why not protobuf: JRaft 1.3's bolt {@code ProtobufSerializer} only parses the message classes listed in its own
 * {@code raft.desc}, so user protobuf messages cannot travel on the bolt transport through it. We register our own
 * bolt {@link CustomSerializer} for these two classes instead, with the explicit layout below (so nothing falls back to
 * bolt's Hessian serialization of Java objects).
 *
 * <pre>
 * Request:  u8 kind (1 Register | 2 Heartbeat | 3 CreateTopic | 4 DeleteTopic), string sender (host:port of the
 *           sender's Raft endpoint, for fault injection), bytes payload
 *   Register:    broker (as in {@link MetadataCodec})
 *   Heartbeat:   i32 brokerId
 *   CreateTopic: string name, i32 partitions, i32 replicationFactor, configs, i64 requestIdHigh, i64 requestIdLow
 *   DeleteTopic: string name
 * Response: i32 errorCode ({@link MetadataError#code()}), string message, i32 leaderId (-1 = unknown),
 *           string leaderAddress ("" = unknown), i64 version, bytes payload
 *   payload of a successful CreateTopic: string name, i64 topicId, configs, i32 partitions, i32 rf, broker ids
 * </pre>
 *
 * <p>Messages are immutable and thread-safe.
 */
public final class ControllerRpc {

    public static final int REGISTER = 1;
    public static final int HEARTBEAT = 2;
    public static final int CREATE_TOPIC = 3;
    public static final int DELETE_TOPIC = 4;

    /** Bolt's serializer of {@link Request} and {@link Response}: their content only. */
    static final ContentSerializer<Request, Response> SERIALIZER = new ContentSerializer<>(
            "controller",
            Request.class,
            codec(Request::encode, Request::decode),
            Response.class,
            codec(Response::encode, Response::decode));

    static {
        SERIALIZER.register();
    }

    private static <T> ContentSerializer.Codec<T> codec(
            java.util.function.Function<T, byte[]> encode, java.util.function.Function<byte[], T> decode) {
        return new ContentSerializer.Codec<>() {
            @Override
            public byte[] encode(T value) {
                return encode.apply(value);
            }

            @Override
            public T decode(byte[] bytes) {
                return decode.apply(bytes);
            }
        };
    }

    private ControllerRpc() {}

    /** Makes sure the serializers are registered (idempotent; class initialisation runs once). */
    public static void ensureRegistered() {
        // Triggers the static initializer.
    }

    /** A request to the controller leader. Immutable. */
    public static final class Request {
        private final int kind;
        private final String sender;
        private final byte[] payload;

        public Request(int kind, String sender, byte[] payload) {
            this.kind = kind;
            this.sender = Objects.requireNonNull(sender, "sender");
            this.payload = Objects.requireNonNull(payload, "payload").clone();
        }

        public int kind() {
            return kind;
        }

        /** {@code host:port} of the sender's Raft endpoint. */
        public String sender() {
            return sender;
        }

        public byte[] payload() {
            return payload.clone();
        }

        byte[] encode() {
            return new Binary.Writer().u8(kind).string(sender).bytes(payload).toByteArray();
        }

        static Request decode(byte[] data) {
            Binary.Reader r = new Binary.Reader(data);
            Request req = new Request(r.u8(), r.string(), r.bytes());
            r.expectEnd();
            return req;
        }

        @Override
        public String toString() {
            return "ControllerRequest{kind=" + kind + " from " + sender + ", " + payload.length + " bytes}";
        }
    }

    /** The controller's answer; {@link #error()} NOT_CONTROLLER carries the leader when known. Immutable. */
    public static final class Response {
        private final int errorCode;
        private final String message;
        private final int leaderId;
        private final String leaderAddress;
        private final long version;
        private final byte[] payload;

        public Response(
                int errorCode, String message, int leaderId, String leaderAddress, long version, byte[] payload) {
            this.errorCode = errorCode;
            this.message = Objects.requireNonNull(message, "message");
            this.leaderId = leaderId;
            this.leaderAddress = Objects.requireNonNull(leaderAddress, "leaderAddress");
            this.version = version;
            this.payload = Objects.requireNonNull(payload, "payload").clone();
        }

        public static Response ok(long version, byte[] payload) {
            return new Response(0, "", -1, "", version, payload);
        }

        public static Response error(MetadataError error, String message) {
            return new Response(error.code(), message, -1, "", 0, new byte[0]);
        }

        public static Response notController(int leaderId, String leaderAddress) {
            return new Response(
                    MetadataError.NOT_CONTROLLER.code(),
                    "not the controller leader",
                    leaderId,
                    leaderAddress,
                    0,
                    new byte[0]);
        }

        public MetadataError error() {
            return MetadataError.forCode(errorCode).orElse(MetadataError.INTERNAL);
        }

        public String message() {
            return message;
        }

        public int leaderId() {
            return leaderId;
        }

        public String leaderAddress() {
            return leaderAddress;
        }

        public long version() {
            return version;
        }

        public byte[] payload() {
            return payload.clone();
        }

        byte[] encode() {
            return new Binary.Writer()
                    .i32(errorCode)
                    .string(message)
                    .i32(leaderId)
                    .string(leaderAddress)
                    .i64(version)
                    .bytes(payload)
                    .toByteArray();
        }

        static Response decode(byte[] data) {
            Binary.Reader r = new Binary.Reader(data);
            Response resp = new Response(r.i32(), r.string(), r.i32(), r.string(), r.i64(), r.bytes());
            r.expectEnd();
            return resp;
        }

        @Override
        public String toString() {
            return "ControllerResponse{" + error() + ", " + message + ", leader=" + leaderId + "}";
        }
    }
}
