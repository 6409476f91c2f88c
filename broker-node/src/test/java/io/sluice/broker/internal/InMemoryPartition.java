package io.sluice.broker.internal;

import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.OffsetOutOfRangeException;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An in-memory partition for handler tests: appends stamp offsets and (with auto-commit) commit at once; leadership and
 * commit can be driven by the test. Thread-safe (synchronized).
 */
final class InMemoryPartition implements PartitionHandle {
    private int largestRead;
    private long bytesRead;
    private final String topic;
    private final int partition;
    private final List<ByteBuffer> batches = new ArrayList<>();
    private final List<Long> bases = new ArrayList<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private long logEnd;
    private long hw;
    private volatile boolean leader = true;
    private volatile OptionalInt leaderId;
    private volatile boolean autoCommit = true;
    private final List<CompletableFuture<AppendResult>> pending = new ArrayList<>();
    private final List<AppendResult> pendingResults = new ArrayList<>();

    InMemoryPartition(String topic, int partition, int selfId) {
        this.topic = topic;
        this.partition = partition;
        this.leaderId = OptionalInt.of(selfId);
    }

    void setLeader(boolean leader, OptionalInt leaderId) {
        this.leader = leader;
        this.leaderId = leaderId;
        listeners.forEach(Runnable::run);
    }

    void setAutoCommit(boolean autoCommit) {
        this.autoCommit = autoCommit;
    }

    void commitAll() {
        List<CompletableFuture<AppendResult>> done;
        List<AppendResult> results;
        synchronized (this) {
            hw = logEnd;
            done = new ArrayList<>(pending);
            results = new ArrayList<>(pendingResults);
            pending.clear();
            pendingResults.clear();
        }
        for (int i = 0; i < done.size(); i++) {
            done.get(i).complete(results.get(i));
        }
        listeners.forEach(Runnable::run);
    }

    /** Appends so far, committed or not. */
    synchronized int appendCount() {
        return batches.size();
    }

    int listenerCount() {
        return listeners.size();
    }

    @Override
    public List<Integer> inSyncReplicas() {
        // A single in-memory replica: the leader is its own in-sync set.
        OptionalInt id = leaderId;
        return leader && id.isPresent() ? List.of(id.getAsInt()) : List.of();
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public int partition() {
        return partition;
    }

    @Override
    public boolean isLeader() {
        return leader;
    }

    @Override
    public OptionalInt leaderId() {
        return leaderId;
    }

    @Override
    public long leaderTerm() {
        return 1;
    }

    @Override
    public CompletableFuture<AppendResult> append(ByteBuffer batch, boolean quorum) {
        CompletableFuture<AppendResult> f = new CompletableFuture<>();
        synchronized (this) {
            RecordBatch.stampBaseOffset(batch, 0, logEnd);
            RecordBatch b = RecordBatch.wrap(batch);
            AppendResult r = new AppendResult(logEnd, logEnd + b.lastOffsetDelta());
            batches.add(batch);
            bases.add(logEnd);
            logEnd = r.lastOffset() + 1;
            pending.add(f);
            pendingResults.add(r);
        }
        if (autoCommit) {
            commitAll();
        }
        return f;
    }

    @Override
    public synchronized long logStartOffset() {
        return 0;
    }

    /** The largest {@code maxBytes} any read asked for. */
    synchronized int largestRead() {
        return largestRead;
    }

    /** The bytes all reads have returned so far. */
    synchronized long bytesRead() {
        return bytesRead;
    }

    @Override
    public synchronized long highWatermark() {
        return hw;
    }

    @Override
    public synchronized long logEndOffset() {
        return logEnd;
    }

    @Override
    public synchronized LogReadResult read(long offset, int maxBytes) {
        largestRead = Math.max(largestRead, maxBytes);
        if (offset < 0 || offset > hw) {
            throw new OffsetOutOfRangeException(offset, 0, hw);
        }
        List<ByteBuffer> out = new ArrayList<>();
        int size = 0;
        long first = offset;
        long next = offset;
        for (int i = 0; i < batches.size(); i++) {
            ByteBuffer b = batches.get(i);
            RecordBatch rb = RecordBatch.wrap(b.duplicate());
            if (rb.lastOffset() < offset || rb.nextOffset() > hw) {
                continue;
            }
            if (!out.isEmpty() && size + b.remaining() > maxBytes) {
                break;
            }
            if (out.isEmpty()) {
                first = bases.get(i);
            }
            out.add(b.duplicate());
            size += b.remaining();
            next = rb.nextOffset();
        }
        ByteBuffer all = ByteBuffer.allocate(size);
        out.forEach(all::put);
        all.flip();
        bytesRead += size;
        return new LogReadResult(all, first, next, out.size(), 0, hw);
    }

    @Override
    public synchronized Optional<TimestampOffset> offsetForTimestamp(long timestampMs) {
        for (ByteBuffer b : batches) {
            RecordBatch rb = RecordBatch.wrap(b.duplicate());
            if (rb.nextOffset() > hw) {
                break;
            }
            for (Record r : rb) {
                if (r.timestamp() >= timestampMs) {
                    return Optional.of(new TimestampOffset(r.offset(), r.timestamp()));
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public Subscription subscribe(Runnable listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }
}
