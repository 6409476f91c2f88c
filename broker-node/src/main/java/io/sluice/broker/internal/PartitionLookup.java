package io.sluice.broker.internal;

import io.sluice.proto.v1.ErrorCode;
import io.sluice.replication.metadata.TopicInfo;
import java.util.OptionalInt;

/**
 * Resolves a (topic, partition) of a data-path request to the local leader replica, or explains why it cannot: unknown
 * topic or partition, or NOT_LEADER naming the leader.
 *
 * <p>Stateless apart from the backend it reads; thread-safe.
 */
final class PartitionLookup {
    private final BrokerBackend backend;

    PartitionLookup(BrokerBackend backend) {
        this.backend = backend;
    }

    /** The topic from this broker's metadata, checking the partition number. */
    TopicInfo topic(String topic, int partition) {
        if (topic.isEmpty()) {
            throw BrokerException.invalidRequest("topic", "the topic name is empty");
        }
        TopicInfo t = backend.metadata()
                .current()
                .topic(topic)
                .orElseThrow(() -> BrokerException.of(
                        ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, "unknown topic \"" + abbreviate(topic) + "\""));
        if (partition < 0 || partition >= t.partitionCount()) {
            throw BrokerException.of(
                    ErrorCode.ERROR_CODE_UNKNOWN_PARTITION,
                    "topic \"" + topic + "\" has no partition " + partition + " (it has " + t.partitionCount() + ": 0.."
                            + (t.partitionCount() - 1) + ")");
        }
        return t;
    }

    /** The local replica of the partition if this broker leads it. */
    PartitionHandle leader(String topic, int partition) {
        topic(topic, partition);
        PartitionHandle h = backend.partition(topic, partition).orElse(null);
        if (h != null && h.isLeader()) {
            return h;
        }
        throw notLeader(topic, partition, h);
    }

    BrokerException notLeader(String topic, int partition, PartitionHandle local) {
        // Read once: the leader may be lost between two reads.
        OptionalInt localLeader = local == null ? OptionalInt.empty() : local.leaderId();
        if (localLeader.isPresent()) {
            int id = localLeader.getAsInt();
            if (id != backend.brokerId()) {
                return BrokerException.notLeader(topic, partition, backend.broker(id), local.leaderTerm());
            }
        }
        var leader = backend.leaderOf(topic, partition).filter(l -> l.brokerId() != backend.brokerId());
        return BrokerException.notLeader(
                topic,
                partition,
                leader.flatMap(l -> backend.broker(l.brokerId())),
                leader.map(BrokerBackend.LeaderInfo::term).orElse(0L));
    }

    static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
