package io.sluice.cli;

import io.sluice.client.NewTopic;
import io.sluice.client.PartitionInfo;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicDescription;
import io.sluice.client.TopicListing;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice topic ...}: create, list, describe and delete topics. Not thread-safe (one command per instance).
 */
@Command(
        name = "topic",
        description = "Manage topics.",
        subcommands = {
            TopicCommands.Create.class,
            TopicCommands.ListTopics.class,
            TopicCommands.Describe.class,
            TopicCommands.Delete.class
        })
final class TopicCommands {

    static String listingJson(TopicListing t) {
        return "{\"name\":" + Json.string(t.name()) + ",\"partitions\":" + t.partitions() + ",\"replication_factor\":"
                + t.replicationFactor() + ",\"internal\":" + t.internal() + "}";
    }

    /** {@code sluice topic create NAME}. */
    @Command(name = "create", description = "Create a topic.")
    static final class Create extends SluiceCli.Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "Topic name.")
        String name;

        // Boxed: absent (the broker's default) must differ from an explicit 0, which is an error.
        @Option(names = "--partitions", description = "Partition count (default: the broker's).")
        Integer partitions;

        @Option(names = "--replication-factor", description = "Replicas per partition (default: the broker's).")
        Integer replicationFactor;

        @Option(names = "--config", paramLabel = "KEY=VALUE", description = "Topic configuration; repeatable.")
        Map<String, String> configs = new LinkedHashMap<>();

        @Override
        public Integer call() {
            if ((partitions != null && partitions < 1) || (replicationFactor != null && replicationFactor < 1)) {
                throw new IllegalArgumentException("--partitions and --replication-factor must be >= 1"
                        + " (leave them out for the broker's defaults)");
            }
            try (SluiceClient client = client()) {
                TopicListing t = client.admin()
                        .createTopic(new NewTopic(
                                name,
                                partitions == null ? 0 : partitions,
                                replicationFactor == null ? 0 : replicationFactor,
                                configs));
                if (json()) {
                    out().println(listingJson(t));
                } else {
                    out().println("created topic " + t.name() + " (" + t.partitions()
                            + " partitions, replication factor " + t.replicationFactor() + ")");
                }
            }
            return 0;
        }
    }

    /** {@code sluice topic list}. */
    @Command(name = "list", description = "List topics.")
    static final class ListTopics extends SluiceCli.Base {
        @Option(names = "--internal", description = "Include internal topics.")
        boolean internal;

        @Override
        public Integer call() {
            try (SluiceClient client = client()) {
                List<TopicListing> topics = client.admin().listTopics(internal);
                if (json()) {
                    out().println(topics.stream()
                            .map(TopicCommands::listingJson)
                            .collect(Collectors.joining(",", "[", "]")));
                } else {
                    out().printf("%-40s %10s %18s%n", "NAME", "PARTITIONS", "REPLICATION-FACTOR");
                    for (TopicListing t : topics) {
                        out().printf("%-40s %10d %18d%n", t.name(), t.partitions(), t.replicationFactor());
                    }
                }
            }
            return 0;
        }
    }

    /** {@code sluice topic describe NAME}. */
    @Command(name = "describe", description = "Describe a topic: partitions, leaders, replicas, offsets, configs.")
    static final class Describe extends SluiceCli.Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "Topic name.")
        String name;

        @Override
        public Integer call() {
            try (SluiceClient client = client()) {
                TopicDescription d = client.admin().describeTopic(name);
                if (json()) {
                    out().println(describeJson(d));
                } else {
                    out().println("topic: " + d.name() + "  partitions: "
                            + d.partitions().size() + "  replication factor: " + d.replicationFactor()
                            + (d.internal() ? "  (internal)" : ""));
                    out().printf(
                                    "%-9s %-6s %-6s %-12s %-12s %-10s %-10s %-10s%n",
                                    "PARTITION", "LEADER", "TERM", "REPLICAS", "ISR", "START", "HW", "END");
                    for (PartitionInfo p : d.partitions()) {
                        out().printf(
                                        "%-9d %-6s %-6d %-12s %-12s %-10s %-10s %-10s%n",
                                        p.partition(),
                                        p.leaderId().isPresent()
                                                ? Integer.toString(p.leaderId().getAsInt())
                                                : "-",
                                        p.leaderTerm(),
                                        join(p.replicas()),
                                        join(p.inSyncReplicas()),
                                        p.logStartOffset().isPresent()
                                                ? Long.toString(
                                                        p.logStartOffset().getAsLong())
                                                : "-",
                                        p.highWatermark().isPresent()
                                                ? Long.toString(
                                                        p.highWatermark().getAsLong())
                                                : "-",
                                        p.logEndOffset().isPresent()
                                                ? Long.toString(p.logEndOffset().getAsLong())
                                                : "-");
                    }
                    if (!d.configs().isEmpty()) {
                        out().println("configs:");
                        d.configs().forEach((k, v) -> out().println(
                                        "  " + k + "=" + v.value() + (v.isDefault() ? "" : "  (set on topic)")));
                    }
                }
            }
            return 0;
        }

        private static String join(List<Integer> ids) {
            return ids.stream().map(String::valueOf).collect(Collectors.joining(","));
        }

        static String describeJson(TopicDescription d) {
            StringBuilder b = new StringBuilder();
            b.append("{\"name\":")
                    .append(Json.string(d.name()))
                    .append(",\"internal\":")
                    .append(d.internal())
                    .append(",\"replication_factor\":")
                    .append(d.replicationFactor())
                    .append(",\"partitions\":[");
            for (int i = 0; i < d.partitions().size(); i++) {
                PartitionInfo p = d.partitions().get(i);
                if (i > 0) {
                    b.append(',');
                }
                b.append("{\"partition\":")
                        .append(p.partition())
                        .append(",\"leader\":")
                        .append(p.leaderId().isPresent() ? p.leaderId().getAsInt() + "" : "null")
                        .append(",\"leader_term\":")
                        .append(p.leaderTerm())
                        .append(",\"replicas\":[")
                        .append(join(p.replicas()))
                        .append(']')
                        .append(",\"in_sync_replicas\":[")
                        .append(join(p.inSyncReplicas()))
                        .append(']')
                        .append(",\"log_start_offset\":")
                        .append(
                                p.logStartOffset().isPresent()
                                        ? p.logStartOffset().getAsLong() + ""
                                        : "null")
                        .append(",\"high_watermark\":")
                        .append(
                                p.highWatermark().isPresent()
                                        ? p.highWatermark().getAsLong() + ""
                                        : "null")
                        .append(",\"log_end_offset\":")
                        .append(p.logEndOffset().isPresent() ? p.logEndOffset().getAsLong() + "" : "null")
                        .append('}');
            }
            Map<String, String> configs = new LinkedHashMap<>();
            d.configs().forEach((k, v) -> configs.put(k, v.value()));
            b.append("],\"configs\":").append(Json.stringMap(configs)).append('}');
            return b.toString();
        }
    }

    /** {@code sluice topic delete NAME}. */
    @Command(name = "delete", description = "Delete a topic and its data.")
    static final class Delete extends SluiceCli.Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "Topic name.")
        String name;

        @Override
        public Integer call() {
            try (SluiceClient client = client()) {
                client.admin().deleteTopic(name);
                if (json()) {
                    out().println("{\"deleted\":" + Json.string(name) + "}");
                } else {
                    out().println("deleted topic " + name);
                }
            }
            return 0;
        }
    }
}
