package io.sluice.bench;

import io.sluice.logstore.DurabilityPolicy;
import io.sluice.logstore.FsyncScheduler;
import io.sluice.logstore.Log;
import io.sluice.logstore.LogConfig;
import io.sluice.logstore.LogReadResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
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
 * Sequential reads of whole stored batches from a {@link Log} whose data is in the page cache.
 *
 * <p>The log is filled once with {@link #logMiB} MiB of 64 KiB batches of 1 KiB records; each operation reads up to
 * {@link #readBytes} bytes from the current position (wrapping to the start at the end), exactly what a fetch does: whole
 * batches, untouched, never decoded. The benchmark returns bytes read, and reports ops/s; MB/s = ops/s × readBytes.
 *
 * <p>Not thread-safe; JMH runs it on one thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class LogReadBenchmark {
    @Param({"1048576"})
    public int readBytes;

    @Param({"256"})
    public int logMiB;

    private Path dir;
    private FsyncScheduler fsync;
    private Log log;
    private long position;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory(BenchDirs.root(), "read-");
        fsync = FsyncScheduler.start("bench-fsync");
        LogConfig config = LogConfig.builder()
                .durability(DurabilityPolicy.NONE)
                .segmentBytes(128 * 1024 * 1024)
                .build();
        log = Log.open(dir, config, fsync, Clock.systemUTC());
        ByteBuffer batch = LogAppendBenchmark.batchOf1KiBRecords(64, 7);
        long batches = (long) logMiB * 1024 * 1024 / batch.remaining();
        for (long i = 0; i < batches; i++) {
            log.append(batch.duplicate());
        }
        log.flushAsync().join();
        position = log.logStartOffset();
    }

    @Benchmark
    public int read() {
        if (position >= log.logEndOffset()) {
            position = log.logStartOffset();
        }
        LogReadResult result = log.read(position, readBytes);
        position = result.nextOffset();
        return result.records().remaining();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        log.close();
        fsync.close();
        BenchDirs.deleteRecursively(dir);
    }
}
