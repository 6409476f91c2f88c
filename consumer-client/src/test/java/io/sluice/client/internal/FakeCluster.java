package io.sluice.client.internal;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.proto.v1.*;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An in-process stand-in for a Sluice cluster implementing the v1 services just enough to test the SDK's
 * protocol behaviour: brokers named {@code b<id>:1}, one shared log per partition, a movable leader per
 * partition (non-leaders answer NOT_LEADER with a hint), pipelined produce with optionally held acks, and
 * credit-driven fetch streams that push new batches, and a group coordinator ({@link FakeGroups}). Thread-safe
 * (coarse lock on the cluster).
 */
final class FakeCluster implements AutoCloseable {
    final Map<String, Integer> topics = new ConcurrentSkipListMap<>();
    final Map<TopicPartition, List<ByteBuffer>> logs = new ConcurrentHashMap<>();
    final Map<TopicPartition, Integer> leaders = new ConcurrentHashMap<>();
    /** Leader reported by GetMetadata; differs from {@link #leaders} to simulate stale metadata. */
    final Map<TopicPartition, Integer> advertised = new ConcurrentHashMap<>();

    final List<Server> servers = new ArrayList<>();
    final FakeGroups groups = new FakeGroups(this);
    final List<FetchStream> fetchStreams = new CopyOnWriteArrayList<>();
    final AtomicInteger produceRequests = new AtomicInteger();
    /** The partition of every produce request, in the order they arrived. */
    final List<Integer> producePartitions = java.util.Collections.synchronizedList(new ArrayList<>());

    final AtomicInteger maxProduceInFlight = new AtomicInteger();
    final AtomicInteger notLeaderAnswers = new AtomicInteger();
    final AtomicInteger unspentCreditViolations = new AtomicInteger();
    final AtomicInteger fetchResponsesWithRecords = new AtomicInteger();
    final AtomicInteger creditsGranted = new AtomicInteger();
    final AtomicInteger creditMessages = new AtomicInteger();
    volatile boolean holdAcks;
    final List<Runnable> heldAcks = new ArrayList<>();
    private int inFlight;
    final int brokerCount;

    FakeCluster(int brokers) throws Exception {
        this.brokerCount = brokers;
        for (int id = 1; id <= brokers; id++) {
            servers.add(InProcessServerBuilder.forName(endpoint(id))
                    .addService(new Admin(id))
                    .addService(new Produce(id))
                    .addService(new Fetch(id))
                    .addService(groups.new Service(id))
                    .build()
                    .start());
        }
    }

    static String endpoint(int id) {
        return "b" + id + ":1";
    }

    Function<String, ManagedChannel> channels() {
        return e -> InProcessChannelBuilder.forName(e).build();
    }

    synchronized void createTopic(String name, int partitions, int leader) {
        topics.put(name, partitions);
        for (int p = 0; p < partitions; p++) {
            TopicPartition tp = new TopicPartition(name, p);
            logs.put(tp, new ArrayList<>());
            leaders.put(tp, leader);
            advertised.put(tp, leader);
        }
    }

    /** Moves leadership; streams at the old leader fail with NOT_LEADER naming the new one. */
    void moveLeader(TopicPartition tp, int to, boolean advertise) {
        leaders.put(tp, to);
        if (advertise) {
            advertised.put(tp, to);
        }
        for (FetchStream s : fetchStreams) {
            if (s.tp != null && s.tp.equals(tp) && s.broker != to) {
                s.fail(notLeader(tp));
            }
        }
    }

    synchronized List<ByteBuffer> log(TopicPartition tp) {
        return new ArrayList<>(logs.get(tp));
    }

    synchronized long logEnd(TopicPartition tp) {
        List<ByteBuffer> l = logs.get(tp);
        return l.isEmpty() ? 0 : RecordBatch.wrap(l.get(l.size() - 1)).nextOffset();
    }

    ErrorInfo notLeader(TopicPartition tp) {
        int leader = leaders.get(tp);
        return ErrorInfo.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_NOT_LEADER)
                .setMessage("not the leader of " + tp)
                .setNotLeader(NotLeaderDetail.newBuilder()
                        .setLeaderId(leader)
                        .setLeaderEndpoint(
                                Endpoint.newBuilder().setHost("b" + leader).setPort(1))
                        .setLeaderTerm(System.nanoTime()))
                .build();
    }

    static io.grpc.StatusRuntimeException failure(Status status, ErrorInfo info) {
        Metadata m = new Metadata();
        m.put(ErrorMapper.ERROR_TRAILER, info.toByteArray());
        return status.withDescription(info.getMessage()).asRuntimeException(m);
    }

    private ErrorInfo unknownTopic(String t) {
        return ErrorInfo.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_UNKNOWN_TOPIC)
                .setMessage("unknown topic '" + t + "'")
                .build();
    }

    /** Appends a batch (stamping its base offset); returns {base, last}. */
    long[] append(TopicPartition tp, ByteBuffer batch) {
        long[] result;
        synchronized (this) {
            ByteBuffer copy = ByteBuffer.allocate(batch.remaining())
                    .put(batch.duplicate())
                    .flip();
            long base = logEnd(tp);
            RecordBatch.stampBaseOffset(copy, 0, base);
            RecordBatch b = RecordBatch.wrap(copy);
            b.ensureValid();
            logs.get(tp).add(copy);
            result = new long[] {base, b.lastOffset()};
        }
        // outside the cluster lock: streams take their own lock, then the cluster's
        for (FetchStream s : fetchStreams) {
            s.pump();
        }
        return result;
    }

    @Override
    public void close() {
        servers.forEach(Server::shutdownNow);
    }

    final class Admin extends AdminServiceGrpc.AdminServiceImplBase {
        final int id;

        Admin(int id) {
            this.id = id;
        }

        @Override
        public void getMetadata(GetMetadataRequest req, StreamObserver<GetMetadataResponse> obs) {
            GetMetadataResponse.Builder r = GetMetadataResponse.newBuilder().setClusterId("fake");
            for (int b = 1; b <= brokerCount; b++) {
                r.addBrokers(Broker.newBuilder().setId(b).setHost("b" + b).setGrpcPort(1));
            }
            List<String> names = req.getTopicsCount() == 0 ? new ArrayList<>(topics.keySet()) : req.getTopicsList();
            for (String t : names) {
                Integer n = topics.get(t);
                if (n == null) {
                    r.addTopics(TopicMetadata.newBuilder().setName(t).setError(unknownTopic(t)));
                    continue;
                }
                TopicMetadata.Builder tm = TopicMetadata.newBuilder().setName(t);
                for (int p = 0; p < n; p++) {
                    tm.addPartitions(PartitionMetadata.newBuilder()
                            .setPartition(p)
                            .setLeaderId(advertised.get(new TopicPartition(t, p))));
                }
                r.addTopics(tm);
            }
            obs.onNext(r.build());
            obs.onCompleted();
        }

        @Override
        public void createTopic(CreateTopicRequest req, StreamObserver<CreateTopicResponse> obs) {
            if (topics.containsKey(req.getName())) {
                obs.onError(failure(
                        Status.ALREADY_EXISTS,
                        ErrorInfo.newBuilder()
                                .setCode(ErrorCode.ERROR_CODE_TOPIC_ALREADY_EXISTS)
                                .setMessage("topic '" + req.getName() + "' already exists")
                                .build()));
                return;
            }
            int n = req.getPartitions() == 0 ? 1 : req.getPartitions();
            FakeCluster.this.createTopic(req.getName(), n, 1);
            obs.onNext(CreateTopicResponse.newBuilder()
                    .setName(req.getName())
                    .setPartitions(n)
                    .setReplicationFactor(req.getReplicationFactor() == 0 ? 1 : req.getReplicationFactor())
                    .build());
            obs.onCompleted();
        }

        @Override
        public void listTopics(ListTopicsRequest req, StreamObserver<ListTopicsResponse> obs) {
            ListTopicsResponse.Builder r = ListTopicsResponse.newBuilder();
            topics.forEach((t, n) -> r.addTopics(
                    TopicSummary.newBuilder().setName(t).setPartitions(n).setReplicationFactor(1)));
            obs.onNext(r.build());
            obs.onCompleted();
        }

        @Override
        public void describeTopic(DescribeTopicRequest req, StreamObserver<DescribeTopicResponse> obs) {
            Integer n = topics.get(req.getName());
            if (n == null) {
                obs.onError(failure(Status.NOT_FOUND, unknownTopic(req.getName())));
                return;
            }
            io.sluice.proto.v1.TopicDescription.Builder d = io.sluice.proto.v1.TopicDescription.newBuilder()
                    .setName(req.getName())
                    .setReplicationFactor(1);
            for (int p = 0; p < n; p++) {
                TopicPartition tp = new TopicPartition(req.getName(), p);
                d.addPartitions(PartitionDescription.newBuilder()
                        .setPartition(p)
                        .setLeaderId(leaders.get(tp))
                        .addReplicas(leaders.get(tp))
                        .addInSyncReplicas(leaders.get(tp))
                        .setHighWatermark(logEnd(tp))
                        .setLogStartOffset(0)
                        .setLogEndOffset(logEnd(tp)));
            }
            d.addConfigs(ConfigEntry.newBuilder()
                    .setName("retention.ms")
                    .setValue("604800000")
                    .setSource(ConfigSource.CONFIG_SOURCE_DEFAULT));
            obs.onNext(DescribeTopicResponse.newBuilder().setTopic(d).build());
            obs.onCompleted();
        }

        @Override
        public void deleteTopic(DeleteTopicRequest req, StreamObserver<DeleteTopicResponse> obs) {
            if (topics.remove(req.getName()) == null) {
                obs.onError(failure(Status.NOT_FOUND, unknownTopic(req.getName())));
                return;
            }
            obs.onNext(DeleteTopicResponse.getDefaultInstance());
            obs.onCompleted();
        }

        @Override
        public void describeCluster(DescribeClusterRequest req, StreamObserver<DescribeClusterResponse> obs) {
            DescribeClusterResponse.Builder r =
                    DescribeClusterResponse.newBuilder().setClusterId("fake").setControllerId(1);
            for (int b = 1; b <= brokerCount; b++) {
                r.addBrokers(Broker.newBuilder()
                        .setId(b)
                        .setHost("b" + b)
                        .setGrpcPort(1)
                        .setRaftPort(2)
                        .setState(BrokerState.BROKER_STATE_ALIVE));
            }
            obs.onNext(r.build());
            obs.onCompleted();
        }
    }

    final class Produce extends ProduceServiceGrpc.ProduceServiceImplBase {
        final int id;

        Produce(int id) {
            this.id = id;
        }

        @Override
        public StreamObserver<ProduceRequest> produce(StreamObserver<ProduceResponse> obs) {
            return new StreamObserver<>() {
                @Override
                public void onNext(ProduceRequest req) {
                    TopicPartition tp = new TopicPartition(req.getTopic(), req.getPartition());
                    producePartitions.add(req.getPartition());
                    ProduceResponse.Builder r = ProduceResponse.newBuilder()
                            .setRequestId(req.getRequestId())
                            .setTopic(req.getTopic())
                            .setPartition(req.getPartition());
                    Runnable respond;
                    if (!leaders.containsKey(tp)) {
                        r.setError(unknownTopic(req.getTopic()));
                        respond = () -> send(obs, r.build());
                    } else if (leaders.get(tp) != id) {
                        notLeaderAnswers.incrementAndGet();
                        r.setError(notLeader(tp));
                        respond = () -> send(obs, r.build());
                    } else {
                        long[] offsets = append(tp, req.getRecords().asReadOnlyByteBuffer());
                        r.setBaseOffset(offsets[0]).setLastOffset(offsets[1]);
                        respond = () -> send(obs, r.build());
                    }
                    synchronized (FakeCluster.this) {
                        inFlight++;
                        maxProduceInFlight.accumulateAndGet(inFlight, Math::max);
                        // Counted only after the in-flight peak is recorded, so a test that waits on the
                        // count sees the peak that includes this request.
                        produceRequests.incrementAndGet();
                        if (holdAcks) {
                            heldAcks.add(respond);
                            return;
                        }
                    }
                    respond.run();
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    obs.onCompleted();
                }
            };
        }

        private void send(StreamObserver<ProduceResponse> obs, ProduceResponse r) {
            synchronized (FakeCluster.this) {
                inFlight--;
                obs.onNext(r);
            }
        }
    }

    void releaseAcks() {
        List<Runnable> acks;
        synchronized (this) {
            holdAcks = false;
            acks = new ArrayList<>(heldAcks);
            heldAcks.clear();
        }
        acks.forEach(Runnable::run);
    }

    /** One Fetch stream: sends one batch per response while it has credit. */
    final class FetchStream implements StreamObserver<FetchRequest> {
        final int broker;
        final StreamObserver<FetchResponse> obs;
        TopicPartition tp;
        long next;
        int credits;
        boolean done;

        FetchStream(int broker, StreamObserver<FetchResponse> obs) {
            this.broker = broker;
            this.obs = obs;
        }

        @Override
        public synchronized void onNext(FetchRequest req) {
            if (req.hasCredit()) {
                credits += req.getCredit().getCredits();
                creditsGranted.addAndGet(req.getCredit().getCredits());
                creditMessages.incrementAndGet();
                pump();
                return;
            }
            FetchStart s = req.getStart();
            tp = new TopicPartition(s.getTopic(), s.getPartition());
            if (!leaders.containsKey(tp)) {
                fail(unknownTopic(s.getTopic()));
                return;
            }
            if (leaders.get(tp) != broker) {
                notLeaderAnswers.incrementAndGet();
                fail(notLeader(tp));
                return;
            }
            long end = logEnd(tp);
            if (s.hasOffset()) {
                if (s.getOffset() > end) {
                    fail(ErrorInfo.newBuilder()
                            .setCode(ErrorCode.ERROR_CODE_OFFSET_OUT_OF_RANGE)
                            .setMessage("offset " + s.getOffset() + " out of range")
                            .setOffsetRange(OffsetRangeDetail.newBuilder().setHighWatermark(end))
                            .build());
                    return;
                }
                next = s.getOffset();
            } else if (s.getBoundary() == LogBoundary.LOG_BOUNDARY_LATEST) {
                next = end;
            } else {
                next = 0;
            }
            credits = s.getInitialCredits();
            obs.onNext(FetchResponse.newBuilder()
                    .setTopic(tp.topic())
                    .setPartition(tp.partition())
                    .setNextOffset(next)
                    .setHighWatermark(end)
                    .build());
            fetchStreams.add(this);
            pump();
        }

        synchronized void pump() {
            if (done || tp == null) {
                return;
            }
            for (ByteBuffer b : log(tp)) {
                RecordBatch batch = RecordBatch.wrap(b);
                if (batch.nextOffset() <= next) {
                    continue;
                }
                if (credits <= 0) {
                    return;
                }
                if (credits < 0) {
                    unspentCreditViolations.incrementAndGet();
                }
                credits--;
                fetchResponsesWithRecords.incrementAndGet();
                next = batch.nextOffset();
                obs.onNext(FetchResponse.newBuilder()
                        .setTopic(tp.topic())
                        .setPartition(tp.partition())
                        .setRecords(com.google.protobuf.ByteString.copyFrom(b.duplicate()))
                        .setNextOffset(next)
                        .setHighWatermark(logEnd(tp))
                        .build());
            }
        }

        synchronized void fail(ErrorInfo info) {
            if (done) {
                return;
            }
            done = true;
            fetchStreams.remove(this);
            obs.onError(failure(Status.UNAVAILABLE, info));
        }

        @Override
        public synchronized void onError(Throwable t) {
            done = true;
            fetchStreams.remove(this);
        }

        @Override
        public synchronized void onCompleted() {
            done = true;
            fetchStreams.remove(this);
            obs.onCompleted();
        }
    }

    final class Fetch extends FetchServiceGrpc.FetchServiceImplBase {
        final int id;

        Fetch(int id) {
            this.id = id;
        }

        @Override
        public StreamObserver<FetchRequest> fetch(StreamObserver<FetchResponse> obs) {
            return new FetchStream(id, obs);
        }

        @Override
        public void listOffsets(ListOffsetsRequest req, StreamObserver<ListOffsetsResponse> obs) {
            ListOffsetsResponse.Builder r = ListOffsetsResponse.newBuilder();
            for (ListOffsetsQuery q : req.getQueriesList()) {
                TopicPartition tp = new TopicPartition(q.getTopic(), q.getPartition());
                ListOffsetsResult.Builder res =
                        ListOffsetsResult.newBuilder().setTopic(q.getTopic()).setPartition(q.getPartition());
                if (leaders.get(tp) != id) {
                    res.setError(notLeader(tp));
                } else if (q.hasBoundary() && q.getBoundary() == LogBoundary.LOG_BOUNDARY_EARLIEST) {
                    res.setOffset(0);
                } else if (q.hasTimestampMs()) {
                    res.setOffset(groups.offsetForTime(tp, q.getTimestampMs()));
                } else {
                    res.setOffset(logEnd(tp));
                }
                r.addResults(res);
            }
            obs.onNext(r.build());
            obs.onCompleted();
        }
    }
}
