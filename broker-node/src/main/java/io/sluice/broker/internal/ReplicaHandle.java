package io.sluice.broker.internal;

import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.replication.AckMode;
import io.sluice.replication.NotLeaderException;
import io.sluice.replication.PartitionListener;
import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicatedPartition;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * A {@link PartitionHandle} over a replication-module {@link ReplicatedPartition}. Translates {@link
 * NotLeaderException} into NOT_LEADER carrying the leader's client endpoint, and turns partition callbacks into plain
 * "something changed" notifications.
 *
 * <p>Thread-safe (stateless over the thread-safe partition).
 */
public final class ReplicaHandle implements PartitionHandle {
    private final ReplicatedPartition replica;
    private final Function<NotLeaderException, RuntimeException> notLeader;

    /**
     * @param replica the local replica
     * @param notLeader turns a replication NOT_LEADER into the client-facing error (the backend knows endpoints)
     */
    public ReplicaHandle(ReplicatedPartition replica, Function<NotLeaderException, RuntimeException> notLeader) {
        this.replica = replica;
        this.notLeader = notLeader;
    }

    @Override
    public String topic() {
        return replica.topicPartition().topic();
    }

    @Override
    public int partition() {
        return replica.topicPartition().partition();
    }

    @Override
    public boolean isLeader() {
        return replica.isLeader();
    }

    @Override
    public OptionalInt leaderId() {
        Optional<ReplicaId> l = replica.leader();
        return l.isPresent() ? OptionalInt.of(l.get().brokerId()) : OptionalInt.empty();
    }

    @Override
    public long leaderTerm() {
        return replica.leader().isPresent() ? replica.term() : 0;
    }

    @Override
    public List<Integer> inSyncReplicas() {
        return replica.inSyncReplicas().stream().map(ReplicaId::brokerId).toList();
    }

    @Override
    public CompletableFuture<AppendResult> append(ByteBuffer batch, boolean quorum) {
        CompletableFuture<io.sluice.replication.AppendResult> f;
        try {
            f = replica.append(batch, quorum ? AckMode.QUORUM : AckMode.LEADER);
        } catch (NotLeaderException e) {
            return CompletableFuture.failedFuture(notLeader.apply(e));
        }
        return f.handle((r, e) -> {
            if (e != null) {
                Throwable c = Errors.unwrap(e);
                if (c instanceof NotLeaderException nle) {
                    throw notLeader.apply(nle);
                }
                throw e instanceof CompletionException ce ? ce : new CompletionException(e);
            }
            return new AppendResult(r.baseOffset(), r.lastOffset());
        });
    }

    @Override
    public long logStartOffset() {
        return replica.logStartOffset();
    }

    @Override
    public long highWatermark() {
        return replica.highWatermark();
    }

    @Override
    public long logEndOffset() {
        return replica.logEndOffset();
    }

    @Override
    public LogReadResult read(long offset, int maxBytes) {
        return replica.read(offset, maxBytes);
    }

    @Override
    public Optional<TimestampOffset> offsetForTimestamp(long timestampMs) {
        OptionalLong o = replica.offsetForTimestamp(timestampMs);
        if (o.isEmpty()) {
            return Optional.empty();
        }
        long offset = o.getAsLong();
        // The replica answers with an offset only; the record's own timestamp comes from its batch.
        LogReadResult r = replica.read(offset, 1);
        ByteBuffer buf = r.records();
        long ts = timestampMs;
        int pos = buf.position();
        while (pos < buf.limit()) {
            RecordBatch b = RecordBatch.wrap(buf, pos);
            if (!b.isControl() && b.lastOffset() >= offset) {
                for (Record rec : b) {
                    if (rec.offset() >= offset) {
                        ts = rec.timestamp();
                        return Optional.of(new TimestampOffset(rec.offset(), ts));
                    }
                }
            }
            pos += b.sizeInBytes();
        }
        return Optional.of(new TimestampOffset(offset, ts));
    }

    @Override
    public Subscription subscribe(Runnable listener) {
        PartitionListener l = new PartitionListener() {
            @Override
            public void onLeaderStart(long term) {
                listener.run();
            }

            @Override
            public void onLeaderStop(long term) {
                listener.run();
            }

            @Override
            public void onHighWatermark(long highWatermark) {
                listener.run();
            }
        };
        replica.addListener(l);
        return () -> replica.removeListener(l);
    }
}
