package io.sluice.replication.testkit;

import io.sluice.replication.AppendResult;
import io.sluice.replication.ReplicatedPartition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Checks of the replication guarantees on the replicas of a partition in a {@link MiniCluster}: convergence, every
 * acknowledged batch present exactly once at its acknowledged offset, and byte-identical logs.
 *
 * <p>Stateless and thread-safe. Failures are {@link AssertionError}s naming broker, offset and value.
 */
public final class ReplicaInvariants {

    private ReplicaInvariants() {}

    /** The open replicas of the partition on running brokers, by broker id. */
    public static Map<Integer, ReplicatedPartition> runningReplicas(MiniCluster c, String topic, int partition) {
        Map<Integer, ReplicatedPartition> out = new TreeMap<>();
        for (int b : c.replicasOf(topic, partition)) {
            if (c.isRunning(b)) {
                out.put(b, c.partitionOn(b, topic, partition));
            }
        }
        return out;
    }

    /**
     * Waits until every running replica has the same high watermark, at least {@code minEnd}, with nothing
     * uncommitted beyond it (log end = high watermark): writes have stopped and every replica caught up.
     */
    public static long awaitConverged(MiniCluster c, String topic, int partition, long minEnd) {
        long[] hw = new long[1];
        MiniCluster.waitFor(
                () -> {
                    Map<Integer, ReplicatedPartition> rs = runningReplicas(c, topic, partition);
                    long first = -1;
                    for (ReplicatedPartition p : rs.values()) {
                        long h = p.highWatermark();
                        if (h < minEnd || p.logEndOffset() != h || (first >= 0 && h != first)) {
                            return false;
                        }
                        first = h;
                    }
                    hw[0] = first;
                    return !rs.isEmpty();
                },
                c.timeout(),
                topic + "-" + partition + " converged at >= " + minEnd + " on every running replica: "
                        + describe(c, topic, partition));
        return hw[0];
    }

    /** A one-line state of every running replica (for failure messages, evaluated when the message is built). */
    public static Object describe(MiniCluster c, String topic, int partition) {
        return new Object() {
            @Override
            public String toString() {
                try {
                    return describeNow();
                } catch (RuntimeException | AssertionError e) {
                    return "(state unavailable: " + e + ")";
                }
            }

            private String describeNow() {
                StringBuilder sb = new StringBuilder();
                Optional<List<Integer>> replicas = c.replicasIfKnown(topic, partition);
                if (replicas.isEmpty()) {
                    return "(the metadata does not know " + topic + " yet)";
                }
                for (int b : replicas.get()) {
                    sb.append(" broker ").append(b).append(": ");
                    if (!c.isRunning(b)) {
                        sb.append("down;");
                        continue;
                    }
                    var p = c.node(b).partition(topic, partition);
                    if (p.isEmpty()) {
                        sb.append("not open;");
                        continue;
                    }
                    ReplicatedPartition r = p.get();
                    sb.append("start=")
                            .append(r.logStartOffset())
                            .append(" hw=")
                            .append(r.highWatermark())
                            .append(" end=")
                            .append(r.logEndOffset())
                            .append(" term=")
                            .append(r.term())
                            .append(r.isLeader() ? " leader;" : ";");
                }
                return sb.toString();
            }
        };
    }

    /**
     * Every acknowledged value of {@code acked} is in every running replica's committed log exactly once, at the
     * offset its append returned; no value at all appears twice.
     */
    public static void assertAcknowledgedExactlyOnce(
            MiniCluster c, String topic, int partition, Map<String, AppendResult> acked) {
        for (Map.Entry<Integer, ReplicatedPartition> e :
                runningReplicas(c, topic, partition).entrySet()) {
            int broker = e.getKey();
            List<PartitionData.Entry> records = PartitionData.committedRecords(e.getValue());
            Map<String, Long> offsetOf = new HashMap<>();
            long previous = -1;
            for (PartitionData.Entry r : records) {
                if (r.offset() <= previous) {
                    throw new AssertionError("broker " + broker + ": offsets not increasing at " + r);
                }
                previous = r.offset();
                Long dup = offsetOf.put(r.value(), r.offset());
                if (dup != null) {
                    throw new AssertionError(
                            "broker " + broker + ": value " + r.value() + " at offsets " + dup + " and " + r.offset());
                }
            }
            long start = e.getValue().logStartOffset();
            for (Map.Entry<String, AppendResult> a : acked.entrySet()) {
                long want = a.getValue().baseOffset();
                if (want < start) {
                    continue; // removed by retention
                }
                Long got = offsetOf.get(a.getKey());
                if (got == null) {
                    throw new AssertionError("broker " + broker + ": acknowledged " + a.getKey() + " (offset " + want
                            + ") is missing; " + records.size() + " records, " + describe(c, topic, partition));
                }
                if (got != want) {
                    throw new AssertionError("broker " + broker + ": acknowledged " + a.getKey() + " at offset " + got
                            + ", but its append returned " + want);
                }
            }
        }
    }

    /** The running replicas' stored bytes are identical from the highest log start to the lowest high watermark. */
    public static void assertByteIdentical(MiniCluster c, String topic, int partition) {
        Map<Integer, ReplicatedPartition> rs = runningReplicas(c, topic, partition);
        long from = rs.values().stream()
                .mapToLong(ReplicatedPartition::logStartOffset)
                .max()
                .orElseThrow();
        long to = rs.values().stream()
                .mapToLong(ReplicatedPartition::highWatermark)
                .min()
                .orElseThrow();
        byte[] reference = null;
        int referenceBroker = -1;
        List<String> sizes = new ArrayList<>();
        for (Map.Entry<Integer, ReplicatedPartition> e : rs.entrySet()) {
            byte[] bytes = PartitionData.rawBytes(e.getValue(), from, to);
            sizes.add(e.getKey() + "=" + bytes.length);
            if (reference == null) {
                reference = bytes;
                referenceBroker = e.getKey();
            } else if (!Arrays.equals(reference, bytes)) {
                int i = Arrays.mismatch(reference, bytes);
                throw new AssertionError(topic + "-" + partition + ": broker " + e.getKey() + " differs from broker "
                        + referenceBroker + " at byte " + i + " of offsets [" + from + ", " + to + ")");
            }
        }
        if (to > from && (reference == null || reference.length == 0)) {
            throw new AssertionError(topic + "-" + partition + ": nothing read in [" + from + ", " + to + ")");
        }
    }
}
