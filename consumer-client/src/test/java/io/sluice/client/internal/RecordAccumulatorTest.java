package io.sluice.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.client.TimeoutException;
import io.sluice.client.TopicPartition;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatch;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Batching by size and linger, and the memory bound, with a fake clock. */
class RecordAccumulatorTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final TopicPartition tp = new TopicPartition("t", 0);

    private RecordAccumulator accumulator(int batchSize, long lingerNanos, long memory) {
        return new RecordAccumulator(CompressionType.NONE, batchSize, lingerNanos, memory, clock::get);
    }

    private RecordAccumulator.AppendResult append(RecordAccumulator acc, int valueSize) {
        byte[] v = new byte[valueSize];
        long est = RecordAccumulator.estimate(null, v, List.of());
        return acc.append(tp, 0, null, v, List.of(), est);
    }

    @Test
    void splitsBatchesBySize() {
        RecordAccumulator acc = accumulator(1024, 1_000_000, 1 << 20);
        assertTrue(append(acc, 300).newBatch());
        assertFalse(append(acc, 300).newBatch());
        RecordAccumulator.AppendResult third = append(acc, 600);
        assertTrue(third.newBatch());
        assertTrue(third.filledBatch());
        RecordAccumulator.PartitionQueue q = acc.queues().iterator().next();
        ProducerBatch head = q.readyHead(clock.get(), false);
        assertNotNull(head, "a batch followed by another is ready");
        assertEquals(2, q.pollHead().recordCount());
        // a single record larger than the batch size still gets a batch of its own
        assertTrue(append(acc, 5000).newBatch());
    }

    @Test
    void lingerDecidesReadiness() {
        RecordAccumulator acc = accumulator(1 << 16, 5_000_000, 1 << 20);
        append(acc, 10);
        RecordAccumulator.PartitionQueue q = acc.queues().iterator().next();
        assertNull(q.readyHead(clock.get(), false));
        assertEquals(clock.get() + 5_000_000, q.nextReadyNanos);
        assertNotNull(q.readyHead(clock.get(), true), "flush forces it");
        clock.addAndGet(5_000_000);
        ProducerBatch b = q.readyHead(clock.get(), false);
        assertNotNull(b);
        q.pollHead();
        RecordBatch built = RecordBatch.wrap(b.bytes());
        built.ensureValid();
        assertEquals(1, built.recordCount());
    }

    @Test
    void memoryBoundBlocksThenTimesOut() throws Exception {
        RecordAccumulator acc = accumulator(1024, 0, 2048);
        acc.reserve(2000, System.nanoTime() + 1_000_000);
        clock.set(System.nanoTime());
        RecordAccumulator real = new RecordAccumulator(CompressionType.NONE, 1024, 0, 2048, System::nanoTime);
        real.reserve(2000, System.nanoTime() + 1_000_000);
        assertThrows(TimeoutException.class, () -> real.reserve(100, System.nanoTime() + 20_000_000));
        real.release(2000);
        real.reserve(100, System.nanoTime() + 1_000_000);
        assertEquals(100, real.memoryUsed());
    }

    @Test
    void requeuedBatchesKeepTheirOrder() {
        RecordAccumulator acc = accumulator(1024, 0, 1 << 20);
        append(acc, 900);
        append(acc, 900);
        append(acc, 900);
        RecordAccumulator.PartitionQueue q = acc.queues().iterator().next();
        ProducerBatch a = q.pollHead();
        ProducerBatch b = q.pollHead();
        q.requeueFront(List.of(a, b));
        assertEquals(a.sequence, q.pollHead().sequence);
        assertEquals(b.sequence, q.pollHead().sequence);
    }
}
