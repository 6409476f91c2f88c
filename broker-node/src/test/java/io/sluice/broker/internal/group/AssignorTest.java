package io.sluice.broker.internal.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The assignors: coverage, balance, determinism, subscription differences, and stickiness of the default one. */
class AssignorTest {

    static Stream<Assignor> assignors() {
        return Stream.of(new UniformAssignor(), new RangeAssignor(), new RoundRobinAssignor());
    }

    static Assignor.MemberSpec member(String id, String... topics) {
        return new Assignor.MemberSpec(id, Optional.empty(), Set.of(topics));
    }

    static SortedMap<String, Integer> counts(Object... topicAndCount) {
        SortedMap<String, Integer> m = new TreeMap<>();
        for (int i = 0; i < topicAndCount.length; i += 2) {
            m.put((String) topicAndCount[i], (Integer) topicAndCount[i + 1]);
        }
        return m;
    }

    /** Every subscribed partition assigned exactly once, to a member subscribed to its topic. */
    static void checkValid(Assignor.Spec spec, Map<String, Set<TopicPartitionKey>> a) {
        assertEquals(spec.members().size(), a.size(), "one entry per member");
        Set<TopicPartitionKey> seen = new HashSet<>();
        Map<String, Assignor.MemberSpec> byId = new HashMap<>();
        spec.members().forEach(m -> byId.put(m.memberId(), m));
        for (Map.Entry<String, Set<TopicPartitionKey>> e : a.entrySet()) {
            for (TopicPartitionKey tp : e.getValue()) {
                assertTrue(seen.add(tp), tp + " assigned twice");
                assertTrue(byId.get(e.getKey()).topics().contains(tp.topic()), e.getKey() + " not subscribed to " + tp);
            }
        }
        assertEquals(new HashSet<>(spec.subscribedPartitions()), seen, "every subscribed partition assigned");
    }

    static int spread(Map<String, Set<TopicPartitionKey>> a) {
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (Set<TopicPartitionKey> s : a.values()) {
            min = Math.min(min, s.size());
            max = Math.max(max, s.size());
        }
        return max - min;
    }

    @ParameterizedTest
    @MethodSource("assignors")
    void sameSubscriptionsAreBalancedWithinOne(Assignor assignor) {
        Assignor.Spec spec = new Assignor.Spec(
                List.of(member("a", "t"), member("b", "t"), member("c", "t")), counts("t", 7), Map.of());
        Map<String, Set<TopicPartitionKey>> a = assignor.assign(spec);
        checkValid(spec, a);
        assertTrue(spread(a) <= 1, assignor.name() + " " + a);
    }

    @ParameterizedTest
    @MethodSource("assignors")
    void differentSubscriptionsOnlyGetTheirTopics(Assignor assignor) {
        Assignor.Spec spec = new Assignor.Spec(
                List.of(member("a", "t1"), member("b", "t1", "t2"), member("c", "t3")),
                counts("t1", 4, "t2", 3, "t3", 2, "unsubscribed", 5),
                Map.of());
        Map<String, Set<TopicPartitionKey>> a = assignor.assign(spec);
        checkValid(spec, a);
        assertTrue(a.get("b").stream().filter(tp -> tp.topic().equals("t2")).count() == 3, "only b takes t2");
        assertEquals(2, a.get("c").size(), "c takes all of t3 and nothing else");
    }

    @ParameterizedTest
    @MethodSource("assignors")
    void deterministicWhateverTheInputOrder(Assignor assignor) {
        List<Assignor.MemberSpec> ms = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ms.add(i % 2 == 0 ? member("m" + i, "x", "y") : member("m" + i, "x"));
        }
        Assignor.Spec one = new Assignor.Spec(ms, counts("x", 11, "y", 6), Map.of());
        List<Assignor.MemberSpec> shuffled = new ArrayList<>(ms);
        Collections.reverse(shuffled);
        Assignor.Spec two = new Assignor.Spec(shuffled, counts("y", 6, "x", 11), Map.of());
        assertEquals(assignor.assign(one), assignor.assign(two));
    }

    @Test
    void rangeGivesContiguousRanges() {
        Assignor.Spec spec = new Assignor.Spec(List.of(member("a", "t"), member("b", "t")), counts("t", 5), Map.of());
        Map<String, Set<TopicPartitionKey>> a = new RangeAssignor().assign(spec);
        assertEquals(Set.of(tp("t", 0), tp("t", 1), tp("t", 2)), a.get("a"));
        assertEquals(Set.of(tp("t", 3), tp("t", 4)), a.get("b"));
    }

    @Test
    void rangeOrdersStaticMembersByInstanceId() {
        // A restarted static member gets a new member id ("zz" < "aa" would flip the order) but keeps its range.
        Assignor.Spec spec = new Assignor.Spec(
                List.of(
                        new Assignor.MemberSpec("zz", Optional.of("host-1"), Set.of("t")),
                        new Assignor.MemberSpec("aa", Optional.of("host-2"), Set.of("t"))),
                counts("t", 4),
                Map.of());
        Map<String, Set<TopicPartitionKey>> a = new RangeAssignor().assign(spec);
        assertEquals(Set.of(tp("t", 0), tp("t", 1)), a.get("zz"));
    }

    @Test
    void uniformMovesOnlyWhatBalanceNeedsWhenAMemberJoins() {
        UniformAssignor u = new UniformAssignor();
        Assignor.Spec two = new Assignor.Spec(List.of(member("a", "t"), member("b", "t")), counts("t", 6), Map.of());
        Map<String, Set<TopicPartitionKey>> before = u.assign(two);
        Assignor.Spec three = new Assignor.Spec(
                List.of(member("a", "t"), member("b", "t"), member("c", "t")), counts("t", 6), before);
        Map<String, Set<TopicPartitionKey>> after = u.assign(three);
        checkValid(three, after);
        assertEquals(0, spread(after));
        assertTrue(before.get("a").containsAll(after.get("a")), "a only loses partitions");
        assertTrue(before.get("b").containsAll(after.get("b")), "b only loses partitions");
        assertEquals(2, after.get("c").size());
    }

    @Test
    void uniformKeepsSurvivorsPartitionsWhenAMemberLeaves() {
        UniformAssignor u = new UniformAssignor();
        Assignor.Spec three = new Assignor.Spec(
                List.of(member("a", "t"), member("b", "t"), member("c", "t")), counts("t", 9), Map.of());
        Map<String, Set<TopicPartitionKey>> before = u.assign(three);
        Assignor.Spec two = new Assignor.Spec(List.of(member("a", "t"), member("c", "t")), counts("t", 9), before);
        Map<String, Set<TopicPartitionKey>> after = u.assign(two);
        checkValid(two, after);
        assertTrue(after.get("a").containsAll(before.get("a")));
        assertTrue(after.get("c").containsAll(before.get("c")));
        assertTrue(spread(after) <= 1);
    }

    @Test
    void uniformIsStickyAndBalancedUnderRandomChanges() {
        long seed = System.nanoTime();
        System.out.println("AssignorTest.uniformIsStickyAndBalancedUnderRandomChanges seed=" + seed);
        Random rnd = new Random(seed);
        UniformAssignor u = new UniformAssignor();
        Map<String, Set<TopicPartitionKey>> prev = Map.of();
        List<String> ids = new ArrayList<>(List.of("m0"));
        int next = 1;
        for (int round = 0; round < 200; round++) {
            if (rnd.nextBoolean() && ids.size() < 8) {
                ids.add("m" + next++);
            } else if (ids.size() > 1) {
                ids.remove(rnd.nextInt(ids.size()));
            }
            List<Assignor.MemberSpec> ms =
                    ids.stream().map(id -> member(id, "t", "u")).toList();
            Assignor.Spec spec = new Assignor.Spec(ms, counts("t", 10, "u", 3), prev);
            Map<String, Set<TopicPartitionKey>> a = u.assign(spec);
            checkValid(spec, a);
            assertTrue(spread(a) <= 1, "seed " + seed + ": unbalanced " + a);
            // Minimal movement: a surviving member never loses more than its excess over the new ceiling.
            int ceil = (13 + ids.size() - 1) / ids.size();
            for (String id : ids) {
                Set<TopicPartitionKey> had = prev.getOrDefault(id, Set.of());
                Set<TopicPartitionKey> kept = new HashSet<>(had);
                kept.retainAll(a.get(id));
                assertTrue(
                        kept.size() >= Math.min(had.size(), ceil - 1),
                        "seed " + seed + ": " + id + " kept " + kept.size() + " of " + had.size());
            }
            prev = a;
        }
    }

    @Test
    void namesAndAliases() {
        assertEquals(UniformAssignor.NAME, Assignors.byName("").orElseThrow().name());
        assertEquals(
                UniformAssignor.NAME, Assignors.byName("Sticky").orElseThrow().name());
        assertEquals(
                RoundRobinAssignor.NAME,
                Assignors.byName("roundrobin").orElseThrow().name());
        assertEquals(RangeAssignor.NAME, Assignors.byName("range").orElseThrow().name());
        assertTrue(Assignors.byName("cooperative").isEmpty());
    }

    static TopicPartitionKey tp(String t, int p) {
        return new TopicPartitionKey(t, p);
    }
}
