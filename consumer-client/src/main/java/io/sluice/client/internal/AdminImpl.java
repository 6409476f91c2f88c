package io.sluice.client.internal;

import io.sluice.client.Admin;
import io.sluice.client.BrokerInfo;
import io.sluice.client.ClusterDescription;
import io.sluice.client.ErrorCode;
import io.sluice.client.GroupDescription;
import io.sluice.client.GroupListing;
import io.sluice.client.GroupState;
import io.sluice.client.NewTopic;
import io.sluice.client.NotLeaderException;
import io.sluice.client.OffsetResetResult;
import io.sluice.client.OffsetResetSpec;
import io.sluice.client.OffsetSpec;
import io.sluice.client.PartitionInfo;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicDescription;
import io.sluice.client.TopicListing;
import io.sluice.client.TopicPartition;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.Broker;
import io.sluice.proto.v1.BrokerState;
import io.sluice.proto.v1.ConfigEntry;
import io.sluice.proto.v1.ConfigSource;
import io.sluice.proto.v1.CreateTopicRequest;
import io.sluice.proto.v1.CreateTopicResponse;
import io.sluice.proto.v1.DeleteGroupRequest;
import io.sluice.proto.v1.DeleteGroupResponse;
import io.sluice.proto.v1.DeleteTopicRequest;
import io.sluice.proto.v1.DeleteTopicResponse;
import io.sluice.proto.v1.DescribeClusterRequest;
import io.sluice.proto.v1.DescribeClusterResponse;
import io.sluice.proto.v1.DescribeGroupRequest;
import io.sluice.proto.v1.DescribeGroupResponse;
import io.sluice.proto.v1.DescribeTopicRequest;
import io.sluice.proto.v1.DescribeTopicResponse;
import io.sluice.proto.v1.FetchOffsetsRequest;
import io.sluice.proto.v1.FetchOffsetsResponse;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.GroupSummary;
import io.sluice.proto.v1.ListGroupsRequest;
import io.sluice.proto.v1.ListGroupsResponse;
import io.sluice.proto.v1.ListOffsetsQuery;
import io.sluice.proto.v1.ListOffsetsRequest;
import io.sluice.proto.v1.ListOffsetsResponse;
import io.sluice.proto.v1.ListOffsetsResult;
import io.sluice.proto.v1.ListTopicsRequest;
import io.sluice.proto.v1.ListTopicsResponse;
import io.sluice.proto.v1.LogBoundary;
import io.sluice.proto.v1.MemberDescription;
import io.sluice.proto.v1.OffsetResetPlan;
import io.sluice.proto.v1.PartitionDescription;
import io.sluice.proto.v1.PartitionLag;
import io.sluice.proto.v1.ResetOffsetsRequest;
import io.sluice.proto.v1.ResetOffsetsResponse;
import io.sluice.proto.v1.TopicSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The {@link Admin} API over the AdminService (any broker; tried in the metadata cache's order until one
 * answers or a non-retriable error comes back), FetchService.ListOffsets (at each partition's leader, with
 * a bounded number of redirects on NOT_LEADER) and the GroupService (at the group's coordinator, through
 * {@link GroupCalls}; ListGroups at every alive broker).
 *
 * <p>Thread-safe.
 */
public final class AdminImpl implements Admin {
    private static final int MAX_LIST_OFFSETS_ATTEMPTS = 5;

    private final Connections connections;
    private final MetadataCache metadata;
    private final Duration timeout;
    private final GroupCalls groups;

    AdminImpl(Connections connections, MetadataCache metadata, Duration timeout, GroupCalls groups) {
        this.connections = connections;
        this.metadata = metadata;
        this.timeout = timeout;
        this.groups = groups;
    }

    private AdminServiceGrpc.AdminServiceStub stub(String endpoint) {
        return AdminServiceGrpc.newStub(connections.channel(endpoint))
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Calls {@code call} on the first broker that answers; only retriable failures move to the next broker. */
    private <T> CompletableFuture<T> anyBroker(
            BiConsumer<AdminServiceGrpc.AdminServiceStub, CompletableFuture<T>> call) {
        return attempt(metadata.candidates(), 0, call, null);
    }

    private <T> CompletableFuture<T> attempt(
            List<String> endpoints,
            int i,
            BiConsumer<AdminServiceGrpc.AdminServiceStub, CompletableFuture<T>> call,
            SluiceException last) {
        if (i >= endpoints.size()) {
            return CompletableFuture.failedFuture(last);
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            call.accept(stub(endpoints.get(i)), f);
        } catch (RuntimeException e) {
            f.completeExceptionally(ErrorMapper.map(e));
        }
        return f.handle((v, t) -> {
                    if (t == null) {
                        return CompletableFuture.completedFuture(v);
                    }
                    SluiceException e = ErrorMapper.map(t);
                    if (e instanceof RetriableException && e.code() != ErrorCode.REQUEST_TIMED_OUT) {
                        return attempt(endpoints, i + 1, call, e);
                    }
                    return CompletableFuture.<T>failedFuture(e);
                })
                .thenCompose(Function.identity());
    }

    @Override
    public CompletableFuture<TopicListing> createTopicAsync(NewTopic topic) {
        CreateTopicRequest req = CreateTopicRequest.newBuilder()
                .setName(topic.name())
                .setPartitions(topic.partitions())
                .setReplicationFactor(topic.replicationFactor())
                .putAllConfigs(topic.configs())
                .build();
        return this.<CreateTopicResponse>anyBroker((s, f) -> s.createTopic(req, Futures.unary(f)))
                .thenApply(r -> new TopicListing(
                        r.getName(),
                        r.getPartitions(),
                        r.getReplicationFactor(),
                        r.getName().startsWith("__")));
    }

    @Override
    public TopicListing createTopic(NewTopic topic) {
        return Futures.await(createTopicAsync(topic));
    }

    @Override
    public CompletableFuture<Void> deleteTopicAsync(String name) {
        DeleteTopicRequest req = DeleteTopicRequest.newBuilder().setName(name).build();
        return this.<DeleteTopicResponse>anyBroker((s, f) -> s.deleteTopic(req, Futures.unary(f)))
                .thenApply(r -> null);
    }

    @Override
    public void deleteTopic(String name) {
        Futures.await(deleteTopicAsync(name));
    }

    @Override
    public CompletableFuture<List<TopicListing>> listTopicsAsync(boolean includeInternal) {
        ListTopicsRequest req = ListTopicsRequest.newBuilder()
                .setIncludeInternal(includeInternal)
                .build();
        return this.<ListTopicsResponse>anyBroker((s, f) -> s.listTopics(req, Futures.unary(f)))
                .thenApply(r -> {
                    List<TopicListing> out = new ArrayList<>();
                    for (TopicSummary t : r.getTopicsList()) {
                        out.add(new TopicListing(
                                t.getName(), t.getPartitions(), t.getReplicationFactor(), t.getInternal()));
                    }
                    return List.copyOf(out);
                });
    }

    @Override
    public List<TopicListing> listTopics(boolean includeInternal) {
        return Futures.await(listTopicsAsync(includeInternal));
    }

    @Override
    public CompletableFuture<TopicDescription> describeTopicAsync(String name) {
        DescribeTopicRequest req =
                DescribeTopicRequest.newBuilder().setName(name).build();
        return this.<DescribeTopicResponse>anyBroker((s, f) -> s.describeTopic(req, Futures.unary(f)))
                .thenApply(r -> toDescription(r.getTopic()));
    }

    static TopicDescription toDescription(io.sluice.proto.v1.TopicDescription t) {
        List<PartitionInfo> parts = new ArrayList<>();
        for (PartitionDescription p : t.getPartitionsList()) {
            parts.add(new PartitionInfo(
                    p.getPartition(),
                    p.hasLeaderId() ? OptionalInt.of(p.getLeaderId()) : OptionalInt.empty(),
                    p.getLeaderTerm(),
                    p.getReplicasList(),
                    p.getInSyncReplicasList(),
                    p.hasHighWatermark() ? OptionalLong.of(p.getHighWatermark()) : OptionalLong.empty(),
                    p.hasLogStartOffset() ? OptionalLong.of(p.getLogStartOffset()) : OptionalLong.empty(),
                    p.hasLogEndOffset() ? OptionalLong.of(p.getLogEndOffset()) : OptionalLong.empty()));
        }
        Map<String, TopicDescription.ConfigValue> configs = new LinkedHashMap<>();
        for (ConfigEntry c : t.getConfigsList()) {
            configs.put(
                    c.getName(),
                    new TopicDescription.ConfigValue(c.getValue(), c.getSource() != ConfigSource.CONFIG_SOURCE_TOPIC));
        }
        return new TopicDescription(t.getName(), t.getInternal(), t.getReplicationFactor(), parts, configs);
    }

    @Override
    public TopicDescription describeTopic(String name) {
        return Futures.await(describeTopicAsync(name));
    }

    @Override
    public CompletableFuture<ClusterDescription> describeClusterAsync() {
        DescribeClusterRequest req = DescribeClusterRequest.getDefaultInstance();
        return this.<DescribeClusterResponse>anyBroker((s, f) -> s.describeCluster(req, Futures.unary(f)))
                .thenApply(r -> {
                    List<BrokerInfo> brokers = new ArrayList<>();
                    for (Broker b : r.getBrokersList()) {
                        brokers.add(new BrokerInfo(
                                b.getId(),
                                b.getHost(),
                                b.getGrpcPort(),
                                b.getRaftPort(),
                                b.getHttpPort(),
                                b.getRack(),
                                b.getState() == BrokerState.BROKER_STATE_ALIVE));
                    }
                    return new ClusterDescription(
                            r.getClusterId(),
                            r.hasControllerId() ? OptionalInt.of(r.getControllerId()) : OptionalInt.empty(),
                            brokers);
                });
    }

    @Override
    public ClusterDescription describeCluster() {
        return Futures.await(describeClusterAsync());
    }

    @Override
    public CompletableFuture<Map<TopicPartition, Long>> listOffsetsAsync(Map<TopicPartition, OffsetSpec> specs) {
        Map<TopicPartition, Long> results = new java.util.concurrent.ConcurrentHashMap<>();
        return listOffsetsRound(new HashMap<>(specs), results, 1).thenApply(v -> Map.copyOf(results));
    }

    private CompletableFuture<Void> listOffsetsRound(
            Map<TopicPartition, OffsetSpec> todo, Map<TopicPartition, Long> results, int attempt) {
        List<String> topics =
                todo.keySet().stream().map(TopicPartition::topic).distinct().toList();
        boolean needRefresh = todo.keySet().stream()
                .anyMatch(tp -> metadata.leaderEndpoint(tp).isEmpty());
        CompletableFuture<?> ready = needRefresh ? metadata.refresh(topics) : CompletableFuture.completedFuture(null);
        return ready.thenCompose(x -> {
            Map<String, List<TopicPartition>> byLeader = new HashMap<>();
            for (TopicPartition tp : todo.keySet()) {
                String leader = metadata.leaderEndpoint(tp).orElse(null);
                if (leader == null) {
                    if (metadata.partitionCount(tp.topic()).isEmpty()) {
                        return CompletableFuture.failedFuture(
                                new SluiceException(ErrorCode.UNKNOWN_TOPIC, "unknown topic '" + tp.topic() + "'"));
                    }
                    if (attempt >= MAX_LIST_OFFSETS_ATTEMPTS) {
                        return CompletableFuture.failedFuture(
                                new RetriableException(ErrorCode.NOT_LEADER, "no leader known for " + tp));
                    }
                    byLeader.computeIfAbsent("", k -> new ArrayList<>()).add(tp);
                    continue;
                }
                byLeader.computeIfAbsent(leader, k -> new ArrayList<>()).add(tp);
            }
            Map<TopicPartition, OffsetSpec> retry = new java.util.concurrent.ConcurrentHashMap<>();
            List<CompletableFuture<Void>> calls = new ArrayList<>();
            for (var e : byLeader.entrySet()) {
                if (e.getKey().isEmpty()) {
                    e.getValue().forEach(tp -> retry.put(tp, todo.get(tp)));
                    continue;
                }
                calls.add(listOffsetsAt(e.getKey(), e.getValue(), todo, results, retry));
            }
            return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                    .thenCompose(v -> {
                        if (retry.isEmpty()) {
                            return CompletableFuture.completedFuture(null);
                        }
                        if (attempt >= MAX_LIST_OFFSETS_ATTEMPTS) {
                            return CompletableFuture.failedFuture(new RetriableException(
                                    ErrorCode.NOT_LEADER, "could not reach the leaders of " + retry.keySet()));
                        }
                        return CompletableFuture.runAsync(
                                        () -> {},
                                        CompletableFuture.delayedExecutor(100L * attempt, TimeUnit.MILLISECONDS))
                                .thenCompose(y -> listOffsetsRound(retry, results, attempt + 1));
                    });
        });
    }

    private CompletableFuture<Void> listOffsetsAt(
            String endpoint,
            List<TopicPartition> tps,
            Map<TopicPartition, OffsetSpec> specs,
            Map<TopicPartition, Long> results,
            Map<TopicPartition, OffsetSpec> retry) {
        ListOffsetsRequest.Builder req = ListOffsetsRequest.newBuilder();
        for (TopicPartition tp : tps) {
            req.addQueries(query(tp, specs.get(tp)));
        }
        CompletableFuture<ListOffsetsResponse> f = new CompletableFuture<>();
        try {
            FetchServiceGrpc.newStub(connections.channel(endpoint))
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .listOffsets(req.build(), Futures.unary(f));
        } catch (RuntimeException e) {
            f.completeExceptionally(ErrorMapper.map(e));
        }
        Map<TopicPartition, Long> latestNeeded = new HashMap<>();
        return f.handle((r, t) -> {
                    if (t != null) {
                        SluiceException e = ErrorMapper.map(t);
                        if (!(e instanceof RetriableException)) {
                            throw e;
                        }
                        for (TopicPartition tp : tps) {
                            metadata.invalidate(tp);
                            retry.put(tp, specs.get(tp));
                        }
                        return null;
                    }
                    for (ListOffsetsResult res : r.getResultsList()) {
                        TopicPartition tp = new TopicPartition(res.getTopic(), res.getPartition());
                        if (res.hasError() && res.getError().getCodeValue() != 0) {
                            SluiceException e = ErrorMapper.fromErrorInfo(res.getError());
                            if (e instanceof NotLeaderException nle) {
                                metadata.onNotLeader(tp, nle);
                                retry.put(tp, specs.get(tp));
                            } else if (e instanceof RetriableException) {
                                metadata.invalidate(tp);
                                retry.put(tp, specs.get(tp));
                            } else {
                                throw e;
                            }
                        } else if (res.hasOffset()) {
                            results.put(tp, res.getOffset());
                        } else {
                            latestNeeded.put(tp, 0L);
                        }
                    }
                    return null;
                })
                .thenCompose(v -> {
                    if (latestNeeded.isEmpty()) {
                        return CompletableFuture.completedFuture(null);
                    }
                    // a timestamp after every record resolves to the high watermark, as documented
                    Map<TopicPartition, OffsetSpec> latest = latestNeeded.keySet().stream()
                            .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
                    return listOffsetsAsync(latest).thenAccept(results::putAll);
                });
    }

    static ListOffsetsQuery query(TopicPartition tp, OffsetSpec spec) {
        ListOffsetsQuery.Builder q =
                ListOffsetsQuery.newBuilder().setTopic(tp.topic()).setPartition(tp.partition());
        if (spec instanceof OffsetSpec.Earliest) {
            q.setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST);
        } else if (spec instanceof OffsetSpec.Latest) {
            q.setBoundary(LogBoundary.LOG_BOUNDARY_LATEST);
        } else if (spec instanceof OffsetSpec.ForTimestamp ts) {
            q.setTimestampMs(ts.time().toEpochMilli());
        }
        return q.build();
    }

    @Override
    public Map<TopicPartition, Long> listOffsets(Map<TopicPartition, OffsetSpec> specs) {
        return Futures.await(listOffsetsAsync(specs));
    }

    static GroupState state(io.sluice.proto.v1.GroupState s) {
        return switch (s) {
            case GROUP_STATE_EMPTY -> GroupState.EMPTY;
            case GROUP_STATE_ASSIGNING -> GroupState.ASSIGNING;
            case GROUP_STATE_RECONCILING -> GroupState.RECONCILING;
            case GROUP_STATE_STABLE -> GroupState.STABLE;
            case GROUP_STATE_DEAD -> GroupState.DEAD;
            default -> GroupState.UNKNOWN;
        };
    }

    @Override
    public CompletableFuture<List<GroupListing>> listGroupsAsync() {
        return describeClusterAsync().thenCompose(cluster -> {
            Map<String, GroupListing> merged = new java.util.concurrent.ConcurrentSkipListMap<>();
            List<CompletableFuture<Void>> calls = new ArrayList<>();
            for (BrokerInfo b : cluster.brokers()) {
                if (!b.alive()) {
                    continue;
                }
                CompletableFuture<ListGroupsResponse> f = new CompletableFuture<>();
                try {
                    groups.stub(b.endpoint(), System.nanoTime() + timeout.toNanos())
                            .listGroups(ListGroupsRequest.getDefaultInstance(), Futures.unary(f));
                } catch (RuntimeException e) {
                    f.completeExceptionally(ErrorMapper.map(e));
                }
                calls.add(f.handle((r, t) -> {
                    if (t != null) {
                        SluiceException e = ErrorMapper.map(t);
                        throw new SluiceException(
                                e.code(),
                                "broker " + b.id() + " (" + b.endpoint() + ") did not list its groups: "
                                        + e.getMessage(),
                                e);
                    }
                    for (GroupSummary g : r.getGroupsList()) {
                        // during a coordinator move two brokers may both list a group: keep one
                        merged.put(
                                g.getGroupId(),
                                new GroupListing(g.getGroupId(), state(g.getState()), g.getMemberCount()));
                    }
                    return null;
                }));
            }
            return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                    .thenApply(v -> List.copyOf(merged.values()));
        });
    }

    @Override
    public List<GroupListing> listGroups() {
        return Futures.await(listGroupsAsync());
    }

    @Override
    public CompletableFuture<GroupDescription> describeGroupAsync(String groupId) {
        DescribeGroupRequest req =
                DescribeGroupRequest.newBuilder().setGroupId(groupId).build();
        return groups.<DescribeGroupResponse>call(groupId, true, (s, f) -> s.describeGroup(req, Futures.unary(f)))
                .thenApply(r -> toGroupDescription(r.getGroup()));
    }

    static GroupDescription toGroupDescription(io.sluice.proto.v1.GroupDescription g) {
        List<GroupDescription.Member> members = new ArrayList<>();
        for (MemberDescription m : g.getMembersList()) {
            members.add(new GroupDescription.Member(
                    m.getMemberId(),
                    m.getInstanceId().isEmpty() ? Optional.empty() : Optional.of(m.getInstanceId()),
                    m.getClientId(),
                    m.getClientHost(),
                    m.getMemberEpoch(),
                    m.hasTopics() ? m.getTopics().getNamesList() : List.of(),
                    m.hasTopicRegex() ? Optional.of(m.getTopicRegex()) : Optional.empty(),
                    GroupMember.fromProto(m.getAssignmentList())));
        }
        List<GroupDescription.PartitionLag> partitions = new ArrayList<>();
        for (PartitionLag p : g.getPartitionsList()) {
            partitions.add(new GroupDescription.PartitionLag(
                    new TopicPartition(p.getTopic(), p.getPartition()),
                    p.getMemberId().isEmpty() ? Optional.empty() : Optional.of(p.getMemberId()),
                    p.hasCommittedOffset() ? OptionalLong.of(p.getCommittedOffset()) : OptionalLong.empty(),
                    p.hasHighWatermark() ? OptionalLong.of(p.getHighWatermark()) : OptionalLong.empty(),
                    p.hasLag() ? OptionalLong.of(p.getLag()) : OptionalLong.empty()));
        }
        return new GroupDescription(
                g.getGroupId(), state(g.getState()), g.getGroupEpoch(), g.getAssignor(), members, partitions);
    }

    @Override
    public GroupDescription describeGroup(String groupId) {
        return Futures.await(describeGroupAsync(groupId));
    }

    @Override
    public CompletableFuture<OffsetResetResult> resetOffsetsAsync(
            String groupId, String topic, Collection<Integer> partitions, OffsetResetSpec spec, boolean execute) {
        ResetOffsetsRequest.Builder req = ResetOffsetsRequest.newBuilder()
                .setGroupId(groupId)
                .setTopic(topic)
                .addAllPartitions(partitions.stream().distinct().sorted().toList())
                .setDryRun(!execute);
        if (spec instanceof OffsetResetSpec.Earliest) {
            req.setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST);
        } else if (spec instanceof OffsetResetSpec.Latest) {
            req.setBoundary(LogBoundary.LOG_BOUNDARY_LATEST);
        } else if (spec instanceof OffsetResetSpec.ToOffset o) {
            req.setOffset(o.offset());
        } else if (spec instanceof OffsetResetSpec.ToTime t) {
            req.setTimestampMs(t.time().toEpochMilli());
        } else if (spec instanceof OffsetResetSpec.ShiftBy s) {
            req.setShiftBy(s.delta());
        }
        ResetOffsetsRequest request = req.build();
        // a shift applied twice moves twice: never retry it after an unknown outcome
        boolean idempotent = !execute || !(spec instanceof OffsetResetSpec.ShiftBy);
        return groups.<ResetOffsetsResponse>call(
                        groupId, idempotent, (s, f) -> s.resetOffsets(request, Futures.unary(f)))
                .thenApply(r -> {
                    List<OffsetResetResult.PartitionReset> out = new ArrayList<>();
                    for (OffsetResetPlan p : r.getPartitionsList()) {
                        out.add(new OffsetResetResult.PartitionReset(
                                p.getPartition(),
                                p.hasCurrentOffset() ? OptionalLong.of(p.getCurrentOffset()) : OptionalLong.empty(),
                                p.getNewOffset(),
                                p.hasError() && p.getError().getCodeValue() != 0
                                        ? Optional.of(ErrorMapper.fromErrorInfo(p.getError()))
                                        : Optional.empty()));
                    }
                    return new OffsetResetResult(groupId, topic, execute, out);
                });
    }

    @Override
    public OffsetResetResult resetOffsets(
            String groupId, String topic, Collection<Integer> partitions, OffsetResetSpec spec, boolean execute) {
        return Futures.await(resetOffsetsAsync(groupId, topic, partitions, spec, execute));
    }

    @Override
    public CompletableFuture<Void> deleteGroupAsync(String groupId) {
        DeleteGroupRequest req =
                DeleteGroupRequest.newBuilder().setGroupId(groupId).build();
        return groups.<DeleteGroupResponse>call(groupId, false, (s, f) -> s.deleteGroup(req, Futures.unary(f)))
                .thenApply(r -> null);
    }

    @Override
    public void deleteGroup(String groupId) {
        Futures.await(deleteGroupAsync(groupId));
    }

    @Override
    public CompletableFuture<Map<TopicPartition, Long>> listCommittedOffsetsAsync(
            String groupId, Collection<TopicPartition> partitions) {
        FetchOffsetsRequest req = FetchOffsetsRequest.newBuilder()
                .setGroupId(groupId)
                .addAllPartitions(GroupMember.toProto(partitions))
                .build();
        return groups.<FetchOffsetsResponse>call(groupId, true, (s, f) -> s.fetchOffsets(req, Futures.unary(f)))
                .thenApply(r -> {
                    Map<TopicPartition, Long> out = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::topic)
                            .thenComparingInt(TopicPartition::partition));
                    for (var c : r.getOffsetsList()) {
                        TopicPartition tp = new TopicPartition(c.getTopic(), c.getPartition());
                        if (c.hasError() && c.getError().getCodeValue() != 0) {
                            throw ErrorMapper.fromErrorInfo(c.getError());
                        }
                        if (c.hasOffset()) {
                            out.put(tp, c.getOffset());
                        }
                    }
                    return java.util.Collections.unmodifiableMap(out);
                });
    }

    @Override
    public Map<TopicPartition, Long> listCommittedOffsets(String groupId, Collection<TopicPartition> partitions) {
        return Futures.await(listCommittedOffsetsAsync(groupId, partitions));
    }
}
