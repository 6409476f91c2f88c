package io.sluice.replication.node.internal;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import io.sluice.replication.RaftHost;
import io.sluice.replication.internal.RaftHostImpl;
import io.sluice.replication.metadata.internal.ControllerHost;

/**
 * Runs the metadata controller on a broker's {@link RaftHost}: the same RPC server (so the controller group and the
 * controller RPCs share the broker's Raft port and its fault injection), the same shared JRaft timers, and the host's
 * lifecycle (it stops the group on close/halt).
 *
 * <p>Fault injection is one-way at the receiver ({@link io.sluice.replication.NetworkFaults}); a peer counts as
 * unreachable from here when this host blocks it, which matches the symmetric cuts the test kit makes and saves the
 * sender a timeout. Thread-safe (stateless besides the host).
 */
public final class RaftHostControllerHost implements ControllerHost {

    private final RaftHostImpl host;

    public RaftHostControllerHost(RaftHost host) {
        if (!(host instanceof RaftHostImpl impl)) {
            throw new IllegalArgumentException("not a RaftHostImpl: " + host);
        }
        this.host = impl;
    }

    @Override
    public Endpoint endpoint() {
        return host.endpoint();
    }

    @Override
    public RpcServer rpcServer() {
        return host.rpcServer();
    }

    @Override
    public void applySharedOptions(NodeOptions opts, int electionTimeoutMs) {
        host.applySharedOptions(opts, electionTimeoutMs);
    }

    @Override
    public Node startGroup(String groupId, PeerId serverId, NodeOptions options) {
        return host.startGroup(groupId, serverId, options);
    }

    @Override
    public boolean isReachable(Endpoint peer) {
        return !host.faults().isBlocked(peer.getIp() + ":" + peer.getPort());
    }
}
