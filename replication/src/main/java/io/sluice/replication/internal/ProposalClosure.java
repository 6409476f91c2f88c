package io.sluice.replication.internal;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Status;
import io.sluice.replication.AckMode;
import io.sluice.replication.AppendResult;
import io.sluice.replication.ReplicationObserver;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The JRaft closure of one proposed batch: completes the producer's future and frees the proposal's in-flight slot.
 *
 * <p>JRaft runs it exactly once: from the state machine when the entry is applied (after {@link #committed}), or with
 * an error status when the proposal fails. With {@link AckMode#LEADER} the future may already have completed earlier
 * ({@link #durableOnLeader}); the slot is still held until JRaft runs the closure, so the in-flight bound counts every
 * entry JRaft still tracks. Thread-safe.
 */
final class ProposalClosure implements Closure {
    private final ByteBuffer batch;
    private final AckMode acks;
    private final CompletableFuture<AppendResult> future = new CompletableFuture<>();
    private final Function<Status, RuntimeException> errors;
    private final Runnable release;
    private final ReplicationObserver observer;
    private final long proposedNanos = System.nanoTime();
    private final AtomicBoolean ran = new AtomicBoolean();
    private volatile AppendResult result;

    ProposalClosure(
            ByteBuffer batch,
            AckMode acks,
            Function<Status, RuntimeException> errors,
            Runnable release,
            ReplicationObserver observer) {
        this.batch = batch;
        this.acks = acks;
        this.errors = errors;
        this.release = release;
        this.observer = observer;
    }

    /** The proposed bytes: the identity JRaft keeps in the leader's in-memory entry. */
    ByteBuffer batch() {
        return batch;
    }

    AckMode acks() {
        return acks;
    }

    CompletableFuture<AppendResult> future() {
        return future;
    }

    /** Called by the state machine before it runs the closure with OK. */
    void committed(AppendResult r) {
        result = r;
        try {
            observer.onCommitted(System.nanoTime() - proposedNanos);
        } catch (RuntimeException e) {
            // Metrics must never fail an apply.
        }
    }

    /** The leader fsynced the entry: enough for {@link AckMode#LEADER}. */
    void durableOnLeader(AppendResult r) {
        future.complete(r);
    }

    @Override
    public void run(Status status) {
        if (!ran.compareAndSet(false, true)) {
            return;
        }
        try {
            AppendResult r = result;
            if (status.isOk() && r != null) {
                future.complete(r);
            } else if (status.isOk()) {
                future.completeExceptionally(new IllegalStateException("proposal closure ran without a result"));
            } else {
                future.completeExceptionally(errors.apply(status));
            }
        } finally {
            release.run();
        }
    }
}
