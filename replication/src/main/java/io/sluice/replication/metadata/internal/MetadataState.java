package io.sluice.replication.metadata.internal;

import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.ClusterMetadata;
import io.sluice.replication.metadata.MetadataError;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The mutable metadata model that the {@code __metadata} state machine applies commands to.
 *
 * <p>Invariants: every broker named in an assignment is registered; {@code live} is a subset of the registered
 * brokers; {@code version} only grows. Applying is deterministic (see {@link MetadataCommand}). Not thread-safe: only
 * the state machine's thread touches it; others read the immutable {@link #view()}.
 */
public final class MetadataState {

    /** A topic plus the id of the request that created it (to make retried creates idempotent). */
    record TopicEntry(TopicInfo info, long requestIdHigh, long requestIdLow) {}

    private long version;
    private final TreeMap<Integer, BrokerInfo> brokers = new TreeMap<>();
    private final TreeSet<Integer> live = new TreeSet<>();
    private final TreeMap<String, TopicEntry> topics = new TreeMap<>();

    public long version() {
        return version;
    }

    /** Applies {@code command} logged at Raft index {@code index} (> the current version). */
    public ApplyResult apply(MetadataCommand command, long index) {
        if (index <= version) {
            throw new IllegalStateException("index " + index + " not after version " + version);
        }
        version = index;
        if (command instanceof MetadataCommand.RegisterBroker r) {
            brokers.put(r.broker().id(), r.broker());
            live.add(r.broker().id());
            return ApplyResult.ok(index);
        } else if (command instanceof MetadataCommand.SetLiveness s) {
            s.alive().forEach((id, alive) -> {
                if (brokers.containsKey(id)) {
                    if (alive) {
                        live.add(id);
                    } else {
                        live.remove(id);
                    }
                }
            });
            return ApplyResult.ok(index);
        } else if (command instanceof MetadataCommand.CreateTopic c) {
            return applyCreate(c, index);
        } else if (command instanceof MetadataCommand.DeleteTopic d) {
            TopicEntry existing = topics.get(d.name());
            if (existing == null || (d.topicId() != 0 && existing.info().topicId() != d.topicId())) {
                return ApplyResult.failed(MetadataError.UNKNOWN_TOPIC, "topic " + d.name() + " does not exist");
            }
            topics.remove(d.name());
            return ApplyResult.ok(index);
        }
        throw new IllegalArgumentException("unknown command " + command);
    }

    private ApplyResult applyCreate(MetadataCommand.CreateTopic c, long index) {
        TopicEntry existing = topics.get(c.name());
        if (existing != null) {
            if (existing.requestIdHigh() == c.requestIdHigh() && existing.requestIdLow() == c.requestIdLow()) {
                // The same request, retried after an ambiguous failure: it already succeeded.
                return ApplyResult.created(existing.info().topicId(), existing.info());
            }
            return ApplyResult.failed(MetadataError.TOPIC_EXISTS, "topic " + c.name() + " already exists");
        }
        for (PartitionAssignment p : c.partitions()) {
            for (int b : p.replicas()) {
                if (!brokers.containsKey(b)) {
                    return ApplyResult.failed(
                            MetadataError.INVALID_REPLICATION_FACTOR,
                            "topic " + c.name() + " assigned to unregistered broker " + b);
                }
            }
        }
        TopicInfo info = new TopicInfo(c.name(), index, c.configs(), c.partitions());
        topics.put(c.name(), new TopicEntry(info, c.requestIdHigh(), c.requestIdLow()));
        return ApplyResult.created(index, info);
    }

    /** An immutable copy of the current state. */
    public ClusterMetadata view() {
        Map<String, TopicInfo> infos = new TreeMap<>();
        topics.forEach((name, e) -> infos.put(name, e.info()));
        return new ClusterMetadata(version, brokers, live, infos);
    }

    Map<String, TopicEntry> topicEntries() {
        return topics;
    }

    /** Replaces the whole state (snapshot load). */
    void reset(
            long newVersion,
            Map<Integer, BrokerInfo> newBrokers,
            java.util.Set<Integer> newLive,
            Map<String, TopicEntry> newTopics) {
        version = newVersion;
        brokers.clear();
        brokers.putAll(newBrokers);
        live.clear();
        live.addAll(newLive);
        topics.clear();
        topics.putAll(newTopics);
    }

    /** Copies {@code other}'s state into this one. */
    public void resetTo(MetadataState other) {
        Objects.requireNonNull(other, "other");
        reset(other.version, other.brokers, other.live, other.topics);
    }

    TreeMap<Integer, BrokerInfo> brokers() {
        return brokers;
    }

    TreeSet<Integer> live() {
        return live;
    }
}
