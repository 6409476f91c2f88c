package io.sluice.replication.metadata.internal;

import com.alipay.sofa.jraft.util.Endpoint;
import io.sluice.replication.metadata.BrokerInfo;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Settings of one broker's metadata controller member.
 *
 * <p>Invariants: at least one voter; {@code sessionTimeoutMs > heartbeatIntervalMs}; if {@code self.id()} is a voter,
 * its endpoint is {@code self}'s Raft address. Immutable, thread-safe.
 *
 * @param self this broker's registration
 * @param voters controller voters: broker id → Raft endpoint
 * @param dir directory of the {@code __metadata} group (log, Raft meta, snapshots)
 * @param electionTimeoutMs Raft election timeout of the group
 * @param heartbeatIntervalMs how often a broker heartbeats the controller leader
 * @param sessionTimeoutMs a broker without a heartbeat for this long is marked dead
 * @param requestTimeoutMs deadline of a forwarded request (create/delete topic, register)
 * @param snapshotIntervalSecs how often the group snapshots its state
 */
public record ControllerSettings(
        BrokerInfo self,
        Map<Integer, Endpoint> voters,
        Path dir,
        int electionTimeoutMs,
        int heartbeatIntervalMs,
        int sessionTimeoutMs,
        int requestTimeoutMs,
        int snapshotIntervalSecs) {

    public ControllerSettings {
        Objects.requireNonNull(self, "self");
        Objects.requireNonNull(dir, "dir");
        voters = Map.copyOf(new TreeMap<>(voters));
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("no controller voters");
        }
        if (heartbeatIntervalMs <= 0 || sessionTimeoutMs <= heartbeatIntervalMs) {
            throw new IllegalArgumentException("need 0 < heartbeat interval < session timeout");
        }
        if (electionTimeoutMs <= 0 || requestTimeoutMs <= 0 || snapshotIntervalSecs <= 0) {
            throw new IllegalArgumentException("timeouts must be > 0");
        }
        Endpoint own = voters.get(self.id());
        if (own != null && (!own.getIp().equals(self.host()) || own.getPort() != self.raftPort())) {
            throw new IllegalArgumentException("voter " + self.id() + " is configured at " + own
                    + " but this broker's Raft address is " + self.raftAddress());
        }
    }

    public boolean isVoter() {
        return voters.containsKey(self.id());
    }
}
