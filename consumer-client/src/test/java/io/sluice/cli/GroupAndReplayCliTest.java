package io.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.Header;
import io.sluice.client.OffsetResetSpec;
import io.sluice.client.Producer;
import io.sluice.client.Record;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicPartition;
import io.sluice.client.internal.ClientBuilderImpl;
import io.sluice.client.internal.TestClusters;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The group, consume --group and replay commands against the in-process fake cluster and coordinator. */
class GroupAndReplayCliTest {
    private TestClusters.Handle fake;
    private Function<String, SluiceClient> clients;
    private SluiceClient sdk;

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    @BeforeEach
    void setUp() throws Exception {
        fake = TestClusters.start(1);
        clients = bootstrap -> new ClientBuilderImpl()
                .channelFactory(fake.channels())
                .bootstrap(bootstrap)
                .requestTimeout(Duration.ofSeconds(30))
                .build();
        sdk = clients.apply("b1:1");
    }

    @AfterEach
    void tearDown() throws Exception {
        sdk.close();
        fake.closer().close();
    }

    private Result run(boolean tty, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "--bootstrap";
        full[args.length + 1] = "b1:1";
        int code = SluiceCli.run(
                full,
                new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                clients,
                () -> tty);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Result run(String... args) {
        return run(false, args);
    }

    private static void assertOneLineError(Result r, String expected) {
        assertEquals(1, r.code(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith("error: "), r.err());
        assertTrue(r.err().contains(expected), r.err());
    }

    private void produce(String topic, int partition, int n, long firstTimestamp) {
        try (Producer p = sdk.newProducer().linger(Duration.ZERO).create()) {
            for (int i = 0; i < n; i++) {
                p.send(Record.of(topic, "k" + i, "p" + partition + "v" + i)
                        .withPartition(partition)
                        .withHeaders(List.of(Header.of("trace", "t" + i), new Header("empty", null)))
                        .withTimestamp(firstTimestamp + 1000L * i));
            }
        }
    }

    @Test
    void listDescribeResetAndDeleteGroups() throws Exception {
        assertEquals(0, run("topic", "create", "t", "--partitions", "2").code());
        produce("t", 0, 5, 1000);
        produce("t", 1, 5, 1000);
        TopicPartition t0 = new TopicPartition("t", 0);
        fake.commit("g1", t0, 3);

        Result list = run("group", "list", "--format", "json");
        assertEquals(0, list.code(), list.err());
        assertEquals("[{\"group_id\":\"g1\",\"state\":\"EMPTY\",\"members\":0}]\n", list.out());
        Result listText = run("group", "list");
        assertTrue(listText.out().startsWith("GROUP "), listText.out());
        assertTrue(listText.out().lines().anyMatch(l -> l.matches("g1\\s+EMPTY\\s+0")), listText.out());

        Result describe = run("group", "describe", "g1");
        assertEquals(0, describe.code(), describe.err());
        assertTrue(describe.out().startsWith("group: g1  state: EMPTY"), describe.out());
        assertTrue(describe.out().lines().anyMatch(l -> l.matches("t\\s+0\\s+-\\s+3\\s+5\\s+2")), describe.out());
        Result describeJson = run("group", "describe", "g1", "--format", "json");
        assertTrue(
                describeJson
                        .out()
                        .contains("{\"topic\":\"t\",\"partition\":0,\"member_id\":null,"
                                + "\"committed_offset\":3,\"high_watermark\":5,\"lag\":2}"),
                describeJson.out());
        assertOneLineError(run("group", "describe", "nope"), "unknown group 'nope'");

        Result plan = run("group", "reset", "g1", "--topic", "t", "--to", "earliest");
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.out().lines().anyMatch(l -> l.matches("t\\s+0\\s+3 -> 0")), plan.out());
        assertTrue(plan.out().lines().anyMatch(l -> l.matches("t\\s+1\\s+- -> 0")), plan.out());
        assertTrue(plan.out().contains("plan only, nothing changed: add --execute to apply it"), plan.out());
        assertEquals(3L, fake.committed("g1", t0), "a plan changes nothing");

        Result shift = run("group", "reset", "g1", "--topic", "t", "--to", "shift:-1", "--format", "json");
        assertEquals(1, shift.code(), "partition 1 has nothing to shift");
        assertTrue(
                shift.out()
                        .startsWith("{\"group_id\":\"g1\",\"topic\":\"t\",\"executed\":false,\"partitions\":["
                                + "{\"partition\":0,\"current_offset\":3,\"new_offset\":2,\"error\":null},"
                                + "{\"partition\":1,\"current_offset\":null,\"new_offset\":null,\"error\":\""),
                shift.out());
        assertTrue(shift.out().contains("[INVALID_OFFSET]"), shift.out());
        assertTrue(shift.err().contains("1 of 2 partitions could not be planned"), shift.err());

        Result exec = run("group", "reset", "g1", "--topic", "t", "--to", "offset:4", "--partition", "0", "--execute");
        assertEquals(0, exec.code(), exec.err());
        assertTrue(exec.out().contains("reset 1 partition of topic t for group g1"), exec.out());
        assertEquals(4L, fake.committed("g1", t0));
        Result byTime = run("group", "reset", "g1", "--topic", "t", "--to", "time:1970-01-01T00:00:02Z", "--execute");
        assertEquals(0, byTime.code(), byTime.err());
        assertEquals(1L, fake.committed("g1", t0), "first record with timestamp >= 2000 ms");

        assertOneLineError(run("group", "reset", "g1", "--topic", "t", "--to", "time:2026-13-01"), "invalid --to");
        assertOneLineError(run("group", "reset", "g1", "--topic", "t", "--to", "sideways"), "expected earliest");
        assertOneLineError(run("group", "reset", "g1", "--to", "earliest"), "--topic");

        try (Consumer member = sdk.newConsumer().groupId("g1").create()) {
            member.subscribe(List.of("t"));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (member.assignment().isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "member assigned");
                member.poll(Duration.ofMillis(20));
            }
            assertOneLineError(
                    run("group", "reset", "g1", "--topic", "t", "--to", "latest", "--execute"),
                    "group 'g1' has 1 active member; stop its consumers before resetting its offsets");
            assertEquals(
                    0,
                    run("group", "reset", "g1", "--topic", "t", "--to", "latest")
                            .code(),
                    "plans are fine");
            assertOneLineError(run("group", "delete", "g1"), "group 'g1' has active members");
        }
        Result delete = run("group", "delete", "g1");
        assertEquals(0, delete.code(), delete.err());
        assertEquals("deleted group g1\n", delete.out());
        assertOneLineError(run("group", "delete", "g1"), "unknown group 'g1'");
    }

    @Test
    void consumeWithAGroupCommitsOnlyWhatItPrinted() {
        assertEquals(0, run("topic", "create", "t", "--partitions", "1").code());
        produce("t", 0, 5, 1000);
        TopicPartition t0 = new TopicPartition("t", 0);
        Result first = run("consume", "t", "--group", "g", "--max", "3", "--timeout", "5s");
        assertEquals(0, first.code(), first.err());
        assertEquals("p0v0\np0v1\np0v2\n", first.out());
        assertEquals(3L, fake.committed("g", t0), "commits the printed records, not the whole poll");
        assertTrue(fake.members("g").isEmpty(), "left the group on exit");
        Result second = run("consume", "t", "--group", "g", "--max", "2", "--timeout", "30s", "--format", "json");
        assertEquals(0, second.code(), second.err());
        List<String> lines = second.out().lines().toList();
        assertEquals(2, lines.size(), second.out());
        assertTrue(lines.get(0).startsWith("{\"partition\":0,\"offset\":3,\"timestamp\":4000,\"key\":\"k3\""));
        assertEquals(5L, fake.committed("g", t0));
        assertOneLineError(run("consume", "t", "--group", "g", "--partition", "0"), "cannot be combined with --group");
        assertOneLineError(run("consume", "t", "--group", "g", "--from", "3"), "with --group, --from only");
    }

    @Test
    void aFullyReadGroupCommitsPastATrailingControlBatch() {
        assertEquals(0, run("topic", "create", "t", "--partitions", "1").code());
        produce("t", 0, 3, 1000);
        TopicPartition t0 = new TopicPartition("t", 0);
        // A new leader's marker after the last record: offset 3, never printed.
        fake.append(
                t0,
                io.sluice.logstore.record.ControlRecord.buildBatch(
                        io.sluice.logstore.record.ControlRecordType.RAFT_NO_OP, 0, new byte[0]));
        // Leaves through the timeout (silence after the records), so the position is past the control batch.
        Result r = run("consume", "t", "--group", "g", "--timeout", "3s");
        assertEquals(0, r.code(), r.err());
        assertEquals("p0v0\np0v1\np0v2\n", r.out());
        assertEquals(4L, fake.committed("g", t0), "the committed offset covers the control batch: lag 0");
    }

    private void produceSample() {
        assertEquals(0, run("topic", "create", "t", "--partitions", "2").code());
        produce("t", 0, 4, 1000);
        produce("t", 1, 2, 1000);
    }

    @Test
    void replayIntoAFileResumesAndNeverWritesARecordTwice() throws Exception {
        produceSample();
        Path file = dir.resolve("t.jsonl");
        Result r = run("replay", "t", "--from", "0", "--out", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("replayed 6 records ("), r.out());
        assertTrue(r.out().contains("offsets 0:[0,4) 1:[0,2)"), r.out());
        assertEquals("", r.err(), "no progress bar without a terminal");
        List<String> lines = Files.readAllLines(file);
        assertEquals(6, lines.size());
        assertEquals(
                "{\"partition\":0,\"offset\":1,\"timestamp\":2000,\"key\":\"k1\",\"value\":\"p0v1\","
                        + "\"headers\":{\"trace\":\"t1\",\"empty\":null}}",
                lines.stream()
                        .filter(l -> l.contains("\"offset\":1,") && l.contains("p0v"))
                        .findFirst()
                        .orElseThrow());
        String original = Files.readString(file);

        Result again = run("replay", "t", "--from", "0", "--out", file.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().startsWith("replayed 0 records"), again.out());
        assertTrue(again.out().contains("6 offsets were already in the file"), again.out());
        assertEquals(original, Files.readString(file), "a re-run is idempotent");

        // an interrupted run leaves a torn line: it is cut off and the record written again, once
        Files.writeString(file, original.substring(0, original.length() - 20));
        assertEquals(
                0, run("replay", "t", "--from", "0", "--out", file.toString()).code());
        assertEquals(original, Files.readString(file));

        produce("t", 0, 2, 9000);
        Result more = run("replay", "t", "--from", "0", "--out", file.toString(), "--format", "json");
        assertEquals(0, more.code(), more.err());
        assertTrue(more.out().contains("\"records\":2,"), more.out());
        assertTrue(more.out().contains("\"already_written\":6,"), more.out());
        List<String> all = Files.readAllLines(file);
        assertEquals(8, all.size());
        assertEquals(
                8,
                all.stream()
                        .map(l -> l.substring(0, l.indexOf(",\"timestamp\"")))
                        .distinct()
                        .count());

        Path window = dir.resolve("window.jsonl");
        Result byTime = run(
                "replay",
                "t",
                "--partition",
                "0",
                "--from",
                "1970-01-01T00:00:02Z",
                "--to",
                "1970-01-01T00:00:04Z",
                "--out",
                window.toString());
        assertEquals(0, byTime.code(), byTime.err());
        List<String> w = Files.readAllLines(window);
        assertEquals(2, w.size(), "--to is exclusive: " + w);
        assertTrue(w.get(0).startsWith("{\"partition\":0,\"offset\":1,\"timestamp\":2000,"), w.get(0));
        assertTrue(w.get(1).startsWith("{\"partition\":0,\"offset\":2,\"timestamp\":3000,"), w.get(1));

        Path junk = dir.resolve("junk.txt");
        Files.writeString(junk, "hello\n");
        assertOneLineError(run("replay", "t", "--from", "0", "--out", junk.toString()), "is not a record line");
    }

    @Test
    void replayRejectsBadRangesWithClearMessages() {
        produceSample();
        String out = dir.resolve("x.jsonl").toString();
        assertOneLineError(
                run("replay", "t", "--partition", "0", "--from", "10", "--out", out),
                "--from 10 is beyond the end of partition 0 of t (high watermark 4)");
        assertOneLineError(
                run("replay", "t", "--partition", "1", "--from", "0", "--to", "7", "--out", out),
                "--to 7 is beyond the end of partition 1");
        assertOneLineError(run("replay", "t", "--from", "3", "--to", "1", "--out", out), "--to 1 is before --from 3");
        assertOneLineError(run("replay", "t", "--from", "yesterday", "--out", out), "invalid --from 'yesterday'");
        assertOneLineError(run("replay", "t", "--from", "0"), "--into");
        assertOneLineError(run("replay", "t", "--from", "0", "--into", "a", "--out", out), "mutually exclusive");
        assertOneLineError(run("replay", "t", "--from", "0", "--into", "missing"), "topic 'missing' does not exist");
        assertOneLineError(run("replay", "t", "--from", "0", "--into", "t"), "another topic");
        assertOneLineError(run("replay", "nope", "--from", "0", "--out", out), "UNKNOWN_TOPIC");
    }

    @Test
    void replayIntoATopicPreservesKeysValuesHeadersAndTimestamps() {
        produceSample();
        assertEquals(0, run("topic", "create", "copy", "--partitions", "2").code());
        Result r = run(true, "replay", "t", "--from", "earliest", "--into", "copy");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("replayed 6 records"), r.out());
        assertTrue(r.err().contains("ETA") && r.err().contains("records"), "progress bar on a terminal: " + r.err());
        List<String> original = source("t");
        assertEquals(6, original.size());
        assertEquals(original, source("copy"));
    }

    /** Every record of a 2-partition topic as comparable strings (partition, offset, key, value, headers, time). */
    private List<String> source(String topic) {
        List<String> out = new ArrayList<>();
        try (Consumer c = sdk.newConsumer().create()) {
            c.assign(List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1)));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (out.size() < 6 && System.nanoTime() < deadline) {
                for (ConsumedRecord rec : c.poll(Duration.ofMillis(50))) {
                    out.add(rec.partition() + "@" + rec.offset() + " " + rec.keyAsString() + "=" + rec.valueAsString()
                            + " " + rec.headers() + " " + rec.timestamp()
                            + rec.headers().stream()
                                    .map(h -> h.value() == null ? "null" : new String(h.value()))
                                    .toList());
                }
            }
        }
        out.sort(null);
        return out;
    }

    @Test
    void parsesResetTargetsTimesAndDrawsProgress() {
        assertEquals(OffsetResetSpec.earliest(), CliParsing.resetSpec("earliest"));
        assertEquals(OffsetResetSpec.latest(), CliParsing.resetSpec("LATEST"));
        assertEquals(OffsetResetSpec.toOffset(42), CliParsing.resetSpec("offset:42"));
        assertEquals(OffsetResetSpec.shiftBy(-100), CliParsing.resetSpec("shift:-100"));
        assertEquals(OffsetResetSpec.shiftBy(5), CliParsing.resetSpec("shift:+5"));
        assertEquals(
                OffsetResetSpec.toTime(Instant.parse("2026-01-31T11:00:00Z")),
                CliParsing.resetSpec("time:2026-01-31T12:00:00+01:00"));
        for (String bad : List.of(
                "offset:-1",
                "offset:x",
                "shift:",
                "shift:1.5",
                "time:yesterday",
                "time:2026-01-31",
                "tomorrow",
                "offset:99999999999999999999")) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> CliParsing.resetSpec(bad), bad);
            assertTrue(e.getMessage().startsWith("invalid --to '" + bad + "'"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> CliParsing.time("1969-12-31T23:59:59Z"));
        assertInstanceOf(CliParsing.From.Time.class, CliParsing.position("2026-01-31T12:00:00.250Z", "--to"));

        ReplayCommand.Progress p = new ReplayCommand.Progress(100);
        p.coveredOffsets = 50;
        p.records = 50;
        p.bytes = 2_000_000;
        assertEquals(
                "[############............]  50%  50 records  2.0 MB  50 rec/s  ETA 0:01 ", p.line(1_000_000_000L));
        assertTrue(new ReplayCommand.Progress(10).line(0).contains("ETA --:--"));
    }
}
