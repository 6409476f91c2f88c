package io.sluice.logstore.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Seeded randomized round trips: random records through every codec, concatenated, stamped, iterated,
 * decoded, filtered. The seed is printed and appears in every failure message; rerun with
 * {@code -Dsluice.seed=<seed>}.
 */
class RandomizedRoundTripTest {
    private record Input(long timestamp, byte[] key, byte[] value, List<Header> headers) {}

    private static byte[] randomBytes(SplittableRandom rnd, boolean allowNull, boolean allowLarge) {
        if (allowNull && rnd.nextInt(6) == 0) {
            return null;
        }
        int len =
                switch (rnd.nextInt(10)) {
                    case 0 -> 0;
                    case 1 -> allowLarge ? 1_000 + rnd.nextInt(150_000) : 200; // large ones span several LZ4 blocks
                    default -> rnd.nextInt(64);
                };
        byte[] b = new byte[len];
        if (rnd.nextBoolean()) {
            rnd.nextBytes(b); // incompressible
        } else {
            for (int i = 0; i < len; i++) {
                b[i] = (byte) ('a' + rnd.nextInt(4)); // compressible
            }
        }
        return b;
    }

    private static String randomKey(SplittableRandom rnd) {
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(8);
        for (int i = 0; i < n; i++) {
            switch (rnd.nextInt(4)) {
                case 0 -> sb.append((char) ('a' + rnd.nextInt(26)));
                case 1 -> sb.append('é');
                case 2 -> sb.append('\u4e2d');
                default -> sb.appendCodePoint(0x1F600 + rnd.nextInt(50));
            }
        }
        return sb.toString();
    }

    private static List<Input> randomInputs(SplittableRandom rnd) {
        boolean many = rnd.nextInt(10) == 0;
        int n = 1 + rnd.nextInt(many ? 2_000 : 20);
        long ts = rnd.nextLong(-1L, 4_000_000_000_000L);
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ts += rnd.nextInt(2_001) - 1_000; // out of order is allowed
            if (rnd.nextInt(50) == 0) {
                ts = rnd.nextLong(); // extreme deltas
            }
            List<Header> headers = new ArrayList<>();
            for (int h = rnd.nextInt(4) == 0 ? rnd.nextInt(5) : 0; h > 0; h--) {
                headers.add(new Header(randomKey(rnd), randomBytes(rnd, true, false)));
            }
            inputs.add(new Input(ts, randomBytes(rnd, true, false), randomBytes(rnd, true, !many), headers));
        }
        return inputs;
    }

    @Test
    void randomBatchesRoundTrip(TestInfo info) {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        System.out.println(info.getDisplayName() + " seed " + seed + " (rerun with -Dsluice.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        String ctx = "seed " + seed;

        List<List<Input>> all = new ArrayList<>();
        List<ByteBuffer> built = new ArrayList<>();
        int totalBytes = 0;
        for (int b = 0; b < 60; b++) {
            CompressionType codec = CompressionType.values()[rnd.nextInt(3)];
            List<Input> inputs = randomInputs(rnd);
            RecordBatchBuilder builder = RecordBatchBuilder.create(codec, rnd.nextInt(4096));
            if (rnd.nextBoolean()) {
                builder.producer(rnd.nextLong(1L << 40), (short) rnd.nextInt(Short.MAX_VALUE), rnd.nextInt(1 << 20));
            }
            int expectedSize = BatchHeader.HEADER_SIZE;
            for (Input in : inputs) {
                if (rnd.nextBoolean()) {
                    builder.append(in.timestamp(), in.key(), in.value(), in.headers());
                } else {
                    builder.append(
                            in.timestamp(),
                            in.key() == null ? null : ByteBuffer.wrap(in.key()),
                            in.value() == null ? null : ByteBuffer.wrap(in.value()),
                            in.headers());
                }
                assertEquals(expectedSize < builder.estimatedSizeInBytes(), true, ctx);
                expectedSize = builder.estimatedSizeInBytes();
            }
            assertEquals(inputs.size(), builder.recordCount(), ctx);
            ByteBuffer batch = builder.build();
            if (codec == CompressionType.NONE) {
                assertEquals(expectedSize, batch.remaining(), ctx);
            }
            all.add(inputs);
            built.add(batch);
            totalBytes += batch.remaining();
        }

        // Concatenate like a segment, stamp like the log, with a partial batch at the end.
        ByteBuffer log = ByteBuffer.allocateDirect(totalBytes + 40);
        long nextOffset = rnd.nextLong(1L << 40);
        List<Long> baseOffsets = new ArrayList<>();
        for (ByteBuffer batch : built) {
            int pos = log.position();
            log.put(batch.duplicate());
            RecordBatch.stampBaseOffset(log, pos, nextOffset);
            RecordBatch.stampRaftTerm(log, pos, 7L);
            RecordBatch.stampEntryIndex(log, pos, baseOffsets.size() + 1L);
            baseOffsets.add(nextOffset);
            nextOffset += RecordBatch.wrap(batch).lastOffsetDelta() + 1;
        }
        int complete = log.position();
        log.put(built.get(0).duplicate().limit(40));
        log.flip();

        RecordBatchIterator it = RecordBatches.iterate(log);
        int i = 0;
        while (it.hasNext()) {
            RecordBatch batch = it.next();
            batch.ensureValid();
            assertEquals(baseOffsets.get(i), batch.baseOffset(), ctx);
            assertEquals(7L, batch.raftTerm(), ctx);
            assertEquals(i + 1L, batch.entryIndex(), ctx);
            List<Input> inputs = all.get(i);
            List<Record> records = batch.records();
            assertEquals(inputs.size(), records.size(), ctx);
            long max = Long.MIN_VALUE;
            for (int r = 0; r < inputs.size(); r++) {
                Input in = inputs.get(r);
                Record rec = records.get(r);
                String where = ctx + " batch " + i + " record " + r;
                assertEquals(baseOffsets.get(i) + r, rec.offset(), where);
                assertEquals(in.timestamp(), rec.timestamp(), where);
                assertArrayEquals(in.key(), rec.keyBytes(), where);
                assertArrayEquals(in.value(), rec.valueBytes(), where);
                assertEquals(in.headers(), rec.headers(), where);
                max = Math.max(max, in.timestamp());
            }
            assertEquals(inputs.get(0).timestamp(), batch.firstTimestamp(), ctx);
            assertEquals(max, batch.maxTimestamp(), ctx);

            // Compaction-style rewrite keeps offsets and timestamps of the survivors.
            long keepSeed = rnd.nextLong(); // decides per offset, so the predicate is repeatable
            List<Record> expectedKept = new ArrayList<>();
            for (Record rec : records) {
                if (new SplittableRandom(keepSeed ^ rec.offset()).nextBoolean()) {
                    expectedKept.add(rec);
                }
            }
            ByteBuffer filtered = batch.filter(rec -> new SplittableRandom(keepSeed ^ rec.offset()).nextBoolean());
            RecordBatch fb = RecordBatch.wrap(filtered);
            fb.ensureValid();
            assertEquals(batch.baseOffset(), fb.baseOffset(), ctx);
            assertEquals(batch.lastOffset(), fb.lastOffset(), ctx);
            assertEquals(batch.entryIndex(), fb.entryIndex(), ctx);
            assertEquals(batch.maxTimestamp(), fb.maxTimestamp(), ctx);
            assertEquals(batch.compression(), fb.compression(), ctx);
            assertEquals(expectedKept, fb.records(), ctx);
            i++;
        }
        assertEquals(built.size(), i, ctx);
        assertEquals(complete, it.position(), ctx);
        assertEquals(40, it.partialTailBytes(), ctx);
        assertFalse(it.hasNext());
    }

    @Test
    void headerKeysEncodeLikeStringGetBytes() {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 2_000; i++) {
            char[] cs = new char[rnd.nextInt(12)];
            for (int c = 0; c < cs.length; c++) {
                cs[c] = (char) (rnd.nextBoolean() ? rnd.nextInt(0x80) : rnd.nextInt(0x10000)); // incl. lone surrogates
            }
            String s = new String(cs);
            byte[] expected = s.getBytes(StandardCharsets.UTF_8);
            byte[] actual = new byte[Utf8.encodedLength(s)];
            assertEquals(actual.length, Utf8.encode(s, actual, 0), "seed " + seed);
            assertArrayEquals(
                    expected,
                    actual,
                    "seed " + seed + " string " + s.chars().boxed().toList());
        }
    }
}
