package io.sluice.replication.metadata.internal;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.util.Endpoint;

/**
 * What the metadata controller needs from the broker's Raft host: the shared RPC server (to run the {@code __metadata}
 * group and the controller RPC processor on it), the host's shared JRaft settings, and its network fault injection.
 *
 * <p>Implementations must be thread-safe.
 */
public interface ControllerHost {

    /** The endpoint of the shared Raft RPC server; already registered with JRaft's {@code NodeManager}. */
    Endpoint endpoint();

    /** The shared, started RPC server. */
    RpcServer rpcServer();

    /** Applies the host's shared timers / executors / disruptor sizes and RPC timeout to {@code options}. */
    void applySharedOptions(NodeOptions options, int electionTimeoutMs);

    /**
     * Starts a Raft group on the shared RPC server; the host stops it (after its partitions) when it closes or halts,
     * if the caller has not already.
     */
    Node startGroup(String groupId, PeerId serverId, NodeOptions options);

    /** False while fault injection blocks traffic from this host to {@code peer}. */
    boolean isReachable(Endpoint peer);
}
