package io.sluice.cli;

import io.sluice.client.Compression;
import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.ConsumerBuilder;
import io.sluice.client.PartitionInfo;
import io.sluice.client.Producer;
import io.sluice.client.ProducerBuilder;
import io.sluice.client.Record;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicPartition;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice perf produce|consume|latency}: throughput and latency tools in the manner of Kafka's
 * {@code kafka-producer-perf-test}, {@code kafka-consumer-perf-test} and {@code EndToEndLatency}. Each prints a
 * progress line every few seconds to stderr and a summary to stdout. Not thread-safe (one command per instance).
 */
@Command(
        name = "perf",
        description = "Performance tools.",
        subcommands = {PerfCommands.Produce.class, PerfCommands.Consume.class, PerfCommands.Latency.class})
final class PerfCommands {
    static final long PROGRESS_NANOS = 5_000_000_000L;

    /** Options shared by the perf tools. */
    abstract static class PerfBase extends SluiceCli.Base {
        @Option(names = "--topic", required = true, description = "Topic to use (must exist).")
        String topic;

        @Option(names = "--records", required = true, description = "Number of records.")
        long records;

        @Option(names = "--record-size", defaultValue = "100", description = "Value size in bytes (default 100).")
        int recordSize;

        @Option(names = "--acks", defaultValue = "quorum", description = "quorum or leader (default quorum).")
        ProduceCommand.AcksOption acks;

        @Option(names = "--batch-size", defaultValue = "65536", description = "Producer batch size in bytes.")
        int batchSize;

        @Option(names = "--linger", defaultValue = "5ms", description = "Producer linger (default 5ms).")
        String linger;

        @Option(names = "--compression", defaultValue = "NONE", description = "NONE, LZ4 or ZSTD.")
        Compression compression;

        @Option(
                names = "--max-in-flight",
                description = "Produce requests awaiting an answer per broker (default: the producer's, 10).")
        Integer maxInFlight;

        void validate() {
            if (records < 1 || recordSize < 0) {
                throw new IllegalArgumentException("--records must be >= 1 and --record-size >= 0");
            }
            if (maxInFlight != null && maxInFlight < 1) {
                throw new IllegalArgumentException("--max-in-flight must be >= 1");
            }
        }

        Producer producer(SluiceClient client) {
            ProducerBuilder b = client.newProducer()
                    .acks(acks.toAcks())
                    .batchSize(batchSize)
                    .linger(CliParsing.duration(linger))
                    .compression(compression)
                    .maxBlock(Duration.ofSeconds(30));
            if (maxInFlight != null) {
                b.maxInFlight(maxInFlight);
            }
            return b.create();
        }

        byte[] payload() {
            byte[] value = new byte[recordSize];
            Random random = new Random(42);
            for (int i = 0; i < value.length; i++) {
                value[i] = (byte) ('A' + random.nextInt(26));
            }
            return value;
        }
    }

    /** Latency samples in microseconds and their summary. */
    static final class Latencies {
        private long[] samples;
        private int count;

        Latencies(long expected) {
            samples = new long[(int) Math.min(Math.max(expected, 16), 50_000_000)];
        }

        synchronized void add(long micros) {
            if (count == samples.length) {
                samples = Arrays.copyOf(samples, samples.length * 2);
            }
            samples[count++] = micros;
        }

        synchronized String summary() {
            if (count == 0) {
                return "no latency samples";
            }
            long[] s = Arrays.copyOf(samples, count);
            Arrays.sort(s);
            double sum = 0;
            for (long v : s) {
                sum += v;
            }
            return String.format(
                    "%.2f ms avg latency, %.2f ms max latency, %.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th",
                    sum / count / 1000.0,
                    s[count - 1] / 1000.0,
                    pct(s, 0.50),
                    pct(s, 0.95),
                    pct(s, 0.99),
                    pct(s, 0.999));
        }

        static double pct(long[] sorted, double p) {
            int i = (int) Math.ceil(p * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1000.0;
        }
    }

    static String rate(long records, long bytes, long nanos) {
        double secs = Math.max(nanos, 1) / 1e9;
        return String.format("%d records, %.1f records/sec (%.2f MB/sec)", records, records / secs, bytes / secs / 1e6);
    }

    /** {@code sluice perf produce}. */
    @Command(name = "produce", description = "Producer throughput and acknowledgement latency.")
    static final class Produce extends PerfBase {
        @Option(
                names = "--throughput",
                defaultValue = "-1",
                description = "Target records/s; -1 (default) sends as fast as the producer accepts records.")
        double throughput;

        @Override
        public Integer call() {
            validate();
            byte[] value = payload();
            Latencies lat = new Latencies(records);
            AtomicLong acked = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            PrintStream err = err();
            try (SluiceClient client = client();
                    Producer producer = producer(client)) {
                long start = System.nanoTime();
                long lastReport = start;
                long lastAcked = 0;
                for (long i = 0; i < records; i++) {
                    if (throughput > 0) {
                        // a fixed schedule (not a fixed gap) so a late send is followed by catch-up, like Kafka's
                        // ThroughputThrottler: the offered rate stays the requested one
                        long due = start + (long) (i * 1e9 / throughput);
                        for (long wait; (wait = due - System.nanoTime()) > 0; ) {
                            LockSupport.parkNanos(wait);
                        }
                    }
                    long sent = System.nanoTime();
                    producer.sendAsync(new Record(
                                    topic, OptionalInt.empty(), null, value, List.of(), OptionalLong.empty()))
                            .whenComplete((p, t) -> {
                                if (t != null) {
                                    if (failed.getAndIncrement() == 0) {
                                        err.println("error: " + SluiceCli.describe(t));
                                    }
                                } else {
                                    lat.add((System.nanoTime() - sent) / 1000);
                                    acked.incrementAndGet();
                                }
                            });
                    long now = System.nanoTime();
                    if (now - lastReport >= PROGRESS_NANOS) {
                        long a = acked.get();
                        err.println("progress: " + rate(a - lastAcked, (a - lastAcked) * recordSize, now - lastReport)
                                + ", " + a + " acknowledged so far");
                        lastReport = now;
                        lastAcked = a;
                    }
                }
                producer.flush();
                long elapsed = System.nanoTime() - start;
                long a = acked.get();
                out().println(rate(a, a * recordSize, elapsed) + ", " + lat.summary());
                if (failed.get() > 0) {
                    err.println("error: " + failed.get() + " records failed");
                    return 1;
                }
            }
            return 0;
        }
    }

    /** {@code sluice perf consume}: reads N records from the beginning of every partition. */
    @Command(name = "consume", description = "Consumer throughput from the beginning of the topic.")
    static final class Consume extends PerfBase {
        @Option(names = "--timeout", defaultValue = "30s", description = "Give up after this long without records.")
        String timeout;

        @Option(
                names = "--fetch-size",
                description = "Max record bytes per fetch response (default: the consumer's, 262144).")
        Integer fetchSize;

        @Option(
                names = "--credits",
                description = "Fetch responses in flight per partition (default: the consumer's, 16).")
        Integer credits;

        private Consumer consumer(SluiceClient client) {
            ConsumerBuilder b = client.newConsumer();
            if (credits != null) {
                b.credits(atLeastOne("--credits", credits));
            }
            if (fetchSize != null) {
                b.maxBytesPerResponse(atLeastOne("--fetch-size", fetchSize));
            }
            return b.create();
        }

        private static int atLeastOne(String option, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(option + " must be >= 1");
            }
            return value;
        }

        @Override
        public Integer call() {
            validate();
            Duration silence = CliParsing.duration(timeout);
            try (SluiceClient client = client();
                    Consumer consumer = consumer(client)) {
                List<TopicPartition> tps = new ArrayList<>();
                for (PartitionInfo p : client.admin().describeTopic(topic).partitions()) {
                    tps.add(new TopicPartition(topic, p.partition()));
                }
                consumer.assign(tps);
                consumer.seekToBeginning(tps);
                long start = System.nanoTime();
                long lastRecord = start;
                long lastReport = start;
                long count = 0;
                long bytes = 0;
                long reportedCount = 0;
                long reportedBytes = 0;
                while (count < records) {
                    List<ConsumedRecord> batch = consumer.poll(Duration.ofMillis(200));
                    long now = System.nanoTime();
                    for (ConsumedRecord r : batch) {
                        count++;
                        bytes += r.value() == null ? 0 : r.value().length;
                    }
                    if (!batch.isEmpty()) {
                        lastRecord = now;
                    } else if (now - lastRecord > silence.toNanos()) {
                        err().println("error: no record for " + silence + " after " + count + " records");
                        out().println(rate(count, bytes, now - start));
                        return 1;
                    }
                    if (now - lastReport >= PROGRESS_NANOS) {
                        err().println("progress: "
                                + rate(count - reportedCount, bytes - reportedBytes, now - lastReport) + ", " + count
                                + " consumed so far");
                        lastReport = now;
                        reportedCount = count;
                        reportedBytes = bytes;
                    }
                }
                out().println(rate(count, bytes, System.nanoTime() - start));
            }
            return 0;
        }
    }

    /** {@code sluice perf latency}: produce one record, wait until a consumer sees it, repeat. */
    @Command(name = "latency", description = "End-to-end latency: produce one record and consume it, N times.")
    static final class Latency extends PerfBase {
        @Override
        public Integer call() {
            validate();
            byte[] value = payload();
            Latencies lat = new Latencies(records);
            try (SluiceClient client = client();
                    Producer producer = client.newProducer()
                            .acks(acks.toAcks())
                            .linger(Duration.ZERO)
                            .maxBlock(Duration.ofSeconds(30))
                            .create();
                    Consumer consumer = client.newConsumer().create()) {
                TopicPartition tp = new TopicPartition(topic, 0);
                consumer.assign(List.of(tp));
                consumer.seekToEnd(List.of(tp));
                consumer.position(tp);
                long start = System.nanoTime();
                long lastReport = start;
                for (long i = 0; i < records; i++) {
                    long t0 = System.nanoTime();
                    producer.sendAsync(
                            new Record(topic, OptionalInt.of(0), null, value, List.of(), OptionalLong.empty()));
                    long deadline = t0 + Duration.ofSeconds(30).toNanos();
                    boolean seen = false;
                    while (!seen) {
                        seen = !consumer.poll(Duration.ofMillis(100)).isEmpty();
                        if (!seen && System.nanoTime() > deadline) {
                            err().println("error: record " + i + " not consumed within 30 s");
                            return 1;
                        }
                    }
                    long now = System.nanoTime();
                    lat.add((now - t0) / 1000);
                    if (now - lastReport >= PROGRESS_NANOS) {
                        err().println("progress: " + (i + 1) + " round trips, " + lat.summary());
                        lastReport = now;
                    }
                }
                out().println(rate(records, records * recordSize, System.nanoTime() - start) + ", " + lat.summary());
            }
            return 0;
        }
    }
}
