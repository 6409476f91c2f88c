package io.sluice.broker;

import io.sluice.broker.e2e.ProcessCluster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Configurations of N brokers that run in one test JVM: ephemeral gRPC and HTTP ports, free Raft ports known up front
 * (the controller voters name them), data under {@code dir/b<id>}, an election timeout that a stall of a loaded test machine does not reach (2 s) and few request threads.
 * Shared by the in-JVM multi-broker ITs. Stateless.
 */
final class InJvmClusterConfigs {
    private InJvmClusterConfigs() {}

    /** Broker id (1..n) → its resolved config; {@code extra} is added to every broker's keys (and may override). */
    static Map<Integer, BrokerConfig> resolve(int n, Path dir, Map<String, String> extra) throws IOException {
        int[] raft = ProcessCluster.freePorts(n);
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < n; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(raft[i]);
        }
        Map<Integer, BrokerConfig> configs = new LinkedHashMap<>();
        for (int id = 1; id <= n; id++) {
            Map<String, String> keys = new HashMap<>();
            keys.put("broker.id", Integer.toString(id));
            keys.put("grpc.port", "0");
            keys.put("http.port", "0");
            keys.put("raft.port", Integer.toString(raft[id - 1]));
            keys.put("data.dir", dir.resolve("b" + id).toString());
            keys.put("controller.voters", voters.toString());
            keys.put("raft.election.timeout.ms", "2000");
            keys.put("request.threads", "2");
            keys.putAll(extra);
            configs.put(id, BrokerConfig.resolve(keys, Map.of(), Map.of()));
        }
        return configs;
    }
}
