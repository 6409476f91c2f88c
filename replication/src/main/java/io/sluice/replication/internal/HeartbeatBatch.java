package io.sluice.replication.internal;

import com.alipay.remoting.CustomSerializer;
import com.alipay.remoting.CustomSerializerManager;
import com.alipay.remoting.InvokeContext;
import com.alipay.remoting.exception.DeserializationException;
import com.alipay.remoting.exception.SerializationException;
import com.alipay.remoting.rpc.RequestCommand;
import com.alipay.remoting.rpc.ResponseCommand;
import com.alipay.remoting.rpc.protocol.RpcRequestCommand;
import com.alipay.remoting.rpc.protocol.RpcResponseCommand;
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

    private static final Object REGISTER_LOCK = new Object();
    private static boolean registered;

    /** Registers the serializer of both messages with bolt (process-wide; idempotent). */
    static void registerSerializer() {
        synchronized (REGISTER_LOCK) {
            if (!registered) {
                CustomSerializerManager.registerCustomSerializer(Request.class.getName(), Codec.INSTANCE);
                CustomSerializerManager.registerCustomSerializer(Response.class.getName(), Codec.INSTANCE);
                registered = true;
            }
        }
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

    /** Bolt's serializer of both messages: contents only, no header. */
    static final class Codec implements CustomSerializer {
        static final Codec INSTANCE = new Codec();

        @Override
        public <T extends RequestCommand> boolean serializeHeader(T request, InvokeContext invokeContext) {
            return false;
        }

        @Override
        public <T extends ResponseCommand> boolean serializeHeader(T response) {
            return false;
        }

        @Override
        public <T extends RequestCommand> boolean deserializeHeader(T request) {
            return false;
        }

        @Override
        public <T extends ResponseCommand> boolean deserializeHeader(T response, InvokeContext invokeContext) {
            return false;
        }

        @Override
        public <T extends RequestCommand> boolean serializeContent(T request, InvokeContext invokeContext)
                throws SerializationException {
            RpcRequestCommand cmd = (RpcRequestCommand) request;
            try {
                cmd.setContent(encode((Request) cmd.getRequestObject()));
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot encode a heartbeat batch: " + e, e);
            }
            return true;
        }

        @Override
        public <T extends ResponseCommand> boolean serializeContent(T response) throws SerializationException {
            RpcResponseCommand cmd = (RpcResponseCommand) response;
            try {
                cmd.setContent(encode((Response) cmd.getResponseObject()));
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot encode heartbeat answers: " + e, e);
            }
            return true;
        }

        @Override
        public <T extends RequestCommand> boolean deserializeContent(T request) throws DeserializationException {
            RpcRequestCommand cmd = (RpcRequestCommand) request;
            try {
                cmd.setRequestObject(decodeRequest(cmd.getContent()));
            } catch (IOException | RuntimeException e) {
                throw new DeserializationException("cannot decode a heartbeat batch: " + e, e);
            }
            return true;
        }

        @Override
        public <T extends ResponseCommand> boolean deserializeContent(T response, InvokeContext invokeContext)
                throws DeserializationException {
            RpcResponseCommand cmd = (RpcResponseCommand) response;
            try {
                cmd.setResponseObject(decodeResponse(cmd.getContent()));
            } catch (IOException | RuntimeException e) {
                throw new DeserializationException("cannot decode heartbeat answers: " + e, e);
            }
            return true;
        }
    }
}
