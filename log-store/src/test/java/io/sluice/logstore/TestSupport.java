package io.sluice.logstore;

import static org.junit.jupiter.api.Assertions.fail;

import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.logstore.record.RecordBatchBuilder;
import io.sluice.logstore.record.RecordBatches;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Helpers shared by the log-store tests: batches, a settable clock, condition polling. */
public final class TestSupport {
    private TestSupport() {}

    /** A batch of {@code n} records "k{i}"/"v{i}" with timestamps ts, ts+1, ... and the given term. */
    public static ByteBuffer batch(int n, long ts, long term) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        for (int i = 0; i < n; i++) {
            b.append(ts + i, bytes("k" + i), bytes("v" + i));
        }
        ByteBuffer buf = b.build();
        RecordBatch.stampRaftTerm(buf, 0, term);
        return buf;
    }

    public static ByteBuffer batch(int n, long ts) {
        return batch(n, ts, 1);
    }

    /** A batch of one record of {@code valueBytes} bytes. */
    public static ByteBuffer sizedBatch(int valueBytes, long ts) {
        byte[] v = new byte[valueBytes];
        for (int i = 0; i < v.length; i++) {
            v[i] = (byte) i;
        }
        return RecordBatchBuilder.create(CompressionType.NONE)
                .append(ts, bytes("key"), v)
                .build();
    }

    /** A batch of keyed records: keys[i] with values[i] (null value = tombstone) at timestamp ts. */
    public static ByteBuffer keyed(long ts, String[] keys, String[] values) {
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE);
        for (int i = 0; i < keys.length; i++) {
            b.append(ts, keys[i] == null ? null : bytes(keys[i]), values[i] == null ? null : bytes(values[i]));
        }
        return b.build();
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String string(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    /** The batches in a buffer of batches, validated. */
    public static List<RecordBatch> batches(ByteBuffer buf) {
        List<RecordBatch> out = new ArrayList<>();
        for (Iterator<RecordBatch> it = RecordBatches.iterate(buf); it.hasNext(); ) {
            RecordBatch b = it.next();
            b.ensureValid();
            out.add(b);
        }
        return out;
    }

    public static List<Record> records(ByteBuffer buf) {
        List<Record> out = new ArrayList<>();
        for (RecordBatch b : batches(buf)) {
            b.iterator().forEachRemaining(out::add);
        }
        return out;
    }

    public static void waitFor(BooleanSupplier condition, Duration timeout, String message) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + ": " + message);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** A clock tests move by hand. Thread-safe. */
    public static final class MutableClock extends Clock {
        private volatile long millis;

        public MutableClock(long millis) {
            this.millis = millis;
        }

        public void advance(Duration d) {
            millis += d.toMillis();
        }

        public void set(long ms) {
            millis = ms;
        }

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
