package io.sluice.cli;

import io.sluice.client.Acks;
import io.sluice.client.Producer;
import io.sluice.client.Record;
import io.sluice.client.SluiceClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice produce TOPIC}: one record per stdin line. With {@code --format json} prints
 * {@code {"line":N,"partition":P,"offset":O}} per acknowledged record; a record that finally fails is reported
 * on stderr with its line number and makes the exit code 1. Not thread-safe (one command per instance).
 */
@Command(name = "produce", description = "Produce one record per line of standard input.")
final class ProduceCommand extends SluiceCli.Base {
    @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to write to.")
    String topic;

    @Option(
            names = "--key-separator",
            paramLabel = "SEP",
            description = "Split each line at the first SEP into key and value (lines without SEP have no key).")
    String keySeparator;

    @Option(names = "--acks", defaultValue = "quorum", description = "quorum or leader (default: ${DEFAULT-VALUE}).")
    AcksOption acks;

    @Option(names = "--partition", paramLabel = "P", description = "Write every record to partition P.")
    Integer partition;

    /** Values of {@code --acks}. */
    enum AcksOption {
        quorum,
        leader;

        Acks toAcks() {
            return this == leader ? Acks.LEADER : Acks.QUORUM;
        }
    }

    /** Splits a line into key and value per the separator; key null when no separator applies. */
    static String[] split(String line, String separator) {
        if (separator == null || separator.isEmpty()) {
            return new String[] {null, line};
        }
        int i = line.indexOf(separator);
        if (i < 0) {
            return new String[] {null, line};
        }
        return new String[] {line.substring(0, i), line.substring(i + separator.length())};
    }

    @Override
    public Integer call() {
        if (partition != null && partition < 0) {
            throw new IllegalArgumentException("--partition must be >= 0");
        }
        AtomicInteger failures = new AtomicInteger();
        Object printLock = new Object();
        try (SluiceClient client = client();
                Producer producer = client.newProducer()
                        .acks(acks.toAcks())
                        .maxBlock(Duration.ofSeconds(10))
                        .deliveryTimeout(Duration.ofSeconds(60))
                        .create()) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(cli().in, StandardCharsets.UTF_8));
            String line;
            int n = 0;
            CompletableFuture<?> last = CompletableFuture.completedFuture(null);
            while ((line = reader.readLine()) != null) {
                int lineNo = ++n;
                String[] kv = split(line, keySeparator);
                Record r = Record.of(topic, kv[0], kv[1]);
                if (partition != null) {
                    r = r.withPartition(partition);
                }
                CompletableFuture<?> f = producer.sendAsync(r).whenComplete((pos, t) -> {
                    synchronized (printLock) {
                        if (t != null) {
                            failures.incrementAndGet();
                            err().println("error: line " + lineNo + ": " + SluiceCli.describe(t));
                        } else if (json()) {
                            out().println("{\"line\":" + lineNo + ",\"partition\":" + pos.partition() + ",\"offset\":"
                                    + pos.offset() + "}");
                        }
                    }
                });
                last = f;
                if (failures.get() > 0 && f.isDone() && f.isCompletedExceptionally() && isFatal(f)) {
                    break;
                }
            }
            producer.flush();
            last.exceptionally(t -> null).join();
        } catch (IOException e) {
            throw new UncheckedIOException("reading standard input: " + e.getMessage(), e);
        }
        out().flush();
        return failures.get() > 0 ? 1 : 0;
    }

    /** An unknown topic fails every later line too: stop reading instead of reporting each one. */
    private static boolean isFatal(CompletableFuture<?> f) {
        try {
            f.join();
            return false;
        } catch (RuntimeException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            return c instanceof io.sluice.client.SluiceException se
                    && (se.code() == io.sluice.client.ErrorCode.UNKNOWN_TOPIC
                            || se.code() == io.sluice.client.ErrorCode.UNKNOWN_PARTITION);
        }
    }

    static OptionalInt none() {
        return OptionalInt.empty();
    }
}
