package io.sluice.cli;

import io.sluice.client.ErrorCode;
import io.sluice.client.GroupDescription;
import io.sluice.client.GroupListing;
import io.sluice.client.OffsetResetResult;
import io.sluice.client.OffsetResetSpec;
import io.sluice.client.SluiceClient;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicPartition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice group ...}: list, describe, reset offsets of and delete consumer groups. Not thread-safe (one
 * command per instance).
 */
@Command(
        name = "group",
        description = "Manage consumer groups.",
        subcommands = {
            GroupCommands.ListGroups.class,
            GroupCommands.Describe.class,
            GroupCommands.Reset.class,
            GroupCommands.Delete.class
        })
final class GroupCommands {

    /** Rewrites the errors a person most often meets into messages that say what to do. */
    static SluiceException explain(SluiceException e, String group, String action) {
        if (e.code() == ErrorCode.UNKNOWN_GROUP) {
            return new SluiceException(
                    e.code(),
                    "unknown group '" + group + "': it has no members and no committed offsets (see 'sluice group"
                            + " list')");
        }
        if (e.code() == ErrorCode.GROUP_NOT_EMPTY) {
            return new SluiceException(
                    e.code(),
                    "group '" + group + "' has active members; stop its consumers before " + action
                            + " (see 'sluice group describe " + group + "')");
        }
        return e;
    }

    static String opt(OptionalLong v) {
        return v.isPresent() ? Long.toString(v.getAsLong()) : "-";
    }

    static String jsonOpt(OptionalLong v) {
        return v.isPresent() ? Long.toString(v.getAsLong()) : "null";
    }

    /** {@code orders:0,1,2 payments:3}: partitions grouped by topic. */
    static String assignment(java.util.Collection<TopicPartition> tps) {
        if (tps.isEmpty()) {
            return "-";
        }
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        for (TopicPartition tp : tps) {
            byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
        }
        return byTopic.entrySet().stream()
                .map(e -> e.getKey() + ":"
                        + e.getValue().stream().sorted().map(String::valueOf).collect(Collectors.joining(",")))
                .collect(Collectors.joining(" "));
    }

    static String assignmentJson(java.util.Collection<TopicPartition> tps) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        for (TopicPartition tp : tps) {
            byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
        }
        return byTopic.entrySet().stream()
                .map(e -> "{\"topic\":" + Json.string(e.getKey()) + ",\"partitions\":["
                        + e.getValue().stream().sorted().map(String::valueOf).collect(Collectors.joining(","))
                        + "]}")
                .collect(Collectors.joining(",", "[", "]"));
    }

    /** {@code sluice group list}. */
    @Command(name = "list", description = "List the consumer groups of the cluster.")
    static final class ListGroups extends SluiceCli.Base {
        @Override
        public Integer call() {
            try (SluiceClient client = client()) {
                List<GroupListing> groups = client.admin().listGroups();
                if (json()) {
                    out().println(groups.stream()
                            .map(g -> "{\"group_id\":" + Json.string(g.groupId()) + ",\"state\":"
                                    + Json.string(g.state().name()) + ",\"members\":" + g.memberCount() + "}")
                            .collect(Collectors.joining(",", "[", "]")));
                } else {
                    out().printf("%-40s %-12s %7s%n", "GROUP", "STATE", "MEMBERS");
                    for (GroupListing g : groups) {
                        out().printf("%-40s %-12s %7d%n", g.groupId(), g.state(), g.memberCount());
                    }
                }
            }
            return 0;
        }
    }

    /** {@code sluice group describe G}. */
    @Command(
            name = "describe",
            description = "Describe a group: state, members and assignments, committed offset, log end and lag"
                    + " per partition.")
    static final class Describe extends SluiceCli.Base {
        @Parameters(index = "0", paramLabel = "GROUP", description = "Group id.")
        String group;

        @Override
        public Integer call() {
            try (SluiceClient client = client()) {
                GroupDescription d;
                try {
                    d = client.admin().describeGroup(group);
                } catch (SluiceException e) {
                    throw explain(e, group, "");
                }
                if (json()) {
                    out().println(describeJson(d));
                } else {
                    printText(d);
                }
            }
            return 0;
        }

        private void printText(GroupDescription d) {
            out().println("group: " + d.groupId() + "  state: " + d.state() + "  epoch: " + d.groupEpoch()
                    + "  assignor: " + (d.assignor().isEmpty() ? "-" : d.assignor()) + "  members: "
                    + d.members().size());
            if (!d.members().isEmpty()) {
                out().println();
                out().printf(
                                "%-24s %-16s %-28s %-16s %-6s %s%n",
                                "MEMBER", "INSTANCE", "CLIENT", "HOST", "EPOCH", "ASSIGNMENT");
                for (GroupDescription.Member m : d.members()) {
                    out().printf(
                                    "%-24s %-16s %-28s %-16s %-6d %s%n",
                                    m.memberId(),
                                    m.instanceId().orElse("-"),
                                    m.clientId().isEmpty() ? "-" : m.clientId(),
                                    m.clientHost().isEmpty() ? "-" : m.clientHost(),
                                    m.memberEpoch(),
                                    assignment(m.assignment()));
                }
            }
            if (!d.partitions().isEmpty()) {
                out().println();
                out().printf(
                                "%-30s %-9s %-24s %-12s %-12s %s%n",
                                "TOPIC", "PARTITION", "MEMBER", "COMMITTED", "LOG-END", "LAG");
                for (GroupDescription.PartitionLag p : d.partitions()) {
                    out().printf(
                                    "%-30s %-9d %-24s %-12s %-12s %s%n",
                                    p.partition().topic(),
                                    p.partition().partition(),
                                    p.memberId().orElse("-"),
                                    opt(p.committedOffset()),
                                    opt(p.highWatermark()),
                                    opt(p.lag()));
                }
            }
        }

        static String describeJson(GroupDescription d) {
            StringBuilder b = new StringBuilder();
            b.append("{\"group_id\":")
                    .append(Json.string(d.groupId()))
                    .append(",\"state\":")
                    .append(Json.string(d.state().name()))
                    .append(",\"group_epoch\":")
                    .append(d.groupEpoch())
                    .append(",\"assignor\":")
                    .append(Json.string(d.assignor()))
                    .append(",\"members\":[");
            for (int i = 0; i < d.members().size(); i++) {
                GroupDescription.Member m = d.members().get(i);
                if (i > 0) {
                    b.append(',');
                }
                b.append("{\"member_id\":")
                        .append(Json.string(m.memberId()))
                        .append(",\"instance_id\":")
                        .append(Json.string(m.instanceId().orElse(null)))
                        .append(",\"client_id\":")
                        .append(Json.string(m.clientId()))
                        .append(",\"client_host\":")
                        .append(Json.string(m.clientHost()))
                        .append(",\"member_epoch\":")
                        .append(m.memberEpoch())
                        .append(",\"subscribed_topics\":")
                        .append(m.subscribedTopics().stream()
                                .map(Json::string)
                                .collect(Collectors.joining(",", "[", "]")))
                        .append(",\"subscribed_pattern\":")
                        .append(Json.string(m.subscribedPattern().orElse(null)))
                        .append(",\"assignment\":")
                        .append(assignmentJson(m.assignment()))
                        .append('}');
            }
            b.append("],\"partitions\":[");
            for (int i = 0; i < d.partitions().size(); i++) {
                GroupDescription.PartitionLag p = d.partitions().get(i);
                if (i > 0) {
                    b.append(',');
                }
                b.append("{\"topic\":")
                        .append(Json.string(p.partition().topic()))
                        .append(",\"partition\":")
                        .append(p.partition().partition())
                        .append(",\"member_id\":")
                        .append(Json.string(p.memberId().orElse(null)))
                        .append(",\"committed_offset\":")
                        .append(jsonOpt(p.committedOffset()))
                        .append(",\"high_watermark\":")
                        .append(jsonOpt(p.highWatermark()))
                        .append(",\"lag\":")
                        .append(jsonOpt(p.lag()))
                        .append('}');
            }
            return b.append("]}").toString();
        }
    }

    /** {@code sluice group reset G --topic T --to SPEC [--partition P] [--execute]}. */
    @Command(
            name = "reset",
            description = "Move a group's committed offsets for one topic. Without --execute, only prints the plan"
                    + " (current -> new per partition).")
    static final class Reset extends SluiceCli.Base {
        @Parameters(index = "0", paramLabel = "GROUP", description = "Group id.")
        String group;

        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "Topic whose offsets move.")
        String topic;

        @Option(
                names = "--to",
                required = true,
                paramLabel = "earliest|latest|offset:N|time:ISO-8601|shift:±N",
                description = "Target: the log start, the high watermark, an offset, the first record at or after a"
                        + " time, or the committed offset moved by N.")
        String to;

        @Option(
                names = "--partition",
                paramLabel = "P",
                description = "Only partition P (repeatable; default: every partition of the topic).")
        List<Integer> partitions = new ArrayList<>();

        @Option(names = "--execute", description = "Apply the plan (the group must have no active members).")
        boolean execute;

        @Override
        public Integer call() {
            OffsetResetSpec spec = CliParsing.resetSpec(to);
            if (partitions.stream().anyMatch(p -> p < 0)) {
                throw new IllegalArgumentException("--partition must be >= 0");
            }
            try (SluiceClient client = client()) {
                if (execute) {
                    refuseWhileActive(client);
                }
                OffsetResetResult r;
                try {
                    r = client.admin().resetOffsets(group, topic, partitions, spec, execute);
                } catch (SluiceException e) {
                    throw explain(e, group, "resetting its offsets");
                }
                long failed = r.partitions().stream()
                        .filter(p -> p.error().isPresent())
                        .count();
                if (json()) {
                    out().println(resultJson(r));
                } else {
                    printText(r);
                }
                out().flush();
                if (failed > 0) {
                    err().println("error: " + failed + " of " + r.partitions().size() + " partitions could not be "
                            + (execute ? "reset" : "planned") + " (see above)");
                    return 1;
                }
            }
            return 0;
        }

        private void refuseWhileActive(SluiceClient client) {
            try {
                int members = client.admin().describeGroup(group).members().size();
                if (members > 0) {
                    throw new SluiceException(
                            ErrorCode.GROUP_NOT_EMPTY,
                            "group '" + group + "' has " + members + " active member" + (members == 1 ? "" : "s")
                                    + "; stop its consumers before resetting its offsets (see 'sluice group"
                                    + " describe " + group + "')");
                }
            } catch (SluiceException e) {
                if (e.code() != ErrorCode.UNKNOWN_GROUP) {
                    throw e;
                }
                // a group that does not exist yet is created with the reset offsets
            }
        }

        private void printText(OffsetResetResult r) {
            out().printf("%-30s %-9s %12s    %s%n", "TOPIC", "PARTITION", "CURRENT", "NEW");
            for (OffsetResetResult.PartitionReset p : r.partitions()) {
                String target = p.error().isPresent()
                        ? "error: " + SluiceCli.describe(p.error().get())
                        : Long.toString(p.newOffset());
                out().printf("%-30s %-9d %12s -> %s%n", r.topic(), p.partition(), opt(p.currentOffset()), target);
            }
            if (r.executed()) {
                long ok =
                        r.partitions().stream().filter(p -> p.error().isEmpty()).count();
                out().println("reset " + ok + " partition" + (ok == 1 ? "" : "s") + " of topic " + r.topic()
                        + " for group " + r.groupId());
            } else {
                out().println("plan only, nothing changed: add --execute to apply it");
            }
        }

        static String resultJson(OffsetResetResult r) {
            return "{\"group_id\":" + Json.string(r.groupId()) + ",\"topic\":" + Json.string(r.topic())
                    + ",\"executed\":" + r.executed() + ",\"partitions\":"
                    + r.partitions().stream()
                            .map(p -> "{\"partition\":" + p.partition() + ",\"current_offset\":"
                                    + jsonOpt(p.currentOffset()) + ",\"new_offset\":"
                                    + (p.error().isPresent() ? "null" : Long.toString(p.newOffset()))
                                    + ",\"error\":"
                                    + Json.string(
                                            p.error().map(SluiceCli::describe).orElse(null)) + "}")
                            .collect(Collectors.joining(",", "[", "]"))
                    + "}";
        }
    }

    /** {@code sluice group delete G}. */
    @Command(name = "delete", description = "Delete a group without active members, with its committed offsets.")
    static final class Delete extends SluiceCli.Base {
        @Parameters(index = "0", paramLabel = "GROUP", description = "Group id.")
        String group;

        @Override
        public Integer call() {
            try (SluiceClient client = client()) {
                try {
                    client.admin().deleteGroup(group);
                } catch (SluiceException e) {
                    throw explain(e, group, "deleting it");
                }
                if (json()) {
                    out().println("{\"deleted\":" + Json.string(group) + "}");
                } else {
                    out().println("deleted group " + group);
                }
            }
            return 0;
        }
    }
}
