package io.sluice.broker.internal.metrics;

import java.util.List;

/**
 * One consumer group as its coordinator on this broker reports it for {@link BrokerMetrics#bindGroups}: its member
 * count and its lag per partition. Immutable.
 *
 * @param group the group id
 * @param members current members
 * @param lags lag per assigned (or committed) partition
 */
public record GroupMetricsSample(String group, int members, List<PartitionLagSample> lags) {
    public GroupMetricsSample {
        lags = List.copyOf(lags);
    }
}
