package io.sluice.broker.internal;

import io.grpc.stub.StreamObserver;
import io.sluice.logstore.LogConfig;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.Broker;
import io.sluice.proto.v1.BrokerState;
import io.sluice.proto.v1.ConfigEntry;
import io.sluice.proto.v1.ConfigSource;
import io.sluice.proto.v1.CreateTopicRequest;
import io.sluice.proto.v1.CreateTopicResponse;
import io.sluice.proto.v1.DeleteTopicRequest;
import io.sluice.proto.v1.DeleteTopicResponse;
import io.sluice.proto.v1.DescribeClusterRequest;
import io.sluice.proto.v1.DescribeClusterResponse;
import io.sluice.proto.v1.DescribeTopicRequest;
import io.sluice.proto.v1.DescribeTopicResponse;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.GetMetadataRequest;
import io.sluice.proto.v1.GetMetadataResponse;
import io.sluice.proto.v1.ListTopicsRequest;
import io.sluice.proto.v1.ListTopicsResponse;
import io.sluice.proto.v1.PartitionDescription;
import io.sluice.proto.v1.PartitionMetadata;
import io.sluice.proto.v1.TopicDescription;
import io.sluice.proto.v1.TopicMetadata;
import io.sluice.proto.v1.TopicSummary;
import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The Admin service: topic creation and deletion (validated here, then forwarded to the controller through the
 * metadata client, answering when it has committed), listings and descriptions from this broker's applied metadata,
 * and routing metadata with partition leaders and broker endpoints.
 *
 * <p>Thread-safe; creation and deletion answer from the metadata client's completion threads without blocking.
 */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {
    /** Names a cluster until the controller assigns ids (the metadata has none yet). */
    static final String CLUSTER_ID = "sluice";

    private final BrokerBackend backend;
    private final LogConfig logDefaults;
    private final int maxPartitions;
    private final int defaultPartitions;
    private final int defaultReplicationFactor;
    private final PeerChannels peers;

    public AdminServiceImpl(
            BrokerBackend backend,
            LogConfig logDefaults,
            int maxPartitions,
            int defaultPartitions,
            int defaultReplicationFactor) {
        this(backend, logDefaults, maxPartitions, defaultPartitions, defaultReplicationFactor, PeerChannels.none());
    }

    public AdminServiceImpl(
            BrokerBackend backend,
            LogConfig logDefaults,
            int maxPartitions,
            int defaultPartitions,
            int defaultReplicationFactor,
            PeerChannels peers) {
        this.peers = peers;
        this.backend = backend;
        this.logDefaults = logDefaults;
        this.maxPartitions = maxPartitions;
        this.defaultPartitions = defaultPartitions;
        this.defaultReplicationFactor = defaultReplicationFactor;
    }

    @Override
    public void createTopic(CreateTopicRequest req, StreamObserver<CreateTopicResponse> out) {
        String name = req.getName();
        TopicNames.validateForCreate(name);
        int live = backend.metadata().current().liveBrokers().size();
        int partitions = req.getPartitions() == 0 ? defaultPartitions : req.getPartitions();
        if (partitions < 1 || partitions > maxPartitions) {
            throw BrokerException.badRequest(
                    ErrorCode.ERROR_CODE_INVALID_PARTITION_COUNT,
                    "partitions",
                    "partition count " + partitions + " is outside [1, " + maxPartitions + "] (topic.max.partitions)");
        }
        int rf = req.getReplicationFactor() == 0
                ? Math.max(1, Math.min(defaultReplicationFactor, live))
                : req.getReplicationFactor();
        // This broker's view of the live brokers may lag the controller's (a broker that just registered): above it,
        // only a validate-only request is refused here; a real one goes to the controller, which decides.
        if (rf < 1 || (rf > live && req.getValidateOnly())) {
            throw BrokerException.badRequest(
                    ErrorCode.ERROR_CODE_INVALID_REPLICATION_FACTOR,
                    "replication_factor",
                    "replication factor " + rf + " is outside [1, " + live + "] (the number of live brokers)");
        }
        Map<String, String> configs = new TreeMap<>(req.getConfigsMap());
        for (Map.Entry<String, String> e : configs.entrySet()) {
            try {
                LogConfig.fromMap(Map.of(e.getKey(), e.getValue()));
            } catch (IllegalArgumentException ex) {
                throw BrokerException.badRequest(ErrorCode.ERROR_CODE_INVALID_CONFIG, e.getKey(), ex.getMessage());
            }
        }
        if (req.getValidateOnly()) {
            if (backend.metadata().current().topic(name).isPresent()) {
                throw BrokerException.of(
                        ErrorCode.ERROR_CODE_TOPIC_ALREADY_EXISTS, "topic \"" + name + "\" already exists");
            }
            out.onNext(createResponse(name, partitions, rf, configs));
            out.onCompleted();
            return;
        }
        int p = partitions;
        int r = rf;
        backend.metadata().createTopic(name, p, r, configs).whenComplete((t, e) -> {
            if (e != null) {
                out.onError(Errors.toStatusException(e));
            } else {
                out.onNext(createResponse(name, t.partitionCount(), t.replicationFactor(), t.configs()));
                out.onCompleted();
            }
        });
    }

    private CreateTopicResponse createResponse(String name, int partitions, int rf, Map<String, String> configs) {
        return CreateTopicResponse.newBuilder()
                .setName(name)
                .setPartitions(partitions)
                .setReplicationFactor(rf)
                .addAllConfigs(effectiveConfigs(configs))
                .build();
    }

    private List<ConfigEntry> effectiveConfigs(Map<String, String> topicConfigs) {
        Map<String, String> effective = new TreeMap<>(logDefaults.toMap());
        List<ConfigEntry> out = new ArrayList<>();
        try {
            effective.putAll(LogConfig.fromMap(topicConfigs).toMap());
        } catch (IllegalArgumentException e) {
            effective.putAll(topicConfigs);
        }
        for (Map.Entry<String, String> e : effective.entrySet()) {
            boolean set = topicConfigs.containsKey(e.getKey());
            out.add(ConfigEntry.newBuilder()
                    .setName(e.getKey())
                    .setValue(set ? topicConfigs.get(e.getKey()) : e.getValue())
                    .setSource(set ? ConfigSource.CONFIG_SOURCE_TOPIC : ConfigSource.CONFIG_SOURCE_DEFAULT)
                    .build());
        }
        return out;
    }

    @Override
    public void deleteTopic(DeleteTopicRequest req, StreamObserver<DeleteTopicResponse> out) {
        String name = req.getName();
        if (TopicNames.isInternal(name)) {
            throw BrokerException.badRequest(
                    ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME,
                    "name",
                    "\"" + name + "\" is an internal topic (names starting with \"__\" are reserved); it cannot be"
                            + " deleted");
        }
        backend.metadata().deleteTopic(name).whenComplete((v, e) -> {
            if (e != null) {
                out.onError(Errors.toStatusException(e));
            } else {
                out.onNext(DeleteTopicResponse.getDefaultInstance());
                out.onCompleted();
            }
        });
    }

    @Override
    public void listTopics(ListTopicsRequest req, StreamObserver<ListTopicsResponse> out) {
        ListTopicsResponse.Builder b = ListTopicsResponse.newBuilder();
        for (TopicInfo t : backend.metadata().current().topics().values()) {
            boolean internal = TopicNames.isInternal(t.name());
            if (internal && !req.getIncludeInternal()) {
                continue;
            }
            b.addTopics(TopicSummary.newBuilder()
                    .setName(t.name())
                    .setPartitions(t.partitionCount())
                    .setReplicationFactor(t.replicationFactor())
                    .setInternal(internal));
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void describeTopic(DescribeTopicRequest req, StreamObserver<DescribeTopicResponse> out) {
        TopicInfo t = backend.metadata()
                .current()
                .topic(req.getName())
                .orElseThrow(() -> BrokerException.of(
                        ErrorCode.ERROR_CODE_UNKNOWN_TOPIC,
                        "unknown topic \"" + PartitionLookup.abbreviate(req.getName()) + "\""));
        TopicDescription.Builder d = TopicDescription.newBuilder()
                .setName(t.name())
                .setInternal(TopicNames.isInternal(t.name()))
                .setReplicationFactor(t.replicationFactor())
                .addAllConfigs(effectiveConfigs(t.configs()));
        for (PartitionAssignment a : t.partitions()) {
            PartitionDescription.Builder p = PartitionDescription.newBuilder()
                    .setPartition(a.partition())
                    .addAllReplicas(a.replicas());
            leader(t.name(), a.partition())
                    .ifPresent(l -> p.setLeaderId(l.brokerId()).setLeaderTerm(l.term()));
            backend.partition(t.name(), a.partition())
                    .filter(PartitionHandle::isLeader)
                    .ifPresent(h -> {
                        p.setHighWatermark(h.highWatermark())
                                .setLogStartOffset(h.logStartOffset())
                                .setLogEndOffset(h.logEndOffset());
                        // The leader's own view: followers that acknowledged and caught up recently.
                        p.addAllInSyncReplicas(h.inSyncReplicas());
                    });
            d.addPartitions(p);
        }
        if (!PeerChannels.localOnly()) {
            fillFromLeaders(d);
        }
        out.onNext(DescribeTopicResponse.newBuilder().setTopic(d).build());
        out.onCompleted();
    }

    /**
     * Asks each other leader for the log state of the partitions it leads (one call per leader, short deadline). Runs
     * on the request executor, never on a network thread; a leader that does not answer leaves the fields absent.
     */
    private void fillFromLeaders(TopicDescription.Builder d) {
        Map<Integer, List<Integer>> byLeader = new TreeMap<>();
        for (int i = 0; i < d.getPartitionsCount(); i++) {
            PartitionDescription p = d.getPartitions(i);
            if (!p.hasHighWatermark() && p.hasLeaderId() && p.getLeaderId() != backend.brokerId()) {
                byLeader.computeIfAbsent(p.getLeaderId(), k -> new ArrayList<>())
                        .add(i);
            }
        }
        for (Map.Entry<Integer, List<Integer>> e : byLeader.entrySet()) {
            Optional<io.grpc.ManagedChannel> ch = peers.channel(e.getKey());
            if (ch.isEmpty()) {
                continue;
            }
            io.grpc.Metadata h = new io.grpc.Metadata();
            h.put(PeerChannels.LOCAL_ONLY_HEADER, "1");
            TopicDescription remote;
            try {
                remote = AdminServiceGrpc.newBlockingStub(ch.get())
                        .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(h))
                        .withDeadlineAfter(1, java.util.concurrent.TimeUnit.SECONDS)
                        .describeTopic(DescribeTopicRequest.newBuilder()
                                .setName(d.getName())
                                .build())
                        .getTopic();
            } catch (io.grpc.StatusRuntimeException ex) {
                continue;
            }
            for (int i : e.getValue()) {
                int partition = d.getPartitions(i).getPartition();
                remote.getPartitionsList().stream()
                        .filter(rp -> rp.getPartition() == partition && rp.hasHighWatermark())
                        .findFirst()
                        .ifPresent(rp -> d.setPartitions(
                                i,
                                d.getPartitions(i).toBuilder()
                                        .setLeaderId(rp.getLeaderId())
                                        .setLeaderTerm(rp.getLeaderTerm())
                                        .setHighWatermark(rp.getHighWatermark())
                                        .setLogStartOffset(rp.getLogStartOffset())
                                        .setLogEndOffset(rp.getLogEndOffset())
                                        .clearInSyncReplicas()
                                        .addAllInSyncReplicas(rp.getInSyncReplicasList())));
            }
        }
    }

    private Optional<BrokerBackend.LeaderInfo> leader(String topic, int partition) {
        Optional<PartitionHandle> local = backend.partition(topic, partition);
        if (local.isPresent()) {
            // Read once: the leader may be lost between two reads (it was, under failover: INTERNAL on GetMetadata).
            OptionalInt id = local.get().leaderId();
            if (id.isPresent()) {
                return Optional.of(
                        new BrokerBackend.LeaderInfo(id.getAsInt(), local.get().leaderTerm()));
            }
        }
        return backend.leaderOf(topic, partition);
    }

    @Override
    public void describeCluster(DescribeClusterRequest req, StreamObserver<DescribeClusterResponse> out) {
        ClusterMetadata m = backend.metadata().current();
        DescribeClusterResponse.Builder b = DescribeClusterResponse.newBuilder().setClusterId(CLUSTER_ID);
        backend.metadata().controllerId().ifPresent(b::setControllerId);
        for (BrokerInfo bi : m.brokers().values()) {
            b.addBrokers(broker(bi, m));
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    private static Broker broker(BrokerInfo bi, ClusterMetadata m) {
        return Broker.newBuilder()
                .setId(bi.id())
                .setHost(bi.host())
                .setGrpcPort(bi.grpcPort())
                .setRaftPort(bi.raftPort())
                .setHttpPort(bi.httpPort())
                .setRack(bi.rack().orElse(""))
                .setState(m.isAlive(bi.id()) ? BrokerState.BROKER_STATE_ALIVE : BrokerState.BROKER_STATE_DEAD)
                .build();
    }

    @Override
    public void getMetadata(GetMetadataRequest req, StreamObserver<GetMetadataResponse> out) {
        ClusterMetadata m = backend.metadata().current();
        GetMetadataResponse.Builder b =
                GetMetadataResponse.newBuilder().setClusterId(CLUSTER_ID).setMetadataOffset(m.version());
        backend.metadata().controllerId().ifPresent(b::setControllerId);
        for (BrokerInfo bi : m.brokers().values()) {
            b.addBrokers(broker(bi, m));
        }
        TreeSet<String> names = new TreeSet<>();
        if (req.getTopicsCount() == 0) {
            for (String n : m.topics().keySet()) {
                if (req.getIncludeInternal() || !TopicNames.isInternal(n)) {
                    names.add(n);
                }
            }
        } else {
            names.addAll(req.getTopicsList());
        }
        for (String n : names) {
            TopicMetadata.Builder tm = TopicMetadata.newBuilder().setName(n).setInternal(TopicNames.isInternal(n));
            Optional<TopicInfo> t = m.topic(n);
            if (t.isEmpty()) {
                try {
                    TopicNames.validateSyntax(n);
                    tm.setError(Errors.toErrorInfo(BrokerException.of(
                            ErrorCode.ERROR_CODE_UNKNOWN_TOPIC,
                            "unknown topic \"" + PartitionLookup.abbreviate(n) + "\"")));
                } catch (BrokerException e) {
                    tm.setError(e.info());
                }
            } else {
                for (PartitionAssignment a : t.get().partitions()) {
                    PartitionMetadata.Builder pm = PartitionMetadata.newBuilder()
                            .setPartition(a.partition())
                            .addAllReplicas(a.replicas());
                    leader(n, a.partition())
                            .ifPresent(l -> pm.setLeaderId(l.brokerId()).setLeaderTerm(l.term()));
                    tm.addPartitions(pm);
                }
            }
            b.addTopics(tm);
        }
        out.onNext(b.build());
        out.onCompleted();
    }
}
