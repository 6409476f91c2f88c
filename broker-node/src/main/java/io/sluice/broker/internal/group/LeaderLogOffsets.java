package io.sluice.broker.internal.group;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.sluice.broker.internal.BrokerBackend;
import io.sluice.broker.internal.PartitionHandle;
import io.sluice.broker.internal.PeerChannels;
import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import io.sluice.proto.v1.FetchServiceGrpc;
import io.sluice.proto.v1.ListOffsetsQuery;
import io.sluice.proto.v1.ListOffsetsRequest;
import io.sluice.proto.v1.ListOffsetsResponse;
import io.sluice.proto.v1.ListOffsetsResult;
import io.sluice.proto.v1.LogBoundary;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@link LogOffsets} from partition leaders: partitions this broker leads are read locally; the others are asked of
 * their leader (as this broker's metadata knows it) with one ListOffsets call per leader and query kind, with a short
 * deadline. A leader that does not answer leaves its partitions out.
 *
 * <p>Thread-safe (stateless over the thread-safe backend and channels).
 */
public final class LeaderLogOffsets implements LogOffsets {
    private static final long DEADLINE_MS = 2000;

    private final BrokerBackend backend;
    private final PeerChannels peers;

    public LeaderLogOffsets(BrokerBackend backend, PeerChannels peers) {
        this.backend = backend;
        this.peers = peers;
    }

    @Override
    public Map<TopicPartitionKey, Bounds> bounds(Collection<TopicPartitionKey> partitions) {
        Map<TopicPartitionKey, Bounds> out = new HashMap<>();
        Map<Integer, List<TopicPartitionKey>> remote = split(partitions, (tp, h) -> {
            out.put(tp, new Bounds(h.logStartOffset(), h.highWatermark()));
            return null;
        });
        for (Map.Entry<Integer, List<TopicPartitionKey>> e : remote.entrySet()) {
            Map<TopicPartitionKey, Long> hw =
                    ask(e.getKey(), e.getValue(), q -> q.setBoundary(LogBoundary.LOG_BOUNDARY_LATEST));
            Map<TopicPartitionKey, Long> start =
                    ask(e.getKey(), e.getValue(), q -> q.setBoundary(LogBoundary.LOG_BOUNDARY_EARLIEST));
            for (TopicPartitionKey tp : e.getValue()) {
                if (hw.containsKey(tp) && start.containsKey(tp)) {
                    out.put(tp, new Bounds(start.get(tp), hw.get(tp)));
                }
            }
        }
        return out;
    }

    @Override
    public Map<TopicPartitionKey, OptionalLong> offsetsForTimestamp(
            Collection<TopicPartitionKey> partitions, long timestampMs) {
        Map<TopicPartitionKey, OptionalLong> out = new HashMap<>();
        Map<Integer, List<TopicPartitionKey>> remote = split(partitions, (tp, h) -> {
            out.put(
                    tp,
                    h.offsetForTimestamp(timestampMs)
                            .map(to -> OptionalLong.of(to.offset()))
                            .orElse(OptionalLong.empty()));
            return null;
        });
        for (Map.Entry<Integer, List<TopicPartitionKey>> e : remote.entrySet()) {
            Map<TopicPartitionKey, Long> found = new HashMap<>();
            List<TopicPartitionKey> answered = new ArrayList<>();
            askRaw(e.getKey(), e.getValue(), q -> q.setTimestampMs(timestampMs), (tp, r) -> {
                answered.add(tp);
                if (r.hasOffset()) {
                    found.put(tp, r.getOffset());
                }
            });
            for (TopicPartitionKey tp : answered) {
                out.put(tp, found.containsKey(tp) ? OptionalLong.of(found.get(tp)) : OptionalLong.empty());
            }
        }
        return out;
    }

    @Override
    public OptionalLong localLogEnd(TopicPartitionKey tp) {
        return backend.partition(tp.topic(), tp.partition())
                .filter(PartitionHandle::isLeader)
                .map(h -> OptionalLong.of(h.logEndOffset()))
                .orElse(OptionalLong.empty());
    }

    private interface LocalRead {
        Void read(TopicPartitionKey tp, PartitionHandle h);
    }

    /** Reads the locally led partitions with {@code local}; returns the others grouped by their known leader. */
    private Map<Integer, List<TopicPartitionKey>> split(Collection<TopicPartitionKey> partitions, LocalRead local) {
        Map<Integer, List<TopicPartitionKey>> remote = new TreeMap<>();
        for (TopicPartitionKey tp : partitions) {
            Optional<PartitionHandle> h =
                    backend.partition(tp.topic(), tp.partition()).filter(PartitionHandle::isLeader);
            if (h.isPresent()) {
                try {
                    local.read(tp, h.get());
                    continue;
                } catch (RuntimeException lostLeadership) {
                    // Fall through to the remote leader, if one is known.
                }
            }
            backend.leaderOf(tp.topic(), tp.partition())
                    .filter(l -> l.brokerId() != backend.brokerId())
                    .ifPresent(l -> remote.computeIfAbsent(l.brokerId(), k -> new ArrayList<>())
                            .add(tp));
        }
        return remote;
    }

    private Map<TopicPartitionKey, Long> ask(
            int leader, List<TopicPartitionKey> tps, Function<ListOffsetsQuery.Builder, ListOffsetsQuery.Builder> q) {
        Map<TopicPartitionKey, Long> out = new HashMap<>();
        askRaw(leader, tps, q, (tp, r) -> {
            if (r.hasOffset()) {
                out.put(tp, r.getOffset());
            }
        });
        return out;
    }

    private void askRaw(
            int leader,
            List<TopicPartitionKey> tps,
            Function<ListOffsetsQuery.Builder, ListOffsetsQuery.Builder> q,
            java.util.function.BiConsumer<TopicPartitionKey, ListOffsetsResult> sink) {
        Optional<ManagedChannel> ch = peers.channel(leader);
        if (ch.isEmpty()) {
            return;
        }
        ListOffsetsRequest.Builder req = ListOffsetsRequest.newBuilder();
        for (TopicPartitionKey tp : tps) {
            req.addQueries(
                    q.apply(ListOffsetsQuery.newBuilder().setTopic(tp.topic()).setPartition(tp.partition())));
        }
        ListOffsetsResponse resp;
        try {
            resp = FetchServiceGrpc.newBlockingStub(ch.get())
                    .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                    .listOffsets(req.build());
        } catch (StatusRuntimeException unreachable) {
            return;
        }
        for (ListOffsetsResult r : resp.getResultsList()) {
            if (!r.hasError()) {
                sink.accept(new TopicPartitionKey(r.getTopic(), r.getPartition()), r);
            }
        }
    }
}
