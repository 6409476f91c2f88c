package io.sluice.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.client.Admin;
import io.sluice.client.CommitFailedException;
import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.ConsumerBuilder;
import io.sluice.client.ErrorCode;
import io.sluice.client.GroupDescription;
import io.sluice.client.GroupListing;
import io.sluice.client.GroupState;
import io.sluice.client.OffsetResetResult;
import io.sluice.client.OffsetResetSpec;
import io.sluice.client.Producer;
import io.sluice.client.RebalanceListener;
import io.sluice.client.Record;
import io.sluice.client.SluiceClient;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The group consumer against {@link FakeGroups}: join, incremental revoke, fencing, coordinator moves, commits. */
class GroupConsumerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private FakeCluster cluster;
    private SluiceClient client;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        client = new ClientBuilderImpl()
                .channelFactory(cluster.channels())
                .bootstrap(FakeCluster.endpoint(1))
                .requestTimeout(Duration.ofSeconds(30))
                .build();
    }

    @AfterEach
    void tearDown() {
        client.close();
        cluster.close();
    }

    /** Records every callback, and what the coordinator had committed when a revoke was announced. */
    static final class Recorder implements RebalanceListener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final Set<TopicPartition> assigned = new LinkedHashSet<>();
        final Set<TopicPartition> revoked = new LinkedHashSet<>();
        final Set<TopicPartition> lost = new LinkedHashSet<>();
        final Map<TopicPartition, Long> committedAtRevoke = new HashMap<>();
        final Map<TopicPartition, Boolean> stillAssignedAtRevoke = new HashMap<>();
        FakeGroups groups;
        String group;
        Consumer consumer;

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            events.add("assigned "
                    + new java.util.TreeSet<>(
                            partitions.stream().map(Object::toString).toList()));
            assigned.addAll(partitions);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            events.add("revoked " + partitions.size());
            revoked.addAll(partitions);
            for (TopicPartition tp : partitions) {
                if (groups != null) {
                    committedAtRevoke.put(tp, groups.committed(group, tp));
                }
                if (consumer != null) {
                    stillAssignedAtRevoke.put(tp, consumer.assignment().contains(tp));
                }
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            events.add("lost " + partitions.size());
            lost.addAll(partitions);
        }
    }

    private void produce(String topic, int partitions, int perPartition) {
        try (Producer p = client.newProducer().linger(Duration.ZERO).create()) {
            for (int part = 0; part < partitions; part++) {
                for (int i = 0; i < perPartition; i++) {
                    p.sendAsync(Record.of(topic, "k", "p" + part + "-" + i).withPartition(part));
                }
            }
            p.flush();
        }
    }

    private ConsumerBuilder builder(String group) {
        return client.newConsumer().groupId(group).autoCommitInterval(Duration.ofHours(1));
    }

    static void waitFor(BooleanSupplier condition, String message) throws InterruptedException {
        ClientProtocolTest.waitFor(condition, WAIT, message);
    }

    /** Polls until {@code condition} holds, collecting records. */
    static List<ConsumedRecord> pollUntil(Consumer c, BooleanSupplier condition, String message) {
        List<ConsumedRecord> out = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + message);
            }
            out.addAll(c.poll(Duration.ofMillis(20)));
        }
        return out;
    }

    /** Polls until at least {@code n} records came. */
    static List<ConsumedRecord> pollRecords(Consumer c, int n) {
        List<ConsumedRecord> out = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (out.size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out with " + out.size() + " of " + n + " records");
            }
            out.addAll(c.poll(Duration.ofMillis(20)));
        }
        return out;
    }

    @Test
    void joinsTakesAssignmentAndStartsAtCommittedOffsets() {
        cluster.createTopic("t", 2, 1);
        produce("t", 2, 10);
        cluster.groups.commit("g", new TopicPartition("t", 0), 4);
        Recorder rec = new Recorder();
        try (Consumer c = builder("g").create()) {
            c.subscribe(List.of("t"), rec);
            List<ConsumedRecord> got = pollRecords(c, 16);
            assertEquals(16, got.size());
            assertEquals(Set.of(new TopicPartition("t", 0), new TopicPartition("t", 1)), c.assignment());
            assertEquals(c.assignment(), rec.assigned);
            List<Long> p0 = got.stream()
                    .filter(r -> r.partition() == 0)
                    .map(ConsumedRecord::offset)
                    .toList();
            assertEquals(List.of(4L, 5L, 6L, 7L, 8L, 9L), p0);
            assertEquals(10L, c.position(new TopicPartition("t", 0)));
            assertEquals(Map.of(new TopicPartition("t", 0), 4L), c.committed(c.assignment()));
            c.commitSync();
            assertEquals(
                    Map.of(new TopicPartition("t", 0), 10L, new TopicPartition("t", 1), 10L),
                    c.committed(c.assignment()));
        }
        assertEquals(1, cluster.groups.leaves.size(), "close leaves the group");
    }

    @Test
    void latestResetSkipsHistoryAndPatternSubscriptionMatchesTopics() throws Exception {
        cluster.createTopic("orders-eu", 1, 1);
        cluster.createTopic("orders-us", 1, 1);
        cluster.createTopic("other", 1, 1);
        produce("orders-eu", 1, 3);
        try (Consumer c =
                builder("g").autoOffsetReset(ConsumerBuilder.OffsetReset.LATEST).create()) {
            Recorder rec = new Recorder();
            c.subscribe(Pattern.compile("orders-.*"), rec);
            pollUntil(c, () -> c.assignment().size() == 2, "two matching topics assigned");
            assertEquals(
                    Set.of(new TopicPartition("orders-eu", 0), new TopicPartition("orders-us", 0)), c.assignment());
            assertEquals(3L, c.position(new TopicPartition("orders-eu", 0)));
            produce("orders-eu", 1, 2);
            List<ConsumedRecord> got = pollRecords(c, 2);
            assertEquals(
                    List.of(3L, 4L), got.stream().map(ConsumedRecord::offset).toList());
        }
    }

    @Test
    void incrementalRebalanceRevokesOnlyMovedPartitionsAndCommitsBeforeGivingThemUp() throws Exception {
        cluster.createTopic("t", 4, 1);
        produce("t", 4, 5);
        Recorder recA = new Recorder();
        Recorder recB = new Recorder();
        Consumer a = builder("g").create();
        Consumer b = builder("g").create();
        recA.groups = cluster.groups;
        recA.group = "g";
        recA.consumer = a;
        try {
            a.subscribe(List.of("t"), recA);
            Map<String, Integer> seen = new HashMap<>();
            List<ConsumedRecord> fromA = new ArrayList<>();
            fromA.addAll(pollUntil(a, () -> a.assignment().size() == 4, "A owns all 4"));
            fromA.addAll(pollRecords(a, 20 - fromA.size()));
            Set<TopicPartition> before = a.assignment();
            b.subscribe(List.of("t"), recB);
            List<ConsumedRecord> fromB = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!(a.assignment().size() == 2 && b.assignment().size() == 2)) {
                assertTrue(System.nanoTime() < deadline, "rebalance to 2 + 2 did not finish");
                fromA.addAll(a.poll(Duration.ofMillis(10)));
                fromB.addAll(b.poll(Duration.ofMillis(10)));
            }
            assertEquals(2, recA.revoked.size(), "only the moved partitions are revoked: " + recA.events);
            assertTrue(recA.lost.isEmpty());
            assertEquals(recA.revoked, b.assignment());
            for (TopicPartition tp : recA.revoked) {
                assertEquals(5L, recA.committedAtRevoke.get(tp), "auto-commit ran before the revoke callback");
                assertTrue(recA.stillAssignedAtRevoke.get(tp), "still owned during the callback");
            }
            Set<TopicPartition> kept = new HashSet<>(before);
            kept.removeAll(recA.revoked);
            assertEquals(kept, a.assignment());
            assertEquals(List.of("assigned [t-0, t-1, t-2, t-3]", "revoked 2"), recA.events);
            assertEquals(0, cluster.groups.doubleOwnership.get(), "no partition was owned by two members at once");

            produce("t", 4, 3);
            deadline = System.nanoTime() + WAIT.toNanos();
            while (fromA.size() + fromB.size() < 32) {
                assertTrue(System.nanoTime() < deadline, "got " + (fromA.size() + fromB.size()) + " of 32");
                fromA.addAll(a.poll(Duration.ofMillis(10)));
                fromB.addAll(b.poll(Duration.ofMillis(10)));
            }
            for (ConsumedRecord r : fromA) {
                seen.merge(r.partition() + "@" + r.offset(), 1, Integer::sum);
            }
            for (ConsumedRecord r : fromB) {
                seen.merge(r.partition() + "@" + r.offset(), 1, Integer::sum);
                assertTrue(r.offset() >= 5, "B starts at A's committed offsets: " + r.offset());
            }
            assertEquals(32, seen.size(), "every record once: " + seen);
            assertTrue(seen.values().stream().allMatch(n -> n == 1), "no duplicates: " + seen);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void fencedMemberLosesItsPartitionsWithoutCommittingAndRejoins() throws Exception {
        cluster.createTopic("t", 2, 1);
        produce("t", 2, 3);
        Recorder rec = new Recorder();
        try (Consumer c = builder("g").create()) {
            c.subscribe(List.of("t"), rec);
            pollRecords(c, 6);
            String memberId = cluster.groups.memberIds("g").get(0);
            int commitsBefore = cluster.groups.commits.size();
            cluster.groups.fence(memberId);
            List<ConsumedRecord> again = new ArrayList<>(
                    pollUntil(c, () -> !rec.lost.isEmpty() && c.assignment().size() == 2, "lost, then assigned again"));
            assertEquals(Set.of(new TopicPartition("t", 0), new TopicPartition("t", 1)), rec.lost);
            assertTrue(rec.revoked.isEmpty(), "a fenced member's partitions are lost, not revoked");
            assertEquals(commitsBefore, cluster.groups.commits.size(), "nothing committed for lost partitions");
            assertEquals(2, cluster.groups.joins.get(), "rejoined as a new member with epoch 0");
            assertFalse(cluster.groups.memberIds("g").contains(memberId));
            assertEquals(List.of("assigned [t-0, t-1]", "lost 2", "assigned [t-0, t-1]"), rec.events);
            // nothing was committed, so the rejoined member reads from the start again (at-least-once)
            if (again.size() < 6) {
                again.addAll(pollRecords(c, 6 - again.size()));
            }
            assertEquals(6, again.size());
            assertEquals(
                    Set.of(0L, 1L, 2L),
                    again.stream().map(ConsumedRecord::offset).collect(Collectors.toSet()));
        }
    }

    @Test
    void commitFromAFencedMemberFailsWithCommitFailedException() throws Exception {
        cluster.createTopic("t", 1, 1);
        produce("t", 1, 3);
        try (Consumer c = builder("g").create()) {
            c.subscribe(List.of("t"));
            pollRecords(c, 3);
            cluster.groups.fence(cluster.groups.memberIds("g").get(0));
            waitFor(() -> cluster.groups.fenced.get() == 1, "the coordinator fenced the member");
            CommitFailedException e = assertThrows(CommitFailedException.class, c::commitSync);
            assertEquals(ErrorCode.UNKNOWN_MEMBER, e.code());
            assertTrue(e.getMessage().contains("no longer a member"), e.getMessage());
            assertEquals(null, cluster.groups.committed("g", new TopicPartition("t", 0)));
        }
    }

    @Test
    void coordinatorMoveIsFollowedByFindingItAgain() throws Exception {
        cluster.createTopic("t", 1, 1);
        produce("t", 1, 3);
        try (Consumer c = builder("g").create()) {
            c.subscribe(List.of("t"));
            List<ConsumedRecord> got =
                    new ArrayList<>(pollUntil(c, () -> c.assignment().size() == 1, "assigned"));
            int finds = cluster.groups.findCoordinator.get();
            cluster.groups.coordinatorId = 2;
            waitFor(
                    () -> cluster.groups.heartbeats.stream().anyMatch(h -> h.broker() == 2),
                    "heartbeats reach the new coordinator");
            assertTrue(cluster.groups.notCoordinator.get() > 0);
            assertTrue(cluster.groups.findCoordinator.get() > finds, "FindCoordinator ran again");
            if (got.size() < 3) {
                got.addAll(pollRecords(c, 3 - got.size()));
            }
            assertEquals(3, got.size());
            cluster.groups.coordinatorId = 3;
            c.commitSync();
            assertEquals(3L, cluster.groups.committed("g", new TopicPartition("t", 0)));
            assertEquals(1, cluster.groups.joins.get(), "the membership survived the moves");
        }
    }

    @Test
    void autoCommitsOnTheIntervalAndOnClose() throws Exception {
        cluster.createTopic("t", 1, 1);
        produce("t", 1, 4);
        TopicPartition tp = new TopicPartition("t", 0);
        Consumer c = client.newConsumer()
                .groupId("g")
                .autoCommitInterval(Duration.ofMillis(20))
                .maxPollRecords(2)
                .create();
        c.subscribe(List.of("t"));
        pollRecords(c, 4);
        pollUntil(c, () -> Long.valueOf(4).equals(cluster.groups.committed("g", tp)), "auto-commit of offset 4");
        produce("t", 1, 2);
        pollRecords(c, 1);
        long position = c.position(tp);
        c.close();
        assertEquals(position, cluster.groups.committed("g", tp), "close commits the position");
        assertEquals(1, cluster.groups.leaves.size());
    }

    @Test
    void staticMemberCommitsButDoesNotLeaveOnClose() {
        cluster.createTopic("t", 1, 1);
        produce("t", 1, 2);
        try (Consumer c = builder("g").groupInstanceId("host-1").create()) {
            c.subscribe(List.of("t"));
            pollUntil(c, () -> c.assignment().size() == 1 && c.position(new TopicPartition("t", 0)) == 2, "read");
        }
        assertEquals(2L, cluster.groups.committed("g", new TopicPartition("t", 0)));
        assertTrue(cluster.groups.leaves.isEmpty(), "a static member keeps its place for its restart");
        assertEquals(1, cluster.groups.memberIds("g").size());
    }

    @Test
    void assignModeWithAGroupStartsAtCommittedOffsetsAndCommitsWithoutMembership() {
        cluster.createTopic("t", 2, 1);
        produce("t", 2, 3);
        TopicPartition p0 = new TopicPartition("t", 0);
        TopicPartition p1 = new TopicPartition("t", 1);
        cluster.groups.commit("g", p1, 2);
        try (Consumer c = builder("g").autoCommit(false).create()) {
            c.assign(List.of(p0, p1));
            assertEquals(0L, c.position(p0));
            assertEquals(2L, c.position(p1));
            assertThrows(IllegalStateException.class, () -> c.subscribe(List.of("t")));
            c.commitSync(Map.of(p0, 1L));
            assertEquals(1L, cluster.groups.committed("g", p0));
            assertThrows(IllegalArgumentException.class, () -> c.commitSync(Map.of(p0, -1L)));
        }
        try (Consumer plain = client.newConsumer().create()) {
            assertThrows(IllegalStateException.class, () -> plain.subscribe(List.of("t")));
            assertThrows(IllegalStateException.class, plain::commitSync);
            plain.assign(List.of(p1));
            assertEquals(0L, plain.position(p1), "without a group, assign() starts at the log start as before");
        }
    }

    @Test
    void unsubscribeRevokesCommitsAndLeaves() {
        cluster.createTopic("t", 1, 1);
        produce("t", 1, 2);
        Recorder rec = new Recorder();
        try (Consumer c = builder("g").create()) {
            c.subscribe(List.of("t"), rec);
            pollUntil(c, () -> c.assignment().size() == 1 && c.position(new TopicPartition("t", 0)) == 2, "read");
            c.unsubscribe();
            assertTrue(c.assignment().isEmpty());
            assertEquals(Set.of(new TopicPartition("t", 0)), rec.revoked);
            assertEquals(2L, cluster.groups.committed("g", new TopicPartition("t", 0)));
            assertEquals(1, cluster.groups.leaves.size());
            c.assign(List.of(new TopicPartition("t", 0)));
            assertEquals(2L, c.position(new TopicPartition("t", 0)));
        }
    }

    @Test
    void nonRetriableGroupErrorsSurfaceFromPoll() {
        cluster.createTopic("t", 1, 1);
        try (Consumer c = builder("g").assignor("bogus").create()) {
            c.subscribe(List.of("t"));
            SluiceException e = assertThrows(SluiceException.class, () -> pollUntil(c, () -> false, "error"));
            assertEquals(ErrorCode.UNSUPPORTED_ASSIGNOR, e.code());
            assertTrue(e.getMessage().contains("group 'g'"), e.getMessage());
        }
        assertThrows(
                IllegalArgumentException.class,
                () -> client.newConsumer().groupId("").create());
        assertThrows(
                IllegalArgumentException.class,
                () -> client.newConsumer().groupInstanceId("x").create());
        assertInstanceOf(IllegalArgumentException.class, assertThrows(RuntimeException.class, () -> client.newConsumer()
                .groupId("g")
                .autoOffsetReset(ConsumerBuilder.OffsetReset.NONE)
                .create()));
    }

    @Test
    void adminListsDescribesResetsAndDeletesGroupsAtTheCoordinator() {
        cluster.createTopic("t", 2, 1);
        produce("t", 2, 4);
        cluster.groups.coordinatorId = 3;
        TopicPartition p0 = new TopicPartition("t", 0);
        TopicPartition p1 = new TopicPartition("t", 1);
        cluster.groups.commit("idle", p0, 1);
        Admin admin = client.admin();
        try (Consumer c = builder("busy").create()) {
            c.subscribe(List.of("t"));
            pollUntil(c, () -> c.assignment().size() == 2, "assigned");
            List<GroupListing> groups = admin.listGroups();
            assertEquals(
                    List.of("busy", "idle"),
                    groups.stream().map(GroupListing::groupId).toList());
            assertEquals(
                    List.of(1, 0),
                    groups.stream().map(GroupListing::memberCount).toList());
            assertEquals(GroupState.EMPTY, groups.get(1).state());
            GroupDescription d = admin.describeGroup("busy");
            assertEquals(1, d.members().size());
            assertEquals(Set.of(p0, p1), d.members().get(0).assignment());
            assertEquals(List.of("t"), d.members().get(0).subscribedTopics());
            SluiceException notEmpty = assertThrows(SluiceException.class, () -> admin.deleteGroup("busy"));
            assertEquals(ErrorCode.GROUP_NOT_EMPTY, notEmpty.code());
        }
        GroupDescription idle = admin.describeGroup("idle");
        assertEquals(GroupState.EMPTY, idle.state());
        GroupDescription.PartitionLag lag = idle.partitions().get(0);
        assertEquals(p0, lag.partition());
        assertEquals(OptionalLong.of(1), lag.committedOffset());
        assertEquals(OptionalLong.of(4), lag.highWatermark());
        assertEquals(OptionalLong.of(3), lag.lag());

        OffsetResetResult plan = admin.resetOffsets("idle", "t", List.of(), OffsetResetSpec.latest(), false);
        assertEquals(2, plan.partitions().size());
        assertEquals(OptionalLong.of(1), plan.partitions().get(0).currentOffset());
        assertEquals(4, plan.partitions().get(0).newOffset());
        assertEquals(Map.of(p0, 1L), admin.listCommittedOffsets("idle", List.of()), "a plan changes nothing");
        OffsetResetResult shifted = admin.resetOffsets("idle", "t", List.of(0, 1), OffsetResetSpec.shiftBy(2), true);
        assertTrue(shifted.partitions().get(1).error().isPresent(), "nothing committed to shift on partition 1");
        assertEquals(
                ErrorCode.INVALID_OFFSET,
                shifted.partitions().get(1).error().get().code());
        assertEquals(Map.of(p0, 3L), admin.listCommittedOffsets("idle", List.of(p0, p1)));
        admin.deleteGroup("idle");
        SluiceException unknown = assertThrows(SluiceException.class, () -> admin.describeGroup("idle"));
        assertEquals(ErrorCode.UNKNOWN_GROUP, unknown.code());
    }
}
