package io.sluice.client.internal;

import io.sluice.client.ErrorCode;
import io.sluice.client.NotLeaderException;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicPartition;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.Broker;
import io.sluice.proto.v1.GetMetadataRequest;
import io.sluice.proto.v1.GetMetadataResponse;
import io.sluice.proto.v1.PartitionMetadata;
import io.sluice.proto.v1.TopicMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client's routing table: topic → partition count and each partition's leader endpoint, filled by the
 * GetMetadata RPC (asked of any known broker, bootstrap brokers last) and corrected by NOT_LEADER details. For
 * one partition the leader with the higher Raft term wins, so a stale answer never overrides a newer hint.
 *
 * <p>Thread-safe: lock-free reads of immutable snapshots, updates by atomic map operations.
 */
public final class MetadataCache {
    /**
     * The known leader of a partition.
     *
     * @param leaderId broker id, -1 when unknown
     * @param term Raft term, 0 when unknown
     * @param endpoint {@code host:port}, null when unknown
     */
    record Leader(int leaderId, long term, String endpoint) {}

    private final Connections connections;
    private final List<String> bootstrap;
    private final Duration requestTimeout;
    private final Map<String, Integer> partitionCounts = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Leader> leaders = new ConcurrentHashMap<>();
    private final Map<Integer, String> brokers = new ConcurrentHashMap<>();
    private final AtomicInteger rotation = new AtomicInteger();

    public MetadataCache(Connections connections, List<String> bootstrap, Duration requestTimeout) {
        this.connections = connections;
        this.bootstrap = List.copyOf(bootstrap);
        this.requestTimeout = requestTimeout;
    }

    /** Partition count of a cached topic. */
    public Optional<Integer> partitionCount(String topic) {
        return Optional.ofNullable(partitionCounts.get(topic));
    }

    /** The partition count, refreshing once if the topic is not cached; fails with UNKNOWN_TOPIC. */
    public CompletableFuture<Integer> partitionCountAsync(String topic) {
        Integer n = partitionCounts.get(topic);
        if (n != null) {
            return CompletableFuture.completedFuture(n);
        }
        return refresh(List.of(topic)).thenApply(v -> {
            Integer m = partitionCounts.get(topic);
            if (m == null) {
                throw new SluiceException(ErrorCode.UNKNOWN_TOPIC, "unknown topic '" + topic + "'");
            }
            return m;
        });
    }

    /** The cached leader endpoint of a partition. */
    public Optional<String> leaderEndpoint(TopicPartition tp) {
        Leader l = leaders.get(tp);
        return l == null || l.endpoint() == null ? Optional.empty() : Optional.of(l.endpoint());
    }

    /** Forgets the leader of {@code tp} so that the next look-up refreshes. */
    public void invalidate(TopicPartition tp) {
        leaders.computeIfPresent(tp, (k, l) -> new Leader(-1, l.term(), null));
    }

    /** Applies a NOT_LEADER hint if it names a leader at least as new as the cached one; else invalidates. */
    public void onNotLeader(TopicPartition tp, NotLeaderException e) {
        if (e.leaderEndpoint().isPresent()) {
            Leader hint = new Leader(
                    e.leaderId().orElse(-1), e.leaderTerm(), e.leaderEndpoint().get());
            leaders.merge(tp, hint, (old, neu) -> neu.term() >= old.term() ? neu : old);
            Leader now = leaders.get(tp);
            if (now != null && now.endpoint() != null) {
                return;
            }
        }
        invalidate(tp);
    }

    /** Endpoints to ask for metadata: known brokers (rotating), then the bootstrap list. */
    List<String> candidates() {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        List<String> known = new ArrayList<>(brokers.values());
        if (!known.isEmpty()) {
            int start = Math.floorMod(rotation.getAndIncrement(), known.size());
            for (int i = 0; i < known.size(); i++) {
                out.add(known.get((start + i) % known.size()));
            }
        }
        out.addAll(bootstrap);
        return new ArrayList<>(out);
    }

    /** Fetches metadata for {@code topics} (empty: every topic) and updates the cache. */
    public CompletableFuture<GetMetadataResponse> refresh(Collection<String> topics) {
        GetMetadataRequest request =
                GetMetadataRequest.newBuilder().addAllTopics(topics).build();
        return tryFrom(candidates(), 0, request, null);
    }

    private CompletableFuture<GetMetadataResponse> tryFrom(
            List<String> endpoints, int index, GetMetadataRequest request, SluiceException last) {
        if (index >= endpoints.size()) {
            return CompletableFuture.failedFuture(
                    last != null
                            ? new RetriableException(
                                    ErrorCode.BROKER_NOT_AVAILABLE,
                                    "no broker answered for metadata (" + String.join(",", endpoints) + "): "
                                            + last.getMessage())
                            : new RetriableException(ErrorCode.BROKER_NOT_AVAILABLE, "no broker to ask"));
        }
        String endpoint = endpoints.get(index);
        CompletableFuture<GetMetadataResponse> f = new CompletableFuture<>();
        try {
            AdminServiceGrpc.newStub(connections.channel(endpoint))
                    .withDeadlineAfter(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .getMetadata(request, Futures.unary(f));
        } catch (RuntimeException e) {
            f.completeExceptionally(ErrorMapper.map(e));
        }
        return f.thenApply(r -> {
                    apply(r);
                    return CompletableFuture.completedFuture(r);
                })
                .exceptionally(t -> {
                    SluiceException e = ErrorMapper.map(t);
                    if (e instanceof RetriableException) {
                        return tryFrom(endpoints, index + 1, request, e);
                    }
                    return CompletableFuture.failedFuture(e);
                })
                .thenCompose(x -> x);
    }

    void apply(GetMetadataResponse r) {
        for (Broker b : r.getBrokersList()) {
            brokers.put(b.getId(), b.getHost() + ":" + b.getGrpcPort());
        }
        for (TopicMetadata t : r.getTopicsList()) {
            if (t.hasError() && t.getError().getCodeValue() != 0) {
                partitionCounts.remove(t.getName());
                leaders.keySet().removeIf(tp -> tp.topic().equals(t.getName()));
                continue;
            }
            partitionCounts.put(t.getName(), t.getPartitionsCount());
            for (PartitionMetadata p : t.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(t.getName(), p.getPartition());
                Leader fresh = p.hasLeaderId()
                        ? new Leader(p.getLeaderId(), p.getLeaderTerm(), brokers.get(p.getLeaderId()))
                        : new Leader(-1, p.getLeaderTerm(), null);
                leaders.merge(tp, fresh, (old, neu) -> neu.term() >= old.term() || old.endpoint() == null ? neu : old);
            }
        }
    }
}
