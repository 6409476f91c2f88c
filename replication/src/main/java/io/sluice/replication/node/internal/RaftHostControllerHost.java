package io.sluice.replication.node.internal;

import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import io.sluice.replication.RaftHost;
import io.sluice.replication.metadata.internal.ControllerHost;

/**
 * Runs the metadata controller on a broker's {@link RaftHost}: the same RPC server (so the {@code __metadata} group
 * and the controller RPCs share the broker's Raft port and its fault injection), the same shared JRaft timers.
 *
 * <p>Fault injection is one-way at the receiver ({@link io.sluice.replication.NetworkFaults}); a peer counts as
 * unreachable from here when this host blocks it, which matches the symmetric cuts the test kit makes and saves the
 * sender a timeout. Thread-safe (stateless besides the host).
 */
public final class RaftHostControllerHost implements ControllerHost {

    private final RaftHost host;
    private final Endpoint endpoint;
    private final RpcServer rpcServer;

    public RaftHostControllerHost(RaftHost host) {
        this.host = host;
        this.endpoint = new Endpoint(host.self().host(), host.self().raftPort());
        // The host's fault-injecting wrapper is the shared RPC server (see replication-needs: a proper accessor).
        if (!(host.faults() instanceof RpcServer server)) {
            throw new IllegalStateException("the Raft host does not expose its RPC server");
        }
        this.rpcServer = server;
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public RpcServer rpcServer() {
        return rpcServer;
    }

    @Override
    public void applySharedOptions(NodeOptions opts) {
        opts.setSharedElectionTimer(true);
        opts.setSharedVoteTimer(true);
        opts.setSharedStepDownTimer(true);
        opts.setSharedSnapshotTimer(true);
        opts.setSharedTimerPool(true);
        RaftOptions raft = opts.getRaftOptions();
        // Term and vote must survive a crash, or a node could vote twice in a term.
        raft.setSyncMeta(true);
        raft.setSync(true);
    }

    @Override
    public boolean isReachable(Endpoint peer) {
        return !host.faults().blocked().contains(peer.getIp() + ":" + peer.getPort());
    }
}
