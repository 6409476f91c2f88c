package io.sluice.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.sluice.client.Acks;
import io.sluice.client.ConsumedRecord;
import io.sluice.client.Consumer;
import io.sluice.client.ErrorCode;
import io.sluice.client.Header;
import io.sluice.client.NewTopic;
import io.sluice.client.NotLeaderException;
import io.sluice.client.OffsetSpec;
import io.sluice.client.Producer;
import io.sluice.client.Record;
import io.sluice.client.RecordPosition;
import io.sluice.client.SluiceClient;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.RecordBatch;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SDK against {@link FakeCluster}: produce/fetch protocol behaviour, redirects and failover. */
class ClientProtocolTest {
    private FakeCluster cluster;
    private SluiceClient client;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        client = new ClientBuilderImpl()
                .channelFactory(cluster.channels())
                .bootstrap(FakeCluster.endpoint(1))
                .build();
    }

    @AfterEach
    void tearDown() {
        client.close();
        cluster.close();
    }

    static void waitFor(BooleanSupplier condition, Duration timeout, String message) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + message);
            }
            Thread.sleep(5);
        }
    }

    private List<ConsumedRecord> consume(Consumer consumer, int n) {
        List<ConsumedRecord> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            out.addAll(consumer.poll(Duration.ofMillis(100)));
        }
        return out;
    }

    @Test
    void produceAndFetchResponsesAreDeliveredWithoutAHandOff() {
        Map<String, Executor> executors = new ConcurrentHashMap<>();
        ClientInterceptor capture = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> m, CallOptions o, Channel next) {
                executors.put(m.getBareMethodName(), o.getExecutor() == null ? r -> {} : o.getExecutor());
                return next.newCall(m, o);
            }
        };
        cluster.createTopic("t", 1, 1);
        try (SluiceClient c = new ClientBuilderImpl()
                        .channelFactory(e -> InProcessChannelBuilder.forName(e)
                                .intercept(capture)
                                .build())
                        .bootstrap(FakeCluster.endpoint(1))
                        .build();
                Producer p = c.newProducer().create();
                Consumer consumer = c.newConsumer().create()) {
            p.sendAsync(Record.of("t", "k", "v")).join();
            consumer.assign(List.of(new TopicPartition("t", 0)));
            assertEquals(1, consume(consumer, 1).size());
        }
        assertSame(MoreExecutors.directExecutor(), executors.get("Produce"), "produce: " + executors);
        assertSame(MoreExecutors.directExecutor(), executors.get("Fetch"), "fetch: " + executors);
    }

    @Test
    void producesAndConsumesWithKeysHeadersAndOffsets() {
        cluster.createTopic("t", 2, 1);
        try (Producer p = client.newProducer().create()) {
            List<CompletableFuture<RecordPosition>> fs = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                fs.add(p.sendAsync(Record.of("t", "k" + (i % 3), "v" + i).withHeaders(List.of(Header.of("h", "x")))));
            }
            p.flush();
            for (var f : fs) {
                assertTrue(f.isDone() && !f.isCompletedExceptionally());
            }
            RecordPosition first = fs.get(0).join();
            assertEquals(Partitioners.forKey("k0".getBytes(), 2), first.partition());
        }
        try (Consumer c = client.newConsumer().create()) {
            c.assign(List.of(new TopicPartition("t", 0), new TopicPartition("t", 1)));
            List<ConsumedRecord> got = consume(c, 20);
            assertEquals(20, got.size());
            for (ConsumedRecord r : got) {
                assertEquals("x", new String(r.headers().get(0).value()));
                int i = Integer.parseInt(r.valueAsString().substring(1));
                assertEquals("k" + (i % 3), r.keyAsString());
            }
            for (int part = 0; part < 2; part++) {
                final int pp = part;
                List<Long> offsets = got.stream()
                        .filter(r -> r.partition() == pp)
                        .map(ConsumedRecord::offset)
                        .toList();
                for (int i = 0; i < offsets.size(); i++) {
                    assertEquals(i, offsets.get(i));
                }
            }
        }
    }

    @Test
    void pipelinesRequestsOnOneStream() throws Exception {
        cluster.createTopic("t", 4, 1);
        cluster.holdAcks = true;
        try (Producer p =
                client.newProducer().linger(Duration.ZERO).maxInFlight(8).create()) {
            List<CompletableFuture<RecordPosition>> fs = new ArrayList<>();
            for (int part = 0; part < 4; part++) {
                fs.add(p.sendAsync(Record.of("t", null, "v").withPartition(part)));
            }
            waitFor(() -> cluster.produceRequests.get() >= 4, Duration.ofSeconds(30), "4 requests in flight");
            assertTrue(cluster.maxProduceInFlight.get() >= 4, "requests were pipelined");
            assertTrue(fs.stream().noneMatch(CompletableFuture::isDone));
            cluster.releaseAcks();
            for (var f : fs) {
                assertEquals(0, f.get().offset());
            }
        }
    }

    @Test
    void partitionsOnOneBrokerTakeTurnsForItsInFlightSlots() throws Exception {
        cluster.createTopic("t", 2, 1);
        cluster.holdAcks = true;
        try (Producer p = client.newProducer()
                .linger(Duration.ZERO)
                .batchSize(1024) // with 1000-byte values, every record a batch, so every record a request
                .maxInFlight(1)
                .create()) {
            List<CompletableFuture<RecordPosition>> fs = new ArrayList<>();
            String pad = "x".repeat(1000);
            fs.add(p.sendAsync(Record.of("t", null, pad).withPartition(0)));
            waitFor(() -> cluster.produceRequests.get() == 1, Duration.ofSeconds(30), "the only slot taken");
            // queued behind it: six batches of partition 0, then six of partition 1
            for (int i = 0; i < 6; i++) {
                fs.add(p.sendAsync(Record.of("t", null, pad).withPartition(0)));
            }
            for (int i = 0; i < 6; i++) {
                fs.add(p.sendAsync(Record.of("t", null, pad).withPartition(1)));
            }
            cluster.releaseAcks();
            for (var f : fs) {
                f.get();
            }
            // one slot, handed out in turn: partition 1 does not wait for all of partition 0
            assertEquals(List.of(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0), List.copyOf(cluster.producePartitions));
        }
    }

    @Test
    void followsNotLeaderHintAndKeepsPartitionOrder() {
        cluster.createTopic("t", 1, 1);
        TopicPartition tp = new TopicPartition("t", 0);
        try (Producer p = client.newProducer()
                .linger(Duration.ofMillis(1))
                .batchSize(1024)
                .create()) {
            List<CompletableFuture<RecordPosition>> fs = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                if (i == 100) {
                    cluster.moveLeader(tp, 2, false); // metadata still advertises broker 1
                }
                if (i == 200) {
                    cluster.moveLeader(tp, 3, true);
                }
                fs.add(p.sendAsync(
                        Record.of("t", null, String.format("%05d", i)).withPartition(0)));
            }
            p.flush();
            for (int i = 0; i < fs.size(); i++) {
                assertEquals(i, fs.get(i).join().offset(), "record " + i + " at its send position");
            }
        }
        assertTrue(cluster.notLeaderAnswers.get() > 0, "a redirect happened");
        List<String> values = new ArrayList<>();
        for (ByteBuffer b : cluster.log(tp)) {
            RecordBatch.wrap(b).forEach(r -> values.add(new String(r.valueBytes())));
        }
        assertEquals(300, values.size());
        for (int i = 0; i < 300; i++) {
            assertEquals(String.format("%05d", i), values.get(i));
        }
    }

    @Test
    void producerWithoutRetriesFollowsTheNewLeaderAfterAFailure() {
        // Found by KillLeaderIT: with retries(0) a NOT_LEADER failed the batch but left the cached leader in place,
        // so every later record of the partition went to the old leader and failed too.
        cluster.createTopic("t", 1, 1);
        TopicPartition tp = new TopicPartition("t", 0);
        try (Producer p = client.newProducer().retries(0).linger(Duration.ZERO).create()) {
            assertEquals(0, p.send(Record.of("t", null, "a").withPartition(0)).offset());
            cluster.moveLeader(tp, 2, true);
            assertThrows(
                    NotLeaderException.class,
                    () -> p.send(Record.of("t", null, "b").withPartition(0)));
            assertEquals(1, p.send(Record.of("t", null, "c").withPartition(0)).offset(), "sent to the new leader");
        }
    }

    @Test
    void consumerRespectsCredits() throws Exception {
        cluster.createTopic("t", 1, 1);
        try (Producer p = client.newProducer().linger(Duration.ZERO).create()) {
            for (int i = 0; i < 20; i++) {
                p.send(Record.of("t", null, "v" + i)); // one batch each
            }
        }
        try (Consumer c = client.newConsumer().credits(2).create()) {
            c.assign(List.of(new TopicPartition("t", 0)));
            // before any poll opens the stream, nothing is sent; after one poll, at most the credits
            List<ConsumedRecord> got = new ArrayList<>(c.poll(Duration.ofSeconds(2)));
            waitFor(() -> cluster.fetchResponsesWithRecords.get() >= 2, Duration.ofSeconds(30), "initial credits used");
            assertTrue(
                    cluster.fetchResponsesWithRecords.get() <= 2 + cluster.creditsGranted.get(),
                    "broker never sends beyond granted credit");
            got.addAll(consume(c, 20 - got.size()));
            assertEquals(20, got.size());
            assertEquals(20, cluster.fetchResponsesWithRecords.get());
            assertTrue(cluster.creditsGranted.get() >= 18, "credits granted back as responses are consumed");
        }
    }

    @Test
    void consumerReturnsCreditsAQuarterAtATime() throws Exception {
        cluster.createTopic("t", 1, 1);
        try (Producer p = client.newProducer().linger(Duration.ZERO).create()) {
            for (int i = 0; i < 40; i++) {
                p.send(Record.of("t", null, "v" + i)); // one batch, so one response, each
            }
        }
        try (Consumer c = client.newConsumer().credits(8).create()) {
            c.assign(List.of(new TopicPartition("t", 0)));
            List<ConsumedRecord> got = consume(c, 40);
            assertEquals(40, got.size());
            for (int i = 0; i < 40; i++) {
                assertEquals("v" + i, got.get(i).valueAsString());
            }
            assertEquals(40, cluster.fetchResponsesWithRecords.get());
            assertEquals(0, cluster.unspentCreditViolations.get());
            // 40 responses, credits returned 2 (= 8 / 4) at a time: 20 messages, not 40
            waitFor(() -> cluster.creditsGranted.get() == 40, Duration.ofSeconds(30), "every credit returned");
            assertEquals(20, cluster.creditMessages.get());
        }
    }

    @Test
    void consumerFailsOverWithoutLossOrRepeat() throws Exception {
        cluster.createTopic("t", 1, 1);
        TopicPartition tp = new TopicPartition("t", 0);
        try (Producer p = client.newProducer().linger(Duration.ZERO).create();
                Consumer c = client.newConsumer().credits(3).maxPollRecords(7).create()) {
            c.assign(List.of(tp));
            for (int i = 0; i < 50; i++) {
                p.sendAsync(Record.of("t", null, "v" + i));
            }
            p.flush();
            List<ConsumedRecord> got = new ArrayList<>(consume(c, 20));
            cluster.moveLeader(tp, 2, false);
            for (int i = 50; i < 100; i++) {
                p.sendAsync(Record.of("t", null, "v" + i));
            }
            p.flush();
            got.addAll(consume(c, 100 - got.size()));
            cluster.moveLeader(tp, 3, true);
            got.addAll(consume(c, 100 - got.size()));
            assertEquals(100, got.size());
            for (int i = 0; i < 100; i++) {
                assertEquals(i, got.get(i).offset());
                assertEquals("v" + i, got.get(i).valueAsString());
            }
            assertEquals(100, c.position(tp));
        }
    }

    @Test
    void seekSkipsRecordsBelowTheOffsetInsideABatch() {
        cluster.createTopic("t", 1, 1);
        TopicPartition tp = new TopicPartition("t", 0);
        try (Producer p = client.newProducer().linger(Duration.ofSeconds(5)).create()) {
            for (int i = 0; i < 10; i++) {
                p.sendAsync(Record.of("t", null, "v" + i));
            }
            p.flush(); // one batch of ten
        }
        assertEquals(1, cluster.log(tp).size());
        try (Consumer c = client.newConsumer().create()) {
            c.assign(List.of(tp));
            c.seek(tp, 7);
            List<ConsumedRecord> got = consume(c, 3);
            assertEquals(
                    List.of(7L, 8L, 9L),
                    got.stream().map(ConsumedRecord::offset).toList());
            c.seekToEnd(List.of(tp));
            assertEquals(10, c.position(tp));
        }
    }

    @Test
    void adminAndErrors() {
        client.admin().createTopic(new NewTopic("a", 3, 1, Map.of()));
        SluiceException e =
                assertThrows(SluiceException.class, () -> client.admin().createTopic(NewTopic.of("a")));
        assertEquals(ErrorCode.TOPIC_ALREADY_EXISTS, e.code());
        assertEquals(1, client.admin().listTopics(false).size());
        assertEquals(3, client.admin().describeTopic("a").partitions().size());
        assertEquals(3, client.admin().describeCluster().brokers().size());
        assertEquals(
                0L,
                client.admin()
                        .listOffsets(Map.of(new TopicPartition("a", 1), OffsetSpec.latest()))
                        .get(new TopicPartition("a", 1)));
        SluiceException missing =
                assertThrows(SluiceException.class, () -> client.admin().describeTopic("nope"));
        assertEquals(ErrorCode.UNKNOWN_TOPIC, missing.code());
        client.admin().deleteTopic("a");
        assertEquals(0, client.admin().listTopics(false).size());
    }

    @Test
    void produceToUnknownTopicFailsAfterMaxBlock() {
        client.admin().listTopics(false); // the channel is up: max block is spent waiting on metadata, not connecting
        try (Producer p = client.newProducer().maxBlock(Duration.ofSeconds(2)).create()) {
            var f = p.sendAsync(Record.of("missing", "k", "v"));
            SluiceException e =
                    assertInstanceOf(SluiceException.class, ErrorMapper.unwrap(assertThrows(Exception.class, f::join)));
            assertEquals(ErrorCode.UNKNOWN_TOPIC, e.code());
        }
    }

    @Test
    void acksAndCloseAreIdempotent() {
        cluster.createTopic("t", 1, 1);
        Producer p = client.newProducer().acks(Acks.LEADER).create();
        p.send(Record.of("t", "k", "v"));
        p.close();
        p.close();
        assertThrows(
                Exception.class, () -> p.sendAsync(Record.of("t", "k", "v")).join());
        client.close();
        client.close();
    }
}
