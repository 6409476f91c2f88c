package io.sluice.replication.internal;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.ReplicatorGroup;
import com.alipay.sofa.jraft.core.NodeImpl;
import com.alipay.sofa.jraft.core.Replicator;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.util.ThreadId;
import com.alipay.sofa.jraft.util.Utils;
import java.lang.reflect.Field;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a JRaft leader's per-follower replication progress: the follower's match index and when it last acknowledged
 * a request. JRaft (1.3.15) keeps both in its replicators but exposes the replicator group of a node only internally,
 * so the group is read from {@code NodeImpl}'s private field once per call; the rest is JRaft's public static API
 * ({@link Replicator#getNextIndex}, {@link ReplicatorGroup#getLastRpcSendTimestamp}). If the field is missing (another
 * JRaft version) the probe reports {@link #available()} false and callers fall back to JRaft's own liveness view
 * ({@link Node#listAlivePeers()}).
 *
 * <p>Stateless apart from the resolved field; thread-safe. {@code getNextIndex} briefly takes the replicator's lock.
 */
final class ReplicatorProbe {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatorProbe.class);
    private static final Field GROUP = resolve();

    private ReplicatorProbe() {}

    private static Field resolve() {
        try {
            Field f = NodeImpl.class.getDeclaredField("replicatorGroup");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn(
                    "cannot read JRaft replicator progress ({}); in-sync replicas fall back to JRaft's live peers",
                    e.toString());
            return null;
        }
    }

    /** Whether follower progress can be read with this JRaft version. */
    static boolean available() {
        return GROUP != null;
    }

    /** JRaft's monotonic clock, the one its acknowledgement times use. */
    static long nowMs() {
        return Utils.monotonicMs();
    }

    /** The follower's progress, or empty when the node has no replicator for it (not leader, stopping). */
    static Optional<InSyncTracker.Progress> progress(Node node, PeerId follower, io.sluice.replication.ReplicaId id) {
        if (GROUP == null || !(node instanceof NodeImpl)) {
            return Optional.empty();
        }
        try {
            ReplicatorGroup group = (ReplicatorGroup) GROUP.get(node);
            if (group == null) {
                return Optional.empty();
            }
            ThreadId tid = group.getReplicator(follower);
            if (tid == null) {
                return Optional.empty();
            }
            // 0 until the replicator's first success: then nothing is known to match.
            long next = Replicator.getNextIndex(tid);
            long lastAck = group.getLastRpcSendTimestamp(follower);
            return Optional.of(new InSyncTracker.Progress(id, Math.max(0, next - 1), lastAck));
        } catch (IllegalAccessException | RuntimeException e) {
            LOG.debug("cannot read replicator progress of {}", follower, e);
            return Optional.empty();
        }
    }
}
