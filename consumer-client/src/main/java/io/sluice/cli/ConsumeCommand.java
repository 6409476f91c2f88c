package io.sluice.cli;

import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.Header;
import io.sluice.client.PartitionInfo;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicPartition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice consume TOPIC}: prints records (text: the value; json: one object per line) from a start
 * position until {@code --max} records or {@code --timeout} of silence. Not thread-safe (one command per
 * instance).
 */
@Command(name = "consume", description = "Print records of a topic.")
final class ConsumeCommand extends SluiceCli.Base {
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
}
