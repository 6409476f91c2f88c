package io.sluice.logstore.internal;

import io.sluice.logstore.CompactionResult;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * One compaction pass over a log: keeps the latest record per key in the closed segments.
 *
 * <h2>What is cleaned</h2>
 * The cleanable range is the longest run of closed segments from the start of the log whose newest
 * record is at least {@code min.compaction.lag.ms} old (and that are not corrupt). Pass one maps every key
 * in the range to the offset of its latest record; pass two rewrites each batch with
 * {@link RecordBatch#filter}, keeping records without a key, the latest record of each key, and a latest
 * tombstone only while it is younger than {@code delete.retention.ms}. Control batches are copied as is.
 * A batch keeps its offsets, entry index, term and timestamps; one that keeps nothing stays as an empty
 * batch, so offsets and entry indexes remain contiguous. Consecutive segments are merged into one cleaned
 * segment while their current sizes sum to at most {@code segment.bytes} (and the index capacity), so
 * segments shrunk by one pass are merged by the next, as in Kafka. A single segment where nothing is
 * dropped is left alone.
 *
 * <h2>Swap protocol (crash-safe)</h2>
 * <ol>
 *   <li>Without the log lock: write {@code B.log.cleaned}, {@code B.index.cleaned},
 *       {@code B.timeindex.cleaned} (B = the group's first base offset) and force them.
 *   <li>Under the log's write lock, after checking that the input segments are still in the log and
 *       unchanged (a truncation bumps a segment's version): rename {@code B.log.cleaned} to
 *       {@code B.log.swap} and fsync the directory: from here the swap is committed.
 *   <li>Delete the group's other segments, rename the index files into place, rename
 *       {@code B.log.swap} to {@code B.log}, fsync the directory, publish the new segment array.
 * </ol>
 * On open, {@link #completeInterruptedSwaps} deletes every {@code .cleaned} file (an unfinished or
 * unverified pass) and finishes every {@code .swap}: it deletes the segments the swap covers, moves it to
 * {@code B.log} and drops B's index files so they are rebuilt. Because a {@code .swap} only exists inside
 * the locked, verified step, finishing it never brings back data that a truncation removed.
 *
 * <p>Readers holding a replaced segment keep reading its (renamed-over or deleted, still open) files; the
 * files are closed when the last reader releases the segment.
 *
 * <p>Threads: one pass at a time per log (the log's cleaner lock); runs concurrently with the writer and
 * readers.
 */
final class LogCleaner {
    private static final System.Logger LOG = System.getLogger(LogCleaner.class.getName());
    private static final int SCAN_BUFFER = 1 << 20;
    private static final int WRITE_BUFFER = 1 << 20;

    private final SegmentedLog log;
    private final LogConfig config;
    private final Path dir;

    LogCleaner(SegmentedLog log) {
        this.log = log;
        this.config = log.config();
        this.dir = log.dir();
    }

    /** A run of input segments that becomes one cleaned segment. */
    private static final class Group {
        final List<Segment> inputs = new ArrayList<>();
        final List<Integer> versions = new ArrayList<>();
        long bytes;
        long batches;
        Segment output;
        boolean changed;
    }

    private long recordsRemoved;
    private long tombstonesRemoved;

    CompactionResult clean() throws IOException {
        long now = log.clock().millis();
        Segment[] segs = log.currentSegments();
        List<Segment> cleanable = new ArrayList<>();
        for (int i = 0; i < segs.length - 1; i++) {
            Segment s = segs[i];
            if (s.corruption().isPresent() || s.isActive()) {
                break;
            }
            if (config.minCompactionLagMs() > 0 && s.maxTimestamp() > now - config.minCompactionLagMs()) {
                break;
            }
            cleanable.add(s);
        }
        List<Segment> held = new ArrayList<>();
        for (Segment s : cleanable) {
            if (!s.tryAcquire()) {
                break;
            }
            held.add(s);
        }
        List<Group> groups = new ArrayList<>();
        try {
            if (held.isEmpty()) {
                return CompactionResult.NOTHING;
            }
            int[] versions = new int[held.size()];
            for (int i = 0; i < held.size(); i++) {
                versions[i] = held.get(i).version();
            }
            Map<ByteBuffer, Long> latest;
            try {
                latest = buildOffsetMap(held);
                groups = group(held, versions);
                for (Group g : groups) {
                    write(g, latest, now);
                }
            } catch (CorruptRecordException | CorruptSegmentException | UncheckedIOException e) {
                if (changedMeanwhile(held, versions)) {
                    return aborted(groups, held.size());
                }
                throw e;
            }
            return swap(groups, held.size());
        } finally {
            for (Group g : groups) {
                if (g.output != null && g.output.logFile().toString().endsWith(SegmentFiles.CLEANED_SUFFIX)) {
                    discard(g.output);
                }
            }
            for (Segment s : held) {
                s.release();
            }
        }
    }

    private static boolean changedMeanwhile(List<Segment> held, int[] versions) {
        for (int i = 0; i < held.size(); i++) {
            if (held.get(i).version() != versions[i] || held.get(i).filesDeleted()) {
                return true;
            }
        }
        return false;
    }

    private CompactionResult aborted(List<Group> groups, int read) {
        LOG.log(Level.INFO, "{0}: compaction pass abandoned, the log changed under it", dir);
        return new CompactionResult(read, 0, 0, 0, 0, 0, 0, true);
    }

    /** Pass one: the offset of the latest record of every key. */
    private Map<ByteBuffer, Long> buildOffsetMap(List<Segment> segments) {
        Map<ByteBuffer, Long> latest = new HashMap<>();
        for (Segment s : segments) {
            forEachBatch(s, batch -> {
                if (batch.isControl()) {
                    return;
                }
                for (Record r : batch) {
                    ByteBuffer key = r.key();
                    if (key != null) {
                        ByteBuffer copy = ByteBuffer.allocate(key.remaining());
                        copy.put(key).flip();
                        latest.put(copy, r.offset());
                    }
                }
            });
        }
        return latest;
    }

    private interface BatchConsumer {
        void accept(RecordBatch batch);
    }

    private static void forEachBatch(Segment s, BatchConsumer consumer) {
        int limit = s.size();
        BatchCursor cur = new BatchCursor(s.channel(), limit, SCAN_BUFFER);
        long pos = 0;
        try {
            while (pos < limit) {
                cur.seek(pos);
                if (!cur.header()) {
                    throw new CorruptSegmentException(s.logFile(), pos, "partial batch header");
                }
                String problem = BatchHeaders.structuralProblem(cur.buffer(), cur.at(), limit - pos);
                if (!problem.isEmpty()) {
                    throw new CorruptSegmentException(s.logFile(), pos, problem);
                }
                int size = BatchHeaders.sizeInBytes(cur.buffer(), cur.at());
                if (!cur.whole(size)) {
                    throw new CorruptSegmentException(s.logFile(), pos, "batch cut short");
                }
                consumer.accept(RecordBatch.wrap(cur.slice(size)));
                pos += size;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("read of " + s.logFile() + " failed", e);
        }
    }

    /** Splits the inputs into runs whose cleaned form surely fits one segment. */
    private List<Group> group(List<Segment> segments, int[] versions) {
        List<Group> groups = new ArrayList<>();
        Group g = null;
        int capacity = config.maxIndexEntries();
        for (int i = 0; i < segments.size(); i++) {
            Segment s = segments.get(i);
            long batches = s.nextEntryIndex() - s.baseEntryIndex();
            boolean fits = g != null
                    && g.bytes + s.size() <= config.segmentBytes()
                    && g.batches + batches <= capacity - 2L
                    && s.nextOffset() - g.inputs.get(0).baseOffset() <= Integer.MAX_VALUE
                    && s.nextEntryIndex() - g.inputs.get(0).baseEntryIndex() <= Integer.MAX_VALUE;
            if (!fits) {
                g = new Group();
                groups.add(g);
            }
            g.inputs.add(s);
            g.versions.add(versions[i]);
            g.bytes += s.size();
            g.batches += batches;
        }
        return groups;
    }

    /** Pass two for one group: writes the cleaned segment at {@code .cleaned} names. */
    private void write(Group g, Map<ByteBuffer, Long> latest, long now) throws IOException {
        Segment first = g.inputs.get(0);
        long base = first.baseOffset();
        Path logFile = SegmentFiles.withSuffix(SegmentFiles.log(dir, base), SegmentFiles.CLEANED_SUFFIX);
        Path idx = SegmentFiles.withSuffix(SegmentFiles.offsetIndex(dir, base), SegmentFiles.CLEANED_SUFFIX);
        Path tidx = SegmentFiles.withSuffix(SegmentFiles.timeIndex(dir, base), SegmentFiles.CLEANED_SUFFIX);
        Segment out = Segment.createAt(dir, logFile, idx, tidx, base, first.baseEntryIndex(), config);
        g.output = out;
        long tombstoneHorizon = now - config.deleteRetentionMs();
        ByteBuffer pending = ByteBuffer.allocate(WRITE_BUFFER);
        List<BatchMeta> metas = new ArrayList<>();
        for (Segment s : g.inputs) {
            forEachBatch(s, batch -> {
                ByteBuffer cleaned;
                if (batch.isControl() || batch.recordCount() == 0) {
                    cleaned = batch.buffer();
                } else {
                    cleaned = batch.filter(r -> {
                        ByteBuffer key = r.key();
                        if (key == null) {
                            return true;
                        }
                        Long last = latest.get(key);
                        if (last == null || last != r.offset()) {
                            recordsRemoved++;
                            return false;
                        }
                        if (r.isTombstone() && r.timestamp() < tombstoneHorizon) {
                            tombstonesRemoved++;
                            return false;
                        }
                        return true;
                    });
                }
                int size = cleaned.remaining();
                if (size != batch.sizeInBytes()) {
                    g.changed = true;
                }
                if (pending.remaining() < size) {
                    flush(out, pending, metas, now);
                }
                BatchMeta meta = new BatchMeta(
                        batch.baseOffset(), batch.lastOffset(), batch.entryIndex(), batch.maxTimestamp(), size);
                if (size > pending.capacity()) {
                    out.append(new ByteBuffer[] {cleaned.duplicate()}, new BatchMeta[] {meta}, now);
                } else {
                    pending.put(cleaned.duplicate());
                    metas.add(meta);
                }
            });
        }
        flush(out, pending, metas, now);
        // Merging segments that earlier passes shrank is worth a rewrite even when nothing is dropped.
        g.changed |= g.inputs.size() > 1;
        if (g.changed) {
            out.seal();
        }
    }

    private static void flush(Segment out, ByteBuffer pending, List<BatchMeta> metas, long now) {
        if (metas.isEmpty()) {
            return;
        }
        pending.flip();
        out.append(new ByteBuffer[] {pending}, metas.toArray(new BatchMeta[0]), now);
        pending.clear();
        metas.clear();
    }

    /** Under the write lock: verify, commit and swap every changed group. */
    private CompactionResult swap(List<Group> groups, int read) throws IOException {
        List<Group> changed = new ArrayList<>();
        for (Group g : groups) {
            if (g.changed) {
                changed.add(g);
            }
        }
        if (changed.isEmpty()) {
            return new CompactionResult(read, 0, 0, 0, 0, recordsRemoved, tombstonesRemoved, false);
        }
        int replaced = 0;
        long before = 0;
        long after = 0;
        log.writeLock().lock();
        try {
            if (log.isClosed()) {
                return aborted(groups, read);
            }
            Segment[] current = log.currentSegments();
            for (Group g : changed) {
                if (!stillCurrent(current, g)) {
                    return aborted(groups, read);
                }
            }
            for (Group g : changed) {
                Segment first = g.inputs.get(0);
                long base = first.baseOffset();
                g.output.renameLog(SegmentFiles.withSuffix(SegmentFiles.log(dir, base), SegmentFiles.SWAP_SUFFIX));
            }
            Dirs.fsync(dir);
            for (Group g : changed) {
                long base = g.inputs.get(0).baseOffset();
                for (int j = 1; j < g.inputs.size(); j++) {
                    g.inputs.get(j).deleteFiles();
                }
                g.output.swapInto(
                        SegmentFiles.log(dir, base),
                        SegmentFiles.offsetIndex(dir, base),
                        SegmentFiles.timeIndex(dir, base));
                if (!log.replaceSegments(g.inputs, List.of(g.output))) {
                    throw new IllegalStateException("segments of " + dir + " changed under the write lock");
                }
                replaced += g.inputs.size();
                before += g.bytes;
                after += g.output.size();
            }
            Dirs.fsync(dir);
        } finally {
            log.writeLock().unlock();
        }
        for (Group g : changed) {
            for (Segment s : g.inputs) {
                s.release(); // the log's own reference; readers may still hold theirs
            }
        }
        LOG.log(
                Level.INFO,
                "{0}: compacted {1} segments into {2}, {3} -> {4} bytes, {5} records and {6} tombstones removed",
                dir,
                replaced,
                changed.size(),
                before,
                after,
                recordsRemoved,
                tombstonesRemoved);
        return new CompactionResult(
                read, replaced, changed.size(), before, after, recordsRemoved, tombstonesRemoved, false);
    }

    private static boolean stillCurrent(Segment[] current, Group g) {
        int start = -1;
        for (int i = 0; i < current.length; i++) {
            if (current[i] == g.inputs.get(0)) {
                start = i;
                break;
            }
        }
        if (start < 0 || start + g.inputs.size() > current.length - 1) {
            return false;
        }
        for (int j = 0; j < g.inputs.size(); j++) {
            Segment s = current[start + j];
            if (s != g.inputs.get(j) || s.version() != g.versions.get(j) || s.isActive()) {
                return false;
            }
        }
        return true;
    }

    private static void discard(Segment s) {
        try {
            s.deleteFiles();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not delete " + s.logFile(), e);
        }
        s.release();
    }

    /**
     * Recovery (on open, before segments are loaded): deletes unfinished {@code .cleaned} files and
     * finishes committed {@code .swap} files.
     */
    static void completeInterruptedSwaps(Path dir, LogConfig config) throws IOException {
        List<Path> cleaned = new ArrayList<>();
        List<Path> swaps = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> {
                String name = f.getFileName().toString();
                if (name.endsWith(SegmentFiles.CLEANED_SUFFIX)) {
                    cleaned.add(f);
                } else if (name.endsWith(SegmentFiles.LOG_SUFFIX + SegmentFiles.SWAP_SUFFIX)) {
                    swaps.add(f);
                }
            });
        }
        for (Path f : cleaned) {
            LOG.log(Level.INFO, "{0}: deleting unfinished compaction output {1}", dir, f.getFileName());
            Files.deleteIfExists(f);
        }
        for (Path swap : swaps) {
            String name = swap.getFileName().toString();
            OptionalLong base = SegmentFiles.baseOffsetOf(
                    name.substring(0, name.length() - SegmentFiles.SWAP_SUFFIX.length()), SegmentFiles.LOG_SUFFIX);
            if (base.isEmpty()) {
                continue;
            }
            long b = base.getAsLong();
            long end = endOffsetOf(swap);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    OptionalLong other =
                            SegmentFiles.baseOffsetOf(f.getFileName().toString(), SegmentFiles.LOG_SUFFIX);
                    if (other.isPresent() && other.getAsLong() > b && other.getAsLong() < end) {
                        long o = other.getAsLong();
                        Files.deleteIfExists(SegmentFiles.log(dir, o));
                        Files.deleteIfExists(SegmentFiles.offsetIndex(dir, o));
                        Files.deleteIfExists(SegmentFiles.timeIndex(dir, o));
                    }
                }
            }
            Files.deleteIfExists(SegmentFiles.offsetIndex(dir, b));
            Files.deleteIfExists(SegmentFiles.timeIndex(dir, b));
            Files.move(
                    swap,
                    SegmentFiles.log(dir, b),
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            LOG.log(Level.INFO, "{0}: finished the compaction swap of segment {1} (offsets up to {2})", dir, b, end);
        }
        if (!cleaned.isEmpty() || !swaps.isEmpty()) {
            Dirs.fsync(dir);
        }
    }

    /** The offset after the last batch of a complete, forced log file (headers only). */
    private static long endOffsetOf(Path logFile) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(logFile, java.nio.file.StandardOpenOption.READ)) {
            long size = ch.size();
            BatchCursor cur = new BatchCursor(ch, size, 64 * 1024);
            long pos = 0;
            long end = -1;
            while (pos + BatchHeader.HEADER_SIZE <= size) {
                cur.seek(pos);
                if (!cur.header()) {
                    break;
                }
                end = BatchHeaders.lastOffset(cur.buffer(), cur.at()) + 1;
                int sz = BatchHeaders.sizeInBytes(cur.buffer(), cur.at());
                if (sz < BatchHeader.HEADER_SIZE) {
                    break;
                }
                pos += sz;
            }
            return end;
        }
    }
}
