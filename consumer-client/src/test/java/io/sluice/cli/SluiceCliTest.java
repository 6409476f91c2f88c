package io.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.client.ConsumedRecord;
import io.sluice.client.Header;
import io.sluice.client.SluiceClient;
import io.sluice.client.internal.ClientBuilderImpl;
import io.sluice.client.internal.TestClusters;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Argument parsing, exit codes and output formats of the CLI, against the in-process fake cluster. */
class SluiceCliTest {
    private AutoCloseable cluster;
    private java.util.function.Function<String, SluiceClient> clients;

    record Result(int code, String out, String err) {}

    @BeforeEach
    void setUp() throws Exception {
        var fake = TestClusters.start(1);
        cluster = fake.closer();
        clients = bootstrap -> new ClientBuilderImpl()
                .channelFactory(fake.channels())
                .bootstrap(bootstrap)
                .build();
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private Result run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "--bootstrap";
        full[args.length + 1] = "b1:1";
        boolean takesOptions = args.length > 0 && !args[0].startsWith("-");
        int code = SluiceCli.run(
                takesOptions ? full : args,
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                clients);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void topicLifecycleInTextAndJson() {
        Result c = run("", "topic", "create", "orders", "--partitions", "3", "--replication-factor", "1");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("created topic orders (3 partitions"), c.out());
        Result dup = run("", "topic", "create", "orders");
        assertEquals(1, dup.code());
        assertEquals(1, dup.err().lines().count(), "one-line error: " + dup.err());
        assertTrue(dup.err().contains("TOPIC_ALREADY_EXISTS"), dup.err());
        Result list = run("", "topic", "list", "--format", "json");
        assertEquals(
                "[{\"name\":\"orders\",\"partitions\":3,\"replication_factor\":1,\"internal\":false}]\n", list.out());
        Result describe = run("", "topic", "describe", "orders", "--format", "json");
        assertTrue(describe.out().startsWith("{\"name\":\"orders\""), describe.out());
        assertTrue(describe.out().contains("\"replicas\":[1]"), describe.out());
        assertTrue(describe.out().contains("\"configs\":{\"retention.ms\":\"604800000\"}"), describe.out());
        Result info = run("", "cluster", "info", "--format", "json");
        assertTrue(info.out().contains("\"cluster_id\":\"fake\""), info.out());
        assertEquals(0, run("", "topic", "delete", "orders").code());
        Result gone = run("", "topic", "describe", "orders");
        assertEquals(1, gone.code());
        assertTrue(gone.err().startsWith("error: ") && gone.err().contains("UNKNOWN_TOPIC"), gone.err());
    }

    @Test
    void produceThenConsumeJson() {
        assertEquals(0, run("", "topic", "create", "t", "--partitions", "1").code());
        Result p = run("a:1\nb:2\nplain\n", "produce", "t", "--key-separator", ":", "--format", "json");
        assertEquals(0, p.code(), p.err());
        List<String> lines = p.out().lines().sorted().toList();
        assertEquals(
                List.of(
                        "{\"line\":1,\"partition\":0,\"offset\":0}",
                        "{\"line\":2,\"partition\":0,\"offset\":1}",
                        "{\"line\":3,\"partition\":0,\"offset\":2}"),
                lines);
        Result c = run("", "consume", "t", "--max", "3", "--timeout", "5s", "--format", "json");
        assertEquals(0, c.code(), c.err());
        List<String> out = c.out().lines().toList();
        assertEquals(3, out.size());
        assertTrue(out.get(0).startsWith("{\"partition\":0,\"offset\":0,\"timestamp\":"), out.get(0));
        assertTrue(out.get(0).endsWith("\"key\":\"a\",\"value\":\"1\",\"headers\":{}}"), out.get(0));
        assertTrue(out.get(2).contains("\"key\":null,\"value\":\"plain\""), out.get(2));
        Result fromOffset = run("", "consume", "t", "--from", "2", "--max", "1", "--timeout", "30s");
        assertEquals("plain\n", fromOffset.out());
        Result latest = run("", "consume", "t", "--from", "latest", "--timeout", "200ms");
        assertEquals("", latest.out());
    }

    @Test
    void produceToMissingPartitionReportsLineAndFails() {
        assertEquals(0, run("", "topic", "create", "t", "--partitions", "1").code());
        Result p = run("x\n", "produce", "t", "--partition", "5");
        assertEquals(1, p.code());
        assertTrue(p.err().startsWith("error: line 1: "), p.err());
        assertTrue(p.err().contains("UNKNOWN_PARTITION"), p.err());
    }

    @Test
    void usageErrorsAreOneLineAndExitOne() {
        Result bad = run("", "--no-such-option");
        assertEquals(1, bad.code());
        assertEquals(1, bad.err().lines().count(), bad.err());
        Result badDuration = run("", "consume", "t", "--timeout", "soon");
        assertEquals(1, badDuration.code());
        assertTrue(badDuration.err().contains("invalid duration 'soon'"), badDuration.err());
        Result missing = run("", "topic", "create");
        assertEquals(1, missing.code());
        assertEquals(1, missing.err().lines().count(), missing.err());
        // An explicit 0 is an error, not "the broker's default" (found by BadInputIT: it created 1 partition).
        Result zero = run("", "topic", "create", "z", "--partitions", "0");
        assertEquals(1, zero.code());
        assertEquals(1, zero.err().lines().count(), zero.err());
        assertTrue(zero.err().contains("must be >= 1"), zero.err());
        assertEquals(
                1, run("", "topic", "create", "z", "--replication-factor", "0").code());
        Result help = run("", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("produce"), help.out());
    }

    @Test
    void parsesDurationsAndStartPositions() {
        assertEquals(Duration.ofSeconds(5), CliParsing.duration("5s"));
        assertEquals(Duration.ofMillis(500), CliParsing.duration("500ms"));
        assertEquals(Duration.ofSeconds(5), CliParsing.duration("PT5S"));
        assertEquals(Duration.ofMinutes(2), CliParsing.duration("2m"));
        assertThrows(IllegalArgumentException.class, () -> CliParsing.duration("5 parsecs"));
        assertInstanceOf(CliParsing.From.Earliest.class, CliParsing.from("earliest"));
        assertInstanceOf(CliParsing.From.Latest.class, CliParsing.from("LATEST"));
        assertEquals(new CliParsing.From.Offset(42), CliParsing.from("42"));
        assertEquals(
                new CliParsing.From.Time(Instant.parse("2026-01-31T12:00:00Z")),
                CliParsing.from("2026-01-31T13:00:00+01:00"));
        assertThrows(IllegalArgumentException.class, () -> CliParsing.from("yesterday"));
    }

    @Test
    void jsonEscapingAndRecordLines() {
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\"", Json.string("a\"b\\c\n\u0001"));
        assertEquals("null", Json.string(null));
        Map<String, String> m = new LinkedHashMap<>();
        m.put("k", "v");
        m.put("n", null);
        assertEquals("{\"k\":\"v\",\"n\":null}", Json.stringMap(m));
        ConsumedRecord r = new ConsumedRecord(
                "t", 2, 7, 1000, null, "é\t".getBytes(StandardCharsets.UTF_8), List.of(Header.of("h", "1")));
        assertEquals(
                "{\"partition\":2,\"offset\":7,\"timestamp\":1000,\"key\":null,\"value\":\"é\\t\",\"headers\":{\"h\":\"1\"}}",
                ConsumeCommand.toJson(r));
        assertEquals(List.of("k", "v:w"), List.of(ProduceCommand.split("k:v:w", ":")));
        assertFalse(ProduceCommand.split("vw", ":")[1].isEmpty());
    }
}
