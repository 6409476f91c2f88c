package io.sluice.cli;

import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.ConsumerBuilder;
import io.sluice.client.Header;
import io.sluice.client.PartitionInfo;
import io.sluice.client.RebalanceListener;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicPartition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice consume TOPIC}: prints records (text: the value; json: one object per line) from a start
 * position until {@code --max} records or {@code --timeout} of silence. With {@code --group G} it joins the group
 * instead: the coordinator assigns the partitions, each starts at the group's committed offset, and the offsets of
 * the records printed so far are committed every {@code --commit-interval}, before a partition is revoked and on
 * exit (including Ctrl-C): never an offset past the last record printed. With {@code --group}, {@code --timeout}
 * counts silence from the latest assignment, and the first one is awaited for at least 30 s. Not thread-safe (one command per
 * instance).
 */
@Command(name = "consume", description = "Print records of a topic.")
final class ConsumeCommand extends SluiceCli.Base {
    /** With --group and --timeout: how long to wait for a first assignment at least. */
    static final long JOIN_WAIT_NANOS = 30_000_000_000L;

    @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to read.")
    String topic;

    @Option(
            names = "--from",
            defaultValue = "earliest",
            paramLabel = "earliest|latest|OFFSET|TIME",
            description = "Where to start in each partition (default: ${DEFAULT-VALUE}); TIME is ISO-8601.")
    String from;

    @Option(names = "--partition", paramLabel = "P", description = "Read only partition P (default: all).")
    Integer partition;

    @Option(names = "--max", paramLabel = "N", description = "Stop after N records.")
    Long max;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            description = "Stop after this long without a record (e.g. 5s, 500ms, PT5S). Default: never.")
    String timeout;

    @Option(
            names = "--group",
            paramLabel = "G",
            description = "Consume as a member of group G: partitions come from the group, reading starts at its"
                    + " committed offsets and the offsets of printed records are committed.")
    String group;

    @Option(
            names = "--commit-interval",
            defaultValue = "1s",
            paramLabel = "DURATION",
            description = "With --group: how often printed offsets are committed (default: ${DEFAULT-VALUE}).")
    String commitInterval;

    /** Set when --max stopped printing in the middle of a poll's records (polling thread only). */
    private boolean stoppedShort;

    /** One record as a JSON line. */
    static String toJson(ConsumedRecord r) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header h : r.headers()) {
            headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
        }
        return "{\"partition\":" + r.partition() + ",\"offset\":" + r.offset() + ",\"timestamp\":" + r.timestamp()
                + ",\"key\":" + Json.string(r.keyAsString()) + ",\"value\":" + Json.string(r.valueAsString())
                + ",\"headers\":" + Json.stringMap(headers) + "}";
    }

    @Override
    public Integer call() {
        CliParsing.From start = CliParsing.from(from);
        Duration silence = timeout == null ? null : CliParsing.duration(timeout);
        if (max != null && max < 0) {
            throw new IllegalArgumentException("--max must be >= 0");
        }
        if (partition != null && partition < 0) {
            throw new IllegalArgumentException("--partition must be >= 0");
        }
        if (group != null) {
            return consumeAsGroup(start, silence);
        }
        try (SluiceClient client = client();
                Consumer consumer = client.newConsumer().create()) {
            List<TopicPartition> tps = new ArrayList<>();
            List<PartitionInfo> parts = client.admin().describeTopic(topic).partitions();
            for (PartitionInfo p : parts) {
                if (partition == null || p.partition() == partition) {
                    tps.add(new TopicPartition(topic, p.partition()));
                }
            }
            if (tps.isEmpty()) {
                throw new IllegalArgumentException(
                        "topic '" + topic + "' has " + parts.size() + " partitions; no partition " + partition);
            }
            consumer.assign(tps);
            if (start instanceof CliParsing.From.Latest) {
                consumer.seekToEnd(tps);
            } else if (start instanceof CliParsing.From.Offset o) {
                tps.forEach(tp -> consumer.seek(tp, o.offset()));
            } else if (start instanceof CliParsing.From.Time t) {
                tps.forEach(tp -> consumer.seekToTimestamp(tp, t.time()));
            } else {
                consumer.seekToBeginning(tps);
            }
            long count = 0;
            long lastRecord = System.nanoTime();
            while (max == null || count < max) {
                List<ConsumedRecord> records = consumer.poll(Duration.ofMillis(200));
                for (ConsumedRecord r : records) {
                    if (max != null && count >= max) {
                        break;
                    }
                    out().println(json() ? toJson(r) : r.valueAsString());
                    count++;
                }
                if (!records.isEmpty()) {
                    lastRecord = System.nanoTime();
                    out().flush();
                } else if (silence != null && System.nanoTime() - lastRecord >= silence.toNanos()) {
                    break;
                }
            }
        }
        out().flush();
        return 0;
    }

    private int consumeAsGroup(CliParsing.From start, Duration silence) {
        if (partition != null) {
            throw new IllegalArgumentException("--partition cannot be combined with --group: the group assigns the"
                    + " partitions (use 'sluice group reset' to move its offsets)");
        }
        if (!(start instanceof CliParsing.From.Earliest) && !(start instanceof CliParsing.From.Latest)) {
            throw new IllegalArgumentException("with --group, --from only says where partitions without a committed"
                    + " offset start (earliest or latest); to move the group use 'sluice group reset " + group
                    + " --topic " + topic + " --to ...'");
        }
        long commitEveryNanos = CliParsing.duration(commitInterval).toNanos();
        if (commitEveryNanos <= 0) {
            throw new IllegalArgumentException("--commit-interval must be positive");
        }
        Map<TopicPartition, Long> printed = new HashMap<>();
        Map<TopicPartition, Long> committed = new java.util.concurrent.ConcurrentHashMap<>();
        CountDownLatch finished = new CountDownLatch(1);
        try (SluiceClient client = client();
                Consumer consumer = client.newConsumer()
                        .groupId(group)
                        .autoCommit(false)
                        .autoOffsetReset(
                                start instanceof CliParsing.From.Latest
                                        ? ConsumerBuilder.OffsetReset.LATEST
                                        : ConsumerBuilder.OffsetReset.EARLIEST)
                        .create()) {
            Thread hook = new Thread(
                    () -> {
                        // Ctrl-C: let the polling thread commit what it printed and leave the group
                        consumer.wakeup();
                        try {
                            finished.await(15, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    "sluice-consume-shutdown");
            boolean hooked = addShutdownHook(hook);
            try {
                long[] lastRecord = {System.nanoTime()};
                boolean[] assigned = {false};
                consumer.subscribe(java.util.List.of(topic), new RebalanceListener() {
                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        // joining takes a moment: --timeout counts silence from when there is something to read
                        assigned[0] = true;
                        lastRecord[0] = System.nanoTime();
                    }

                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        Map<TopicPartition, Long> last = new HashMap<>();
                        for (TopicPartition tp : partitions) {
                            Long o = printed.remove(tp);
                            if (o != null) {
                                long next = toCommit(consumer, tp, o);
                                Long done = committed.get(tp);
                                if (done == null || next > done) {
                                    last.put(tp, next);
                                }
                            }
                            committed.remove(tp);
                        }
                        if (!last.isEmpty()) {
                            consumer.commitSync(last);
                        }
                    }

                    @Override
                    public void onPartitionsLost(Collection<TopicPartition> partitions) {
                        partitions.forEach(tp -> {
                            printed.remove(tp);
                            committed.remove(tp);
                        });
                    }
                });
                long count = 0;
                stoppedShort = false;
                long nextCommit = System.nanoTime() + commitEveryNanos;
                try {
                    while (max == null || count < max) {
                        List<ConsumedRecord> records = consumer.poll(Duration.ofMillis(200));
                        for (ConsumedRecord r : records) {
                            if (max != null && count >= max) {
                                // the consumer's position is past records that were not printed
                                stoppedShort = true;
                                break;
                            }
                            out().println(json() ? toJson(r) : r.valueAsString());
                            printed.put(r.topicPartition(), r.offset() + 1);
                            count++;
                        }
                        long now = System.nanoTime();
                        long allowed = silence == null
                                ? Long.MAX_VALUE
                                : assigned[0] ? silence.toNanos() : Math.max(silence.toNanos(), JOIN_WAIT_NANOS);
                        if (!records.isEmpty()) {
                            lastRecord[0] = now;
                            out().flush();
                        } else if (now - lastRecord[0] >= allowed) {
                            break;
                        }
                        if (now >= nextCommit) {
                            nextCommit = now + commitEveryNanos;
                            commitPrinted(consumer, printed, committed, false);
                        }
                    }
                } catch (Consumer.WakeupException e) {
                    // Ctrl-C: commit and leave below
                }
                out().flush();
                commitPrinted(consumer, printed, committed, true);
            } finally {
                if (hooked) {
                    removeShutdownHook(hook);
                }
            }
        } finally {
            finished.countDown();
        }
        return 0;
    }

    /** Commits the offsets after the records printed since the last commit (sync at exit, async otherwise). */
    private void commitPrinted(
            Consumer consumer, Map<TopicPartition, Long> printed, Map<TopicPartition, Long> committed, boolean sync) {
        Map<TopicPartition, Long> todo = new HashMap<>();
        printed.forEach((tp, o) -> {
            long next = toCommit(consumer, tp, o);
            Long done = committed.get(tp);
            if (done == null || next > done) {
                todo.put(tp, next);
            }
        });
        if (todo.isEmpty()) {
            return;
        }
        if (sync) {
            consumer.commitSync(todo);
            committed.putAll(todo);
            return;
        }
        consumer.commitAsync(todo).whenComplete((v, t) -> {
            if (t == null) {
                committed.putAll(todo);
            }
            // on failure the next interval (or the final synchronous commit) sends the offsets again
        });
    }

    /**
     * The offset to commit for a partition whose printed records end before {@code printedEnd}: when everything taken
     * from the consumer was printed, its position, which also covers the control batches it skipped after the last
     * record (a new leader's marker), so that a fully read group shows lag 0.
     */
    private long toCommit(Consumer consumer, TopicPartition tp, long printedEnd) {
        if (stoppedShort) {
            return printedEnd;
        }
        try {
            return consumer.assignment().contains(tp) ? Math.max(printedEnd, consumer.position(tp)) : printedEnd;
        } catch (IllegalStateException closing) {
            // revoked while the consumer closes (after the final commit): the printed offset is what is known
            return printedEnd;
        }
    }

    private static boolean addShutdownHook(Thread hook) {
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            return true;
        } catch (IllegalStateException | SecurityException e) {
            return false;
        }
    }

    private static void removeShutdownHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException | SecurityException e) {
            // shutting down: the hook is running
        }
    }
}
