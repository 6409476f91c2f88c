package io.sluice.replication.metadata.internal;

import io.sluice.logstore.ConfigKey;
import io.sluice.logstore.LogConfig;
import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.InvalidTopicException;
import io.sluice.replication.metadata.MetadataError;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Chooses the replicas of a new topic's partitions and validates topic requests.
 *
 * <p>Placement is greedy over the live brokers, counting what every existing topic already puts on each of them. The
 * preferred leader (first replica) of a partition is, among the brokers that can take a replica without making replica
 * counts uneven (those loaded at most like the {@code rf}-th least loaded), the one with the fewest preferred
 * leaderships. The followers are the least loaded other brokers, but a rack the partition does not use yet comes
 * first (so with racks, rack diversity wins over evenness). Ties rotate with the partition number so equal brokers
 * take turns. Without racks, replica counts of the live brokers never differ by more than one when they start even.
 * It is a pure function of its inputs. Stateless and thread-safe.
 */
public final class ReplicaPlacement {

    /** Upper bound on partitions per topic: each one is a Raft group on rf brokers. */
    public static final int MAX_PARTITIONS = 10_000;

    private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private ReplicaPlacement() {}

    /** Throws {@link InvalidTopicException} unless the name is 1–249 of {@code [a-zA-Z0-9._-]}, not "." or "..". */
    public static void validateName(String name) {
        if (name == null || !TOPIC_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new InvalidTopicException(
                    MetadataError.INVALID_TOPIC,
                    "invalid topic name '" + name + "': 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'");
        }
    }

    /**
     * Throws {@link InvalidTopicException} ({@link MetadataError#INVALID_CONFIG}) when a config that is a log setting
     * ({@link LogConfig#KEYS}) does not parse or is out of range. Other keys pass through unchanged.
     */
    public static void validateConfigs(Map<String, String> configs) {
        Map<String, String> log = logConfigs(configs);
        try {
            LogConfig.fromMap(log);
        } catch (IllegalArgumentException e) {
            throw new InvalidTopicException(MetadataError.INVALID_CONFIG, "invalid topic config: " + e.getMessage());
        }
    }

    /** The entries of {@code configs} that are log settings ({@link LogConfig#KEYS}). */
    public static Map<String, String> logConfigs(Map<String, String> configs) {
        Map<String, String> out = new HashMap<>();
        for (ConfigKey k : LogConfig.KEYS) {
            String v = configs.get(k.key());
            if (v != null) {
                out.put(k.key(), v);
            }
        }
        return out;
    }

    /**
     * Validates a create request against {@code metadata} and returns the assignment of its partitions.
     *
     * @throws InvalidTopicException for a bad name, partition count or replication factor (including more replicas
     *     than live brokers)
     */
    public static List<PartitionAssignment> assign(ClusterMetadata metadata, String name, int partitions, int rf) {
        validateName(name);
        if (partitions < 1 || partitions > MAX_PARTITIONS) {
            throw new InvalidTopicException(
                    MetadataError.INVALID_PARTITIONS,
                    "partition count must be in [1, " + MAX_PARTITIONS + "]: " + partitions);
        }
        List<BrokerInfo> candidates = new ArrayList<>();
        for (int id : metadata.liveBrokers()) {
            candidates.add(metadata.brokers().get(id));
        }
        if (rf < 1 || rf > candidates.size()) {
            throw new InvalidTopicException(
                    MetadataError.INVALID_REPLICATION_FACTOR,
                    "replication factor " + rf + " not in [1, " + candidates.size() + " live brokers]");
        }
        Map<Integer, Integer> replicaCount = new HashMap<>();
        Map<Integer, Integer> leaderCount = new HashMap<>();
        for (BrokerInfo b : candidates) {
            replicaCount.put(b.id(), 0);
            leaderCount.put(b.id(), 0);
        }
        for (TopicInfo t : metadata.topics().values()) {
            for (PartitionAssignment p : t.partitions()) {
                leaderCount.computeIfPresent(p.preferredLeader(), (k, v) -> v + 1);
                for (int r : p.replicas()) {
                    replicaCount.computeIfPresent(r, (k, v) -> v + 1);
                }
            }
        }
        int n = candidates.size();
        List<PartitionAssignment> out = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            // Brokers loaded at most like the rf-th least loaded one: any of them can lead without making the replica
            // counts uneven.
            List<Integer> counts = new ArrayList<>();
            candidates.forEach(b -> counts.add(replicaCount.get(b.id())));
            counts.sort(null);
            int threshold = counts.get(rf - 1);
            BrokerInfo leader = null;
            int leaderIndex = 0;
            long best = Long.MAX_VALUE;
            for (int i = 0; i < n; i++) {
                BrokerInfo b = candidates.get(i);
                int load = replicaCount.get(b.id());
                if (load > threshold) {
                    continue;
                }
                long key = ((long) leaderCount.get(b.id()) << 40) | ((long) load << 20) | Math.floorMod(i - p, n);
                if (key < best) {
                    best = key;
                    leader = b;
                    leaderIndex = i;
                }
            }
            List<BrokerInfo> chosen = new ArrayList<>(rf);
            Set<String> racks = new HashSet<>();
            chosen.add(leader);
            leader.rack().ifPresent(racks::add);
            while (chosen.size() < rf) {
                BrokerInfo next = null;
                best = Long.MAX_VALUE;
                for (int i = 0; i < n; i++) {
                    BrokerInfo b = candidates.get(i);
                    if (chosen.contains(b)) {
                        continue;
                    }
                    Optional<String> rack = b.rack();
                    long rackPenalty = rack.isPresent() && racks.contains(rack.get()) ? 1 : 0;
                    // Shifting the rotation every n partitions varies which brokers share partitions, so that
                    // leaderships can later be moved between them (balanceLeaders).
                    long key = (rackPenalty << 60)
                            | ((long) replicaCount.get(b.id()) << 40)
                            | Math.floorMod(i - leaderIndex - 1 - p / n, n);
                    if (key < best) {
                        best = key;
                        next = b;
                    }
                }
                chosen.add(next);
                next.rack().ifPresent(racks::add);
            }
            List<Integer> replicas = new ArrayList<>(rf);
            for (BrokerInfo b : chosen) {
                replicas.add(b.id());
                replicaCount.merge(b.id(), 1, Integer::sum);
            }
            leaderCount.merge(leader.id(), 1, Integer::sum);
            out.add(new PartitionAssignment(p, replicas));
        }
        balanceLeaders(out, leaderCount);
        return out;
    }

    /**
     * Moves the preferred leadership of new partitions to other replicas of the same partition while that makes the
     * leader counts more even: finds, by breadth-first search from a broker with {@code c} leaderships, a chain "A
     * leads partition p which has replica B, B leads q which has replica C, ..." ending at a broker with at most {@code
     * c - 2}, and shifts each leadership one step along it. Each shift lowers the sum of squared counts, so it ends;
     * when no such chain exists from any broker the counts are as even as these replica sets allow.
     */
    private static void balanceLeaders(List<PartitionAssignment> partitions, Map<Integer, Integer> leaderCount) {
        boolean improved = true;
        while (improved) {
            improved = false;
            List<Integer> sources = new ArrayList<>(leaderCount.keySet());
            sources.sort((a, b) -> Integer.compare(leaderCount.get(b), leaderCount.get(a)));
            for (int source : sources) {
                if (shiftAlongChain(source, partitions, leaderCount)) {
                    improved = true;
                    break;
                }
            }
        }
    }

    private static boolean shiftAlongChain(
            int source, List<PartitionAssignment> partitions, Map<Integer, Integer> leaderCount) {
        int limit = leaderCount.get(source) - 2;
        // parentPartition[b] = index of the partition whose leadership moves to b (-1 for the source).
        Map<Integer, Integer> parentPartition = new HashMap<>();
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        parentPartition.put(source, -1);
        queue.add(source);
        Integer target = null;
        while (!queue.isEmpty() && target == null) {
            int from = queue.poll();
            for (int i = 0; i < partitions.size() && target == null; i++) {
                PartitionAssignment pa = partitions.get(i);
                if (pa.preferredLeader() != from) {
                    continue;
                }
                for (int to : pa.replicas()) {
                    if (parentPartition.containsKey(to) || !leaderCount.containsKey(to)) {
                        continue;
                    }
                    parentPartition.put(to, i);
                    if (leaderCount.get(to) <= limit) {
                        target = to;
                        break;
                    }
                    queue.add(to);
                }
            }
        }
        if (target == null) {
            return false;
        }
        int b = target;
        leaderCount.merge(b, 1, Integer::sum);
        while (parentPartition.get(b) >= 0) {
            int i = parentPartition.get(b);
            PartitionAssignment pa = partitions.get(i);
            int from = pa.preferredLeader();
            List<Integer> replicas = new ArrayList<>(pa.replicas());
            replicas.remove(Integer.valueOf(b));
            replicas.add(0, b);
            partitions.set(i, new PartitionAssignment(pa.partition(), replicas));
            b = from;
        }
        leaderCount.merge(b, -1, Integer::sum);
        return true;
    }
}
