package io.sluice.replication.internal;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.NodeManager;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.rpc.Connection;
import com.alipay.sofa.jraft.rpc.RaftServerService;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcRequestClosure;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesResponse;
import com.alipay.sofa.jraft.util.RpcFactoryHelper;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of coalesced heartbeats: hands each heartbeat of a {@link HeartbeatBatch.Request} to its group's
 * node exactly as JRaft's own AppendEntries processor does for a heartbeat (the node is found by group and peer id;
 * heartbeats bypass the pipelined path there too), and answers with every node's answer in one response.
 *
 * <p>A node answers a request without entries synchronously (term checks, leader timestamp, commit index), so the batch
 * is handled in one pass on bolt's request executor. Registered on the broker's fault-injecting server, so a blocked
 * sender's batches are dropped like its other requests. Stateless; thread-safe.
 */
final class HeartbeatBatchProcessor implements RpcProcessor<HeartbeatBatch.Request> {
    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatBatchProcessor.class);

    @Override
    public void handleRequest(RpcContext ctx, HeartbeatBatch.Request batch) {
        List<Message> answers = new ArrayList<>(batch.requests().size());
        for (AppendEntriesRequest r : batch.requests()) {
            // A batch speaks for one sender only: what the fault injector judged by is what is handled.
            answers.add(
                    FaultInjectingRpcServer.hostPort(r.getServerId()).equals(batch.sender())
                            ? handle(r, ctx)
                            : error(
                                    RaftError.EINVAL,
                                    "heartbeat from %s in a batch of %s",
                                    r.getServerId(),
                                    batch.sender()));
        }
        ctx.sendResponse(new HeartbeatBatch.Response(answers));
    }

    /** One heartbeat's answer, as JRaft's AppendEntries processor would give it. */
    static Message handle(AppendEntriesRequest request, RpcContext batchCtx) {
        PeerId peer = new PeerId();
        if (!peer.parse(request.getPeerId())) {
            return error(RaftError.EINVAL, "Fail to parse peerId: %s", request.getPeerId());
        }
        Node node = NodeManager.getInstance().get(request.getGroupId(), peer);
        if (!(node instanceof RaftServerService service)) {
            return error(
                    RaftError.ENOENT, "Peer id not found: %s, group: %s", request.getPeerId(), request.getGroupId());
        }
        try {
            Message answer = service.handleAppendEntriesRequest(
                    request,
                    new RpcRequestClosure(new LateAnswer(batchCtx), AppendEntriesResponse.getDefaultInstance()));
            if (answer == null) {
                // Not for a request without entries (JRaft 1.3 answers those synchronously): the leader retries.
                return error(RaftError.EAGAIN, "heartbeat of %s not answered synchronously", request.getGroupId());
            }
            return answer;
        } catch (Throwable e) { // as JRaft's own processor: one node's failure answers that heartbeat only
            LOG.warn("heartbeat of {} failed: {}", request.getGroupId(), e.toString());
            return error(RaftError.EINTERNAL, "heartbeat failed: %s", e.toString());
        }
    }

    private static Message error(RaftError code, String fmt, Object... args) {
        return RpcFactoryHelper.responseFactory()
                .newResponse(AppendEntriesResponse.getDefaultInstance(), code, fmt, args);
    }

    @Override
    public String interest() {
        return HeartbeatBatch.Request.class.getName();
    }

    @Override
    public Executor executor() {
        return null; // bolt's request executor
    }

    /** The context of a node's asynchronous answer, which a heartbeat never has: dropped. */
    private record LateAnswer(RpcContext batch) implements RpcContext {
        @Override
        public void sendResponse(Object responseObj) {
            LOG.debug("late heartbeat answer dropped: {}", responseObj);
        }

        @Override
        public Connection getConnection() {
            return batch.getConnection();
        }

        @Override
        public String getRemoteAddress() {
            return batch.getRemoteAddress();
        }
    }
}
