package io.sluice.broker.e2e;

import static io.sluice.broker.e2e.Waits.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.sluice.broker.internal.offsets.GroupHash;
import io.sluice.client.Admin;
import io.sluice.client.Consumer;
import io.sluice.client.NewTopic;
import io.sluice.client.PartitionInfo;
import io.sluice.client.Producer;
import io.sluice.client.Record;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's broker process is killed with SIGKILL (issue 5): a group commits offsets through the SDK, the
 * broker leading the group's {@code __offsets} partition is SIGKILLed, and a fresh client then reads the same
 * committed offsets from the new coordinator, which also serves a rejoining member and accepts its commits. Three real broker processes.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CoordinatorKillIT {
    static final String GROUP = "kill-coordinator";
    static final String TOPIC = "events";
    static final int OFFSETS_PARTITIONS = 4;

    @TempDir
    static Path data;

    static ProcessCluster cluster;

    @RegisterExtension
    static final TestWatcher LOGS = ProcessCluster.dumpLogsOnFailure(() -> cluster);

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ProcessCluster.start(
                "coordinator-kill",
                3,
                data,
                Map.of("offsets.topic.partitions", Integer.toString(OFFSETS_PARTITIONS)),
                Duration.ofSeconds(90));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void committedOffsetsSurviveASigkilledCoordinator() {
        Map<TopicPartition, Long> committed = new HashMap<>();
        int coordinator;
        try (SluiceClient client = SluiceClient.builder()
                .bootstrap(cluster.bootstrap())
                .requestTimeout(Duration.ofSeconds(30))
                .build()) {
            Admin admin = client.admin();
            admin.createTopic(new NewTopic(TOPIC, 3, 3, Map.of()));
            try (Producer p = client.newProducer().create()) {
                for (int i = 0; i < 300; i++) {
                    p.sendAsync(Record.of(TOPIC, "k" + i, "v" + i));
                }
                p.flush();
            }
            try (Consumer c =
                    client.newConsumer().groupId(GROUP).autoCommit(false).create()) {
                c.subscribe(List.of(TOPIC));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                int read = 0;
                while (read < 300) {
                    read += c.poll(Duration.ofMillis(200)).size();
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("read only " + read + " of 300 records in 60 s");
                    }
                }
                for (TopicPartition tp : c.assignment()) {
                    committed.put(tp, c.position(tp));
                }
                c.commitSync(committed);
            }
            assertEquals(3, committed.size());
            assertEquals(committed, admin.listCommittedOffsets(GROUP, committed.keySet()));
            int offsetsPartition = GroupHash.partitionFor(GROUP, OFFSETS_PARTITIONS);
            PartitionInfo p = admin.describeTopic("__offsets").partitions().get(offsetsPartition);
            OptionalInt leader = p.leaderId();
            coordinator =
                    leader.orElseThrow(() -> new AssertionError("__offsets-" + offsetsPartition + " has no leader"));
        }

        cluster.kill(coordinator); // SIGKILL

        try (SluiceClient client = SluiceClient.builder()
                .bootstrap(cluster.bootstrap())
                .requestTimeout(Duration.ofSeconds(30))
                .build()) {
            Admin admin = client.admin();
            int offsetsPartition = GroupHash.partitionFor(GROUP, OFFSETS_PARTITIONS);
            waitFor(
                    () -> {
                        try {
                            OptionalInt l = admin.describeTopic("__offsets")
                                    .partitions()
                                    .get(offsetsPartition)
                                    .leaderId();
                            return l.isPresent() && l.getAsInt() != coordinator;
                        } catch (RuntimeException e) {
                            return false;
                        }
                    },
                    Duration.ofSeconds(60),
                    "a new leader of __offsets-" + offsetsPartition + " after SIGKILL of broker " + coordinator);
            Map<TopicPartition, Long> after = admin.listCommittedOffsets(GROUP, committed.keySet());
            assertEquals(committed, after, "committed offsets on the new coordinator");
            int newCoordinator = admin.describeTopic("__offsets")
                    .partitions()
                    .get(offsetsPartition)
                    .leaderId()
                    .orElseThrow();
            assertNotEquals(coordinator, newCoordinator);
            // The new coordinator accepts commits, and a member resumes from the committed offsets.
            try (Consumer c =
                    client.newConsumer().groupId(GROUP).autoCommit(false).create()) {
                c.subscribe(List.of(TOPIC));
                waitFor(
                        () -> {
                            c.poll(Duration.ofMillis(100));
                            return c.assignment().size() == 3;
                        },
                        Duration.ofSeconds(60),
                        "the group's member got all 3 partitions from the new coordinator");
                assertEquals(committed, c.committed(committed.keySet()), "the member sees the committed offsets");
                c.commitSync(committed);
            }
        }
    }
}
