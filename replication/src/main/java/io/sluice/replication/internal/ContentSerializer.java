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
import java.util.HashSet;
import java.util.Set;

/**
 * A bolt serializer for one request type and one response type of Sluice's own Raft-port RPCs (the controller's
 * requests, coalesced heartbeats): each message is its content only, no header, encoded and decoded by the codecs
 * given. Registered with bolt by the messages' class names, process-wide. Stateless; thread-safe.
 *
 * @param <Q> the request type
 * @param <S> the response type
 */
public final class ContentSerializer<Q, S> implements CustomSerializer {
    /** Encodes or decodes one message type; may throw on malformed input. */
    public interface Codec<T> {
        byte[] encode(T value) throws Exception;

        T decode(byte[] bytes) throws Exception;
    }

    private static final Set<String> REGISTERED = new HashSet<>();

    private final String what;
    private final Class<Q> requestType;
    private final Codec<Q> requests;
    private final Class<S> responseType;
    private final Codec<S> responses;

    /**
     * @param what names the RPC in error messages ("controller", "heartbeat batch")
     */
    public ContentSerializer(
            String what, Class<Q> requestType, Codec<Q> requests, Class<S> responseType, Codec<S> responses) {
        this.what = what;
        this.requestType = requestType;
        this.requests = requests;
        this.responseType = responseType;
        this.responses = responses;
    }

    /** Registers this serializer for both class names with bolt, once per process (bolt refuses a second one). */
    public void register() {
        synchronized (REGISTERED) {
            for (Class<?> type : new Class<?>[] {requestType, responseType}) {
                if (REGISTERED.add(type.getName())) {
                    CustomSerializerManager.registerCustomSerializer(type.getName(), this);
                }
            }
        }
    }

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
        cmd.setContent(encode(requestType, requests, cmd.getRequestObject(), "request"));
        return true;
    }

    @Override
    public <T extends ResponseCommand> boolean serializeContent(T response) throws SerializationException {
        RpcResponseCommand cmd = (RpcResponseCommand) response;
        cmd.setContent(encode(responseType, responses, cmd.getResponseObject(), "response"));
        return true;
    }

    @Override
    public <T extends RequestCommand> boolean deserializeContent(T request) throws DeserializationException {
        RpcRequestCommand cmd = (RpcRequestCommand) request;
        cmd.setRequestObject(decode(requests, cmd.getContent(), "request"));
        return true;
    }

    @Override
    public <T extends ResponseCommand> boolean deserializeContent(T response, InvokeContext invokeContext)
            throws DeserializationException {
        RpcResponseCommand cmd = (RpcResponseCommand) response;
        cmd.setResponseObject(decode(responses, cmd.getContent(), "response"));
        return true;
    }

    private <T> byte[] encode(Class<T> type, Codec<T> codec, Object value, String kind) throws SerializationException {
        if (!type.isInstance(value)) {
            throw new SerializationException("not a " + what + " " + kind + ": " + value);
        }
        try {
            return codec.encode(type.cast(value));
        } catch (Exception e) {
            throw new SerializationException("cannot encode a " + what + " " + kind + ": " + e, e);
        }
    }

    private <T> T decode(Codec<T> codec, byte[] bytes, String kind) throws DeserializationException {
        try {
            return codec.decode(bytes);
        } catch (Exception e) {
            throw new DeserializationException("bad " + what + " " + kind + ": " + e.getMessage(), e);
        }
    }
}
