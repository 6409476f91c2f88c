package io.sluice.replication.internal;

import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesResponse;
import com.alipay.sofa.jraft.rpc.RpcRequests.ErrorResponse;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The wire messages of coalesced heartbeats: many Raft groups' heartbeats (empty AppendEntries requests) from one
 * broker to another in one RPC, and their answers in the same order. See {@link HeartbeatCoalescer} (the sending side)
 * and {@link HeartbeatBatchProcessor} (the receiving side).
 *
 * <p>Encoding (bolt custom serializer, registered by class name): a request is the sender ({@code host:port}, UTF-8,
 * length-prefixed), a count, then each AppendEntries request as a length-prefixed protobuf message; a response is a
 * count, then each answer as a type byte (0 AppendEntriesResponse, 1 ErrorResponse) and a length-prefixed protobuf
 * message. Lengths and counts are protobuf varints.
 */
final class HeartbeatBatch {
    private HeartbeatBatch() {}

    /**
     * Heartbeats of several groups sent by one broker to one broker.
     *
     * @param sender {@code host:port} of the sending broker's Raft endpoint (every request's server id is on it)
     * @param requests the heartbeats, in the order their answers come back
     */
    record Request(String sender, List<AppendEntriesRequest> requests) {
        Request {
            Objects.requireNonNull(sender, "sender");
            requests = List.copyOf(requests);
        }
    }

    /**
     * The answers to a {@link Request}, one per heartbeat, in its order.
     *
     * @param responses each an {@link AppendEntriesResponse} (possibly carrying an error) or an {@link ErrorResponse}
     */
    record Response(List<Message> responses) {
        Response {
            for (Message m : responses) {
                if (!(m instanceof AppendEntriesResponse) && !(m instanceof ErrorResponse)) {
                    throw new IllegalArgumentException(
                            "not a heartbeat answer: " + m.getClass().getName());
                }
            }
            responses = List.copyOf(responses);
        }
    }

    /** Bolt's serializer of both messages: their content only. */
    private static final ContentSerializer<Request, Response> SERIALIZER = new ContentSerializer<>(
            "heartbeat batch",
            Request.class,
            new ContentSerializer.Codec<>() {
                @Override
                public byte[] encode(Request value) throws IOException {
                    return HeartbeatBatch.encode(value);
                }

                @Override
                public Request decode(byte[] bytes) throws IOException {
                    return decodeRequest(bytes);
                }
            },
            Response.class,
            new ContentSerializer.Codec<>() {
                @Override
                public byte[] encode(Response value) throws IOException {
                    return HeartbeatBatch.encode(value);
                }

                @Override
                public Response decode(byte[] bytes) throws IOException {
                    return decodeResponse(bytes);
                }
            });

    /** Registers the serializer of both messages with bolt (process-wide; idempotent). */
    static void registerSerializer() {
        SERIALIZER.register();
    }

    static byte[] encode(Request r) throws IOException {
        byte[] sender = r.sender().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int size = CodedOutputStream.computeByteArraySizeNoTag(sender)
                + CodedOutputStream.computeUInt32SizeNoTag(r.requests().size());
        for (AppendEntriesRequest m : r.requests()) {
            size += CodedOutputStream.computeMessageSizeNoTag(m);
        }
        byte[] out = new byte[size];
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        o.writeByteArrayNoTag(sender);
        o.writeUInt32NoTag(r.requests().size());
        for (AppendEntriesRequest m : r.requests()) {
            o.writeMessageNoTag(m);
        }
        o.checkNoSpaceLeft();
        return out;
    }

    static Request decodeRequest(byte[] bytes) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        String sender = new String(in.readByteArray(), java.nio.charset.StandardCharsets.UTF_8);
        int n = count(in);
        List<AppendEntriesRequest> requests = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            requests.add(AppendEntriesRequest.parseFrom(in.readByteArray()));
        }
        end(in);
        return new Request(sender, requests);
    }

    static byte[] encode(Response r) throws IOException {
        int size = CodedOutputStream.computeUInt32SizeNoTag(r.responses().size());
        for (Message m : r.responses()) {
            size += 1 + CodedOutputStream.computeMessageSizeNoTag(m);
        }
        byte[] out = new byte[size];
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        o.writeUInt32NoTag(r.responses().size());
        for (Message m : r.responses()) {
            o.writeRawByte(m instanceof ErrorResponse ? 1 : 0);
            o.writeMessageNoTag(m);
        }
        o.checkNoSpaceLeft();
        return out;
    }

    static Response decodeResponse(byte[] bytes) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        int n = count(in);
        List<Message> responses = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte type = in.readRawByte();
            byte[] body = in.readByteArray();
            responses.add(
                    switch (type) {
                        case 0 -> AppendEntriesResponse.parseFrom(body);
                        case 1 -> ErrorResponse.parseFrom(body);
                        default -> throw new IOException("unknown heartbeat answer type " + type);
                    });
        }
        end(in);
        return new Response(responses);
    }

    private static int count(CodedInputStream in) throws IOException {
        int n = in.readUInt32();
        if (n < 0 || n > 1_000_000) {
            throw new IOException("bad heartbeat count " + n);
        }
        return n;
    }

    private static void end(CodedInputStream in) throws IOException {
        if (!in.isAtEnd()) {
            throw new IOException("trailing bytes after a heartbeat batch");
        }
    }
}
