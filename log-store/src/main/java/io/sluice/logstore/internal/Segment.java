package io.sluice.logstore.internal;

import io.sluice.logstore.CorruptSegmentException;
import io.sluice.logstore.LogConfig;
import io.sluice.logstore.record.BatchHeader;
import io.sluice.logstore.record.CorruptRecordException;
import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One segment: a {@code .log} file of batches back to back plus its {@link OffsetIndex} and
 * {@link TimeIndex}.
 *
 * <p>Invariants: the batches in {@code [0, size)} are complete, contiguous in offsets (each starts at the
 * previous one's last offset + 1, the first at {@code baseOffset}) and in entry indexes (the first at
 * {@code baseEntryIndex}); every index entry names one of them. A segment is <em>active</em> (appended
 * to, indexes writable) or <em>sealed</em> (closed: flushed, indexes cut to size and read-only). Only the
 * log's last segment is active.
 *
 * <p>Threads: the log's writer calls the mutating methods ({@code append*}, {@code seal},
 * {@code truncateTo}, ...); readers call the lookups and reads concurrently. The writer writes bytes first
 * and publishes {@code size}, then {@code nextOffset}/{@code nextEntryIndex} (volatile), so a reader
 * bounded by the size it read sees only complete batches. Readers hold a reference ({@link #tryAcquire()}
 * / {@link #release()}) while they use the segment: files are closed only when the last reference goes,
 * so deleting or swapping a segment never breaks a read in progress.
 */
final class Segment {
    private static final System.Logger LOG = System.getLogger(Segment.class.getName());
    static final long NO_TIMESTAMP = Long.MIN_VALUE;
    private static final int RECOVERY_BUFFER = 1 << 20;

    /** How {@link #load} treats the files it finds. */
    enum Mode {
        /** Use the index files if they pass the cheap checks; otherwise rebuild them. */
        TRUST,
        /** Rebuild both indexes by a CRC scan; an invalid batch marks the segment corrupt. */
        REBUILD,
        /** Rebuild by a CRC scan and cut the file at the first invalid batch (the tail after a crash). */
        RECOVER
    }

    private final Path dir;
    private final long baseOffset;
    private final long baseEntryIndex;
    private final LogConfig config;
    private final FileChannel channel;
    private final OffsetIndex offsetIndex;
    private final TimeIndex timeIndex;
    private final int lookupBufferSize;
    private final AtomicInteger refs = new AtomicInteger(1);

    private volatile Path logFile;
    private volatile int size;
    private volatile long nextOffset;
    private volatile long nextEntryIndex;
    private volatile long maxTimestamp = NO_TIMESTAMP;
    private volatile long offsetOfMaxTimestamp;
    private volatile long rollBaseMs = -1;
    private volatile boolean active;
    private volatile CorruptSegmentException corruption;
    private volatile boolean filesDeleted;
    /** Bumped by every change to bytes already written (truncation), so the cleaner can tell. */
    private volatile int version;

    private int bytesSinceIndexEntry;

    private Segment(
            Path dir,
            long baseOffset,
            long baseEntryIndex,
            LogConfig config,
            FileChannel channel,
            Path logFile,
            OffsetIndex offsetIndex,
            TimeIndex timeIndex,
            boolean active) {
        this.dir = dir;
        this.baseOffset = baseOffset;
        this.baseEntryIndex = baseEntryIndex;
        this.config = config;
        this.channel = channel;
        this.logFile = logFile;
        this.offsetIndex = offsetIndex;
        this.timeIndex = timeIndex;
        this.active = active;
        this.nextOffset = baseOffset;
        this.nextEntryIndex = baseEntryIndex;
        this.offsetOfMaxTimestamp = baseOffset;
        this.lookupBufferSize = (int)
                Math.max(4096, Math.min(64 * 1024, (long) config.indexIntervalBytes() + 4L * BatchHeader.HEADER_SIZE));
    }

    // ------------------------------------------------------------------------------------------ opening

    /** Creates an empty active segment, replacing any files of that name. */
    static Segment create(Path dir, long baseOffset, long baseEntryIndex, LogConfig config) throws IOException {
        return createAt(
                dir,
                SegmentFiles.log(dir, baseOffset),
                SegmentFiles.offsetIndex(dir, baseOffset),
                SegmentFiles.timeIndex(dir, baseOffset),
                baseOffset,
                baseEntryIndex,
                config);
    }

    /** Creates an empty active segment at the given file names (the cleaner writes {@code .cleaned} ones). */
    static Segment createAt(
            Path dir, Path logFile, Path idx, Path tidx, long baseOffset, long baseEntryIndex, LogConfig config)
            throws IOException {
        Files.deleteIfExists(idx);
        Files.deleteIfExists(tidx);
        FileChannel ch = FileChannel.open(
                logFile,
                StandardOpenOption.CREATE,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        try {
            OffsetIndex oi = new OffsetIndex(idx, baseOffset, baseEntryIndex, config.maxIndexEntries(), 0, true);
            TimeIndex ti = new TimeIndex(tidx, baseOffset, config.maxIndexEntries(), 0, true);
            return new Segment(dir, baseOffset, baseEntryIndex, config, ch, logFile, oi, ti, true);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Opens an existing segment.
     *
     * @param fallbackEntryIndex the base entry index to use when the file holds no valid batch
     * @param active whether appends will go to this segment
     * @param nowMs the clock, for the age of an active segment
     */
    static Segment load(
            Path dir, long baseOffset, long fallbackEntryIndex, LogConfig config, Mode mode, boolean active, long nowMs)
            throws IOException {
        Path logFile = SegmentFiles.log(dir, baseOffset);
        FileChannel ch = FileChannel.open(logFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long fileSize = ch.size();
            if (fileSize > Integer.MAX_VALUE) {
                throw new IOException("segment file " + logFile + " is larger than 2 GiB (" + fileSize + " bytes)");
            }
            Segment s = null;
            if (mode == Mode.TRUST) {
                s = loadTrusted(dir, baseOffset, fallbackEntryIndex, config, ch, logFile, (int) fileSize, active);
            }
            if (s == null) {
                s = loadScanned(
                        dir,
                        baseOffset,
                        fallbackEntryIndex,
                        config,
                        ch,
                        logFile,
                        (int) fileSize,
                        active,
                        mode == Mode.RECOVER);
            }
            if (s.size > 0) {
                s.rollBaseMs = Math.min(nowMs, s.readFirstMaxTimestamp());
            }
            return s;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private long readFirstMaxTimestamp() throws IOException {
        BatchCursor c = new BatchCursor(channel, size, BatchHeader.HEADER_SIZE);
        c.seek(0);
        return c.header() ? BatchHeaders.maxTimestamp(c.buffer(), c.at()) : Long.MAX_VALUE;
    }

    /** Loads with the existing index files, or returns null when they fail a check. */
    private static Segment loadTrusted(
            Path dir,
            long baseOffset,
            long fallbackEntryIndex,
            LogConfig config,
            FileChannel ch,
            Path logFile,
            int fileSize,
            boolean active)
            throws IOException {
        Path idx = SegmentFiles.offsetIndex(dir, baseOffset);
        Path tidx = SegmentFiles.timeIndex(dir, baseOffset);
        if (!Files.exists(idx) || !Files.exists(tidx)) {
            LOG.log(Level.INFO, "{0}: index file missing, rebuilding the indexes", logFile);
            return null;
        }
        int n1 = AbstractIndex.entriesInFile(idx, OffsetIndex.ENTRY_SIZE);
        int n2 = AbstractIndex.entriesInFile(tidx, TimeIndex.ENTRY_SIZE);
        if (n1 < 0 || n2 < 0) {
            LOG.log(Level.WARNING, "{0}: index file size is not a whole number of entries, rebuilding", logFile);
            return null;
        }
        BatchCursor cur = new BatchCursor(ch, fileSize, 8192);
        long baseEntry = fallbackEntryIndex;
        if (fileSize == 0) {
            if (n1 != 0 || n2 != 0) {
                LOG.log(Level.WARNING, "{0}: empty log with non-empty indexes, rebuilding", logFile);
                return null;
            }
        } else {
            cur.seek(0);
            if (!cur.header()
                    || !BatchHeaders.structuralProblem(cur.buffer(), cur.at(), fileSize)
                            .isEmpty()
                    || BatchHeaders.baseOffset(cur.buffer(), cur.at()) != baseOffset) {
                LOG.log(Level.WARNING, "{0}: first batch header does not match the file name, scanning", logFile);
                return null;
            }
            baseEntry = BatchHeaders.entryIndex(cur.buffer(), cur.at());
        }
        int capacity = config.maxIndexEntries();
        OffsetIndex oi = null;
        TimeIndex ti = null;
        try {
            oi = new OffsetIndex(idx, baseOffset, baseEntry, capacity, n1, active);
            String problem = oi.check(fileSize);
            IndexEntry last = oi.lastEntry();
            // Walk from the last indexed batch to the end: checks the entry and finds the segment end.
            long pos = last.position();
            long expectedOffset = last.offset();
            long expectedEntry = last.entryIndex();
            long walkedMax = NO_TIMESTAMP;
            long walkedMaxOffset = baseOffset;
            while (problem.isEmpty() && pos < fileSize) {
                cur.seek(pos);
                if (!cur.header()) {
                    problem = "partial batch header at position " + pos;
                    break;
                }
                ByteBuffer b = cur.buffer();
                int at = cur.at();
                problem = BatchHeaders.structuralProblem(b, at, fileSize - pos);
                if (problem.isEmpty()
                        && (BatchHeaders.baseOffset(b, at) != expectedOffset
                                || BatchHeaders.entryIndex(b, at) != expectedEntry)) {
                    problem = "batch at position " + pos + " is offset " + BatchHeaders.baseOffset(b, at) + " entry "
                            + BatchHeaders.entryIndex(b, at) + ", expected " + expectedOffset + " entry "
                            + expectedEntry;
                }
                if (!problem.isEmpty()) {
                    break;
                }
                long ts = BatchHeaders.maxTimestamp(b, at);
                if (ts > walkedMax) {
                    walkedMax = ts;
                    walkedMaxOffset = expectedOffset;
                }
                expectedOffset = BatchHeaders.lastOffset(b, at) + 1;
                expectedEntry++;
                pos += BatchHeaders.sizeInBytes(b, at);
            }
            if (problem.isEmpty()) {
                ti = new TimeIndex(tidx, baseOffset, capacity, n2, active);
                problem = ti.check(expectedOffset);
            }
            if (!problem.isEmpty()) {
                LOG.log(Level.WARNING, "{0}: index check failed ({1}), rebuilding the indexes", logFile, problem);
                oi.closeWithoutSeal();
                if (ti != null) {
                    ti.closeWithoutSeal();
                }
                return null;
            }
            Segment s = new Segment(dir, baseOffset, baseEntry, config, ch, logFile, oi, ti, active);
            s.size = fileSize;
            s.nextOffset = expectedOffset;
            s.nextEntryIndex = expectedEntry;
            s.bytesSinceIndexEntry = fileSize - last.position();
            long indexedMax = ti.entries() == 0 ? NO_TIMESTAMP : ti.lastTimestamp();
            if (walkedMax > indexedMax) {
                s.maxTimestamp = walkedMax;
                s.offsetOfMaxTimestamp = walkedMaxOffset;
            } else if (indexedMax != NO_TIMESTAMP) {
                s.maxTimestamp = indexedMax;
                s.offsetOfMaxTimestamp = ti.lastOffset();
            }
            return s;
        } catch (IOException | RuntimeException e) {
            if (oi != null) {
                oi.closeWithoutSeal();
            }
            if (ti != null) {
                ti.closeWithoutSeal();
            }
            throw e;
        }
    }

    /** Loads by scanning every batch with its CRC and writing fresh index files. */
    private static Segment loadScanned(
            Path dir,
            long baseOffset,
            long fallbackEntryIndex,
            LogConfig config,
            FileChannel ch,
            Path logFile,
            int fileSize,
            boolean active,
            boolean truncateTail)
            throws IOException {
        BatchCursor cur = new BatchCursor(ch, fileSize, RECOVERY_BUFFER);
        long baseEntry = fallbackEntryIndex;
        cur.seek(0);
        if (checkBatch(cur, baseOffset, Long.MIN_VALUE).isEmpty()) {
            baseEntry = BatchHeaders.entryIndex(cur.buffer(), cur.at());
        }
        Path idx = SegmentFiles.offsetIndex(dir, baseOffset);
        Path tidx = SegmentFiles.timeIndex(dir, baseOffset);
        Files.deleteIfExists(idx);
        Files.deleteIfExists(tidx);
        long bound = fileSize / Math.max(BatchHeader.HEADER_SIZE, config.indexIntervalBytes() + 1L) + 2;
        int capacity = (int) Math.max(config.maxIndexEntries(), Math.min(bound, Integer.MAX_VALUE / 12));
        OffsetIndex oi = new OffsetIndex(idx, baseOffset, baseEntry, capacity, 0, true);
        TimeIndex ti;
        try {
            ti = new TimeIndex(tidx, baseOffset, capacity, 0, true);
        } catch (IOException | RuntimeException e) {
            oi.closeWithoutSeal();
            throw e;
        }
        Segment s = new Segment(dir, baseOffset, baseEntry, config, ch, logFile, oi, ti, true);
        long pos = 0;
        long expectedOffset = baseOffset;
        long expectedEntry = baseEntry;
        while (pos < fileSize) {
            cur.seek(pos);
            String problem = checkBatch(cur, expectedOffset, expectedEntry);
            if (!problem.isEmpty()) {
                if (truncateTail) {
                    LOG.log(
                            Level.WARNING,
                            "{0}: truncating {1} bytes from position {2} (offsets from {3}, entry indexes from {4}): {5}",
                            logFile,
                            fileSize - pos,
                            pos,
                            expectedOffset,
                            expectedEntry,
                            problem);
                    ch.truncate(pos);
                    ch.force(true);
                } else {
                    s.corruption = new CorruptSegmentException(logFile, pos, problem);
                    LOG.log(Level.ERROR, "{0}: {1}", logFile, s.corruption.getMessage());
                }
                break;
            }
            ByteBuffer b = cur.buffer();
            int at = cur.at();
            int batchSize = BatchHeaders.sizeInBytes(b, at);
            s.indexBatch((int) pos, batchSize, expectedOffset, expectedEntry, BatchHeaders.maxTimestamp(b, at));
            expectedOffset = BatchHeaders.lastOffset(b, at) + 1;
            expectedEntry++;
            pos += batchSize;
        }
        s.size = (int) pos;
        s.nextOffset = expectedOffset;
        s.nextEntryIndex = expectedEntry;
        if (!active) {
            s.seal();
        }
        return s;
    }

    /**
     * Checks the whole batch at the cursor: header, CRC, and that it continues the numbering (skipped for
     * {@code expectedEntry == Long.MIN_VALUE}); returns the problem or an empty string. Leaves the batch
     * buffered on success.
     */
    private static String checkBatch(BatchCursor cur, long expectedOffset, long expectedEntry) throws IOException {
        long pos = cur.position();
        if (!cur.header()) {
            return "only " + cur.remaining() + " bytes left at position " + pos + ", less than a batch header";
        }
        ByteBuffer b = cur.buffer();
        int at = cur.at();
        String problem = BatchHeaders.structuralProblem(b, at, cur.remaining());
        if (!problem.isEmpty()) {
            return problem;
        }
        if (BatchHeaders.baseOffset(b, at) != expectedOffset) {
            return "batch base offset " + BatchHeaders.baseOffset(b, at) + ", expected " + expectedOffset;
        }
        if (expectedEntry != Long.MIN_VALUE && BatchHeaders.entryIndex(b, at) != expectedEntry) {
            return "batch entry index " + BatchHeaders.entryIndex(b, at) + ", expected " + expectedEntry;
        }
        int batchSize = BatchHeaders.sizeInBytes(b, at);
        if (!cur.whole(batchSize)) {
            return "batch of " + batchSize + " bytes is cut short";
        }
        try {
            RecordBatch.wrap(cur.slice(batchSize)).ensureValid();
        } catch (CorruptRecordException e) {
            return e.getMessage();
        }
        return "";
    }

    // ------------------------------------------------------------------------------------------ state

    long baseOffset() {
        return baseOffset;
    }

    long baseEntryIndex() {
        return baseEntryIndex;
    }

    /** Bytes of complete batches. */
    int size() {
        return size;
    }

    long nextOffset() {
        return nextOffset;
    }

    long nextEntryIndex() {
        return nextEntryIndex;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The largest batch max timestamp, or {@link #NO_TIMESTAMP}. */
    long maxTimestamp() {
        return maxTimestamp;
    }

    boolean isActive() {
        return active;
    }

    Path logFile() {
        return logFile;
    }

    Path offsetIndexFile() {
        return offsetIndex.file();
    }

    Path timeIndexFile() {
        return timeIndex.file();
    }

    OffsetIndex offsetIndex() {
        return offsetIndex;
    }

    TimeIndex timeIndex() {
        return timeIndex;
    }

    Optional<CorruptSegmentException> corruption() {
        return Optional.ofNullable(corruption);
    }

    void markCorrupt(CorruptSegmentException e) {
        if (corruption == null) {
            corruption = e;
            LOG.log(Level.ERROR, "{0}: {1}", logFile, e.getMessage());
        }
    }

    /** Overrides the end numbers of a corrupt segment whose scan stopped early (taken from its successor). */
    void setEndFromSuccessor(long nextOffset, long nextEntryIndex) {
        this.nextOffset = nextOffset;
        this.nextEntryIndex = nextEntryIndex;
    }

    private void checkReadable() {
        CorruptSegmentException c = corruption;
        if (c != null) {
            throw new CorruptSegmentException(c.file(), c.position(), c.reason(), c);
        }
    }

    // ------------------------------------------------------------------------------------------ writes

    /** Whether a batch of {@code batchSize} bytes ending at {@code lastOffset} must go to a new segment. */
    boolean shouldRoll(int batchSize, long lastOffset, long entryIndex, long nowMs) {
        if (size == 0) {
            return false;
        }
        return (long) size + batchSize > config.segmentBytes()
                || nowMs - rollBaseMs >= config.segmentMs()
                || offsetIndex.isFull()
                || timeIndex.entries() >= timeIndex.capacity() - 1
                || lastOffset - baseOffset > Integer.MAX_VALUE
                || entryIndex - baseEntryIndex > Integer.MAX_VALUE;
    }

    /**
     * Writer: writes batches (already validated and stamped) at the end with one gathering write, then
     * indexes and publishes them. The buffers' positions are consumed.
     */
    void append(ByteBuffer[] batches, BatchMeta[] meta, long nowMs) {
        if (!active) {
            throw new IllegalStateException("segment " + logFile + " is sealed");
        }
        int start = size;
        long total = 0;
        for (BatchMeta m : meta) {
            total += m.sizeInBytes();
        }
        try {
            if (batches.length == 1) {
                ByteBuffer b = batches[0];
                long p = start;
                while (b.hasRemaining()) {
                    p += channel.write(b, p);
                }
            } else {
                channel.position(start);
                long written = 0;
                while (written < total) {
                    written += channel.write(batches);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("append to " + logFile + " failed", e);
        }
        if (rollBaseMs < 0) {
            rollBaseMs = nowMs;
        }
        int pos = start;
        for (BatchMeta m : meta) {
            indexBatch(pos, m.sizeInBytes(), m.baseOffset(), m.entryIndex(), m.maxTimestamp());
            pos += m.sizeInBytes();
        }
        size = pos;
        BatchMeta last = meta[meta.length - 1];
        nextEntryIndex = last.entryIndex() + 1;
        nextOffset = last.lastOffset() + 1;
    }

    /** Writer: adds a batch to the indexes (the sparse entry rule of {@code index.interval.bytes}). */
    private void indexBatch(int pos, int batchSize, long batchBaseOffset, long entryIndex, long batchMaxTs) {
        if (batchMaxTs > maxTimestamp) {
            maxTimestamp = batchMaxTs;
            offsetOfMaxTimestamp = batchBaseOffset;
        }
        if (bytesSinceIndexEntry > config.indexIntervalBytes()) {
            offsetIndex.append(batchBaseOffset, pos, entryIndex);
            timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp);
            bytesSinceIndexEntry = 0;
        }
        bytesSinceIndexEntry += batchSize;
    }

    /** Forces the log file's data (not the indexes: recovery rebuilds those of an unclean tail). */
    void flush() throws IOException {
        channel.force(false);
    }

    /**
     * Writer: closes the segment for appends: records the final max timestamp in the time index, forces
     * the log, cuts both index files to size and forces them.
     */
    void seal() throws IOException {
        if (!active) {
            return;
        }
        if (maxTimestamp != NO_TIMESTAMP) {
            timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp);
        }
        channel.force(false);
        offsetIndex.seal();
        timeIndex.seal();
        active = false;
    }

    /** Writer: makes a sealed segment the active one again. */
    void reactivate() throws IOException {
        if (!active) {
            offsetIndex.reactivate();
            timeIndex.reactivate();
            active = true;
        }
    }

    /**
     * Writer: removes the batch at {@code at} and everything after it. A sealed segment becomes active
     * again.
     */
    void truncateTo(BatchPosition at) throws IOException {
        version++;
        reactivate();
        size = at.position();
        nextOffset = at.baseOffset();
        nextEntryIndex = at.entryIndex();
        channel.truncate(at.position());
        channel.force(true);
        offsetIndex.truncateToOffset(at.baseOffset());
        timeIndex.truncateToOffset(at.baseOffset());
        // Entries left in the time index are exact for their batch; only batches after the last offset
        // index entry can hold a larger timestamp.
        IndexEntry last = offsetIndex.lastEntry();
        long max = timeIndex.entries() == 0 ? NO_TIMESTAMP : timeIndex.lastTimestamp();
        long maxOffset = timeIndex.entries() == 0 ? baseOffset : timeIndex.lastOffset();
        BatchCursor cur = new BatchCursor(channel, at.position(), lookupBufferSize);
        long pos = last.position();
        while (pos < at.position()) {
            cur.seek(pos);
            if (!cur.header()) {
                break;
            }
            long ts = BatchHeaders.maxTimestamp(cur.buffer(), cur.at());
            if (ts > max) {
                max = ts;
                maxOffset = BatchHeaders.baseOffset(cur.buffer(), cur.at());
            }
            pos += BatchHeaders.sizeInBytes(cur.buffer(), cur.at());
        }
        maxTimestamp = max;
        offsetOfMaxTimestamp = maxOffset;
        bytesSinceIndexEntry = at.position() - last.position();
        if (at.position() == 0) {
            rollBaseMs = -1;
        }
    }

    // ------------------------------------------------------------------------------------------ reads

    /**
     * The batch containing {@code offset} among the first {@code limit} bytes, if any. Does not check the
     * corruption mark (the writer uses it to truncate).
     */
    Optional<BatchPosition> findByOffset(long offset, int limit) {
        if (offset < baseOffset) {
            return Optional.empty();
        }
        IndexEntry e = offsetIndex.lookupByOffset(offset);
        return scan(e, limit, offset, Long.MAX_VALUE);
    }

    /** The batch that is entry {@code entryIndex} among the first {@code limit} bytes, if any. */
    Optional<BatchPosition> findByEntryIndex(long entryIndex, int limit) {
        if (entryIndex < baseEntryIndex) {
            return Optional.empty();
        }
        IndexEntry e = offsetIndex.lookupByEntryIndex(entryIndex);
        return scan(e, limit, Long.MAX_VALUE, entryIndex);
    }

    /** Scans headers from an index entry to the batch containing the offset or with the entry index. */
    private Optional<BatchPosition> scan(IndexEntry from, int limit, long offset, long entryIndex) {
        if (from.position() >= limit) {
            return Optional.empty();
        }
        BatchCursor cur = new BatchCursor(channel, limit, lookupBufferSize);
        long pos = from.position();
        long expectedOffset = from.offset();
        long expectedEntry = from.entryIndex();
        try {
            while (pos < limit) {
                cur.seek(pos);
                if (!cur.header()) {
                    return Optional.empty();
                }
                ByteBuffer b = cur.buffer();
                int at = cur.at();
                String problem = BatchHeaders.structuralProblem(b, at, limit - pos);
                if (problem.isEmpty()
                        && (BatchHeaders.baseOffset(b, at) != expectedOffset
                                || BatchHeaders.entryIndex(b, at) != expectedEntry)) {
                    problem = "batch is offset " + BatchHeaders.baseOffset(b, at) + " entry "
                            + BatchHeaders.entryIndex(b, at) + ", expected " + expectedOffset + " entry "
                            + expectedEntry;
                }
                if (!problem.isEmpty()) {
                    throw new CorruptSegmentException(logFile, pos, problem);
                }
                long last = BatchHeaders.lastOffset(b, at);
                int batchSize = BatchHeaders.sizeInBytes(b, at);
                if (last >= offset || expectedEntry == entryIndex) {
                    return Optional.of(new BatchPosition(
                            (int) pos,
                            batchSize,
                            expectedOffset,
                            last,
                            expectedEntry,
                            BatchHeaders.raftTerm(b, at),
                            BatchHeaders.maxTimestamp(b, at)));
                }
                if (expectedEntry > entryIndex) {
                    return Optional.empty();
                }
                pos += batchSize;
                expectedOffset = last + 1;
                expectedEntry++;
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("read of " + logFile + " failed", e);
        }
    }

    /**
     * Reads whole batches starting with the one that contains {@code startOffset}; see
     * {@code Log.read}. Empty when the segment holds nothing at or after {@code startOffset}.
     */
    SegmentRead read(long startOffset, int maxBytes, long maxOffsetExclusive) {
        checkReadable();
        int limit = size;
        Optional<BatchPosition> found = findByOffset(startOffset, limit);
        if (found.isEmpty() || found.get().lastOffset() >= maxOffsetExclusive) {
            return new SegmentRead(ByteBuffer.allocate(0), startOffset, startOffset, 0);
        }
        BatchPosition first = found.get();
        int want = (int) Math.min(Math.max((long) maxBytes, first.sizeInBytes()), (long) limit - first.position());
        if (first.position() + want < limit) {
            // Stop at the last indexed batch start inside the window rather than read a partial batch that the
            // next read fetches again (with 64 KiB batches that was a quarter of a 256 KiB read).
            int cut = offsetIndex.floorPosition(first.position() + want);
            if (cut >= first.position() + first.sizeInBytes()) {
                want = cut - first.position();
            }
        }
        ByteBuffer out = ByteBuffer.allocate(want);
        int n = readFully(out, first.position());
        int p = 0;
        int count = 0;
        long expected = first.baseOffset();
        while (n - p >= BatchHeader.HEADER_SIZE) {
            if (BatchHeaders.baseOffset(out, p) != expected) {
                if (count == 0) {
                    throw new CorruptSegmentException(
                            logFile, first.position(), "batch changed while being read (concurrent truncation?)");
                }
                break;
            }
            String problem = BatchHeaders.structuralProblem(out, p, Integer.MAX_VALUE);
            if (!problem.isEmpty()) {
                throw new CorruptSegmentException(logFile, (long) first.position() + p, problem);
            }
            int batchSize = BatchHeaders.sizeInBytes(out, p);
            long last = BatchHeaders.lastOffset(out, p);
            if (batchSize > n - p || last >= maxOffsetExclusive) {
                break;
            }
            p += batchSize;
            count++;
            expected = last + 1;
        }
        if (count == 0) {
            return new SegmentRead(ByteBuffer.allocate(0), startOffset, startOffset, 0);
        }
        out.position(0).limit(p);
        return new SegmentRead(out.slice(), first.baseOffset(), expected, count);
    }

    /** The whole batch that is entry {@code entryIndex}, if this segment holds it. */
    Optional<ByteBuffer> readEntry(long entryIndex) {
        checkReadable();
        int limit = size;
        Optional<BatchPosition> found = findByEntryIndex(entryIndex, limit);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        BatchPosition bp = found.get();
        ByteBuffer out = ByteBuffer.allocate(bp.sizeInBytes());
        if (readFully(out, bp.position()) < bp.sizeInBytes()) {
            return Optional.empty();
        }
        out.flip();
        if (BatchHeaders.entryIndex(out, 0) != entryIndex) {
            return Optional.empty();
        }
        return Optional.of(out);
    }

    /** The Raft term of entry {@code entryIndex}, if this segment holds it. */
    OptionalLong termOf(long entryIndex) {
        checkReadable();
        Optional<BatchPosition> found = findByEntryIndex(entryIndex, size);
        return found.isEmpty()
                ? OptionalLong.empty()
                : OptionalLong.of(found.get().raftTerm());
    }

    /**
     * The offset of the first record with timestamp {@code >= target} in this segment, if any, decoding
     * only the batches that can hold it.
     */
    OptionalLong offsetForTimestamp(long target) {
        checkReadable();
        int limit = size;
        if (maxTimestamp < target) {
            return OptionalLong.empty();
        }
        long startOffset = timeIndex.searchStart(target);
        Optional<BatchPosition> found = findByOffset(startOffset, limit);
        if (found.isEmpty()) {
            return OptionalLong.empty();
        }
        BatchCursor cur = new BatchCursor(channel, limit, lookupBufferSize);
        long pos = found.get().position();
        try {
            while (pos < limit) {
                cur.seek(pos);
                if (!cur.header()) {
                    break;
                }
                ByteBuffer b = cur.buffer();
                int at = cur.at();
                int batchSize = BatchHeaders.sizeInBytes(b, at);
                if (BatchHeaders.maxTimestamp(b, at) >= target && BatchHeaders.recordCount(b, at) > 0) {
                    if (!cur.whole(batchSize)) {
                        break;
                    }
                    RecordBatch batch = RecordBatch.wrap(cur.slice(batchSize));
                    for (Iterator<Record> it = batch.iterator(); it.hasNext(); ) {
                        Record r = it.next();
                        if (r.timestamp() >= target) {
                            return OptionalLong.of(r.offset());
                        }
                    }
                }
                pos += batchSize;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("read of " + logFile + " failed", e);
        } catch (CorruptRecordException e) {
            throw new CorruptSegmentException(logFile, pos, e.getMessage(), e);
        }
        return OptionalLong.empty();
    }

    /** Reads into {@code out} from {@code position} until full or end of file; returns bytes read. */
    int readFully(ByteBuffer out, long position) {
        long p = position;
        try {
            while (out.hasRemaining()) {
                int n = channel.read(out, p);
                if (n < 0) {
                    break;
                }
                p += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("read of " + logFile + " failed", e);
        }
        return (int) (p - position);
    }

    /** The channel, for the cleaner's sequential scans (callers hold a reference). */
    FileChannel channel() {
        return channel;
    }

    // ------------------------------------------------------------------------------------------ lifetime

    /** Takes a reference; false if the segment is already closed. */
    boolean tryAcquire() {
        while (true) {
            int r = refs.get();
            if (r == 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one closes the files. */
    void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            closeResources();
        } else if (r < 0) {
            throw new IllegalStateException("segment " + logFile + " released too often");
        }
    }

    private void closeResources() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing " + logFile + " failed", e);
        }
        offsetIndex.closeWithoutSeal();
        timeIndex.closeWithoutSeal();
    }

    /** Writer: deletes the three files (readers holding a reference keep reading the unlinked files). */
    void deleteFiles() throws IOException {
        filesDeleted = true;
        Files.deleteIfExists(logFile);
        Files.deleteIfExists(offsetIndex.file());
        Files.deleteIfExists(timeIndex.file());
    }

    boolean filesDeleted() {
        return filesDeleted;
    }

    int version() {
        return version;
    }

    /** Renames the log file (the cleaner's {@code .cleaned} to {@code .swap} step). */
    void renameLog(Path newLog) throws IOException {
        Files.move(logFile, newLog, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        logFile = newLog;
    }

    /**
     * Moves a sealed cleaned segment into place: indexes first, the log last, so that while a
     * {@code .swap} log exists the index files may be stale and recovery rebuilds them.
     */
    void swapInto(Path newLog, Path newIndex, Path newTimeIndex) throws IOException {
        offsetIndex.renameTo(newIndex);
        timeIndex.renameTo(newTimeIndex);
        renameLog(newLog);
    }

    Path dir() {
        return dir;
    }

    @Override
    public String toString() {
        return "Segment[" + logFile.getFileName() + ", offsets " + baseOffset + ".." + nextOffset + ", entries "
                + baseEntryIndex + ".." + nextEntryIndex + ", " + size + " bytes" + (active ? ", active" : "")
                + (corruption != null ? ", CORRUPT" : "") + "]";
    }
}
