package io.sluice.replication.metadata.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.InvalidTopicException;
import io.sluice.replication.metadata.MetadataError;
import io.sluice.replication.metadata.PartitionAssignment;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplicaPlacementTest {

    private static MetadataState cluster(int brokers, int... dead) {
        return cluster(true, brokers, dead);
    }

    private static MetadataState cluster(boolean racks, int brokers, int... dead) {
        MetadataState s = new MetadataState();
        long i = 1;
        for (int b = 0; b < brokers; b++) {
            s.apply(
                    new MetadataCommand.RegisterBroker(new BrokerInfo(
                            b, "h", 1, 100 + b, 1, racks ? Optional.of("rack" + (b % 3)) : Optional.empty())),
                    i++);
        }
        Map<Integer, Boolean> d = new HashMap<>();
        for (int b : dead) {
            d.put(b, false);
        }
        s.apply(new MetadataCommand.SetLiveness(d), i);
        return s;
    }

    private static void assertEven(Map<Integer, Integer> counts, Set<Integer> brokers, String what) {
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (int b : brokers) {
            int c = counts.getOrDefault(b, 0);
            min = Math.min(min, c);
            max = Math.max(max, c);
        }
        assertTrue(max - min <= 1, what + " uneven: " + counts);
    }

    @Test
    void spreadsReplicasAndLeadersEvenlyAcrossTopics() {
        for (int brokers = 1; brokers <= 9; brokers++) {
            for (int rf = 1; rf <= Math.min(3, brokers); rf++) {
                MetadataState s = cluster(false, brokers);
                long index = 100;
                java.util.Random rnd = new java.util.Random(brokers * 31L + rf);
                for (int topic = 0; topic < 8; topic++) {
                    int partitions = 1 + rnd.nextInt(24);
                    List<PartitionAssignment> a = ReplicaPlacement.assign(s.view(), "t" + topic, partitions, rf);
                    assertEquals(partitions, a.size());
                    s.apply(new MetadataCommand.CreateTopic("t" + topic, Map.of(), a, 0, topic), index++);
                    Map<Integer, Integer> replicas = new HashMap<>();
                    Map<Integer, Integer> leaders = new HashMap<>();
                    for (var t : s.view().topics().values()) {
                        for (PartitionAssignment p : t.partitions()) {
                            assertEquals(rf, new HashSet<>(p.replicas()).size());
                            leaders.merge(p.preferredLeader(), 1, Integer::sum);
                            p.replicas().forEach(r -> replicas.merge(r, 1, Integer::sum));
                        }
                    }
                    String what = brokers + " brokers, rf " + rf + ", after topic " + topic + ": "
                            + s.view().topics();
                    assertEven(replicas, s.view().liveBrokers(), "replicas: " + what);
                    assertEven(leaders, s.view().liveBrokers(), "leaders: " + what);
                }
            }
        }
    }

    @Test
    void usesOnlyLiveBrokersAndPrefersDistinctRacks() {
        ClusterMetadata view = cluster(9, 1, 4).view();
        List<PartitionAssignment> a = ReplicaPlacement.assign(view, "t", 12, 3);
        for (PartitionAssignment p : a) {
            assertTrue(!p.hasReplica(1) && !p.hasReplica(4), p.toString());
            Set<Integer> racks = new HashSet<>();
            p.replicas().forEach(r -> racks.add(r % 3));
            assertEquals(3, racks.size(), "replicas on distinct racks: " + p);
        }
    }

    @Test
    void rejectsBadRequests() {
        ClusterMetadata view = cluster(3, 2).view();
        assertEquals(
                MetadataError.INVALID_REPLICATION_FACTOR,
                assertThrows(InvalidTopicException.class, () -> ReplicaPlacement.assign(view, "t", 1, 3))
                        .error());
        assertEquals(
                MetadataError.INVALID_REPLICATION_FACTOR,
                assertThrows(InvalidTopicException.class, () -> ReplicaPlacement.assign(view, "t", 1, 0))
                        .error());
        assertEquals(
                MetadataError.INVALID_PARTITIONS,
                assertThrows(InvalidTopicException.class, () -> ReplicaPlacement.assign(view, "t", 0, 1))
                        .error());
        for (String bad : new String[] {"", ".", "..", "a/b", "a b", "x".repeat(250), "é"}) {
            assertEquals(
                    MetadataError.INVALID_TOPIC,
                    assertThrows(InvalidTopicException.class, () -> ReplicaPlacement.assign(view, bad, 1, 1))
                            .error(),
                    bad);
        }
        assertEquals(1, ReplicaPlacement.assign(view, "ok.Name_-1", 1, 2).size());
    }
}
