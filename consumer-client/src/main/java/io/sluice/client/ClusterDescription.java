package io.sluice.client;

import java.util.List;
import java.util.OptionalInt;

/**
 * The cluster as known by the broker that answered.
 *
 * <p>Immutable and thread-safe.
 *
 * @param clusterId cluster id
 * @param controllerId broker id of the controller, empty during an election
 * @param brokers every registered broker, by id
 */
public record ClusterDescription(String clusterId, OptionalInt controllerId, List<BrokerInfo> brokers) {
    public ClusterDescription {
        brokers = List.copyOf(brokers);
    }
}
