package io.sluice.broker.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sluice.client.Acks;
import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.ConsumerBuilder;
import io.sluice.client.NewTopic;
import io.sluice.client.OffsetSpec;
import io.sluice.client.PartitionInfo;
import io.sluice.client.Producer;
import io.sluice.client.Record;
import io.sluice.client.RecordPosition;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicDescription;
import io.sluice.client.TopicPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill the leader under load, on three real broker processes: a 6-partition, RF=3 topic receives 100,000 keyed
 * records with acks=quorum from the SDK while brokers are SIGKILLed and restarted (see {@link #runFaults}: the leader
 * of partition 0 is killed at 25% and restarted later; at 50% the next leader is killed while its only live follower
 * is frozen, so that it dies holding appends it could not commit); then the SDK consumer reads every partition from
 * the start while the leader of a partition being read is SIGKILLed too. Checked: every acknowledged record is
 * consumed exactly once, at its acknowledged (partition, offset), offsets strictly increase per partition, and
 * nothing unknown is read. The whole test is bounded by deadlines and a timeout.
 *
 * <p>Two producers, on separate clients, write alternate records. The <i>strict</i> one has SDK retries off: a failed
 * record is re-sent by the test as a new attempt with its own value, so every value is written by at most one request
 * and "exactly once" is checked per value with no exception (a failed attempt may be in the log at most once). The
 * <i>retrying</i> one uses the SDK's default retries, which the SDK documents as not idempotent: a batch whose outcome
 * was lost with the leader may be in the log twice. For its records the acknowledged copy must be at the acknowledged
 * offset and any other copy must sit below it in the same partition (an earlier attempt); such copies are counted and
 * printed. Every record of both producers must end up acknowledged.
 *
 * <p>{@code -Dsluice.it.records=N} changes the record count.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class KillLeaderIT {
    static final String TOPIC = "orders";
    static final int PARTITIONS = 6;
    static final int RECORDS = Integer.getInteger("sluice.it.records", 100_000);
    static final int MAX_ATTEMPTS = 200;
    static final Duration PRODUCE_DEADLINE = Duration.ofSeconds(150);
    static final Duration CONSUME_DEADLINE = Duration.ofSeconds(60);
    static final String PAD = "x".repeat(40);
    /** Records awaiting an outcome at most: production keeps going through the failover instead of being queued
     * entirely before it. */
    static final int WINDOW = 4000;
    /** How long the victim's peers are frozen before it is killed. */
    static final Duration FREEZE = Duration.ofMillis(1500);

    @TempDir
    static Path data;

    static ProcessCluster cluster;

    @RegisterExtension
    static final TestWatcher LOGS = ProcessCluster.dumpLogsOnFailure(() -> cluster);

    static final long T0 = System.nanoTime();

    static void log(String s) {
        System.out.printf("[KillLeaderIT %6.1fs] %s%n", (System.nanoTime() - T0) / 1e9, s);
    }

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ProcessCluster.start("kill-leader", 3, data, Map.of(), Duration.ofSeconds(90));
        log("3 brokers ready: " + cluster.bootstrap());
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** One write of a strict record: its value names the attempt, so every attempt is a distinct value. */
    record Attempt(int id, int attempt, long dueNanos) implements Delayed {
        String value() {
            return "s" + id + "." + attempt + "." + PAD;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(dueNanos, ((Attempt) o).dueNanos);
        }
    }

    static String key(int id) {
        return "k" + id;
    }

    static String retryingValue(int id) {
        return "r" + id + "." + PAD;
    }

    @Test
    void everyAcknowledgedRecordIsConsumedOnceAtItsOffset() throws Exception {
        Map<String, RecordPosition> acked = new ConcurrentHashMap<>();
        Map<String, Throwable> strictFailed = new ConcurrentHashMap<>();
        Map<String, Throwable> retryingFailed = new ConcurrentHashMap<>();
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger strictAcked = new AtomicInteger();
        AtomicInteger retryingDone = new AtomicInteger();
        DelayQueue<Attempt> resend = new DelayQueue<>();
        Semaphore window = new Semaphore(WINDOW);
        int strictCount = (RECORDS + 1) / 2;
        int retryingCount = RECORDS / 2;

        try (SluiceClient admin = client();
                SluiceClient strictClient = client();
                SluiceClient retryingClient = client()) {
            admin.admin().createTopic(new NewTopic(TOPIC, PARTITIONS, 3, Map.of()));
            Map<Integer, Integer> leaders = awaitLeaders(admin);
            log("topic " + TOPIC + " leaders " + leaders);
            AtomicInteger progress = new AtomicInteger(); // records acknowledged (strict) or done (retrying)
            AtomicReference<Throwable> chaosFailure = new AtomicReference<>();
            List<String> faults = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread chaos = new Thread(
                    () -> {
                        try {
                            runFaults(admin, progress, completed, faults);
                        } catch (Throwable t) {
                            chaosFailure.set(t);
                        }
                    },
                    "kill-leader-chaos");
            chaos.setDaemon(true);
            chaos.start();

            long produceStart = System.nanoTime();
            try (Producer strict = strictClient
                            .newProducer()
                            .acks(Acks.QUORUM)
                            .retries(0)
                            .deliveryTimeout(Duration.ofSeconds(30))
                            .requestTimeout(Duration.ofSeconds(10))
                            .create();
                    Producer retrying = retryingClient
                            .newProducer()
                            .acks(Acks.QUORUM)
                            .deliveryTimeout(Duration.ofSeconds(90))
                            .requestTimeout(Duration.ofSeconds(10))
                            .create()) {
                java.util.function.Consumer<Attempt> sendStrict =
                        a -> strict.sendAsync(Record.of(TOPIC, key(a.id()), a.value()))
                                .whenComplete((pos, e) -> {
                                    window.release();
                                    if (e == null) {
                                        acked.put(a.value(), pos);
                                        strictAcked.incrementAndGet();
                                        progress.incrementAndGet();
                                    } else {
                                        strictFailed.put(a.value(), e);
                                        // Back off up to 1 s: while no broker is up every attempt fails at once.
                                        long backoffMs = Math.min(1000, 50L << Math.min(a.attempt(), 5));
                                        resend.add(new Attempt(
                                                a.id(),
                                                a.attempt() + 1,
                                                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs)));
                                    }
                                    completed.incrementAndGet();
                                });
                long deadline = produceStart + PRODUCE_DEADLINE.toNanos();
                for (int id = 0; id < RECORDS; id++) {
                    acquire(window, deadline, completed);
                    Attempt again;
                    while ((again = resend.poll()) != null) {
                        sendStrict.accept(checkAttempts(again, strictFailed));
                        acquire(window, deadline, completed);
                    }
                    if (id % 2 == 0) {
                        sendStrict.accept(new Attempt(id, 0, 0));
                    } else {
                        String v = retryingValue(id);
                        retrying.sendAsync(Record.of(TOPIC, key(id), v)).whenComplete((pos, e) -> {
                            window.release();
                            if (e == null) {
                                acked.put(v, pos);
                            } else {
                                retryingFailed.put(v, e);
                            }
                            retryingDone.incrementAndGet();
                            progress.incrementAndGet();
                            completed.incrementAndGet();
                        });
                    }
                }
                while (strictAcked.get() < strictCount || retryingDone.get() < retryingCount) {
                    if (System.nanoTime() > deadline) {
                        fail("production did not finish in " + PRODUCE_DEADLINE + ": strict acknowledged "
                                + strictAcked.get() + "/" + strictCount + ", retrying done " + retryingDone.get()
                                + "/" + retryingCount + ", strict attempts failed " + strictFailed.size()
                                + ", last strict failure: " + anyCause(strictFailed));
                    }
                    Attempt a = resend.poll(100, TimeUnit.MILLISECONDS);
                    if (a != null) {
                        acquire(window, deadline, completed);
                        sendStrict.accept(checkAttempts(a, strictFailed));
                    }
                }
            }
            double produceSeconds = (System.nanoTime() - produceStart) / 1e9;
            log(String.format(
                    "produced %d records in %.1f s (%.0f records/s); strict attempts failed and re-sent: %d",
                    RECORDS, produceSeconds, RECORDS / produceSeconds, strictFailed.size()));
            assertTrue(
                    retryingFailed.isEmpty(),
                    () -> retryingFailed.size() + " records of the retrying producer failed despite retries, e.g. "
                            + anyCause(retryingFailed));

            chaos.join(TimeUnit.SECONDS.toMillis(120));
            if (chaosFailure.get() != null) {
                throw new AssertionError("injecting a fault failed", chaosFailure.get());
            }
            assertFalse(chaos.isAlive(), "the fault schedule finished");
            assertEquals(4, faults.size(), "every fault was injected during production: " + faults);
            for (int b = 1; b <= cluster.size(); b++) {
                assertTrue(cluster.isAlive(b), "broker " + b + " runs again");
            }

            consumeAndVerify(admin, acked, strictFailed);
        }
    }

    private void consumeAndVerify(
            SluiceClient client, Map<String, RecordPosition> acked, Map<String, Throwable> strictFailed) {
        List<TopicPartition> tps = new ArrayList<>();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            TopicPartition tp = new TopicPartition(TOPIC, p);
            tps.add(tp);
            latest.put(tp, OffsetSpec.latest());
        }
        Map<TopicPartition, Long> end = client.admin().listOffsets(latest);
        long[] maxAcked = new long[PARTITIONS];
        java.util.Arrays.fill(maxAcked, -1);
        for (RecordPosition pos : acked.values()) {
            maxAcked[pos.partition()] = Math.max(maxAcked[pos.partition()], pos.offset());
        }
        for (TopicPartition tp : tps) {
            assertTrue(
                    end.get(tp) > maxAcked[tp.partition()],
                    tp + ": high watermark " + end.get(tp) + " is not above acknowledged offset "
                            + maxAcked[tp.partition()]);
        }
        log("high watermarks "
                + new TreeMap<>(end.entrySet().stream()
                        .collect(java.util.stream.Collectors.toMap(
                                e -> e.getKey().partition(), Map.Entry::getValue))));

        // Consume everything while the leader of a partition is killed half-way through.
        long consumeStart = System.nanoTime();
        List<ConsumedRecord> consumed = new ArrayList<>(RECORDS + 1000);
        long[] last = new long[PARTITIONS];
        java.util.Arrays.fill(last, -1);
        int killedDuringConsume = -1;
        // Small windows (2 x 16 KiB per partition), so that a partition is still being streamed when its leader dies.
        try (Consumer consumer = client.newConsumer()
                .offsetReset(ConsumerBuilder.OffsetReset.NONE)
                .credits(2)
                .maxBytesPerResponse(16 * 1024)
                .create()) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long deadline = consumeStart + CONSUME_DEADLINE.toNanos();
            while (true) {
                for (ConsumedRecord r : consumer.poll(Duration.ofMillis(200))) {
                    int p = r.partition();
                    if (r.offset() <= last[p]) {
                        fail("partition " + p + ": offset " + r.offset() + " consumed after offset " + last[p]
                                + " (repeated or out of order)");
                    }
                    last[p] = r.offset();
                    consumed.add(r);
                }
                if (killedDuringConsume < 0 && consumed.size() >= RECORDS / 2) {
                    killedDuringConsume = killLeaderOfUnfinishedPartition(client, consumer, tps, end);
                }
                boolean done = true;
                for (TopicPartition tp : tps) {
                    if (last[tp.partition()] + 1 < end.get(tp) && consumer.position(tp) < end.get(tp)) {
                        done = false;
                        break;
                    }
                }
                if (done) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    fail("consumption did not reach the high watermarks " + end + " in " + CONSUME_DEADLINE
                            + "; last offsets " + java.util.Arrays.toString(last) + ", " + consumed.size()
                            + " records");
                }
            }
        }
        double consumeSeconds = (System.nanoTime() - consumeStart) / 1e9;
        log(String.format(
                "consumed %d records in %.1f s (%.0f records/s)%s",
                consumed.size(),
                consumeSeconds,
                consumed.size() / consumeSeconds,
                killedDuringConsume > 0 ? "; SIGKILLed broker " + killedDuringConsume + " half-way" : ""));

        // Verify.
        Map<String, List<ConsumedRecord>> byValue = new HashMap<>();
        for (ConsumedRecord r : consumed) {
            byValue.computeIfAbsent(r.valueAsString(), v -> new ArrayList<>()).add(r);
        }
        int retryDuplicates = 0;
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, RecordPosition> e : acked.entrySet()) {
            String v = e.getKey();
            RecordPosition pos = e.getValue();
            List<ConsumedRecord> copies = byValue.getOrDefault(v, List.of());
            long atAcked = copies.stream()
                    .filter(c -> c.partition() == pos.partition() && c.offset() == pos.offset())
                    .count();
            if (atAcked != 1) {
                problems.add(shortName(v) + " acknowledged at " + pos.partition() + "/"
                        + pos.offset() + " but consumed there " + atAcked + " times; copies at "
                        + copies.stream()
                                .map(c -> c.partition() + "/" + c.offset())
                                .toList());
                continue;
            }
            ConsumedRecord c = copies.stream()
                    .filter(x -> x.offset() == pos.offset())
                    .findFirst()
                    .orElseThrow();
            int id = Integer.parseInt(v.substring(1, v.indexOf('.')));
            if (!key(id).equals(c.keyAsString())) {
                problems.add(v + " has key " + c.keyAsString() + ", expected " + key(id));
            }
            if (copies.size() > 1) {
                if (v.startsWith("s")) {
                    problems.add("strict record " + shortName(v) + " consumed " + copies.size() + " times: "
                            + copies.stream()
                                    .map(x -> x.partition() + "/" + x.offset())
                                    .toList());
                } else {
                    for (ConsumedRecord x : copies) {
                        if (x.offset() != pos.offset()
                                && (x.partition() != pos.partition() || x.offset() > pos.offset())) {
                            problems.add("retried record " + shortName(v) + " has a copy at "
                                    + x.partition() + "/" + x.offset() + ", not below its acknowledged "
                                    + pos.partition() + "/" + pos.offset());
                        }
                    }
                    retryDuplicates += copies.size() - 1;
                }
            }
        }
        int unackedInLog = 0;
        for (String v : strictFailed.keySet()) {
            int n = byValue.getOrDefault(v, List.of()).size();
            if (n > 1) {
                problems.add("unacknowledged attempt " + shortName(v) + " consumed " + n + " times");
            }
            unackedInLog += n;
        }
        for (String v : byValue.keySet()) {
            if (!acked.containsKey(v) && !strictFailed.containsKey(v)) {
                problems.add("consumed a record that was never sent: " + v);
            }
        }
        log(String.format(
                "verified: %d acknowledged values, %d unacknowledged strict attempts (%d of them in the log),"
                        + " %d duplicate copies from SDK retries (not idempotent, documented)",
                acked.size(), strictFailed.size(), unackedInLog, retryDuplicates));
        if (!problems.isEmpty()) {
            fail(problems.size() + " violations, first ones:\n  "
                    + String.join("\n  ", problems.subList(0, Math.min(20, problems.size()))));
        }
        assertEquals(RECORDS, acked.size(), "every record acknowledged once (strict attempts + retrying records)");
        assertEquals(List.of(), cluster.internalErrors(), "no broker failed a request with INTERNAL (a bug)");
    }

    /** SIGKILLs the leader of a partition the consumer has not finished; returns its broker id. */
    private int killLeaderOfUnfinishedPartition(
            SluiceClient client, Consumer consumer, List<TopicPartition> tps, Map<TopicPartition, Long> end) {
        TopicDescription d = client.admin().describeTopic(TOPIC);
        // The partition with the most left to read, among those already being read.
        TopicPartition pick = null;
        long mostLeft = 1000;
        for (TopicPartition tp : tps) {
            PartitionInfo pi = d.partitions().get(tp.partition());
            long position = consumer.position(tp);
            long left = end.get(tp) - position;
            if (position > 0
                    && left > mostLeft
                    && pi.leaderId().isPresent()
                    && cluster.isAlive(pi.leaderId().getAsInt())) {
                pick = tp;
                mostLeft = left;
            }
        }
        if (pick == null) {
            log("no partition in the middle of being read; no leader killed while consuming");
            return 0;
        }
        int leader = d.partitions().get(pick.partition()).leaderId().getAsInt();
        cluster.kill(leader);
        log("SIGKILLed broker " + leader + " (leader of " + pick + ") at consumer position " + consumer.position(pick)
                + " of " + end.get(pick));
        return leader;
    }

    static SluiceClient client() {
        return SluiceClient.builder()
                .bootstrap(cluster.bootstrap())
                .requestTimeout(Duration.ofSeconds(10))
                .build();
    }

    /** Waits until every partition names a live leader; returns partition → leader. */
    static Map<Integer, Integer> awaitLeaders(SluiceClient client) {
        Map<Integer, Integer> leaders = new TreeMap<>();
        Waits.waitFor(
                () -> {
                    leaders.clear();
                    List<PartitionInfo> ps;
                    try {
                        ps = client.admin().describeTopic(TOPIC).partitions();
                    } catch (RuntimeException e) {
                        return false; // the broker asked may just have been killed
                    }
                    // Term 0 marks a guess (the preferred replica, from a broker without a local replica).
                    for (PartitionInfo p : ps) {
                        if (p.leaderId().isPresent()
                                && p.leaderTerm() > 0
                                && cluster.isAlive(p.leaderId().getAsInt())) {
                            leaders.put(p.partition(), p.leaderId().getAsInt());
                        }
                    }
                    return leaders.size() == PARTITIONS;
                },
                Duration.ofSeconds(60),
                () -> "a leader for every partition of " + TOPIC + " (have " + leaders + ")");
        return leaders;
    }

    /**
     * The faults, each when a share of the records is done (so all happen while records are in flight):
     *
     * <ol>
     *   <li>25%: SIGKILL the leader L1 of partition 0; the other two brokers carry on.
     *   <li>50%: with L1 still down, freeze (SIGSTOP) the follower F of the current partition-0 leader L2, so that L2
     *       holds appends it cannot commit; SIGKILL L2, then F while frozen (dropping whatever L2 had sent it that it
     *       never read). Restart L1 and F: they have every committed entry between them and elect leaders. A broker that
     *       acknowledged before commit has now lost acknowledged records.
     *   <li>later (80%, or when production ends): restart L2, whose uncommitted tail is truncated.
     * </ol>
     */
    private static void runFaults(
            SluiceClient admin, AtomicInteger progress, AtomicInteger completed, List<String> faults) throws Exception {
        awaitProgress(progress, RECORDS / 4);
        int l1 = awaitLeaders(admin).get(0);
        cluster.kill(l1);
        faults.add("kill " + l1);
        log("SIGKILLed broker " + l1 + ", the leader of partition 0, at " + progress.get() + " records done");

        awaitProgress(progress, RECORDS / 2);
        int l2 = awaitLeaders(admin).get(0);
        int f = -1;
        for (int b = 1; b <= cluster.size(); b++) {
            if (b != l1 && b != l2) {
                f = b;
            }
        }
        int before = completed.get();
        cluster.freeze(f);
        try {
            holdFault(FREEZE);
            cluster.kill(l2);
        } finally {
            cluster.kill(f);
        }
        faults.add("freeze " + f + ", kill " + l2 + " and " + f);
        log("froze broker " + f + " for " + FREEZE.toMillis() + " ms (" + (completed.get() - before)
                + " outcomes meanwhile), then SIGKILLed broker " + l2 + " (leader of partition 0) and broker " + f
                + " at " + progress.get() + " records done; restarting brokers " + l1 + " and " + f);
        cluster.restartAll(Duration.ofSeconds(90), l1, f);
        faults.add("restart " + l1 + " and " + f);
        log("brokers " + l1 + " and " + f + " are ready again at " + progress.get() + " records done");

        awaitProgress(progress, RECORDS * 4 / 5);
        cluster.restart(l2, Duration.ofSeconds(90));
        faults.add("restart " + l2);
        log("broker " + l2 + " is ready again at " + progress.get() + " records done");
    }

    static void awaitProgress(AtomicInteger progress, int records) {
        Waits.waitFor(
                () -> progress.get() >= records,
                PRODUCE_DEADLINE,
                () -> records + " records acknowledged (" + progress.get() + " so far)");
    }

    /**
     * Keeps an injected fault in place for a fixed time. Not a wait for a condition: the fault's duration is the
     * point (long enough for the frozen brokers' peers to accept appends, shorter than a session timeout).
     */
    static void holdFault(Duration d) {
        Waits.pause(d);
    }

    static Attempt checkAttempts(Attempt a, Map<String, Throwable> failed) {
        if (a.attempt() >= MAX_ATTEMPTS) {
            fail("record " + a.id() + " failed " + MAX_ATTEMPTS + " times; last failure: "
                    + failed.get(new Attempt(a.id(), a.attempt() - 1, 0).value()));
        }
        return a;
    }

    static void acquire(Semaphore window, long deadlineNanos, AtomicInteger completed) throws InterruptedException {
        if (!window.tryAcquire(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            fail("production stalled: " + WINDOW + " records without an outcome until the deadline (" + completed.get()
                    + " outcomes so far)");
        }
    }

    /** A value without its padding: s{id}.{attempt} or r{id}. */
    static String shortName(String value) {
        return value.substring(0, value.lastIndexOf('.'));
    }

    static String anyCause(Map<String, Throwable> failures) {
        return failures.values().stream()
                .findAny()
                .map(t -> t instanceof java.util.concurrent.CompletionException && t.getCause() != null
                        ? t.getCause()
                        : t)
                .map(Throwable::toString)
                .orElse("none");
    }
}
