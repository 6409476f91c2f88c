package io.sluice.replication.metadata.internal;

import static io.sluice.replication.metadata.internal.MetadataCodecTest.broker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.replication.metadata.MetadataError;
import io.sluice.replication.metadata.PartitionAssignment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetadataStateTest {

    private static MetadataCommand.CreateTopic create(String name, long reqLo, int... replicas) {
        return new MetadataCommand.CreateTopic(
                name,
                Map.of(),
                List.of(new PartitionAssignment(
                        0, java.util.Arrays.stream(replicas).boxed().toList())),
                1,
                reqLo);
    }

    @Test
    void registrationLivenessAndTopics() {
        MetadataState s = new MetadataState();
        s.apply(new MetadataCommand.RegisterBroker(broker(1)), 1);
        s.apply(new MetadataCommand.RegisterBroker(broker(2)), 2);
        assertEquals(java.util.Set.of(1, 2), s.view().liveBrokers());

        s.apply(new MetadataCommand.SetLiveness(Map.of(2, false, 9, true)), 3);
        assertFalse(s.view().isAlive(2));
        assertFalse(s.view().brokers().containsKey(9), "unknown broker ids are ignored");

        ApplyResult created = s.apply(create("t", 5, 1, 2), 4);
        assertTrue(created.isOk());
        assertEquals(4, created.topic().orElseThrow().topicId(), "topic id is the Raft index");

        assertEquals(
                MetadataError.TOPIC_EXISTS, s.apply(create("t", 6, 2, 1), 5).error());
        ApplyResult retried = s.apply(create("t", 5, 2, 1), 6);
        assertTrue(retried.isOk(), "the same request id retried is not an error");
        assertEquals(List.of(1, 2), retried.topic().orElseThrow().partition(0).replicas());

        assertEquals(
                MetadataError.INVALID_REPLICATION_FACTOR,
                s.apply(create("u", 7, 1, 3), 7).error());
        assertEquals(
                MetadataError.UNKNOWN_TOPIC,
                s.apply(new MetadataCommand.DeleteTopic("t", 99), 8).error());
        assertTrue(s.apply(new MetadataCommand.DeleteTopic("t", 4), 9).isOk());
        assertTrue(s.view().topics().isEmpty());
        assertEquals(9, s.view().version());
        assertThrows(IllegalStateException.class, () -> s.apply(create("x", 1, 1), 9));
    }
}
