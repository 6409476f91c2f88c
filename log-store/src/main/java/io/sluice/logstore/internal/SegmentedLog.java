package io.sluice.logstore.internal;

import io.sluice.logstore.AppendInfo;
import io.sluice.logstore.CompactionResult;
import io.sluice.logstore.CorruptSegmentException;
import io.sluice.logstore.DurabilityPolicy;
import io.sluice.logstore.FsyncScheduler;
import io.sluice.logstore.Log;
import io.sluice.logstore.LogConfig;
import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.OffsetOutOfRangeException;
import io.sluice.logstore.SegmentInfo;
import io.sluice.logstore.record.CorruptRecordException;
import io.sluice.logstore.record.RecordBatch;
import java.io.Flushable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The {@link Log} implementation: an array of {@link Segment}s, replaced copy-on-write on every
 * structural change (roll, deletion, truncation, compaction swap), the last one active.
 *
 * <p>Invariants: segments are sorted by base offset and contiguous in offsets and entry indexes (each
 * begins where its predecessor ends); only the last may be empty; every sealed segment is durable (its log
 * was forced when it was sealed), so after a crash only the last segment can have a torn tail.
 *
 * <p>Threads: mutations hold {@code writeLock}; readers take the current array (volatile) and a reference
 * on the segment they read. Durability bookkeeping is guarded by {@code flushLock}. See {@link Log} for
 * the contract.
 */
public final class SegmentedLog implements Log {
    private static final System.Logger LOG = System.getLogger(SegmentedLog.class.getName());
    private static final int MAX_READ_RETRIES = 100;

    private final Path dir;
    private final LogConfig config;
    private final FsyncScheduler fsync;
    private final Clock clock;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Flushable flusher = new Flusher();

    private volatile Segment[] segments;
    private volatile long logEndOffset;
    private volatile long nextEntryIndex;
    private volatile boolean closed;
    /**
     * The last entry's index, term and (once read, if small) bytes, or null when not known yet. Raft asks for the last
     * entry's term on every heartbeat, on the leader (the request's previous entry) and on the follower (its check of
     * it), and JRaft's log manager reads the whole entry for it; at a thousand idle partitions that was thousands of
     * index lookups and disk reads a second. Written under {@link #writeLock} only: set by appends, cleared by anything
     * that removes entries, filled in by {@link #termOf} and {@link #readEntry} when no change came between their read
     * and their store ({@link #changes}).
     */
    private volatile Tail tail;
    /** Bumped under {@link #writeLock} by every change that can remove the last entry. */
    private volatile long changes;

    private final Object flushLock = new Object();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private volatile long durableEndOffset;
    private long truncations;

    /** Compaction's exclusive right to swap segments; held only by {@link LogCleaner}. */
    final ReentrantLock cleanerLock = new ReentrantLock();

    private record Waiter(long target, CompletableFuture<Void> future) {}

    /** The last entry: its index, its term and, once read and if small, its stored bytes (never handed out). */
    private record Tail(long entryIndex, long term, ByteBuffer batch) {}

    /** Largest last entry whose bytes {@link #readEntry} keeps (no-op and configuration entries are ~100 bytes). */
    private static final int TAIL_BYTES_MAX = 4096;

    private SegmentedLog(Path dir, LogConfig config, FsyncScheduler fsync, Clock clock, Segment[] segments) {
        this.dir = dir;
        this.config = config;
        this.fsync = fsync;
        this.clock = clock;
        this.segments = segments;
        Segment active = segments[segments.length - 1];
        this.logEndOffset = active.nextOffset();
        this.nextEntryIndex = active.nextEntryIndex();
        this.durableEndOffset = logEndOffset;
    }

    // ------------------------------------------------------------------------------------------ open

    /** See {@link Log#open}. */
    public static SegmentedLog open(Path dir, LogConfig config, FsyncScheduler fsync, Clock clock) throws IOException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(fsync, "fsync");
        Objects.requireNonNull(clock, "clock");
        Files.createDirectories(dir);
        Path marker = dir.resolve(SegmentFiles.CLEAN_SHUTDOWN);
        boolean clean = Files.exists(marker);
        LogCleaner.completeInterruptedSwaps(dir, config);

        Optional<LogStartCheckpoint> checkpoint = LogStartCheckpoint.read(dir);
        TreeSet<Long> bases = new TreeSet<>();
        List<Path> others = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> {
                String name = f.getFileName().toString();
                OptionalLong base = SegmentFiles.baseOffsetOf(name, SegmentFiles.LOG_SUFFIX);
                if (base.isPresent()) {
                    bases.add(base.getAsLong());
                } else {
                    others.add(f);
                }
            });
        }
        for (Path f : others) {
            String name = f.getFileName().toString();
            OptionalLong idx = SegmentFiles.baseOffsetOf(name, SegmentFiles.INDEX_SUFFIX);
            OptionalLong tidx = SegmentFiles.baseOffsetOf(name, SegmentFiles.TIME_INDEX_SUFFIX);
            boolean orphanIndex = (idx.isPresent() && !bases.contains(idx.getAsLong()))
                    || (tidx.isPresent() && !bases.contains(tidx.getAsLong()));
            if (orphanIndex || name.endsWith(SegmentFiles.TMP_SUFFIX)) {
                LOG.log(Level.INFO, "{0}: deleting leftover file {1}", dir, name);
                Files.deleteIfExists(f);
            }
        }
        if (checkpoint.isPresent()) {
            long start = checkpoint.get().startOffset();
            // Finish a prefix deletion that a crash interrupted.
            while (!bases.isEmpty() && bases.first() < start) {
                long b = bases.pollFirst();
                LOG.log(Level.INFO, "{0}: deleting segment {1} below the log start offset {2}", dir, b, start);
                Files.deleteIfExists(SegmentFiles.log(dir, b));
                Files.deleteIfExists(SegmentFiles.offsetIndex(dir, b));
                Files.deleteIfExists(SegmentFiles.timeIndex(dir, b));
            }
        }

        boolean fresh = bases.isEmpty();
        long now = clock.millis();
        List<Segment> loaded = new ArrayList<>();
        try {
            Long[] sorted = bases.toArray(new Long[0]);
            for (int i = 0; i < sorted.length; i++) {
                boolean last = i == sorted.length - 1;
                long fallbackEntry;
                if (!loaded.isEmpty()) {
                    fallbackEntry = loaded.get(loaded.size() - 1).nextEntryIndex();
                } else if (checkpoint.isPresent() && checkpoint.get().startOffset() == sorted[i]) {
                    fallbackEntry = checkpoint.get().firstEntryIndex();
                } else {
                    fallbackEntry = 1;
                }
                Segment.Mode mode = !clean && last ? Segment.Mode.RECOVER : Segment.Mode.TRUST;
                Segment s = Segment.load(dir, sorted[i], fallbackEntry, config, mode, last, now);
                if (s.isEmpty() && !last) {
                    LOG.log(Level.WARNING, "{0}: deleting empty segment {1} that is not the last one", dir, s);
                    s.deleteFiles();
                    s.release();
                    continue;
                }
                if (!loaded.isEmpty()) {
                    Segment prev = loaded.get(loaded.size() - 1);
                    if (s.isEmpty() && prev.nextOffset() != s.baseOffset()) {
                        LOG.log(
                                Level.WARNING,
                                "{0}: deleting empty last segment {1} that does not continue {2}",
                                dir,
                                s,
                                prev);
                        s.deleteFiles();
                        s.release();
                        prev.reactivate();
                        continue;
                    }
                    if (prev.corruption().isPresent()) {
                        prev.setEndFromSuccessor(s.baseOffset(), s.baseEntryIndex());
                    } else if (prev.nextOffset() != s.baseOffset()
                            || (!s.isEmpty() && prev.nextEntryIndex() != s.baseEntryIndex())) {
                        prev.markCorrupt(new CorruptSegmentException(
                                prev.logFile(),
                                prev.size(),
                                "segment ends at offset " + prev.nextOffset() + " entry " + prev.nextEntryIndex()
                                        + " but the next segment starts at offset " + s.baseOffset() + " entry "
                                        + s.baseEntryIndex()));
                        prev.setEndFromSuccessor(s.baseOffset(), s.baseEntryIndex());
                    }
                }
                loaded.add(s);
            }
            if (loaded.isEmpty()) {
                long start = checkpoint.map(LogStartCheckpoint::startOffset).orElse(0L);
                long firstEntry =
                        checkpoint.map(LogStartCheckpoint::firstEntryIndex).orElse(1L);
                loaded.add(Segment.create(dir, start, firstEntry, config));
                new LogStartCheckpoint(start, firstEntry).write(dir);
            } else if (loaded.get(loaded.size() - 1).corruption().isPresent()) {
                // Never append behind known corruption: start a fresh segment after it.
                Segment bad = loaded.get(loaded.size() - 1);
                bad.seal();
                loaded.add(Segment.create(dir, bad.nextOffset(), bad.nextEntryIndex(), config));
            }
            Files.deleteIfExists(marker);
            Dirs.fsync(dir);
        } catch (IOException | RuntimeException e) {
            for (Segment s : loaded) {
                s.release();
            }
            throw e;
        }
        SegmentedLog log = new SegmentedLog(dir, config, fsync, clock, loaded.toArray(new Segment[0]));
        LOG.log(
                Level.INFO,
                "{0}: opened ({1}), {2} segments, offsets {3}..{4}, entries {5}..{6}",
                dir,
                fresh ? "new log" : clean ? "clean shutdown" : "unclean shutdown",
                loaded.size(),
                log.logStartOffset(),
                log.logEndOffset(),
                log.firstEntryIndex(),
                log.lastEntryIndex());
        return log;
    }

    @Override
    public Path dir() {
        return dir;
    }

    @Override
    public LogConfig config() {
        return config;
    }

    Clock clock() {
        return clock;
    }

    // ------------------------------------------------------------------------------------------ appends

    @Override
    public AppendInfo append(ByteBuffer batch) {
        return appendAll(List.of(batch)).get(0);
    }

    @Override
    public List<AppendInfo> appendAll(List<ByteBuffer> batches) {
        if (batches.isEmpty()) {
            return List.of();
        }
        long started = System.nanoTime();
        ByteBuffer[] bufs = new ByteBuffer[batches.size()];
        for (int i = 0; i < bufs.length; i++) {
            bufs[i] = validate(batches.get(i), i);
        }
        writeLock.lock();
        try {
            ensureOpen();
            List<AppendInfo> infos = new ArrayList<>(bufs.length);
            long offset = logEndOffset;
            long entry = nextEntryIndex;
            long now = clock.millis();
            int i = 0;
            while (i < bufs.length) {
                Segment active = segments[segments.length - 1];
                int first = i;
                List<BatchMeta> metas = new ArrayList<>();
                long groupBytes = 0;
                while (i < bufs.length) {
                    ByteBuffer b = bufs[i];
                    int p = b.position();
                    int size = b.remaining();
                    long last = offset + BatchHeaders.lastOffsetDelta(b, p);
                    if (metas.isEmpty()) {
                        if (active.shouldRoll(size, last, entry, now)) {
                            active = roll();
                        }
                    } else if (active.size() + groupBytes + size > config.segmentBytes()
                            || active.offsetIndex().entries() + metas.size() + 1
                                    >= active.offsetIndex().capacity()
                            || active.timeIndex().entries() + metas.size() + 2
                                    >= active.timeIndex().capacity()
                            || last - active.baseOffset() > Integer.MAX_VALUE
                            || entry - active.baseEntryIndex() > Integer.MAX_VALUE) {
                        break;
                    }
                    RecordBatch.stampBaseOffset(b, p, offset);
                    RecordBatch.stampEntryIndex(b, p, entry);
                    long maxTs = BatchHeaders.maxTimestamp(b, p);
                    metas.add(new BatchMeta(offset, last, entry, maxTs, size));
                    infos.add(new AppendInfo(offset, last, entry, maxTs, size));
                    groupBytes += size;
                    offset = last + 1;
                    entry++;
                    i++;
                }
                ByteBuffer[] group = new ByteBuffer[i - first];
                for (int k = 0; k < group.length; k++) {
                    group[k] = bufs[first + k].duplicate();
                }
                active.append(group, metas.toArray(new BatchMeta[0]), now);
                nextEntryIndex = active.nextEntryIndex();
                logEndOffset = active.nextOffset();
            }
            ByteBuffer lastBatch = bufs[bufs.length - 1];
            tail = new Tail(entry - 1, BatchHeaders.raftTerm(lastBatch, lastBatch.position()), null);
            if (config.durability() == DurabilityPolicy.FSYNC_PER_APPEND) {
                Segment active = segments[segments.length - 1];
                long flushStarted = System.nanoTime();
                try {
                    active.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException("fsync of " + active.logFile() + " failed", e);
                }
                reportFsync(System.nanoTime() - flushStarted);
                markDurable(logEndOffset);
            }
            reportAppend(bufs.length, System.nanoTime() - started);
            return infos;
        } finally {
            writeLock.unlock();
        }
    }

    // A failing stats sink must not fail the log (no lambda: these run on every append).
    private void reportAppend(int batches, long nanos) {
        try {
            fsync.stats().onAppend(batches, nanos);
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "log stats callback failed", e);
        }
    }

    private void reportFsync(long nanos) {
        try {
            fsync.stats().onFsync(nanos);
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "log stats callback failed", e);
        }
    }

    /** Checks one batch and returns a writable view of exactly its bytes (a copy if it was read-only). */
    private static ByteBuffer validate(ByteBuffer batch, int i) {
        Objects.requireNonNull(batch, "batch");
        RecordBatch view = RecordBatch.wrap(batch);
        if (view.sizeInBytes() != batch.remaining()) {
            throw new CorruptRecordException("buffer " + i + " holds " + batch.remaining()
                    + " bytes but its batch declares " + view.sizeInBytes() + "; append takes exactly one batch");
        }
        view.ensureValid();
        if (batch.isReadOnly()) {
            ByteBuffer copy = ByteBuffer.allocate(batch.remaining());
            copy.put(batch.duplicate()).flip();
            return copy;
        }
        return batch.slice();
    }

    /** Writer: seals the active segment and starts a new one at the log end. */
    private Segment roll() {
        Segment old = segments[segments.length - 1];
        try {
            old.seal();
            Segment fresh = Segment.create(dir, logEndOffset, nextEntryIndex, config);
            Dirs.fsync(dir);
            Segment[] next = Arrays.copyOf(segments, segments.length + 1);
            next[next.length - 1] = fresh;
            segments = next;
            LOG.log(Level.DEBUG, "{0}: rolled to segment {1} at entry {2}", dir, logEndOffset, nextEntryIndex);
            markDurable(fresh.baseOffset());
            return fresh;
        } catch (IOException e) {
            throw new UncheckedIOException("roll of " + dir + " at offset " + logEndOffset + " failed", e);
        }
    }

    // ------------------------------------------------------------------------------------------ durability

    @Override
    public CompletableFuture<Void> flushAsync() {
        long target = logEndOffset;
        if (target <= durableEndOffset) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (flushLock) {
            if (closed) {
                f.completeExceptionally(new IllegalStateException("log " + dir + " is closed"));
                return f;
            }
            waiters.addLast(new Waiter(target, f));
        }
        try {
            fsync.requestFlush(flusher);
        } catch (IllegalStateException e) {
            failWaiters(e);
        }
        return f;
    }

    @Override
    public void flush() {
        ensureOpen();
        while (true) {
            synchronized (flushLock) {
                if (logEndOffset <= durableEndOffset) {
                    return;
                }
            }
            long end = forceActive();
            if (end != TRUNCATED_MEANWHILE) {
                markDurable(end);
                return;
            }
            // truncated (and maybe appended again) meanwhile: force what is there now
        }
    }

    /** What {@link #forceActive()} returns when a truncation ran during the force. */
    private static final long TRUNCATED_MEANWHILE = -1;

    /**
     * Forces the active segment and returns the log end offset the force covered, or {@link #TRUNCATED_MEANWHILE} when
     * a truncation ran during it (then nothing is known to be durable and the caller forces again). Used by {@link
     * #flush()} on the caller's thread and by the {@link Flusher} on the fsync thread.
     *
     * @throws IllegalStateException if the log is closed
     * @throws UncheckedIOException if the fsync fails
     */
    private long forceActive() {
        long epoch;
        synchronized (flushLock) {
            epoch = truncations;
        }
        // Read the end before the active segment: a roll in between forced the old segment already.
        long end = logEndOffset;
        Segment active = acquireActive();
        if (active == null) {
            throw new IllegalStateException("log " + dir + " is closed");
        }
        long flushStarted = System.nanoTime();
        try {
            active.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("fsync of " + active.logFile() + " failed", e);
        } finally {
            active.release();
        }
        reportFsync(System.nanoTime() - flushStarted);
        synchronized (flushLock) {
            return epoch == truncations ? end : TRUNCATED_MEANWHILE;
        }
    }

    @Override
    public long durableEndOffset() {
        return durableEndOffset;
    }

    /** Records that every offset below {@code end} is durable and completes the waiters it covers. */
    private void markDurable(long end) {
        List<CompletableFuture<Void>> done = new ArrayList<>();
        synchronized (flushLock) {
            if (end > durableEndOffset) {
                durableEndOffset = end;
            }
            while (!waiters.isEmpty() && waiters.peekFirst().target() <= durableEndOffset) {
                done.add(waiters.pollFirst().future());
            }
        }
        done.forEach(f -> f.complete(null));
    }

    private void failWaiters(Throwable t) {
        List<CompletableFuture<Void>> failed = new ArrayList<>();
        synchronized (flushLock) {
            while (!waiters.isEmpty()) {
                failed.add(waiters.pollFirst().future());
            }
        }
        failed.forEach(f -> f.completeExceptionally(t));
    }

    /** Writer: the log shrank to {@code newEnd}; durable state and waiters follow. */
    private void onTruncated(long newEnd) {
        List<CompletableFuture<Void>> done = new ArrayList<>();
        synchronized (flushLock) {
            truncations++;
            if (durableEndOffset > newEnd) {
                durableEndOffset = newEnd;
            }
            // Waiters for bytes that no longer exist only need what is left to be durable.
            ArrayDeque<Waiter> kept = new ArrayDeque<>();
            for (Waiter w : waiters) {
                kept.add(w.target() > newEnd ? new Waiter(newEnd, w.future()) : w);
            }
            waiters.clear();
            waiters.addAll(kept);
            while (!waiters.isEmpty() && waiters.peekFirst().target() <= durableEndOffset) {
                done.add(waiters.pollFirst().future());
            }
        }
        done.forEach(f -> f.complete(null));
    }

    /** Runs on the fsync thread: one force covers every waiter queued before it started. */
    private final class Flusher implements Flushable {
        @Override
        public void flush() {
            synchronized (flushLock) {
                if (waiters.isEmpty()) {
                    return;
                }
            }
            long end;
            try {
                end = forceActive();
            } catch (RuntimeException e) {
                if (!closed) {
                    LOG.log(Level.ERROR, "flush of " + dir + " failed", e);
                }
                failWaiters(e);
                return;
            }
            if (end == TRUNCATED_MEANWHILE) {
                fsync.requestFlush(this);
            } else {
                markDurable(end);
            }
        }

        @Override
        public String toString() {
            return "flusher of " + dir;
        }
    }

    private Segment acquireActive() {
        for (int attempt = 0; attempt < MAX_READ_RETRIES; attempt++) {
            if (closed) {
                return null;
            }
            Segment[] segs = segments;
            Segment s = segs[segs.length - 1];
            if (s.tryAcquire()) {
                return s;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------ reads

    @Override
    public LogReadResult read(long startOffset, int maxBytes, long maxOffsetExclusive) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
        }
        for (int attempt = 0; attempt < MAX_READ_RETRIES; attempt++) {
            ensureOpen();
            long end = logEndOffset;
            Segment[] segs = segments;
            long start = segs[0].baseOffset();
            if (startOffset < start || startOffset > end) {
                throw new OffsetOutOfRangeException(startOffset, start, end);
            }
            long limitOffset = Math.min(maxOffsetExclusive, end);
            if (startOffset >= limitOffset) {
                return LogReadResult.empty(startOffset, start, end);
            }
            Segment s = segs[floorByOffset(segs, startOffset)];
            if (!s.tryAcquire()) {
                continue; // removed meanwhile: look again
            }
            try {
                SegmentRead r = s.read(startOffset, maxBytes, limitOffset);
                if (r.batchCount() == 0) {
                    return LogReadResult.empty(startOffset, start, end);
                }
                return new LogReadResult(r.records(), r.firstBaseOffset(), r.nextOffset(), r.batchCount(), start, end);
            } finally {
                s.release();
            }
        }
        throw new IllegalStateException("log " + dir + " kept changing under a read of offset " + startOffset);
    }

    @Override
    public OptionalLong offsetForTimestamp(long timestampMs) {
        ensureOpen();
        Segment[] segs = segments;
        for (Segment s : segs) {
            if (s.maxTimestamp() < timestampMs || !s.tryAcquire()) {
                continue;
            }
            try {
                OptionalLong r = s.offsetForTimestamp(timestampMs);
                if (r.isPresent()) {
                    return r;
                }
            } finally {
                s.release();
            }
        }
        return OptionalLong.empty();
    }

    @Override
    public long logStartOffset() {
        return segments[0].baseOffset();
    }

    @Override
    public long logEndOffset() {
        return logEndOffset;
    }

    @Override
    public long sizeInBytes() {
        long total = 0;
        for (Segment s : segments) {
            total += s.size();
        }
        return total;
    }

    @Override
    public int segmentCount() {
        return segments.length;
    }

    // ------------------------------------------------------------------------------------------ Raft view

    @Override
    public long firstEntryIndex() {
        return segments[0].baseEntryIndex();
    }

    @Override
    public long lastEntryIndex() {
        return nextEntryIndex - 1;
    }

    @Override
    public Optional<ByteBuffer> readEntry(long entryIndex) {
        // Raft's log manager reads the whole entry to learn its term (JRaft 1.3), for the last entry on every
        // heartbeat on both sides: a small last entry is kept, and each caller gets its own copy, as from disk.
        ensureOpen();
        Tail t = tail;
        if (t != null && t.entryIndex() == entryIndex && t.batch() != null) {
            return Optional.of(copyOf(t.batch()));
        }
        long seen = changes;
        Optional<ByteBuffer> read = readEntryFromSegments(entryIndex);
        if (read.isPresent() && read.get().remaining() <= TAIL_BYTES_MAX && entryIndex == nextEntryIndex - 1) {
            ByteBuffer kept = copyOf(read.get());
            remember(seen, new Tail(entryIndex, BatchHeaders.raftTerm(kept, 0), kept));
        }
        return read;
    }

    private static ByteBuffer copyOf(ByteBuffer b) {
        ByteBuffer copy = ByteBuffer.allocate(b.remaining());
        copy.put(b.duplicate()).flip();
        return copy;
    }

    private Optional<ByteBuffer> readEntryFromSegments(long entryIndex) {
        for (int attempt = 0; attempt < MAX_READ_RETRIES; attempt++) {
            ensureOpen();
            long next = nextEntryIndex;
            Segment[] segs = segments;
            if (entryIndex < segs[0].baseEntryIndex() || entryIndex >= next) {
                return Optional.empty();
            }
            Segment s = segs[floorByEntryIndex(segs, entryIndex)];
            if (!s.tryAcquire()) {
                continue;
            }
            try {
                return s.readEntry(entryIndex);
            } finally {
                s.release();
            }
        }
        throw new IllegalStateException("log " + dir + " kept changing under a read of entry " + entryIndex);
    }

    @Override
    public OptionalLong termOf(long entryIndex) {
        Tail t = tail;
        if (t != null && t.entryIndex() == entryIndex) {
            return OptionalLong.of(t.term());
        }
        long seen = changes;
        OptionalLong term = withEntry(entryIndex, (s, bp) -> OptionalLong.of(bp.raftTerm()));
        if (term.isPresent() && entryIndex == nextEntryIndex - 1) {
            remember(seen, new Tail(entryIndex, term.getAsLong(), null));
        }
        return term;
    }

    /**
     * Keeps {@code read}, what a reader found of the last entry, unless the log changed since the reader saw
     * {@code seen} changes (a truncation may have replaced the entry) or a writer is busy (the next reader tries again).
     */
    private void remember(long seen, Tail read) {
        if (writeLock.tryLock()) {
            try {
                if (changes == seen && read.entryIndex() == nextEntryIndex - 1) {
                    tail = read;
                }
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Forgets the cached last entry; the caller holds {@link #writeLock}. */
    private void forgetTail() {
        changes++;
        tail = null;
    }

    @Override
    public OptionalLong entryIndexForOffset(long offset) {
        for (int attempt = 0; attempt < MAX_READ_RETRIES; attempt++) {
            ensureOpen();
            long end = logEndOffset;
            Segment[] segs = segments;
            if (offset < segs[0].baseOffset() || offset >= end) {
                return OptionalLong.empty();
            }
            Segment s = segs[floorByOffset(segs, offset)];
            if (!s.tryAcquire()) {
                continue;
            }
            try {
                Optional<BatchPosition> bp = s.findByOffset(offset, s.size());
                return bp.isEmpty()
                        ? OptionalLong.empty()
                        : OptionalLong.of(bp.get().entryIndex());
            } finally {
                s.release();
            }
        }
        throw new IllegalStateException("log " + dir + " kept changing under a lookup of offset " + offset);
    }

    @Override
    public OptionalLong offsetForEntryIndex(long entryIndex) {
        return withEntry(entryIndex, (s, bp) -> OptionalLong.of(bp.baseOffset()));
    }

    private interface EntryFunction {
        OptionalLong apply(Segment s, BatchPosition bp);
    }

    private OptionalLong withEntry(long entryIndex, EntryFunction f) {
        for (int attempt = 0; attempt < MAX_READ_RETRIES; attempt++) {
            ensureOpen();
            long next = nextEntryIndex;
            Segment[] segs = segments;
            if (entryIndex < segs[0].baseEntryIndex() || entryIndex >= next) {
                return OptionalLong.empty();
            }
            Segment s = segs[floorByEntryIndex(segs, entryIndex)];
            if (!s.tryAcquire()) {
                continue;
            }
            try {
                Optional<BatchPosition> bp = s.findByEntryIndex(entryIndex, s.size());
                return bp.isEmpty() ? OptionalLong.empty() : f.apply(s, bp.get());
            } finally {
                s.release();
            }
        }
        throw new IllegalStateException("log " + dir + " kept changing under a lookup of entry " + entryIndex);
    }

    static int floorByOffset(Segment[] segs, long offset) {
        int lo = 0;
        int hi = segs.length - 1;
        int found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (segs[mid].baseOffset() <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    static int floorByEntryIndex(Segment[] segs, long entryIndex) {
        int lo = 0;
        int hi = segs.length - 1;
        int found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (segs[mid].baseEntryIndex() <= entryIndex) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    // ------------------------------------------------------------------------------------------ truncation

    @Override
    public void truncateAfterEntry(long lastIndexKept) {
        writeLock.lock();
        try {
            ensureOpen();
            long first = firstEntryIndex();
            if (lastIndexKept < first - 1) {
                throw new IllegalArgumentException(
                        "cannot keep entries up to " + lastIndexKept + ": the log starts at entry " + first);
            }
            if (lastIndexKept >= lastEntryIndex()) {
                return;
            }
            long offset;
            if (lastIndexKept == first - 1) {
                offset = logStartOffset();
            } else {
                Segment[] segs = segments;
                Segment s = segs[floorByEntryIndex(segs, lastIndexKept + 1)];
                offset = s.findByEntryIndex(lastIndexKept + 1, s.size())
                        .orElseThrow(() ->
                                new IllegalStateException("entry " + (lastIndexKept + 1) + " not found in " + dir))
                        .baseOffset();
            }
            truncateTo(offset);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void truncateTo(long offset) {
        writeLock.lock();
        try {
            ensureOpen();
            if (offset == logEndOffset) {
                return;
            }
            Segment[] segs = segments;
            if (offset < segs[0].baseOffset() || offset > logEndOffset) {
                throw new IllegalArgumentException("cannot truncate to offset " + offset + ": the log holds offsets "
                        + segs[0].baseOffset() + ".." + logEndOffset);
            }
            int i = floorByOffset(segs, offset);
            Segment target = segs[i];
            BatchPosition at = target.findByOffset(offset, target.size())
                    .orElseThrow(() -> new IllegalStateException("offset " + offset + " not found in " + dir));
            if (at.baseOffset() != offset) {
                throw new IllegalArgumentException("cannot truncate to offset " + offset
                        + ": it is inside the batch at offsets " + at.baseOffset() + ".." + at.lastOffset());
            }
            onTruncated(offset);
            forgetTail();
            Segment[] kept = Arrays.copyOf(segs, i + 1);
            logEndOffset = offset;
            nextEntryIndex = at.entryIndex();
            // Newest first, so that a crash leaves a prefix of the old log.
            for (int j = segs.length - 1; j > i; j--) {
                segs[j].deleteFiles();
            }
            target.truncateTo(at);
            segments = kept;
            for (int j = segs.length - 1; j > i; j--) {
                segs[j].release();
            }
            if (kept.length == 1 && target.isEmpty()) {
                new LogStartCheckpoint(target.baseOffset(), target.baseEntryIndex()).write(dir);
            } else {
                Dirs.fsync(dir);
            }
            LOG.log(Level.INFO, "{0}: truncated to offset {1} (entry {2})", dir, offset, at.entryIndex());
        } catch (IOException e) {
            throw new UncheckedIOException("truncation of " + dir + " to offset " + offset + " failed", e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public int deleteSegmentsBefore(long entryIndex) {
        writeLock.lock();
        try {
            ensureOpen();
            Segment[] segs = segments;
            int k = 0;
            while (k < segs.length - 1 && segs[k].nextEntryIndex() <= entryIndex) {
                k++;
            }
            if (k == 0) {
                return 0;
            }
            Segment[] kept = Arrays.copyOfRange(segs, k, segs.length);
            forgetTail(); // the last entry may be in a deleted segment when the active one is empty
            new LogStartCheckpoint(kept[0].baseOffset(), kept[0].baseEntryIndex()).write(dir);
            segments = kept;
            for (int j = 0; j < k; j++) {
                segs[j].deleteFiles();
                segs[j].release();
            }
            Dirs.fsync(dir);
            LOG.log(
                    Level.INFO,
                    "{0}: deleted {1} segments, log now starts at offset {2} (entry {3})",
                    dir,
                    k,
                    kept[0].baseOffset(),
                    kept[0].baseEntryIndex());
            return k;
        } catch (IOException e) {
            throw new UncheckedIOException("deleting segments of " + dir + " failed", e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void reset(long nextEntryIndex, long nextOffset) {
        if (nextOffset < 0) {
            throw new IllegalArgumentException("nextOffset must not be negative: " + nextOffset);
        }
        writeLock.lock();
        try {
            ensureOpen();
            Segment[] old = segments;
            forgetTail();
            for (int j = old.length - 1; j >= 0; j--) {
                old[j].deleteFiles();
            }
            new LogStartCheckpoint(nextOffset, nextEntryIndex).write(dir);
            Segment fresh = Segment.create(dir, nextOffset, nextEntryIndex, config);
            Dirs.fsync(dir);
            segments = new Segment[] {fresh};
            this.logEndOffset = nextOffset;
            this.nextEntryIndex = nextEntryIndex;
            synchronized (flushLock) {
                truncations++;
                durableEndOffset = nextOffset;
            }
            markDurable(nextOffset);
            onTruncated(nextOffset);
            for (Segment s : old) {
                s.release();
            }
            LOG.log(Level.INFO, "{0}: reset to offset {1}, entry {2}", dir, nextOffset, nextEntryIndex);
        } catch (IOException e) {
            throw new UncheckedIOException("reset of " + dir + " failed", e);
        } finally {
            writeLock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------ housekeeping

    @Override
    public OptionalLong retentionBoundary() {
        if (!config.cleanupPolicy().deletes() || (config.retentionBytes() < 0 && config.retentionMs() < 0)) {
            return OptionalLong.empty();
        }
        Segment[] segs = segments;
        long now = clock.millis();
        long remaining = 0;
        for (Segment s : segs) {
            remaining += s.size();
        }
        int k = 0;
        while (k < segs.length - 1) {
            Segment s = segs[k];
            boolean byTime = config.retentionMs() >= 0
                    && s.maxTimestamp() != Segment.NO_TIMESTAMP
                    && now - s.maxTimestamp() > config.retentionMs();
            boolean bySize = config.retentionBytes() >= 0 && remaining - s.size() >= config.retentionBytes();
            if (!byTime && !bySize) {
                break;
            }
            remaining -= s.size();
            k++;
        }
        return k == 0 ? OptionalLong.empty() : OptionalLong.of(segs[k].baseEntryIndex());
    }

    @Override
    public int applyRetention() {
        writeLock.lock();
        try {
            OptionalLong boundary = retentionBoundary();
            return boundary.isPresent() ? deleteSegmentsBefore(boundary.getAsLong()) : 0;
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public CompactionResult compact() {
        ensureOpen();
        if (!config.cleanupPolicy().compacts()) {
            return CompactionResult.NOTHING;
        }
        cleanerLock.lock();
        try {
            return new LogCleaner(this).clean();
        } catch (IOException e) {
            throw new UncheckedIOException("compaction of " + dir + " failed", e);
        } finally {
            cleanerLock.unlock();
        }
    }

    /** The current segments (for the cleaner). */
    Segment[] currentSegments() {
        return segments;
    }

    ReentrantLock writeLock() {
        return writeLock;
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Writer (holding {@code writeLock}): replaces {@code old}, a run of consecutive segments of the
     * current array, by {@code replacement}; false if the array no longer holds that run.
     */
    boolean replaceSegments(List<Segment> old, List<Segment> replacement) {
        Segment[] segs = segments;
        int start = -1;
        for (int i = 0; i < segs.length; i++) {
            if (segs[i] == old.get(0)) {
                start = i;
                break;
            }
        }
        if (start < 0 || start + old.size() > segs.length - 1) {
            return false;
        }
        for (int j = 0; j < old.size(); j++) {
            if (segs[start + j] != old.get(j)) {
                return false;
            }
        }
        Segment[] next = new Segment[segs.length - old.size() + replacement.size()];
        System.arraycopy(segs, 0, next, 0, start);
        for (int j = 0; j < replacement.size(); j++) {
            next[start + j] = replacement.get(j);
        }
        System.arraycopy(segs, start + old.size(), next, start + replacement.size(), segs.length - start - old.size());
        forgetTail();
        segments = next;
        return true;
    }

    @Override
    public List<SegmentInfo> segments() {
        Segment[] segs = segments;
        List<SegmentInfo> out = new ArrayList<>(segs.length);
        for (Segment s : segs) {
            out.add(new SegmentInfo(
                    s.baseOffset(),
                    s.nextOffset(),
                    s.baseEntryIndex(),
                    s.nextEntryIndex(),
                    s.size(),
                    s.maxTimestamp() == Segment.NO_TIMESTAMP ? -1 : s.maxTimestamp(),
                    s.isActive(),
                    s.logFile(),
                    s.offsetIndexFile(),
                    s.timeIndexFile()));
        }
        return out;
    }

    @Override
    public List<Path> segmentFiles() {
        List<Path> out = new ArrayList<>();
        for (Segment s : segments) {
            out.add(s.logFile());
            out.add(s.offsetIndexFile());
            out.add(s.timeIndexFile());
        }
        return out;
    }

    @Override
    public List<CorruptSegmentException> corruptSegments() {
        List<CorruptSegmentException> out = new ArrayList<>();
        for (Segment s : segments) {
            s.corruption().ifPresent(out::add);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ lifecycle

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("log " + dir + " is closed");
        }
    }

    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            Segment[] segs = segments;
            Segment active = segs[segs.length - 1];
            try {
                active.seal();
                markDurable(logEndOffset);
                if (segs.length == 1 && active.isEmpty()) {
                    new LogStartCheckpoint(active.baseOffset(), active.baseEntryIndex()).write(dir);
                }
                Files.deleteIfExists(dir.resolve(SegmentFiles.CLEAN_SHUTDOWN + SegmentFiles.TMP_SUFFIX));
                Files.createFile(dir.resolve(SegmentFiles.CLEAN_SHUTDOWN + SegmentFiles.TMP_SUFFIX));
                Files.move(
                        dir.resolve(SegmentFiles.CLEAN_SHUTDOWN + SegmentFiles.TMP_SUFFIX),
                        dir.resolve(SegmentFiles.CLEAN_SHUTDOWN),
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Dirs.fsync(dir);
            } catch (IOException e) {
                LOG.log(Level.ERROR, "clean close of " + dir + " failed; the next open recovers", e);
            } finally {
                closed = true;
                failWaiters(new IllegalStateException("log " + dir + " is closed"));
                for (Segment s : segs) {
                    s.release();
                }
            }
            LOG.log(Level.INFO, "{0}: closed at offset {1}, entry {2}", dir, logEndOffset, lastEntryIndex());
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void delete() {
        close();
        try {
            Dirs.deleteRecursively(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + dir + " failed", e);
        }
    }

    /** Closes the files without flushing or writing the clean-shutdown marker: a simulated crash. */
    void crashForTesting() {
        writeLock.lock();
        try {
            closed = true;
            failWaiters(new IllegalStateException("log " + dir + " crashed"));
            for (Segment s : segments) {
                s.release();
            }
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "Log[" + dir + ", offsets " + logStartOffset() + ".." + logEndOffset + ", entries " + firstEntryIndex()
                + ".." + lastEntryIndex() + ", " + segments.length + " segments]";
    }
}
