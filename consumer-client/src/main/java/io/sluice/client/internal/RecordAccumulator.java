package io.sluice.client.internal;

import io.sluice.client.ErrorCode;
import io.sluice.client.RecordPosition;
import io.sluice.client.SluiceException;
import io.sluice.client.TimeoutException;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.Header;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The producer's buffer: per partition, a queue of batches (all full except perhaps the last), and a memory
 * budget shared by all of them that blocks appenders while it is spent.
 *
 * <p>A batch is <i>ready</i> to send when it is full, another batch follows it, it is being retried, a flush or
 * close forces it, or it has waited {@code linger}. Thread-safe: appends from any thread, each partition queue
 * under its own lock; the sender-only fields of {@link PartitionQueue} are confined to the sender thread.
 */
final class RecordAccumulator {
    /** Fixed per-record overhead counted against the buffer and the batch size (varints, attributes). */
    static final int RECORD_OVERHEAD = 21;

    private final CompressionType compression;
    private final int batchSize;
    private final long lingerNanos;
    private final long bufferMemory;
    private final LongSupplier nanoClock;
    private final Map<TopicPartition, PartitionQueue> queues = new ConcurrentHashMap<>();
    /** The same queues in a fixed order (creation order), for the sender's round-robin. */
    private final List<PartitionQueue> queueList = new CopyOnWriteArrayList<>();

    private final Set<ProducerBatch> incomplete = ConcurrentHashMap.newKeySet();

    private final ReentrantLock memoryLock = new ReentrantLock();
    private final Condition memoryFreed = memoryLock.newCondition();
    private long memoryUsed;

    RecordAccumulator(
            CompressionType compression, int batchSize, long lingerNanos, long bufferMemory, LongSupplier nanoClock) {
        this.compression = compression;
        this.batchSize = batchSize;
        this.lingerNanos = lingerNanos;
        this.bufferMemory = bufferMemory;
        this.nanoClock = nanoClock;
    }

    /**
     * The outcome of an append.
     *
     * @param future the record's future
     * @param newBatch whether a new batch was started for it
     * @param filledBatch whether a previous batch of the partition was found full (the sticky partition moves)
     */
    record AppendResult(CompletableFuture<RecordPosition> future, boolean newBatch, boolean filledBatch) {}

    static int estimate(byte[] key, byte[] value, List<Header> headers) {
        int size = RECORD_OVERHEAD + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (Header h : headers) {
            size += 10 + h.key().length() * 3 + (h.value() == null ? 0 : h.value().length);
        }
        return size;
    }

    /**
     * Reserves buffer space for a record, waiting until {@code deadlineNanos}.
     *
     * @throws TimeoutException when the space did not free up in time
     */
    void reserve(long bytes, long deadlineNanos) throws InterruptedException {
        if (bytes > bufferMemory) {
            throw new SluiceException(
                    ErrorCode.RECORD_TOO_LARGE,
                    "record of ~" + bytes + " bytes is larger than the producer's buffer memory (" + bufferMemory
                            + ")");
        }
        memoryLock.lock();
        try {
            while (memoryUsed + bytes > bufferMemory) {
                long wait = deadlineNanos - nanoClock.getAsLong();
                if (wait <= 0) {
                    throw new TimeoutException("producer buffer full (" + bufferMemory
                            + " bytes unacknowledged) for longer than max block");
                }
                memoryFreed.awaitNanos(wait);
            }
            memoryUsed += bytes;
        } finally {
            memoryLock.unlock();
        }
    }

    void release(long bytes) {
        memoryLock.lock();
        try {
            memoryUsed -= bytes;
            memoryFreed.signalAll();
        } finally {
            memoryLock.unlock();
        }
    }

    long memoryUsed() {
        memoryLock.lock();
        try {
            return memoryUsed;
        } finally {
            memoryLock.unlock();
        }
    }

    /** Appends a record whose space was reserved. */
    AppendResult append(
            TopicPartition tp, long timestamp, byte[] key, byte[] value, List<Header> headers, long reserved) {
        PartitionQueue q = queues.computeIfAbsent(tp, k -> {
            PartitionQueue created = new PartitionQueue(k);
            queueList.add(created); // computeIfAbsent runs this at most once per partition
            return created;
        });
        synchronized (q) {
            ProducerBatch last = q.batches.peekLast();
            boolean filled = false;
            if (last != null && !last.isClosed()) {
                CompletableFuture<RecordPosition> f = last.tryAppend(timestamp, key, value, headers, reserved);
                if (f != null) {
                    return new AppendResult(f, false, last.isFull());
                }
                filled = true;
            }
            ProducerBatch b = new ProducerBatch(tp, q.nextSequence++, compression, batchSize, nanoClock.getAsLong());
            CompletableFuture<RecordPosition> f = b.tryAppend(timestamp, key, value, headers, reserved);
            q.batches.addLast(b);
            incomplete.add(b);
            return new AppendResult(f, true, filled || b.isFull());
        }
    }

    /** Batches of {@code tp} queued or awaiting a response: how far its broker is behind, for the partitioner. */
    int load(TopicPartition tp) {
        PartitionQueue q = queues.get(tp);
        if (q == null) {
            return 0;
        }
        synchronized (q) {
            return q.batches.size() + q.inFlight;
        }
    }

    /** Every partition's queue, in a fixed order that only grows at the end. */
    List<PartitionQueue> queues() {
        return queueList;
    }

    /** Futures of every batch not yet completed. */
    List<CompletableFuture<Void>> incompleteBatches() {
        List<CompletableFuture<Void>> out = new ArrayList<>();
        for (ProducerBatch b : incomplete) {
            out.add(b.done);
        }
        return out;
    }

    boolean hasIncomplete() {
        return !incomplete.isEmpty();
    }

    /** Marks a batch finished (success or failure): frees its memory. */
    void completed(ProducerBatch b) {
        if (incomplete.remove(b)) {
            release(b.reservedBytes());
        }
    }

    /**
     * The batches of one partition. The deque is guarded by this object's lock; {@code inFlight}, {@code muted}
     * and {@code failed} belong to the sender thread.
     */
    final class PartitionQueue {
        final TopicPartition tp;
        final Deque<ProducerBatch> batches = new ArrayDeque<>();
        long nextSequence;
        /** Written by the sender thread only; volatile so that {@link #load} sees it from producing threads. */
        volatile int inFlight;

        boolean muted;
        final TreeMap<Long, ProducerBatch> failed = new TreeMap<>();
        /** When the head may become ready, as computed by the last {@link #readyHead}; Long.MAX_VALUE if never. */
        long nextReadyNanos = Long.MAX_VALUE;

        PartitionQueue(TopicPartition tp) {
            this.tp = tp;
        }

        /** The head batch if it is ready to send now, else null (and {@link #nextReadyNanos} says when). */
        synchronized ProducerBatch readyHead(long now, boolean force) {
            nextReadyNanos = Long.MAX_VALUE;
            ProducerBatch head = batches.peekFirst();
            if (head == null) {
                return null;
            }
            if (head.attempts > 0) {
                if (head.nextAttemptNanos > now) {
                    nextReadyNanos = head.nextAttemptNanos;
                    return null;
                }
                return head;
            }
            if (force || head.isFull() || head.isClosed() || batches.size() > 1) {
                return head;
            }
            long readyAt = head.createdNanos + lingerNanos;
            if (readyAt <= now) {
                return head;
            }
            nextReadyNanos = readyAt;
            return null;
        }

        /** Removes the head and closes it (builds its bytes). */
        synchronized ProducerBatch pollHead() {
            ProducerBatch b = batches.pollFirst();
            if (b != null) {
                b.close();
            }
            return b;
        }

        /** Puts failed batches back at the front, in their original order. */
        synchronized void requeueFront(Collection<ProducerBatch> inOrder) {
            List<ProducerBatch> list = new ArrayList<>(inOrder);
            for (int i = list.size() - 1; i >= 0; i--) {
                batches.addFirst(list.get(i));
            }
        }

        synchronized boolean isEmpty() {
            return batches.isEmpty();
        }
    }

    static long toNanos(java.time.Duration d) {
        return TimeUnit.NANOSECONDS.convert(d);
    }
}
