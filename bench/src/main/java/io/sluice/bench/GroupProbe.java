package io.sluice.bench;

import io.sluice.client.Admin;
import io.sluice.client.Consumer;
import io.sluice.client.GroupDescription;
import io.sluice.client.NewTopic;
import io.sluice.client.Producer;
import io.sluice.client.RebalanceListener;
import io.sluice.client.Record;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Consumer-group figures against a running cluster (bench/group-bench.sh; docs/benchmarks.md "Consumer groups"):
 *
 * <ol>
 *   <li>Commit latency: one member commits explicit offsets {@code commits} times with {@code commitSync}; p50/p99.
 *   <li>Join: two members share a 6-partition topic while a producer writes to every partition; a third joins. Time
 *       until the group is stable with three members of two partitions each, and the longest pause of consumption on
 *       the partitions that did not move (the goal: they never stop).
 *   <li>Death: a member that is a separate process ({@code bin/sluice consume --group}) is killed with SIGKILL. Time
 *       until its partitions are consumed again, against the session timeout plus one heartbeat.
 * </ol>
 *
 * Run as a single-file program: {@code java -cp <consumer-client jars> GroupProbe.java BOOTSTRAP SLUICE_BIN}. Prints
 * {@code key=value} lines. Every wait is bounded. Not thread-safe; one run per process.
 */
public final class GroupProbe {
    private static final Duration WAIT = Duration.ofSeconds(120);

    public static void main(String[] args) throws Exception {
        String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:7070";
        String sluiceBin = args.length > 1 ? args[1] : "bin/sluice";
        int commits = Integer.getInteger("commits", 500);
        try (SluiceClient client = SluiceClient.builder()
                .bootstrap(bootstrap)
                .requestTimeout(Duration.ofSeconds(30))
                .build()) {
            Admin admin = client.admin();
            admin.createTopic(new NewTopic("gb", 6, 3, Map.of()));
            commitLatency(client, commits);
            membership(client, admin, bootstrap, sluiceBin);
        }
    }

    private static void commitLatency(SluiceClient client, int commits) {
        try (Consumer c =
                client.newConsumer().groupId("gb-commit").autoCommit(false).create()) {
            c.subscribe(List.of("gb"));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (c.assignment().size() < 6) {
                c.poll(Duration.ofMillis(200));
                check(deadline, "the commit member got no assignment");
            }
            long[] nanos = new long[commits];
            for (int i = 0; i < commits; i++) {
                long t = System.nanoTime();
                // Offset 0: the topic is still empty, and offsets beyond the log end are refused.
                c.commitSync(Map.of(new TopicPartition("gb", i % 6), 0L));
                nanos[i] = System.nanoTime() - t;
            }
            java.util.Arrays.sort(nanos);
            System.out.printf(
                    "commit_count=%d%ncommit_ms_p50=%.2f%ncommit_ms_p99=%.2f%ncommit_ms_max=%.2f%n",
                    commits,
                    nanos[commits / 2] / 1e6,
                    nanos[(int) Math.min(commits - 1, Math.ceil(commits * 0.99) - 1)] / 1e6,
                    nanos[commits - 1] / 1e6);
        }
    }

    /** A member polling on its own thread, recording when each partition last delivered a record. */
    private static final class Member implements AutoCloseable {
        final Consumer consumer;
        final Map<TopicPartition, Long> lastRecordNanos;
        final Set<TopicPartition> revoked = ConcurrentHashMap.newKeySet();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread;
        volatile Set<TopicPartition> assignment = Set.of();

        Member(SluiceClient client, String name, Map<TopicPartition, Long> lastRecordNanos) {
            this.lastRecordNanos = lastRecordNanos;
            this.consumer = client.newConsumer().groupId("gb-members").create();
            consumer.subscribe(List.of("gb"), new RebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    revoked.addAll(partitions);
                }
            });
            thread = new Thread(this::run, name);
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            while (running.get()) {
                try {
                    consumer.poll(Duration.ofMillis(100))
                            .forEach(r -> lastRecordNanos.put(
                                    new TopicPartition(r.topic(), r.partition()), System.nanoTime()));
                    assignment = Set.copyOf(consumer.assignment());
                } catch (Consumer.WakeupException e) {
                    return;
                } catch (RuntimeException e) {
                    if (running.get()) {
                        System.err.println(Thread.currentThread().getName() + ": " + e);
                    }
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            consumer.wakeup();
            thread.join(TimeUnit.SECONDS.toMillis(30));
            consumer.close();
        }
    }

    private static void membership(SluiceClient client, Admin admin, String bootstrap, String sluiceBin)
            throws Exception {
        AtomicBoolean producing = new AtomicBoolean(true);
        Map<TopicPartition, Long> last = new ConcurrentHashMap<>();
        Thread producer = new Thread(
                () -> {
                    try (Producer p = client.newProducer().linger(Duration.ZERO).create()) {
                        int i = 0;
                        while (producing.get()) {
                            // Keys spread over the partitions; ~300 records/s in all.
                            p.sendAsync(Record.of("gb", "k" + (i++ % 60), "v"));
                            Thread.sleep(3);
                        }
                        p.flush();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                "gb-producer");
        producer.setDaemon(true);
        producer.start();
        List<Member> members = new ArrayList<>();
        Process external = null;
        try {
            members.add(new Member(client, "m1", last));
            members.add(new Member(client, "m2", last));
            awaitStable(admin, 2, "two members");
            awaitFlowing(last, 6);

            // Baseline: the longest pause per partition over 3 s of steady consumption (the producer's pacing and this
            // machine's scheduling), to read the pause during the join against.
            Map<TopicPartition, Long> baseline = new ConcurrentHashMap<>();
            AtomicBoolean watchingBaseline = new AtomicBoolean(true);
            Thread baselineWatcher = gapWatcher(last, baseline, watchingBaseline);
            Thread.sleep(3000);
            watchingBaseline.set(false);
            baselineWatcher.join();
            long baselineMaxGapMs =
                    baseline.values().stream().mapToLong(Long::longValue).max().orElse(0);

            // A third member joins.
            members.forEach(m -> m.revoked.clear());
            Set<TopicPartition> before1 = members.get(0).assignment, before2 = members.get(1).assignment;
            Map<TopicPartition, Long> gaps = new ConcurrentHashMap<>();
            AtomicBoolean watching = new AtomicBoolean(true);
            Thread watcher = gapWatcher(last, gaps, watching);
            long t0 = System.nanoTime();
            members.add(new Member(client, "m3", last));
            awaitStable(admin, 3, "three members");
            double joinS = (System.nanoTime() - t0) / 1e9;
            awaitFlowing(last, 6);
            watching.set(false);
            watcher.join();
            Set<TopicPartition> moved = new HashSet<>(members.get(0).revoked);
            moved.addAll(members.get(1).revoked);
            long unaffectedMaxGapMs = 0;
            Set<TopicPartition> unaffected = new HashSet<>(before1);
            unaffected.addAll(before2);
            unaffected.removeAll(moved);
            for (TopicPartition tp : unaffected) {
                unaffectedMaxGapMs = Math.max(unaffectedMaxGapMs, gaps.getOrDefault(tp, 0L));
            }
            System.out.printf(
                    "join_stable_s=%.2f%njoin_moved_partitions=%d%njoin_unaffected_partitions=%d%n"
                            + "join_unaffected_max_gap_ms=%d%nsteady_max_gap_ms=%d%n",
                    joinS, moved.size(), unaffected.size(), unaffectedMaxGapMs, baselineMaxGapMs);

            // A fourth member in a separate process, then killed with SIGKILL.
            external = new ProcessBuilder(
                            sluiceBin,
                            "consume",
                            "gb",
                            "--group",
                            "gb-members",
                            "--timeout",
                            "300s",
                            "--bootstrap",
                            bootstrap)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            awaitStable(admin, 4, "four members (one a separate process)");
            GroupDescription d = admin.describeGroup("gb-members");
            Set<TopicPartition> inProcess = new HashSet<>();
            members.forEach(m -> inProcess.addAll(m.assignment));
            Set<TopicPartition> orphaned = new HashSet<>();
            d.members().forEach(m -> orphaned.addAll(m.assignment()));
            orphaned.removeAll(inProcess);
            awaitFlowing(last, 6 - orphaned.size());
            long killedAt = System.nanoTime();
            external.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            // Resumed = every orphaned partition delivered a record to a member of this process after the kill.
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!orphaned.stream().allMatch(tp -> last.getOrDefault(tp, 0L) > killedAt)) {
                check(deadline, "partitions of the killed member " + orphaned + " were not consumed again");
                Thread.sleep(20);
            }
            System.out.printf(
                    "death_orphaned_partitions=%d%ndeath_resumed_s=%.2f%n",
                    orphaned.size(), (System.nanoTime() - killedAt) / 1e9);
        } finally {
            if (external != null) {
                external.destroyForcibly();
            }
            producing.set(false);
            for (Member m : members) {
                m.close();
            }
            producer.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    /** Records, per partition, the longest time without a record while {@code watching}. */
    private static Thread gapWatcher(Map<TopicPartition, Long> last, Map<TopicPartition, Long> gaps, AtomicBoolean on) {
        Thread t = new Thread(
                () -> {
                    while (on.get()) {
                        long now = System.nanoTime();
                        last.forEach((tp, at) -> gaps.merge(tp, (now - at) / 1_000_000, Math::max));
                        try {
                            Thread.sleep(5);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                },
                "gb-gaps");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void awaitStable(Admin admin, int members, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            GroupDescription d;
            try {
                d = admin.describeGroup("gb-members");
            } catch (io.sluice.client.SluiceException e) { // not created yet: no member has joined
                check(deadline, "the group did not appear: " + e.getMessage());
                Thread.sleep(20);
                continue;
            }
            int assigned =
                    d.members().stream().mapToInt(m -> m.assignment().size()).sum();
            int min = d.members().stream()
                    .mapToInt(m -> m.assignment().size())
                    .min()
                    .orElse(0);
            int max = d.members().stream()
                    .mapToInt(m -> m.assignment().size())
                    .max()
                    .orElse(0);
            if (d.members().size() == members
                    && assigned == 6
                    && max - min <= 1
                    && d.state().name().equals("STABLE")) {
                return;
            }
            check(deadline, "the group did not settle with " + what + ": " + d);
            Thread.sleep(20);
        }
    }

    /** Waits until {@code n} partitions delivered a record in the last second. */
    private static void awaitFlowing(Map<TopicPartition, Long> last, int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (last.values().stream()
                        .filter(t -> System.nanoTime() - t < 1_000_000_000L)
                        .count()
                < n) {
            check(deadline, "records did not flow on " + n + " partitions");
            Thread.sleep(20);
        }
    }

    private static void check(long deadline, String message) {
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException(message);
        }
    }
}
