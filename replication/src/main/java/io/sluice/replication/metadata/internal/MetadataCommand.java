package io.sluice.replication.metadata.internal;

import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.PartitionAssignment;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A change to the cluster metadata, as proposed by the controller leader and applied, in log order, by every member
 * of the {@code __metadata} group. The encoding is in {@link MetadataCodec}.
 *
 * <p>Applying a command is deterministic: it depends only on the command and the state before it, so every replica
 * that applied the same prefix of the log holds the same state. Immutable, thread-safe.
 */
public sealed interface MetadataCommand {

    /** Registers a broker or updates its endpoints, and marks it alive. */
    record RegisterBroker(BrokerInfo broker) implements MetadataCommand {
        public RegisterBroker {
            Objects.requireNonNull(broker, "broker");
        }
    }

    /**
     * Sets the liveness of brokers (a session expiry, or a heartbeat from a broker that was marked dead). Unknown ids
     * are ignored.
     */
    record SetLiveness(Map<Integer, Boolean> alive) implements MetadataCommand {
        public SetLiveness {
            alive = Map.copyOf(alive);
        }
    }

    /**
     * Creates a topic with the given assignment (computed by the leader when it proposed the command). {@code
     * requestId} identifies the client request so that a retried request that already committed is recognised.
     */
    record CreateTopic(
            String name,
            Map<String, String> configs,
            List<PartitionAssignment> partitions,
            long requestIdHigh,
            long requestIdLow)
            implements MetadataCommand {
        public CreateTopic {
            Objects.requireNonNull(name, "name");
            configs = Map.copyOf(configs);
            partitions = List.copyOf(partitions);
        }
    }

    /** Deletes a topic. {@code topicId == 0} deletes whatever incarnation exists. */
    record DeleteTopic(String name, long topicId) implements MetadataCommand {
        public DeleteTopic {
            Objects.requireNonNull(name, "name");
        }
    }
}
