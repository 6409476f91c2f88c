package io.sluice.cli;

import io.sluice.client.BrokerInfo;
import io.sluice.client.ClusterDescription;
import io.sluice.client.SluiceClient;
import picocli.CommandLine.Command;

/**
 * {@code sluice cluster ...}: the cluster description. Not thread-safe (one command per instance).
 */
@Command(
        name = "cluster",
        description = "Cluster information.",
        subcommands = {ClusterCommands.Info.class})
final class ClusterCommands {

    /** {@code sluice cluster info}. */
    @Command(name = "info", description = "Show the cluster id, controller and brokers.")
    static final class Info extends SluiceCli.Base {
        @Override
        public Integer call() {
            try (SluiceClient client = client()) {
                ClusterDescription d = client.admin().describeCluster();
                String controller = d.controllerId().isPresent()
                        ? Integer.toString(d.controllerId().getAsInt())
                        : null;
                if (json()) {
                    StringBuilder b = new StringBuilder();
                    b.append("{\"cluster_id\":")
                            .append(Json.string(d.clusterId()))
                            .append(",\"controller_id\":")
                            .append(controller == null ? "null" : controller)
                            .append(",\"brokers\":[");
                    for (int i = 0; i < d.brokers().size(); i++) {
                        BrokerInfo br = d.brokers().get(i);
                        if (i > 0) {
                            b.append(',');
                        }
                        b.append("{\"id\":")
                                .append(br.id())
                                .append(",\"host\":")
                                .append(Json.string(br.host()))
                                .append(",\"grpc_port\":")
                                .append(br.grpcPort())
                                .append(",\"raft_port\":")
                                .append(br.raftPort())
                                .append(",\"http_port\":")
                                .append(br.httpPort())
                                .append(",\"rack\":")
                                .append(Json.string(br.rack()))
                                .append(",\"alive\":")
                                .append(br.alive())
                                .append('}');
                    }
                    out().println(b.append("]}"));
                } else {
                    out().println("cluster id: " + d.clusterId());
                    out().println("controller: " + (controller == null ? "(election in progress)" : controller));
                    out().printf("%-4s %-22s %-6s %-6s %-6s %s%n", "ID", "ENDPOINT", "RAFT", "HTTP", "STATE", "RACK");
                    for (BrokerInfo br : d.brokers()) {
                        out().printf(
                                        "%-4d %-22s %-6d %-6d %-6s %s%n",
                                        br.id(),
                                        br.endpoint(),
                                        br.raftPort(),
                                        br.httpPort(),
                                        br.alive() ? "alive" : "dead",
                                        br.rack());
                    }
                }
            }
            return 0;
        }
    }
}
