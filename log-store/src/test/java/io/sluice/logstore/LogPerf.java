package io.sluice.logstore;

import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatchBuilder;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * A quick throughput harness (not a unit test): grouped-fsync appends and cached sequential reads.
 *
 * <p>{@code java -cp ... io.sluice.logstore.LogPerf <dir> [totalMiB] [batchKiB] [flushEveryBatches]}.
 * Compare the append figure with {@code dd if=/dev/zero of=<dir>/f bs=1M count=1024 conv=fsync}.
 */
public final class LogPerf {
    private LogPerf() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long totalMiB = args.length > 1 ? Long.parseLong(args[1]) : 1024;
        int batchKiB = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int flushEvery = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        Files.createDirectories(dir);
        byte[] value = new byte[1024];
        new Random(1).nextBytes(value);
        RecordBatchBuilder b = RecordBatchBuilder.create(CompressionType.NONE, batchKiB * 1024);
        for (int i = 0; i < batchKiB; i++) {
            b.append(System.currentTimeMillis(), ("key" + i).getBytes(), value);
        }
        ByteBuffer batch = b.build();
        int size = batch.remaining();
        long batches = totalMiB * 1024 * 1024 / size;
        LogConfig config =
                LogConfig.builder().durability(DurabilityPolicy.GROUPED).build();
        try (FsyncScheduler fsync = FsyncScheduler.start("perf-fsync")) {
            for (int round = 0; round < 2; round++) {
                Path logDir = dir.resolve("perf-" + round);
                try (Log log = Log.open(logDir, config, fsync, Clock.systemUTC())) {
                    ArrayDeque<CompletableFuture<Void>> pending = new ArrayDeque<>();
                    long t0 = System.nanoTime();
                    for (long i = 0; i < batches; i++) {
                        log.append(batch.duplicate());
                        if ((i + 1) % flushEvery == 0) {
                            pending.add(log.flushAsync());
                            while (pending.size() > 4) {
                                pending.poll().join();
                            }
                        }
                    }
                    log.flushAsync().join();
                    long ns = System.nanoTime() - t0;
                    double mbps = (double) batches * size / ns * 1e9 / 1e6;
                    System.out.printf(
                            "append (grouped fsync): %d batches of %d bytes in %.2f s = %.0f MB/s, %d fsyncs%n",
                            batches, size, ns / 1e9, mbps, fsync.flushCount());

                    for (int pass = 0; pass < Integer.getInteger("passes", 3); pass++) {
                        long r0 = System.nanoTime();
                        long bytes = 0;
                        long next = log.logStartOffset();
                        while (next < log.logEndOffset()) {
                            LogReadResult r = log.read(next, Integer.getInteger("readBytes", 1 << 20));
                            bytes += r.sizeInBytes();
                            next = r.nextOffset();
                        }
                        long rns = System.nanoTime() - r0;
                        System.out.printf(
                                "cached sequential read pass %d: %d bytes in %.2f s = %.2f GB/s%n",
                                pass, bytes, rns / 1e9, (double) bytes / rns);
                    }
                    long e0 = System.nanoTime();
                    long last = log.lastEntryIndex();
                    Random rnd = new Random(2);
                    int lookups = 100_000;
                    for (int i = 0; i < lookups; i++) {
                        log.termOf(1 + (long) (rnd.nextDouble() * last));
                    }
                    System.out.printf(
                            "random entry-index lookups: %.1f us each%n", (System.nanoTime() - e0) / 1e3 / lookups);
                }
                log(dir, logDir);
            }
        }
    }

    private static void log(Path dir, Path logDir) throws Exception {
        try (var s = Files.walk(logDir)) {
            s.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }
}
