package io.sluice.replication.internal;

/** Test access to the process-wide Raft RPC client's state. */
public final class SharedClientRaftRpcFactoryAccess {
    private SharedClientRaftRpcFactoryAccess() {}

    /** {batches, heartbeats} the running coalescer sent; {0, 0} when none runs. */
    public static long[] heartbeatCounts() {
        HeartbeatCoalescer c = SharedClientRaftRpcFactory.coalescer();
        return c == null ? new long[] {0, 0} : c.counts();
    }
}
