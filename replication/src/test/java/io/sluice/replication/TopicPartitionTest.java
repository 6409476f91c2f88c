package io.sluice.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TopicPartitionTest {
    private static final String JRAFT_GROUP_ID = "[a-zA-Z][a-zA-Z0-9_-]*";

    @Test
    void groupIdsAreValidForJRaftAndInjective() {
        List<String> topics = List.of(
                "orders",
                "my-topic",
                "my_topic",
                "my.topic",
                "my_2etopic",
                "__offsets",
                "_g",
                "t_g_5f",
                "9lives",
                "x9lives",
                "t_g9lives",
                "ünïcode",
                "a-b-1",
                "UPPER");
        Map<String, String> seen = new HashMap<>();
        for (String t : topics) {
            String id = new TopicPartition(t, 3).groupId();
            assertTrue(id.matches(JRAFT_GROUP_ID), t + " -> " + id);
            String before = seen.put(id, t);
            assertEquals(null, before, "collision of " + t + " and " + before + " on " + id);
        }
        assertEquals("orders-0", new TopicPartition("orders", 0).groupId(), "plain names stay readable");
        assertEquals("my_2etopic-1", new TopicPartition("my.topic", 1).groupId());
        assertEquals("t_g_5f_5foffsets-7", new TopicPartition("__offsets", 7).groupId());
    }

    @Test
    void directoryNamesRoundTrip() {
        for (TopicPartition tp : List.of(new TopicPartition("a-b", 12), new TopicPartition("__offsets", 0))) {
            assertEquals(Optional.of(tp), TopicPartition.fromDirName(tp.dirName()));
        }
        assertEquals(Optional.empty(), TopicPartition.fromDirName("__metadata"));
        assertEquals(Optional.empty(), TopicPartition.fromDirName("x-"));
        assertEquals(Optional.empty(), TopicPartition.fromDirName("-3"));
        assertThrows(IllegalArgumentException.class, () -> new TopicPartition("a/b", 0));
        assertThrows(IllegalArgumentException.class, () -> new TopicPartition("a", -1));
    }
}
