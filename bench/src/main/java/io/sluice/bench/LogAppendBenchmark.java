package io.sluice.bench;

import io.sluice.logstore.DurabilityPolicy;
import io.sluice.logstore.FsyncScheduler;
import io.sluice.logstore.Log;
import io.sluice.logstore.LogConfig;
import io.sluice.logstore.record.CompressionType;
import io.sluice.logstore.record.RecordBatchBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Appends 64 KiB batches of 1 KiB records to a {@link Log} under each durability policy.
 *
 * <p>One operation is one batch (65,536 payload bytes), so MB/s = ops/s × 0.0625 MiB. Under {@code GROUPED} the writer
 * keeps up to {@link #window} flush requests outstanding, as a Raft leader pipelining appends does: an operation only
 * counts once the fsync covering a batch {@code window} operations earlier has completed, so the figure is durable
 * throughput, not page-cache throughput. {@code FSYNC_PER_APPEND} forces on every append; {@code NONE} never waits.
 * Old segments are deleted as the run goes (retention by size) so a long run does not fill the disk.
 *
 * <p>Not thread-safe; JMH runs it on one thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class LogAppendBenchmark {
    static final int RECORD_BYTES = 1024;
    static final int BATCH_BYTES = 64 * 1024;

    @Param({"FSYNC_PER_APPEND", "GROUPED", "NONE"})
    public DurabilityPolicy durability;

    /** Outstanding group-commit flushes under GROUPED. */
    @Param({"16"})
    public int window;

    private Path dir;
    private FsyncScheduler fsync;
    private Log log;
    private ByteBuffer batch;
    private final ArrayDeque<CompletableFuture<Void>> pending = new ArrayDeque<>();
    private long ops;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory(BenchDirs.root(), "append-");
        fsync = FsyncScheduler.start("bench-fsync");
        LogConfig config = LogConfig.builder()
                .durability(durability)
                .segmentBytes(256 * 1024 * 1024)
                .retentionBytes(1024L * 1024 * 1024)
                .build();
        log = Log.open(dir, config, fsync, Clock.systemUTC());
        batch = batchOf1KiBRecords(BATCH_BYTES / RECORD_BYTES, 42);
    }

    static ByteBuffer batchOf1KiBRecords(int records, long seed) {
        Random random = new Random(seed);
        RecordBatchBuilder builder = RecordBatchBuilder.create(CompressionType.NONE);
        long now = System.currentTimeMillis();
        for (int i = 0; i < records; i++) {
            byte[] value = new byte[RECORD_BYTES];
            random.nextBytes(value);
            builder.append(now, null, value, List.of());
        }
        return builder.build();
    }

    @Benchmark
    public long append() {
        long base = log.append(batch.duplicate()).baseOffset();
        if (durability == DurabilityPolicy.GROUPED) {
            pending.addLast(log.flushAsync());
            if (pending.size() >= window) {
                pending.removeFirst().join();
            }
        }
        if (++ops % 1024 == 0) {
            log.applyRetention();
        }
        return base;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        while (!pending.isEmpty()) {
            pending.removeFirst().join();
        }
        log.close();
        fsync.close();
        BenchDirs.deleteRecursively(dir);
    }
}
