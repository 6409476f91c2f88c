package io.sluice.broker.internal.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.broker.internal.BrokerException;
import io.sluice.broker.internal.InMemoryBackend;
import io.sluice.broker.internal.offsets.OffsetStore.OffsetCommitEntry;
import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import io.sluice.proto.v1.CommitOffsetsRequest;
import io.sluice.proto.v1.CommitOffsetsResponse;
import io.sluice.proto.v1.DeleteGroupRequest;
import io.sluice.proto.v1.DescribeGroupRequest;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.GroupDescription;
import io.sluice.proto.v1.GroupState;
import io.sluice.proto.v1.HeartbeatRequest;
import io.sluice.proto.v1.HeartbeatResponse;
import io.sluice.proto.v1.LeaveGroupRequest;
import io.sluice.proto.v1.ListGroupsRequest;
import io.sluice.proto.v1.LogBoundary;
import io.sluice.proto.v1.OffsetCommit;
import io.sluice.proto.v1.OffsetResetPlan;
import io.sluice.proto.v1.PartitionLag;
import io.sluice.proto.v1.ResetOffsetsRequest;
import io.sluice.proto.v1.ResetOffsetsResponse;
import io.sluice.proto.v1.SubscribedTopics;
import io.sluice.proto.v1.TopicPartitions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's state machine with a hand-driven clock, a fake offset store and fake partition leaders: join,
 * leave, session and rebalance expiry, incremental reconciliation, static membership, fencing, failover adoption,
 * commits, resets, deletion and retention.
 */
class GroupCoordinatorTest {
    static final String G = "g";

    MutableClock clock;
    InMemoryBackend backend;
    FakeOffsetStore store;
    FakeLogOffsets logs;
    GroupConfig config;
    GroupCoordinator coordinator;

    @BeforeEach
    void setUp() {
        clock = new MutableClock(1_000_000);
        backend = new InMemoryBackend(1, 3);
        store = new FakeOffsetStore(1, clock);
        logs = new FakeLogOffsets();
        config = GroupConfig.defaults();
        coordinator = new GroupCoordinator(backend, config, clock, logs);
        coordinator.attach(store, false);
        // Past the adoption window of the fresh attach, unless a test opens one.
        clock.advance(config.maxSessionTimeoutMs() + 1);
        backend.createTopic("t", 6, 3, Map.of()).join();
        for (int p = 0; p < 6; p++) {
            logs.set("t", p, 10, 100);
        }
    }

    /** A consumer following the protocol: it releases revoked partitions and starts assigned ones at once. */
    final class Client {
        String memberId = "";
        int epoch;
        String instanceId = "";
        List<String> topics = List.of("t");
        String regex = "";
        String assignor = "";
        final Set<TopicPartitionKey> owned = new TreeSet<>(Assignor.PARTITION_ORDER);
        boolean crashed;

        HeartbeatRequest request() {
            HeartbeatRequest.Builder b = HeartbeatRequest.newBuilder()
                    .setGroupId(G)
                    .setMemberId(memberId)
                    .setMemberEpoch(epoch)
                    .setInstanceId(instanceId)
                    .setClientId("test")
                    .setAssignor(assignor)
                    .addAllOwnedPartitions(GroupCoordinator.toTopicPartitions(owned));
            if (regex.isEmpty()) {
                b.setTopics(SubscribedTopics.newBuilder().addAllNames(topics));
            } else {
                b.setTopicRegex(regex);
            }
            return b.build();
        }

        /** Heartbeats and reconciles; returns the partitions the response revoked. */
        Set<TopicPartitionKey> heartbeat() {
            HeartbeatResponse r = coordinator.heartbeat(request(), "127.0.0.1");
            memberId = r.getMemberId();
            epoch = r.getMemberEpoch();
            Set<TopicPartitionKey> assigned = keys(r.getAssignmentList());
            Set<TopicPartitionKey> revoked = new HashSet<>(owned);
            revoked.removeAll(assigned);
            owned.retainAll(assigned);
            owned.addAll(assigned);
            return revoked;
        }

        void leave() {
            coordinator.leave(LeaveGroupRequest.newBuilder()
                    .setGroupId(G)
                    .setMemberId(memberId)
                    .setMemberEpoch(epoch)
                    .build());
            owned.clear();
        }
    }

    static Set<TopicPartitionKey> keys(List<TopicPartitions> tps) {
        Set<TopicPartitionKey> out = new TreeSet<>(Assignor.PARTITION_ORDER);
        for (TopicPartitions t : tps) {
            t.getPartitionsList().forEach(p -> out.add(new TopicPartitionKey(t.getTopic(), p)));
        }
        return out;
    }

    static TopicPartitionKey tp(String t, int p) {
        return new TopicPartitionKey(t, p);
    }

    ConsumerGroup group() {
        return coordinator.groupForTest(G).orElseThrow();
    }

    GroupState state() {
        return describe().getState();
    }

    GroupDescription describe() {
        return coordinator
                .describe(DescribeGroupRequest.newBuilder().setGroupId(G).build())
                .getGroup();
    }

    static ErrorCode code(Runnable r) {
        BrokerException e = assertThrows(BrokerException.class, r::run);
        return e.code();
    }

    static ErrorCode codeOf(Supplier<? extends java.util.concurrent.CompletableFuture<?>> call) {
        try {
            call.get().join();
        } catch (BrokerException e) {
            return e.code();
        } catch (CompletionException e) {
            if (e.getCause() instanceof BrokerException be) {
                return be.code();
            }
            throw e;
        }
        throw new AssertionError("expected a failure");
    }

    /** Heartbeats every live client until the group is stable (bounded), checking ownership on the way. */
    void settle(List<Client> clients) {
        for (int round = 0; round < 20; round++) {
            for (Client c : clients) {
                if (!c.crashed) {
                    c.heartbeat();
                    assertDisjoint(clients);
                }
            }
            if (state() == GroupState.GROUP_STATE_STABLE) {
                return;
            }
        }
        throw new AssertionError("group did not settle: " + describe());
    }

    static void assertDisjoint(List<Client> clients) {
        Map<TopicPartitionKey, String> owner = new HashMap<>();
        for (Client c : clients) {
            if (c.crashed) {
                continue;
            }
            for (TopicPartitionKey tp : c.owned) {
                String prev = owner.put(tp, c.memberId);
                assertTrue(prev == null, tp + " owned by both " + prev + " and " + c.memberId);
            }
        }
    }

    @Test
    void aLoneMemberGetsEveryPartitionAndTheGroupIsStable() {
        Client a = new Client();
        a.heartbeat();
        assertEquals(6, a.owned.size());
        assertEquals(1, a.epoch);
        assertEquals(GroupState.GROUP_STATE_STABLE, state());
        assertEquals(UniformAssignor.NAME, describe().getAssignor());
    }

    @Test
    void aJoiningMemberGetsPartitionsOnlyAfterTheOwnerReleasedThem() {
        Client a = new Client();
        a.heartbeat();
        Set<TopicPartitionKey> before = new TreeSet<>(Assignor.PARTITION_ORDER);
        before.addAll(a.owned);
        int epochA = a.epoch;

        Client b = new Client();
        b.heartbeat();
        // a still holds everything: b may not have any of it yet.
        assertTrue(b.owned.isEmpty(), "b got partitions a still owns: " + b.owned);
        assertEquals(GroupState.GROUP_STATE_RECONCILING, state());

        Set<TopicPartitionKey> revoked = a.heartbeat();
        assertEquals(3, revoked.size(), "a gives up exactly what moves");
        assertEquals(epochA, a.epoch, "no new epoch while revoking");
        Set<TopicPartitionKey> kept = new HashSet<>(before);
        kept.removeAll(revoked);
        assertEquals(kept, a.owned, "partitions that do not move stay with a");

        a.heartbeat(); // reports the release; moves to the new epoch
        assertTrue(a.epoch > epochA);
        assertEquals(kept, a.owned);
        b.heartbeat();
        assertEquals(revoked, b.owned);
        assertEquals(GroupState.GROUP_STATE_STABLE, state());
    }

    @Test
    void leavingMakesPartitionsAssignableAtOnce() {
        Client a = new Client();
        Client b = new Client();
        a.heartbeat();
        b.heartbeat();
        settle(List.of(a, b));
        b.leave();
        a.heartbeat();
        assertEquals(6, a.owned.size());
        assertEquals(1, describe().getMembersCount());
        assertEquals(ErrorCode.ERROR_CODE_UNKNOWN_MEMBER, code(b::heartbeat));
    }

    @Test
    void heartbeatWithEpochMinusOneLeaves() {
        Client a = new Client();
        a.heartbeat();
        a.epoch = -1;
        HeartbeatResponse r = coordinator.heartbeat(a.request(), "h");
        assertEquals(-1, r.getMemberEpoch());
        synchronized (group()) {
            assertEquals(GroupState.GROUP_STATE_EMPTY, group().state());
        }
    }

    @Test
    void aSilentMemberExpiresAfterItsSessionTimeoutAndItsPartitionsMove() {
        Client a = new Client();
        Client b = new Client();
        a.heartbeat();
        b.heartbeat();
        settle(List.of(a, b));
        clock.advance(config.sessionTimeoutMs() - 1);
        a.heartbeat();
        coordinator.expireMembers();
        assertEquals(2, describe().getMembersCount(), "b's session has not lapsed yet");
        clock.advance(1);
        coordinator.expireMembers();
        assertEquals(1, describe().getMembersCount());
        a.heartbeat();
        assertEquals(6, a.owned.size());
        assertEquals(ErrorCode.ERROR_CODE_UNKNOWN_MEMBER, code(b::heartbeat));
    }

    @Test
    void aMemberKeepingARevokedPartitionPastItsRebalanceTimeoutIsRemoved() {
        Client a = new Client();
        a.heartbeat();
        Client b = new Client();
        b.heartbeat();
        // a keeps heartbeating but never releases (a stuck consumer).
        HeartbeatRequest stuck = a.request();
        coordinator.heartbeat(stuck, "h");
        clock.advance(config.rebalanceTimeoutMs() / 2);
        coordinator.heartbeat(stuck, "h");
        b.heartbeat();
        coordinator.expireMembers();
        assertEquals(2, describe().getMembersCount());
        clock.advance(config.rebalanceTimeoutMs() / 2);
        coordinator.heartbeat(stuck, "h");
        b.heartbeat();
        coordinator.expireMembers();
        assertEquals(1, describe().getMembersCount());
        b.heartbeat();
        assertEquals(6, b.owned.size());
    }

    @Test
    void epochsAreCheckedOnHeartbeatsAndCommits() {
        Client a = new Client();
        a.heartbeat();
        int current = a.epoch;
        // A newer epoch than the member's is fenced.
        a.epoch = current + 5;
        assertEquals(ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH, code(a::heartbeat));
        a.epoch = current;

        Client b = new Client();
        b.heartbeat();
        a.heartbeat(); // releases
        int previous = a.epoch;
        a.heartbeat(); // new epoch; pretend this response was lost
        assertTrue(a.epoch > previous);
        int newest = a.epoch;
        a.epoch = previous;
        a.heartbeat(); // previous epoch with owned ⊆ assignment: accepted
        assertEquals(newest, a.epoch);

        // Commits: older epoch is stale, newer is fenced, unknown member, and a tool while members are active.
        assertEquals(ErrorCode.ERROR_CODE_STALE_MEMBER_EPOCH, codeOf(() -> commit(a.memberId, previous, "t", 0, 5)));
        assertEquals(ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH, codeOf(() -> commit(a.memberId, newest + 1, "t", 0, 5)));
        assertEquals(ErrorCode.ERROR_CODE_UNKNOWN_MEMBER, codeOf(() -> commit("nobody", 1, "t", 0, 5)));
        assertEquals(ErrorCode.ERROR_CODE_GROUP_NOT_EMPTY, codeOf(() -> commit("", 0, "t", 0, 5)));
        CommitOffsetsResponse ok = commit(a.memberId, newest, "t", 0, 5).join();
        assertFalse(ok.getResults(0).hasError());
        assertEquals(5, store.fetch(G, List.of(tp("t", 0))).get(tp("t", 0)).offset());
    }

    @Test
    void aPreviousEpochWithPartitionsBeyondTheAssignmentIsFenced() {
        Client a = new Client();
        a.heartbeat();
        Client b = new Client();
        b.heartbeat();
        a.heartbeat(); // revoke step
        a.heartbeat(); // new epoch
        int newEpoch = a.epoch;
        a.epoch = newEpoch - 1;
        a.owned.add(tp("t", 99));
        assertEquals(ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH, code(a::heartbeat));
    }

    @Test
    void commitEntriesAreValidatedOneByOne() {
        CommitOffsetsResponse r = coordinator
                .commit(CommitOffsetsRequest.newBuilder()
                        .setGroupId(G)
                        .addOffsets(oc("t", 0, 7))
                        .addOffsets(oc("nope", 0, 1))
                        .addOffsets(oc("t", 9, 1))
                        .addOffsets(oc("t", 1, -1))
                        .addOffsets(oc("t", 2, 101))
                        .addOffsets(oc("t", 0, 8))
                        .addOffsets(OffsetCommit.newBuilder()
                                .setTopic("t")
                                .setPartition(3)
                                .setOffset(1)
                                .setMetadata("x".repeat(4097)))
                        .build())
                .join();
        assertFalse(r.getResults(0).hasError());
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, r.getResults(1).getError().getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_PARTITION,
                r.getResults(2).getError().getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_OFFSET, r.getResults(3).getError().getCode());
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_OFFSET, r.getResults(4).getError().getCode(), "beyond log end");
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_REQUEST, r.getResults(5).getError().getCode(), "duplicate");
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_REQUEST, r.getResults(6).getError().getCode(), "metadata size");
        assertEquals(1, store.commits, "the valid entries are one write");
        assertEquals(7, store.fetch(G, List.of()).get(tp("t", 0)).offset());
    }

    @Test
    void staticMemberRestartTakesOverItsAssignmentWithoutARebalance() {
        Client a = new Client();
        a.instanceId = "host-a";
        Client b = new Client();
        a.heartbeat();
        b.heartbeat();
        settle(List.of(a, b));
        int groupEpoch = describe().getGroupEpoch();
        Set<TopicPartitionKey> aHad = new HashSet<>(a.owned);
        Set<TopicPartitionKey> bHad = new HashSet<>(b.owned);

        Client a2 = new Client(); // the restarted process: same instance id, new member id
        a2.instanceId = "host-a";
        a2.heartbeat();
        assertEquals(aHad, a2.owned, "takes over the same assignment");
        assertEquals(groupEpoch, describe().getGroupEpoch(), "no rebalance");
        b.heartbeat();
        assertEquals(bHad, b.owned);
        assertEquals(GroupState.GROUP_STATE_STABLE, state());
        // The old incarnation, if still alive, is fenced for good.
        assertEquals(ErrorCode.ERROR_CODE_FENCED_INSTANCE_ID, code(a::heartbeat));
        assertEquals(ErrorCode.ERROR_CODE_FENCED_INSTANCE_ID, codeOf(() -> commit(a.memberId, a.epoch, "t", 0, 1)));
    }

    @Test
    void aRejoinAfterFencingKeepsTheMemberIdAndGetsItsPartitionsBack() {
        Client a = new Client();
        a.heartbeat();
        String id = a.memberId;
        a.owned.clear();
        a.epoch = 0;
        a.heartbeat();
        assertEquals(id, a.memberId);
        assertEquals(6, a.owned.size());
    }

    @Test
    void newTopicsMatchingARegexAreAssigned() {
        Client a = new Client();
        a.regex = "t|new-.*";
        a.heartbeat();
        assertEquals(6, a.owned.size());
        backend.createTopic("new-1", 2, 3, Map.of()).join();
        backend.createTopic("other", 2, 3, Map.of()).join();
        a.heartbeat();
        assertEquals(8, a.owned.size());
        assertTrue(a.owned.contains(tp("new-1", 1)));
        assertFalse(a.owned.contains(tp("other", 0)));
    }

    @Test
    void subscribedTopicsCreatedLaterAreAssigned() {
        Client a = new Client();
        a.topics = List.of("t", "later");
        a.heartbeat();
        assertEquals(6, a.owned.size());
        backend.createTopic("later", 3, 3, Map.of()).join();
        coordinator.expireMembers(); // the sweep applies the metadata change
        a.heartbeat();
        assertEquals(9, a.owned.size());
    }

    @Test
    void assignorRules() {
        Client a = new Client();
        a.assignor = "range";
        a.heartbeat();
        assertEquals(RangeAssignor.NAME, describe().getAssignor());
        Client b = new Client();
        b.assignor = "uniform";
        assertEquals(ErrorCode.ERROR_CODE_INCONSISTENT_ASSIGNOR, code(b::heartbeat));
        b.assignor = "";
        b.heartbeat(); // empty means "the group's"
        Client c = new Client();
        c.assignor = "cooperative-magic";
        assertEquals(ErrorCode.ERROR_CODE_UNSUPPORTED_ASSIGNOR, code(c::heartbeat));
    }

    @Test
    void badHeartbeatsAreRefusedClearly() {
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_GROUP_ID,
                code(() -> coordinator.heartbeat(HeartbeatRequest.newBuilder().build(), "h")));
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_REQUEST,
                code(() -> coordinator.heartbeat(
                        HeartbeatRequest.newBuilder().setGroupId(G).build(), "h")));
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_REQUEST,
                code(() -> coordinator.heartbeat(
                        HeartbeatRequest.newBuilder()
                                .setGroupId(G)
                                .setTopicRegex("(")
                                .build(),
                        "h")));
        BrokerException e = assertThrows(
                BrokerException.class,
                () -> coordinator.heartbeat(
                        HeartbeatRequest.newBuilder()
                                .setGroupId(G)
                                .setTopicRegex("t")
                                .setSessionTimeoutMs(500)
                                .build(),
                        "h"));
        assertEquals(ErrorCode.ERROR_CODE_INVALID_REQUEST, e.code());
        assertTrue(e.getMessage().contains("group.min.session.timeout.ms"), e.getMessage());
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_REQUEST,
                code(() -> coordinator.heartbeat(
                        HeartbeatRequest.newBuilder()
                                .setGroupId(G)
                                .setMemberEpoch(3)
                                .setTopicRegex("t")
                                .build(),
                        "h")));
    }

    @Test
    void requestsToAnotherBrokerGetNotCoordinatorNamingIt() {
        store.lose(G, 2);
        BrokerException e = assertThrows(BrokerException.class, () -> new Client().heartbeat());
        assertEquals(ErrorCode.ERROR_CODE_NOT_COORDINATOR, e.code());
        assertEquals(2, e.info().getNotLeader().getLeaderId());
        assertEquals(7071, e.info().getNotLeader().getLeaderEndpoint().getPort());
        assertEquals(2, coordinator.findCoordinator(G).getId());
        store.lose(G, -1);
        assertEquals(ErrorCode.ERROR_CODE_COORDINATOR_NOT_AVAILABLE, code(() -> coordinator.findCoordinator(G)));
    }

    @Test
    void withoutAnOffsetStoreTheCoordinatorIsNotAvailable() {
        GroupCoordinator bare = new GroupCoordinator(backend, config, clock, logs);
        BrokerException e = assertThrows(BrokerException.class, () -> bare.findCoordinator(G));
        assertEquals(ErrorCode.ERROR_CODE_COORDINATOR_NOT_AVAILABLE, e.code());
        assertEquals(0, bare.list(ListGroupsRequest.getDefaultInstance()).getGroupsCount());
    }

    @Test
    void afterFailoverMembersAreAdoptedWithTheirPartitionsWithoutRevocation() {
        Client a = new Client();
        Client b = new Client();
        a.heartbeat();
        b.heartbeat();
        settle(List.of(a, b));
        Set<TopicPartitionKey> aHad = new HashSet<>(a.owned);
        Set<TopicPartitionKey> bHad = new HashSet<>(b.owned);
        int oldEpoch = a.epoch;

        store.lose(G, 2);
        assertEquals(ErrorCode.ERROR_CODE_NOT_COORDINATOR, code(a::heartbeat));
        assertTrue(coordinator.groupForTest(G).isEmpty(), "state dropped with the leadership");
        clock.advance(5000);
        store.gain(G); // this broker is the coordinator again, with no group state

        assertTrue(a.heartbeat().isEmpty(), "a keeps its partitions");
        assertTrue(b.heartbeat().isEmpty(), "b keeps its partitions");
        assertEquals(aHad, a.owned);
        assertEquals(bHad, b.owned);
        assertTrue(a.epoch > oldEpoch, "epochs keep increasing across the failover");
        settle(List.of(a, b));
        assertEquals(aHad, a.owned);
    }

    @Test
    void anAdoptedMemberClaimingAnotherMembersPartitionIsFenced() {
        Client a = new Client();
        a.heartbeat();
        store.lose(G, 2);
        store.gain(G);
        Client zombie = new Client();
        zombie.memberId = "zombie";
        zombie.epoch = 7;
        zombie.owned.add(tp("t", 0));
        a.heartbeat(); // adopted first with all six
        assertEquals(ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH, code(zombie::heartbeat));
    }

    @Test
    void outsideTheAdoptionWindowUnknownMembersAreUnknown() {
        Client ghost = new Client();
        ghost.memberId = "ghost";
        ghost.epoch = 3;
        assertEquals(ErrorCode.ERROR_CODE_UNKNOWN_MEMBER, code(ghost::heartbeat));
    }

    @Test
    void resetIsRefusedWhileMembersAreActiveButMayBePlanned() {
        Client a = new Client();
        a.heartbeat();
        BrokerException e = assertThrows(
                BrokerException.class,
                () -> coordinator.reset(
                        resetTo().setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST).build()));
        assertEquals(ErrorCode.ERROR_CODE_GROUP_NOT_EMPTY, e.code());
        assertTrue(e.getMessage().contains("1 active member"), e.getMessage());
        ResetOffsetsResponse plan = coordinator
                .reset(resetTo()
                        .setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST)
                        .setDryRun(true)
                        .build())
                .join();
        assertEquals(6, plan.getPartitionsCount());
        assertEquals(0, store.commits, "a dry run commits nothing");
    }

    @Test
    void resetSpecsClampToTheReadableRange() {
        store.commit(G, List.of(new OffsetCommitEntry("t", 0, 50, ""), new OffsetCommitEntry("t", 1, 95, "")));
        assertEquals(List.of(10L, 10L), newOffsets(resetTo().setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST), 0, 1));
        assertEquals(List.of(100L, 100L), newOffsets(resetTo().setBoundary(LogBoundary.LOG_BOUNDARY_LATEST), 0, 1));
        assertEquals(List.of(42L), newOffsets(resetTo().setOffset(42), 0));
        assertEquals(List.of(100L), newOffsets(resetTo().setOffset(1_000_000), 0), "clamped to the high watermark");
        assertEquals(List.of(10L), newOffsets(resetTo().setOffset(3), 0), "clamped to the log start");
        assertEquals(List.of(20L), newOffsets(resetTo().setTimestampMs(20_000), 0));
        assertEquals(List.of(100L), newOffsets(resetTo().setTimestampMs(10_000_000), 0), "no record: the HW");
        assertEquals(List.of(100L), newOffsets(resetTo().setShiftBy(Long.MAX_VALUE), 1), "no overflow");
        assertEquals(List.of(40L, 85L), newOffsets(resetTo().setShiftBy(-10), 0, 1));
        ResetOffsetsResponse r = coordinator
                .reset(resetTo()
                        .setShiftBy(1)
                        .addPartitions(2)
                        .addPartitions(17)
                        .build())
                .join();
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_OFFSET,
                r.getPartitions(0).getError().getCode(),
                "nothing to shift");
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_PARTITION,
                r.getPartitions(1).getError().getCode());
        assertEquals(50, store.fetch(G, List.of()).get(tp("t", 0)).offset(), "dry runs commit nothing");
        ResetOffsetsResponse done = coordinator
                .reset(resetTo()
                        .setShiftBy(-10)
                        .addPartitions(0)
                        .addPartitions(1)
                        .build())
                .join();
        assertEquals(2, done.getPartitionsCount());
        assertEquals(40, store.fetch(G, List.of()).get(tp("t", 0)).offset(), "the plan was committed");
        assertEquals(85, store.fetch(G, List.of()).get(tp("t", 1)).offset());
        assertEquals(50, done.getPartitions(0).getCurrentOffset());
    }

    @Test
    void badResetsAreRefusedClearly() {
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_REQUEST,
                code(() -> coordinator.reset(resetTo().build())));
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_OFFSET,
                code(() -> coordinator.reset(resetTo().setOffset(-1).build())));
        assertEquals(
                ErrorCode.ERROR_CODE_INVALID_TIMESTAMP,
                code(() -> coordinator.reset(resetTo().setTimestampMs(-5).build())));
        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_TOPIC,
                code(() -> coordinator.reset(
                        resetTo().setTopic("nope").setOffset(1).build())));
        logs.set("t", 0, 0, 0);
        backend.createTopic("dark", 1, 3, Map.of()).join(); // no leader answers for it
        ResetOffsetsResponse r = coordinator
                .reset(resetTo().setTopic("dark").setOffset(1).build())
                .join();
        assertEquals(
                ErrorCode.ERROR_CODE_NOT_LEADER, r.getPartitions(0).getError().getCode());
    }

    @Test
    void describeShowsMembersCommittedOffsetsAndLag() {
        Client a = new Client();
        a.heartbeat();
        commit(a.memberId, a.epoch, "t", 2, 60).join();
        GroupDescription d = describe();
        assertEquals(1, d.getMembersCount());
        assertEquals("127.0.0.1", d.getMembers(0).getClientHost());
        assertEquals(6, d.getPartitionsCount());
        PartitionLag p2 = d.getPartitions(2);
        assertEquals(a.memberId, p2.getMemberId());
        assertEquals(60, p2.getCommittedOffset());
        assertEquals(100, p2.getHighWatermark());
        assertEquals(40, p2.getLag());
        assertFalse(d.getPartitions(0).hasLag(), "no committed offset, no lag");

        List<GroupCoordinator.GroupLagSample> samples = coordinator.lagSamples();
        assertEquals(1, samples.size());
        assertEquals(1, samples.get(0).memberCount());
        assertEquals(
                List.of(new GroupCoordinator.PartitionLagSample("t", 2, 40)),
                samples.get(0).partitions());

        assertEquals(
                ErrorCode.ERROR_CODE_UNKNOWN_GROUP,
                code(() -> coordinator.describe(
                        DescribeGroupRequest.newBuilder().setGroupId("other").build())));
    }

    @Test
    void deleteIsRefusedWhileActiveAndRemovesTheOffsets() {
        Client a = new Client();
        a.heartbeat();
        commit(a.memberId, a.epoch, "t", 0, 11).join();
        assertEquals(ErrorCode.ERROR_CODE_GROUP_NOT_EMPTY, code(() -> coordinator.delete(del(G))));
        a.leave();
        coordinator.delete(del(G)).join();
        assertTrue(store.fetch(G, List.of()).isEmpty());
        assertEquals(ErrorCode.ERROR_CODE_UNKNOWN_GROUP, code(() -> coordinator.delete(del(G))));
        assertEquals(0, coordinator.list(ListGroupsRequest.getDefaultInstance()).getGroupsCount());
    }

    @Test
    void emptyGroupsExpireAfterTheRetention() {
        Client a = new Client();
        a.heartbeat();
        commit(a.memberId, a.epoch, "t", 0, 11).join();
        clock.advance(config.offsetsRetentionMs());
        coordinator.expireGroups();
        assertFalse(store.fetch(G, List.of()).isEmpty(), "active groups never expire");
        a.leave();
        clock.advance(config.offsetsRetentionMs() - 1);
        coordinator.expireGroups();
        assertFalse(store.fetch(G, List.of()).isEmpty(), "retention counts from when the group became empty");
        clock.advance(1);
        coordinator.expireGroups();
        assertTrue(store.fetch(G, List.of()).isEmpty());
        assertTrue(coordinator.groupForTest(G).isEmpty());
    }

    @Test
    void listGroupsFiltersByState() {
        new Client().heartbeat();
        store.commit("idle", List.of(new OffsetCommitEntry("t", 0, 1, "")));
        var all = coordinator.list(ListGroupsRequest.getDefaultInstance()).getGroupsList();
        assertEquals(2, all.size());
        var stable = coordinator
                .list(ListGroupsRequest.newBuilder()
                        .addStates(GroupState.GROUP_STATE_EMPTY)
                        .build())
                .getGroupsList();
        assertEquals(1, stable.size());
        assertEquals("idle", stable.get(0).getGroupId());
    }

    /**
     * Random joins, leaves, crashes, topic growth and heartbeats in random order: no partition is ever owned by two
     * live consumers, a member only gives up partitions that leave its target, and the group always settles to a
     * balanced assignment of every partition.
     */
    @org.junit.jupiter.api.RepeatedTest(5)
    void randomizedMembershipChangesKeepOwnershipExclusive() {
        long seed = System.nanoTime();
        System.out.println("GroupCoordinatorTest.randomizedMembershipChangesKeepOwnershipExclusive seed=" + seed);
        Random rnd = new Random(seed);
        List<Client> clients = new ArrayList<>();
        int topics = 0;
        try {
            for (int step = 0; step < 400; step++) {
                int action = rnd.nextInt(10);
                List<Client> live = clients.stream().filter(c -> !c.crashed).toList();
                if (action == 0 && live.size() < 6) {
                    Client c = new Client();
                    c.regex = "t|r-.*";
                    if (rnd.nextInt(3) == 0) {
                        c.instanceId = "i" + rnd.nextInt(4);
                        // Only one live process per instance id in this simulation.
                        if (live.stream().anyMatch(o -> o.instanceId.equals(c.instanceId))) {
                            c.instanceId = "";
                        }
                    }
                    clients.add(c);
                    c.heartbeat();
                } else if (action == 1 && !live.isEmpty()) {
                    Client c = live.get(rnd.nextInt(live.size()));
                    c.leave();
                    c.crashed = true;
                } else if (action == 2 && !live.isEmpty()) {
                    live.get(rnd.nextInt(live.size())).crashed = true;
                    for (Client c : clients) {
                        if (!c.crashed) {
                            c.heartbeat();
                        }
                    }
                    clock.advance(config.sessionTimeoutMs());
                    for (Client c : clients) {
                        if (!c.crashed) {
                            c.heartbeat();
                        }
                    }
                    coordinator.expireMembers();
                } else if (action == 3 && topics < 3) {
                    backend.createTopic("r-" + topics++, 1 + rnd.nextInt(4), 3, Map.of())
                            .join();
                } else if (!live.isEmpty()) {
                    Client c = live.get(rnd.nextInt(live.size()));
                    Set<TopicPartitionKey> revoked = c.heartbeat();
                    Set<TopicPartitionKey> target = group().targetOf(c.memberId);
                    for (TopicPartitionKey tp : revoked) {
                        assertFalse(target.contains(tp), tp + " revoked from " + c.memberId + " but not moving");
                    }
                }
                assertDisjoint(clients);
                assertGroupHoldingsDisjoint();
            }
            List<Client> live = clients.stream().filter(c -> !c.crashed).toList();
            if (!live.isEmpty()) {
                settle(clients);
                Set<TopicPartitionKey> all = new HashSet<>();
                int min = Integer.MAX_VALUE;
                int max = 0;
                for (Client c : live) {
                    all.addAll(c.owned);
                    min = Math.min(min, c.owned.size());
                    max = Math.max(max, c.owned.size());
                }
                int expected = 6;
                for (int i = 0; i < topics; i++) {
                    expected += backend.metadata()
                            .current()
                            .topic("r-" + i)
                            .orElseThrow()
                            .partitionCount();
                }
                assertEquals(expected, all.size(), "every partition is consumed");
                assertTrue(max - min <= 1, "balanced");
            }
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    void assertGroupHoldingsDisjoint() {
        coordinator.groupForTest(G).ifPresent(g -> {
            synchronized (g) {
                Set<TopicPartitionKey> seen = new HashSet<>();
                for (Member m : g.members()) {
                    for (TopicPartitionKey tp : m.holdings()) {
                        assertTrue(seen.add(tp), tp + " held by two members");
                    }
                }
            }
        });
    }

    java.util.concurrent.CompletableFuture<CommitOffsetsResponse> commit(
            String memberId, int epoch, String topic, int partition, long offset) {
        return coordinator.commit(CommitOffsetsRequest.newBuilder()
                .setGroupId(G)
                .setMemberId(memberId)
                .setMemberEpoch(epoch)
                .addOffsets(oc(topic, partition, offset))
                .build());
    }

    static OffsetCommit oc(String topic, int partition, long offset) {
        return OffsetCommit.newBuilder()
                .setTopic(topic)
                .setPartition(partition)
                .setOffset(offset)
                .build();
    }

    static ResetOffsetsRequest.Builder resetTo() {
        return ResetOffsetsRequest.newBuilder().setGroupId(G).setTopic("t");
    }

    List<Long> newOffsets(ResetOffsetsRequest.Builder b, int... partitions) {
        for (int p : partitions) {
            b.addPartitions(p);
        }
        ResetOffsetsResponse r = coordinator.reset(b.setDryRun(true).build()).join();
        List<Long> out = new ArrayList<>();
        for (OffsetResetPlan p : r.getPartitionsList()) {
            assertFalse(p.hasError(), p.toString());
            out.add(p.getNewOffset());
        }
        return out;
    }

    static DeleteGroupRequest del(String g) {
        return DeleteGroupRequest.newBuilder().setGroupId(g).build();
    }
}
