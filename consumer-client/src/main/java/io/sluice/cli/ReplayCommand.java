package io.sluice.cli;

import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.Header;
import io.sluice.client.OffsetSpec;
import io.sluice.client.PartitionInfo;
import io.sluice.client.Producer;
import io.sluice.client.Record;
import io.sluice.client.SluiceClient;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicDescription;
import io.sluice.client.TopicPartition;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice replay TOPIC --from OFFSET|TIME [--to OFFSET|TIME] [--partition P] (--into TOPIC2 | --out FILE)}:
 * copies a range of a topic's history, keys, values, headers and timestamps included, into another topic or a
 * JSON-lines file (the {@code consume --format json} format).
 *
 * <p>The range is resolved per partition when the command starts: {@code --from} is inclusive, {@code --to} is
 * exclusive (as Kafka end offsets are); a time means the first offset whose record has a timestamp {@code >=} it;
 * without {@code --to} the range ends at the high watermark seen at the start, so the command terminates while
 * producers keep writing. Offsets outside the readable log are clamped to it, except with {@code --partition},
 * where an offset beyond the high watermark is an error.
 *
 * <p>Into a file the command is resumable and idempotent: an existing file is scanned, a torn last line (an
 * interrupted run) is cut off, and each partition continues after the last offset already in the file, so
 * re-running the same command never writes a record twice. Into a topic, records keep their partition when both
 * topics have the same partition count (else the key decides) and are sent in order, one request in flight at a
 * time; a re-run copies again (the producer is not idempotent).
 *
 * <p>A progress bar (records, MB, rate, ETA) is drawn on stderr only when stderr is a terminal; a summary line goes
 * to stdout. Not thread-safe (one command per instance).
 */
@Command(
        name = "replay",
        description = "Copy a range of a topic's history (keys, values, headers, timestamps) into another topic or a"
                + " JSON-lines file.")
final class ReplayCommand extends SluiceCli.Base {
    private static final Pattern LINE_POSITION = Pattern.compile("^\\{\"partition\":(\\d+),\"offset\":(\\d+),");
    private static final long PROGRESS_EVERY_NANOS = 200_000_000L;

    @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to copy from.")
    String topic;

    @Option(
            names = "--from",
            required = true,
            paramLabel = "OFFSET|TIME",
            description = "First offset to copy, or the first record at or after an ISO-8601 time (also: earliest).")
    String from;

    @Option(
            names = "--to",
            paramLabel = "OFFSET|TIME",
            description = "End of the range, exclusive: an offset, or the first record at or after an ISO-8601 time"
                    + " (default: the high watermark when the command starts).")
    String to;

    @Option(names = "--partition", paramLabel = "P", description = "Copy only partition P (default: all).")
    Integer partition;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    /** Where the records go: exactly one of the two. */
    static final class Target {
        @Option(names = "--into", paramLabel = "TOPIC2", description = "Produce the records into this topic.")
        String into;

        @Option(
                names = "--out",
                paramLabel = "FILE",
                description = "Append the records to this JSON-lines file (resumes after the records already in it).")
        Path out;
    }

    /**
     * The range of one partition.
     *
     * @param tp the partition
     * @param start first offset to copy
     * @param end offset after the last to copy (exclusive)
     */
    record Range(TopicPartition tp, long start, long end) {
        long size() {
            return Math.max(0, end - start);
        }
    }

    @Override
    public Integer call() {
        CliParsing.From start = CliParsing.position(from, "--from");
        CliParsing.From stop = to == null ? new CliParsing.From.Latest() : CliParsing.position(to, "--to");
        if (start instanceof CliParsing.From.Latest) {
            throw new IllegalArgumentException("--from latest copies nothing: give an offset, a time or earliest");
        }
        if (stop instanceof CliParsing.From.Earliest) {
            throw new IllegalArgumentException("--to earliest copies nothing: give an offset, a time or latest");
        }
        if (start instanceof CliParsing.From.Offset a
                && stop instanceof CliParsing.From.Offset b
                && b.offset() < a.offset()) {
            throw new IllegalArgumentException("--to " + b.offset() + " is before --from " + a.offset());
        }
        if (start instanceof CliParsing.From.Time a
                && stop instanceof CliParsing.From.Time b
                && b.time().isBefore(a.time())) {
            throw new IllegalArgumentException("--to " + b.time() + " is before --from " + a.time());
        }
        if (partition != null && partition < 0) {
            throw new IllegalArgumentException("--partition must be >= 0");
        }
        if (target.into != null && target.into.equals(topic)) {
            throw new IllegalArgumentException("--into must name another topic than " + topic);
        }
        try (SluiceClient client = client()) {
            TopicDescription source = client.admin().describeTopic(topic);
            List<Range> ranges = resolve(client, source, start, stop);
            OptionalInt targetPartitions = OptionalInt.empty();
            if (target.into != null) {
                TopicDescription dest;
                try {
                    dest = client.admin().describeTopic(target.into);
                } catch (SluiceException e) {
                    if (e.code() == io.sluice.client.ErrorCode.UNKNOWN_TOPIC) {
                        throw new IllegalArgumentException("topic '" + target.into + "' does not exist; create it"
                                + " first, e.g. sluice topic create " + target.into + " --partitions "
                                + source.partitions().size());
                    }
                    throw e;
                }
                if (dest.partitions().size() == source.partitions().size()) {
                    targetPartitions = OptionalInt.of(dest.partitions().size());
                }
            }
            return copy(client, ranges, targetPartitions);
        }
    }

    private List<Range> resolve(
            SluiceClient client, TopicDescription source, CliParsing.From start, CliParsing.From stop) {
        List<PartitionInfo> parts = new ArrayList<>();
        for (PartitionInfo p : source.partitions()) {
            if (partition == null || p.partition() == partition) {
                parts.add(p);
            }
        }
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("topic '" + topic + "' has "
                    + source.partitions().size() + " partitions; no partition " + partition);
        }
        Map<TopicPartition, OffsetSpec> lookups = new HashMap<>();
        Map<TopicPartition, long[]> bounds = new LinkedHashMap<>();
        for (PartitionInfo p : parts) {
            TopicPartition tp = new TopicPartition(topic, p.partition());
            bounds.put(
                    tp,
                    new long[] {p.logStartOffset().orElse(-1), p.highWatermark().orElse(-1)});
            if (p.logStartOffset().isEmpty() || p.highWatermark().isEmpty()) {
                lookups.put(tp, OffsetSpec.earliest());
            }
        }
        // partitions whose description lacked offsets (no leader answered) are asked of their leaders
        if (!lookups.isEmpty()) {
            Map<TopicPartition, Long> earliest = client.admin().listOffsets(lookups);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            lookups.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            Map<TopicPartition, Long> hw = client.admin().listOffsets(latest);
            lookups.keySet().forEach(tp -> bounds.put(tp, new long[] {earliest.get(tp), hw.get(tp)}));
        }
        Map<TopicPartition, Long> startAt = at(client, bounds, start, "--from");
        Map<TopicPartition, Long> endAt = at(client, bounds, stop, "--to");
        List<Range> out = new ArrayList<>();
        for (var e : bounds.entrySet()) {
            TopicPartition tp = e.getKey();
            long logStart = e.getValue()[0];
            long hw = e.getValue()[1];
            long s = Math.max(startAt.get(tp), logStart);
            long end = Math.min(endAt.get(tp), hw);
            out.add(new Range(tp, s, Math.max(s, end)));
        }
        return out;
    }

    /** Resolves a position to one offset per partition; checks offsets against the log when one partition is asked. */
    private Map<TopicPartition, Long> at(
            SluiceClient client, Map<TopicPartition, long[]> bounds, CliParsing.From position, String option) {
        Map<TopicPartition, Long> out = new HashMap<>();
        if (position instanceof CliParsing.From.Time t) {
            Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
            bounds.keySet().forEach(tp -> specs.put(tp, OffsetSpec.forTimestamp(t.time())));
            out.putAll(client.admin().listOffsets(specs));
            return out;
        }
        for (var e : bounds.entrySet()) {
            long v;
            if (position instanceof CliParsing.From.Offset o) {
                v = o.offset();
                if (partition != null && v > e.getValue()[1]) {
                    throw new IllegalArgumentException(option + " " + v + " is beyond the end of partition " + partition
                            + " of " + topic + " (high watermark " + e.getValue()[1] + ")");
                }
            } else if (position instanceof CliParsing.From.Earliest) {
                v = e.getValue()[0];
            } else {
                v = e.getValue()[1];
            }
            out.put(e.getKey(), v);
        }
        return out;
    }

    private int copy(SluiceClient client, List<Range> planned, OptionalInt targetPartitions) {
        Map<TopicPartition, Long> alreadyWritten = target.out != null ? prepareFile(target.out) : Map.of();
        List<Range> ranges = new ArrayList<>();
        long skipped = 0;
        for (Range r : planned) {
            Long last = alreadyWritten.get(r.tp());
            long s = r.start();
            if (last != null && last + 1 > s) {
                long resumeAt = Math.min(r.end(), last + 1);
                skipped += resumeAt - s;
                s = resumeAt;
            }
            ranges.add(new Range(r.tp(), s, r.end()));
        }
        List<Range> todo = ranges.stream().filter(r -> r.size() > 0).toList();
        long totalOffsets = todo.stream().mapToLong(Range::size).sum();
        Progress progress = new Progress(totalOffsets);
        Map<TopicPartition, Long> copied = new LinkedHashMap<>();
        ranges.forEach(r -> copied.put(r.tp(), 0L));
        long t0 = System.nanoTime();
        AtomicReference<Throwable> sendFailure = new AtomicReference<>();
        BufferedWriter writer = null;
        FileOutputStream file = null;
        Producer producer = null;
        try (Consumer consumer = client.newConsumer().create()) {
            if (target.out != null) {
                file = new FileOutputStream(target.out.toFile(), true);
                writer = new BufferedWriter(new OutputStreamWriter(file, StandardCharsets.UTF_8), 1 << 16);
            } else {
                producer = client.newProducer()
                        .maxInFlight(1)
                        .linger(Duration.ofMillis(5))
                        .deliveryTimeout(Duration.ofMinutes(2))
                        .create();
            }
            Map<TopicPartition, Range> byTp = new HashMap<>();
            todo.forEach(r -> byTp.put(r.tp(), r));
            consumer.assign(byTp.keySet());
            todo.forEach(r -> consumer.seek(r.tp(), r.start()));
            boolean tty = cli().stderrIsTerminal.getAsBoolean();
            long lastDraw = 0;
            while (!byTp.isEmpty()) {
                for (ConsumedRecord rec : consumer.poll(Duration.ofMillis(200))) {
                    Range r = byTp.get(rec.topicPartition());
                    if (r == null || rec.offset() >= r.end()) {
                        continue;
                    }
                    if (writer != null) {
                        writer.write(ConsumeCommand.toJson(rec));
                        writer.write('\n');
                    } else {
                        Record out = new Record(
                                target.into,
                                OptionalInt.empty(),
                                rec.key(),
                                rec.value(),
                                rec.headers(),
                                OptionalLong.of(rec.timestamp()));
                        if (targetPartitions.isPresent()) {
                            out = out.withPartition(rec.partition());
                        }
                        producer.sendAsync(out).whenComplete((pos, t) -> {
                            if (t != null) {
                                sendFailure.compareAndSet(null, t);
                            }
                        });
                    }
                    copied.merge(rec.topicPartition(), 1L, Long::sum);
                    progress.records++;
                    progress.bytes += size(rec);
                }
                if (sendFailure.get() != null) {
                    break;
                }
                long covered = 0;
                for (var it = byTp.entrySet().iterator(); it.hasNext(); ) {
                    Range r = it.next().getValue();
                    long pos = consumer.position(r.tp());
                    if (pos >= r.end()) {
                        progress.finishedOffsets += r.size();
                        it.remove();
                    } else {
                        covered += pos - r.start();
                    }
                }
                progress.coveredOffsets = progress.finishedOffsets + covered;
                long now = System.nanoTime();
                if (tty && now - lastDraw >= PROGRESS_EVERY_NANOS) {
                    lastDraw = now;
                    err().print("\r" + progress.line(now - t0));
                    err().flush();
                }
            }
            if (tty) {
                err().print("\r" + " ".repeat(100) + "\r");
                err().flush();
            }
            if (writer != null) {
                writer.flush();
                file.getChannel().force(true);
            } else {
                producer.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + target.out + ": " + e.getMessage(), e);
        } finally {
            closeQuietly(writer);
            if (producer != null) {
                producer.close();
            }
        }
        if (sendFailure.get() != null) {
            throw new IllegalStateException(
                    "producing into " + target.into + " failed: " + SluiceCli.describe(sendFailure.get()));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        printSummary(ranges, copied, progress, skipped, seconds);
        return 0;
    }

    private void printSummary(
            List<Range> ranges, Map<TopicPartition, Long> copied, Progress progress, long skipped, double seconds) {
        String dest = target.into != null ? "topic " + target.into : "file " + target.out;
        if (json()) {
            out().println("{\"source\":" + Json.string(topic) + ",\"into\":" + Json.string(target.into) + ",\"out\":"
                    + Json.string(target.out == null ? null : target.out.toString()) + ",\"records\":"
                    + progress.records + ",\"bytes\":" + progress.bytes + ",\"seconds\":"
                    + String.format(java.util.Locale.ROOT, "%.3f", seconds) + ",\"already_written\":" + skipped
                    + ",\"partitions\":"
                    + ranges.stream()
                            .map(r -> "{\"partition\":" + r.tp().partition() + ",\"from\":" + r.start() + ",\"to\":"
                                    + r.end() + ",\"records\":" + copied.get(r.tp()) + "}")
                            .collect(Collectors.joining(",", "[", "]"))
                    + "}");
            return;
        }
        String parts = ranges.stream()
                .map(r -> r.tp().partition() + ":[" + r.start() + "," + r.end() + ")")
                .collect(Collectors.joining(" "));
        out().printf(
                        java.util.Locale.ROOT,
                        "replayed %d records (%s) of %s into %s in %.1f s (%.0f records/s); offsets %s%s%n",
                        progress.records,
                        Progress.mb(progress.bytes),
                        topic,
                        dest,
                        seconds,
                        seconds > 0 ? progress.records / seconds : 0,
                        parts,
                        skipped > 0 ? "; " + skipped + " offsets were already in the file" : "");
    }

    static long size(ConsumedRecord r) {
        long n = (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
        for (Header h : r.headers()) {
            n += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return n;
    }

    /**
     * Scans an existing output file: cuts a torn last line (a run that was interrupted mid-write) and returns, per
     * partition of this topic, the last offset already written.
     */
    Map<TopicPartition, Long> prepareFile(Path path) {
        if (!Files.exists(path)) {
            return Map.of();
        }
        try {
            long length = Files.size(path);
            long keep = length;
            try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
                while (keep > 0) {
                    raf.seek(keep - 1);
                    if (raf.read() == '\n') {
                        break;
                    }
                    keep--;
                }
                if (keep < length) {
                    raf.setLength(keep);
                }
            }
            Map<TopicPartition, Long> last = new HashMap<>();
            try (BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                String line;
                int n = 0;
                while ((line = reader.readLine()) != null) {
                    n++;
                    if (line.isBlank()) {
                        continue;
                    }
                    Matcher m = LINE_POSITION.matcher(line);
                    if (!m.find()) {
                        throw new IllegalArgumentException(path + " line " + n + " is not a record line of 'sluice"
                                + " consume --format json' or 'sluice replay --out'; use another file");
                    }
                    last.merge(
                            new TopicPartition(topic, Integer.parseInt(m.group(1))),
                            Long.parseLong(m.group(2)),
                            Math::max);
                }
            }
            return last;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + path + ": " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            // the data was flushed and forced before; a failing close changes nothing the user can act on
        }
    }

    /** Counters of a replay and the progress line drawn from them. Used by one thread. */
    static final class Progress {
        final long totalOffsets;
        long records;
        long bytes;
        long coveredOffsets;
        long finishedOffsets;

        Progress(long totalOffsets) {
            this.totalOffsets = totalOffsets;
        }

        static String mb(long bytes) {
            return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1e6);
        }

        /** {@code [#######.............]  35%  12345 records  3.2 MB  6120 rec/s  ETA 0:02}. */
        String line(long elapsedNanos) {
            double fraction = totalOffsets == 0 ? 1 : Math.min(1, (double) coveredOffsets / totalOffsets);
            int width = 24;
            int filled = (int) Math.round(fraction * width);
            double seconds = elapsedNanos / 1e9;
            double rate = seconds > 0 ? records / seconds : 0;
            String eta = "--:--";
            if (fraction > 0 && seconds > 0) {
                long left = Math.round(seconds / fraction - seconds);
                eta = String.format(java.util.Locale.ROOT, "%d:%02d", left / 60, left % 60);
            }
            return String.format(
                    java.util.Locale.ROOT,
                    "[%s%s] %3d%%  %d records  %s  %.0f rec/s  ETA %s ",
                    "#".repeat(filled),
                    ".".repeat(width - filled),
                    Math.round(fraction * 100),
                    records,
                    mb(bytes),
                    rate,
                    eta);
        }
    }
}
