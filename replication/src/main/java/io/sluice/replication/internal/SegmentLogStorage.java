package io.sluice.replication.internal;

import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.conf.ConfigurationEntry;
import com.alipay.sofa.jraft.conf.ConfigurationManager;
import com.alipay.sofa.jraft.entity.EnumOutter.EntryType;
import com.alipay.sofa.jraft.entity.LogEntry;
import com.alipay.sofa.jraft.entity.LogId;
import com.alipay.sofa.jraft.option.LogStorageOptions;
import com.alipay.sofa.jraft.storage.LogStorage;
import io.sluice.logstore.AppendInfo;
import io.sluice.logstore.FsyncScheduler;
import io.sluice.logstore.Log;
import io.sluice.logstore.LogConfig;
import io.sluice.logstore.LogReadResult;
import io.sluice.logstore.SegmentInfo;
import io.sluice.logstore.record.ControlRecord;
import io.sluice.logstore.record.ControlRecordType;
import io.sluice.logstore.record.RecordBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JRaft's {@link LogStorage} over the partition's segment {@link Log}: the Raft log and the partition data are the
 * same bytes, written once.
 *
 * <h2>Mapping</h2>
 * Raft entry {@code i} is the stored batch whose header says {@code entryIndex = i}; its term is the header's {@code
 * raftTerm}. A DATA entry's payload is the producer's record batch itself: this class stamps the term, the log stamps
 * base offset and entry index, in place (the CRC does not cover them), so the leader's in-memory entry, its state
 * machine and its followers all see the assigned numbers. CONFIGURATION and NO_OP entries are stored as control
 * batches ({@link ControlRecordType#RAFT_CONFIGURATION} with the {@link ConfigurationCodec} payload, {@link
 * ControlRecordType#RAFT_NO_OP} empty) of one record, so they take exactly one offset each; their record timestamp is
 * 0 so that every replica writes identical bytes. {@link #getEntry} rebuilds the {@link LogEntry} from the stored
 * batch.
 *
 * <h2>Durability</h2>
 * {@link #appendEntries} returns after an fsync covered the entries; truncations and resets are flushed the same way
 * before returning. The fsync runs on the calling thread ({@link Log#flush()}): that thread (JRaft's disk thread of
 * this group) would only wait for the shared fsync thread otherwise, and this way the fsyncs of different partitions
 * do not queue behind one another and an append costs no hand-off to another thread and back.
 *
 * <h2>Prefix truncation and retention</h2>
 * JRaft calls {@link #truncatePrefix} only after a snapshot; this deletes whole segments below both the requested index
 * and the log's size/time {@link Log#retentionBoundary() retention boundary}, so {@link #getFirstLogIndex()} may stay
 * below what JRaft asked for, and Raft never loses an entry a snapshot does not cover. Nothing else deletes segments.
 *
 * <h2>Snapshots</h2>
 * {@link #linkSegmentsInto} hard-links segment files into a snapshot directory; {@link #installSnapshot} replaces the
 * log with a snapshot's segments (crash-safe swap, see {@link PartitionLayout}); {@link #reset} and a {@link
 * #truncatePrefix} beyond the last entry then keep the installed prefix (the {@linkplain #setSnapshotAnchor anchor}
 * supplies the offset where the log resumes when there is nothing to keep).
 *
 * <p>Threads: JRaft calls the mutating methods from one thread (its log manager's disk thread) and the readers from
 * many; {@link #installSnapshot} comes from the state-machine thread and excludes everything else through a
 * read-write lock whose read side every other method holds (the {@link Log} itself handles one writer plus concurrent
 * readers). This class is thread-safe.
 */
public final class SegmentLogStorage implements LogStorage {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentLogStorage.class);

    /** Control batches carry this record timestamp so that replicas built from the same entry are byte-identical. */
    static final long CONTROL_TIMESTAMP = 0L;

    /** Where the durable log ends: entry index and the offset after it. Immutable and thread-safe. */
    public record Position(long index, long endOffset) {}

    /** Callbacks to the replica, called on the thread that mutated the log, after the change is durable. */
    public interface Listener {
        /** {@code entries} were appended and are durable; the durable log now ends at {@code position}. */
        default void onAppended(List<LogEntry> entries, Position position) {}

        /** The log was truncated, reset or replaced; it now ends at {@code position}. */
        default void onLogChanged(Position position) {}
    }

    private final String name;
    private final PartitionLayout layout;
    private final LogConfig config;
    private final FsyncScheduler fsync;
    private final Clock clock;
    private final Listener listener;
    private final ReentrantReadWriteLock swapLock = new ReentrantReadWriteLock();

    private volatile Log log;
    private volatile boolean halted;
    private volatile Position durable = new Position(0, 0);
    private volatile Optional<PartitionSnapshotMeta> anchor = Optional.empty();
    /** Guarded by {@code this}. */
    private ConfigurationIndexFile configurationIndex;
    /** Durability waiters by entry index; guarded by itself. */
    private final TreeMap<Long, List<CompletableFuture<Void>>> durableWaiters = new TreeMap<>();

    /**
     * @param name the partition, for log messages
     * @param listener told about appends and other changes (on the mutating thread)
     */
    public SegmentLogStorage(
            String name,
            PartitionLayout layout,
            LogConfig config,
            FsyncScheduler fsync,
            Clock clock,
            Listener listener) {
        this.name = name;
        this.layout = layout;
        this.config = config;
        this.fsync = fsync;
        this.clock = clock;
        this.listener = listener;
    }

    // ------------------------------------------------------------------------------------------------ lifecycle

    @Override
    public boolean init(LogStorageOptions opts) {
        Lock w = swapLock.writeLock();
        w.lock();
        try {
            layout.create();
            layout.recoverLogSwap();
            Log opened = Log.open(layout.logDir(), config, fsync, clock);
            opened.flush();
            log = opened;
            durable = endOf(opened);
            loadConfigurations(opened, opts.getConfigurationManager());
            LOG.info(
                    "{}: log storage open, entries [{}, {}], offsets [{}, {})",
                    name,
                    opened.firstEntryIndex(),
                    opened.lastEntryIndex(),
                    opened.logStartOffset(),
                    opened.logEndOffset());
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.error("{}: cannot open the log storage in {}", name, layout.root(), e);
            return false;
        } finally {
            w.unlock();
        }
    }

    @Override
    public void shutdown() {
        Lock w = swapLock.writeLock();
        w.lock();
        try {
            Log l = log;
            if (l != null) {
                l.close();
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: error closing the log", name, e);
        } finally {
            w.unlock();
        }
        failDurableWaiters(new IllegalStateException(name + ": log storage shut down"));
    }

    /**
     * Refuses every further append and truncation (they fail, which JRaft treats as a storage error): used by {@code
     * RaftHost.halt()} so that nothing more reaches the log while the group is torn down.
     */
    public void halt() {
        halted = true;
    }

    // ------------------------------------------------------------------------------------------------ reads

    @Override
    public long getFirstLogIndex() {
        return withLog(Log::firstEntryIndex);
    }

    @Override
    public long getLastLogIndex() {
        return withLog(Log::lastEntryIndex);
    }

    @Override
    public LogEntry getEntry(long index) {
        return withLog(l -> {
            Optional<ByteBuffer> stored = l.readEntry(index);
            return stored.map(b -> toLogEntry(index, b)).orElse(null);
        });
    }

    @Override
    @Deprecated
    public long getTerm(long index) {
        return withLog(l -> l.termOf(index).orElse(0L));
    }

    /** Runs {@code fn} on the current log, excluding a concurrent snapshot install. */
    public <T> T withLog(Function<Log, T> fn) {
        Lock r = swapLock.readLock();
        r.lock();
        try {
            Log l = log;
            if (l == null) {
                throw new IllegalStateException(name + ": log storage is not open");
            }
            return fn.apply(l);
        } finally {
            r.unlock();
        }
    }

    /** Reads batches below {@code maxOffsetExclusive} (see {@link Log#read(long, int, long)}). */
    public LogReadResult read(long offset, int maxBytes, long maxOffsetExclusive) {
        return withLog(l -> l.read(offset, maxBytes, maxOffsetExclusive));
    }

    /** Where the durable log ends. */
    public Position durablePosition() {
        return durable;
    }

    /** Completes once entry {@code index} is appended and durable (at once if it already is). */
    public CompletableFuture<Void> whenDurable(long index) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (durableWaiters) {
            if (durable.index() >= index) {
                f.complete(null);
            } else {
                durableWaiters.computeIfAbsent(index, k -> new ArrayList<>()).add(f);
            }
        }
        return f;
    }

    // ------------------------------------------------------------------------------------------------ appends

    @Override
    public boolean appendEntry(LogEntry entry) {
        return appendEntries(List.of(entry)) == 1;
    }

    @Override
    public int appendEntries(List<LogEntry> entries) {
        if (entries == null || entries.isEmpty()) {
            return 0;
        }
        Lock r = swapLock.readLock();
        r.lock();
        try {
            if (halted) {
                return 0;
            }
            Log l = log;
            long expected = l.lastEntryIndex() + 1;
            if (entries.get(0).getId().getIndex() != expected) {
                LOG.error(
                        "{}: append of entries from index {} but the log ends at {}",
                        name,
                        entries.get(0).getId().getIndex(),
                        expected - 1);
                return 0;
            }
            List<ByteBuffer> batches = new ArrayList<>(entries.size());
            boolean configurations = false;
            for (int i = 0; i < entries.size(); i++) {
                LogEntry e = entries.get(i);
                if (e.getId().getIndex() != expected + i) {
                    LOG.error(
                            "{}: entries to append are not contiguous at index {}",
                            name,
                            e.getId().getIndex());
                    return 0;
                }
                batches.add(toBatch(e));
                if (e.getType() == EntryType.ENTRY_TYPE_CONFIGURATION) {
                    configurations = true;
                }
            }
            if (configurations) {
                // Listed before the append: a crash in between leaves a listing without an entry, never the reverse.
                synchronized (this) {
                    for (LogEntry e : entries) {
                        if (e.getType() == EntryType.ENTRY_TYPE_CONFIGURATION) {
                            configurationIndex.put(
                                    e.getId().getIndex(), e.getId().getTerm());
                        }
                    }
                    configurationIndex.write();
                }
            }
            List<AppendInfo> infos = l.appendAll(batches);
            for (int i = 0; i < infos.size(); i++) {
                if (infos.get(i).entryIndex() != expected + i) {
                    throw new IllegalStateException("log assigned entry index "
                            + infos.get(i).entryIndex() + " to Raft entry " + (expected + i));
                }
            }
            l.flush();
            Position p = new Position(entries.get(entries.size() - 1).getId().getIndex(), l.logEndOffset());
            publishDurable(p);
            notifyListener(() -> listener.onAppended(entries, p));
            return entries.size();
        } catch (IOException | RuntimeException e) {
            LOG.error("{}: append of {} entries failed", name, entries.size(), e);
            return 0;
        } finally {
            r.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------ truncation

    @Override
    public boolean truncatePrefix(long firstIndexKept) {
        Lock r = swapLock.readLock();
        r.lock();
        try {
            if (halted) {
                return false;
            }
            Log l = log;
            if (firstIndexKept > l.lastEntryIndex() + 1) {
                // JRaft dropped its whole log after a snapshot ahead of it: resume right after the snapshot.
                return resumeAfterSnapshot(l, firstIndexKept - 1);
            }
            OptionalLong retention = l.retentionBoundary();
            if (retention.isEmpty()) {
                return true;
            }
            long bound = Math.min(firstIndexKept, retention.getAsLong());
            int deleted = l.deleteSegmentsBefore(bound);
            if (deleted > 0) {
                synchronized (this) {
                    configurationIndex.removeBefore(l.firstEntryIndex());
                }
                LOG.info(
                        "{}: retention deleted {} segment(s) below entry {}; log starts at entry {}, offset {}",
                        name,
                        deleted,
                        bound,
                        l.firstEntryIndex(),
                        l.logStartOffset());
            }
            return true;
        } catch (RuntimeException e) {
            LOG.error("{}: truncatePrefix({}) failed", name, firstIndexKept, e);
            return false;
        } finally {
            r.unlock();
        }
    }

    @Override
    public boolean truncateSuffix(long lastIndexKept) {
        Lock r = swapLock.readLock();
        r.lock();
        try {
            if (halted) {
                return false;
            }
            Log l = log;
            if (lastIndexKept >= l.lastEntryIndex()) {
                return true;
            }
            long before = l.lastEntryIndex();
            l.truncateAfterEntry(lastIndexKept);
            l.flush();
            synchronized (this) {
                configurationIndex.removeAfter(lastIndexKept);
            }
            Position p = endOf(l);
            publishDurable(p);
            LOG.warn(
                    "{}: truncated the log after entry {} (was {}), log end offset {}",
                    name,
                    lastIndexKept,
                    before,
                    p.endOffset());
            notifyListener(() -> listener.onLogChanged(p));
            return true;
        } catch (RuntimeException e) {
            LOG.error("{}: truncateSuffix({}) failed", name, lastIndexKept, e);
            return false;
        } finally {
            r.unlock();
        }
    }

    @Override
    public boolean reset(long nextLogIndex) {
        if (nextLogIndex <= 0) {
            throw new IllegalArgumentException("invalid next log index " + nextLogIndex);
        }
        Lock r = swapLock.readLock();
        r.lock();
        try {
            if (halted) {
                return false;
            }
            return resumeAfterSnapshot(log, nextLogIndex - 1);
        } catch (RuntimeException e) {
            LOG.error("{}: reset({}) failed", name, nextLogIndex, e);
            return false;
        } finally {
            r.unlock();
        }
    }

    /**
     * Makes the log end right after entry {@code lastIncluded}, the last entry of the snapshot loaded last: keeps the
     * prefix when the log holds that entry (it does after {@link #installSnapshot}), otherwise starts an empty log at
     * the snapshot's end.
     */
    private boolean resumeAfterSnapshot(Log l, long lastIncluded) {
        Optional<PartitionSnapshotMeta> a = anchor;
        if (a.isEmpty() || a.get().lastIncludedIndex() != lastIncluded) {
            LOG.error(
                    "{}: asked to resume after entry {} but the loaded snapshot is {}",
                    name,
                    lastIncluded,
                    a.map(Object::toString).orElse("none"));
            return false;
        }
        PartitionSnapshotMeta meta = a.get();
        OptionalLong term = l.termOf(lastIncluded);
        if (term.isPresent() && term.getAsLong() == meta.lastIncludedTerm()) {
            l.truncateAfterEntry(lastIncluded);
            synchronized (this) {
                configurationIndex.removeAfter(lastIncluded);
            }
        } else {
            l.reset(lastIncluded + 1, meta.endOffset());
            synchronized (this) {
                configurationIndex.reset(lastIncluded);
                try {
                    configurationIndex.write();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        l.flush();
        Position p = endOf(l);
        publishDurable(p);
        LOG.info(
                "{}: log resumes after snapshot entry {}: next entry {}, next offset {}",
                name,
                lastIncluded,
                p.index() + 1,
                p.endOffset());
        notifyListener(() -> listener.onLogChanged(p));
        return true;
    }

    // ------------------------------------------------------------------------------------------------ snapshots

    /** Records the snapshot loaded last; {@link #reset} and {@link #truncatePrefix} resume after it. */
    public void setSnapshotAnchor(PartitionSnapshotMeta meta) {
        anchor = Optional.of(meta);
    }

    /** The term of entry {@code index} if the log holds it. */
    public OptionalLong termOf(long index) {
        return withLog(l -> l.termOf(index));
    }

    /** The offset right after entry {@code index} if the log holds it. */
    public OptionalLong endOffsetOf(long index) {
        return withLog(l -> {
            if (index == l.lastEntryIndex()) {
                return OptionalLong.of(l.logEndOffset());
            }
            return l.offsetForEntryIndex(index + 1);
        });
    }

    /**
     * Hard-links the log files of every segment holding entries up to {@code lastIncludedIndex} into {@code dir}
     * (no copy: a link keeps the bytes alive after retention unlinks the segment, and only the prefix up to the entry
     * matters, so later appends to the active segment are harmless). Returns the file names, oldest first.
     */
    public List<String> linkSegmentsInto(Path dir, long lastIncludedIndex) throws IOException {
        Lock r = swapLock.readLock();
        r.lock();
        try {
            List<String> names = new ArrayList<>();
            for (SegmentInfo s : log.segments()) {
                if (s.baseEntryIndex() > lastIncludedIndex) {
                    break;
                }
                Path source = s.logFile();
                Path target = dir.resolve(source.getFileName().toString());
                try {
                    Files.createLink(target, source);
                    names.add(target.getFileName().toString());
                } catch (NoSuchFileException e) {
                    // Retention deleted it meanwhile: a prefix, which Raft no longer needs.
                    LOG.debug("{}: segment {} vanished while snapshotting", name, source);
                }
            }
            return names;
        } finally {
            r.unlock();
        }
    }

    /**
     * Replaces the log with the segments of an installed snapshot (in {@code snapshotDir}, named {@code files}), cut
     * after the snapshot's last entry; the configuration index restarts at that entry. Crash-safe: an interrupted
     * install leaves either the old log or the new one, and the snapshot is reloaded at restart anyway.
     */
    public void installSnapshot(Path snapshotDir, List<String> files, PartitionSnapshotMeta meta) throws IOException {
        Lock w = swapLock.writeLock();
        w.lock();
        try {
            Log old = log;
            if (old != null) {
                old.close();
                log = null;
            }
            Path install = layout.logInstallDir();
            DurableFiles.deleteRecursively(install);
            Files.createDirectories(install);
            for (String f : files) {
                Files.createLink(install.resolve(f), snapshotDir.resolve(f));
            }
            try (Log fresh = Log.open(install, config, fsync, clock)) {
                OptionalLong term = fresh.termOf(meta.lastIncludedIndex());
                if (term.isPresent() && term.getAsLong() == meta.lastIncludedTerm()) {
                    fresh.truncateAfterEntry(meta.lastIncludedIndex());
                } else {
                    LOG.warn(
                            "{}: installed snapshot files do not hold entry {} (term {}); starting an empty log at"
                                    + " offset {}",
                            name,
                            meta.lastIncludedIndex(),
                            meta.lastIncludedTerm(),
                            meta.endOffset());
                    fresh.reset(meta.lastIncludedIndex() + 1, meta.endOffset());
                }
                fresh.flush();
                Position end = endOf(fresh);
                if (end.index() != meta.lastIncludedIndex() || end.endOffset() != meta.endOffset()) {
                    throw new IOException("installed log ends at entry " + end.index() + " offset " + end.endOffset()
                            + " but the snapshot says entry " + meta.lastIncludedIndex() + " offset "
                            + meta.endOffset());
                }
            }
            DurableFiles.fsyncDirectory(install);
            layout.swapInInstalledLog();
            Log opened = Log.open(layout.logDir(), config, fsync, clock);
            log = opened;
            synchronized (this) {
                configurationIndex.reset(meta.lastIncludedIndex());
                configurationIndex.write();
            }
            anchor = Optional.of(meta);
            Position p = endOf(opened);
            publishDurable(p);
            LOG.info(
                    "{}: installed snapshot at entry {} (term {}): {} segment file(s), log entries [{}, {}], offsets"
                            + " [{}, {})",
                    name,
                    meta.lastIncludedIndex(),
                    meta.lastIncludedTerm(),
                    files.size(),
                    opened.firstEntryIndex(),
                    opened.lastEntryIndex(),
                    opened.logStartOffset(),
                    opened.logEndOffset());
            notifyListener(() -> listener.onLogChanged(p));
        } finally {
            w.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------ internals

    /** The change is done and durable: a failing listener must not turn it into a storage error. */
    private void notifyListener(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.warn("{}: log listener failed", name, e);
        }
    }

    private static Position endOf(Log l) {
        return new Position(l.lastEntryIndex(), l.logEndOffset());
    }

    private void publishDurable(Position p) {
        durable = p;
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        synchronized (durableWaiters) {
            Map<Long, List<CompletableFuture<Void>>> head = durableWaiters.headMap(p.index(), true);
            head.values().forEach(ready::addAll);
            head.clear();
        }
        ready.forEach(f -> f.complete(null));
    }

    private void failDurableWaiters(Throwable cause) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        synchronized (durableWaiters) {
            durableWaiters.values().forEach(all::addAll);
            durableWaiters.clear();
        }
        all.forEach(f -> f.completeExceptionally(cause));
    }

    /** The batch that stores {@code e}, term stamped; DATA payloads are used in place, not copied. */
    private ByteBuffer toBatch(LogEntry e) {
        long term = e.getId().getTerm();
        ByteBuffer batch;
        switch (e.getType()) {
            case ENTRY_TYPE_DATA -> {
                ByteBuffer data = e.getData();
                if (data == null) {
                    throw new IllegalArgumentException("DATA entry " + e.getId() + " without a payload");
                }
                // A duplicate: the log reads from position to limit; JRaft's own view must not move.
                batch = data.duplicate();
                int size = RecordBatch.sizeAt(batch, batch.position());
                if (size != batch.remaining()) {
                    throw new IllegalArgumentException("DATA entry " + e.getId() + " is not exactly one record batch ("
                            + size + " declared, " + batch.remaining() + " present)");
                }
                if (RecordBatch.wrap(batch).isControl()) {
                    throw new IllegalArgumentException("DATA entry " + e.getId() + " carries a control batch");
                }
            }
            case ENTRY_TYPE_CONFIGURATION ->
                batch = ControlRecord.buildBatch(
                        ControlRecordType.RAFT_CONFIGURATION, CONTROL_TIMESTAMP, ConfigurationCodec.encode(e));
            case ENTRY_TYPE_NO_OP ->
                batch = ControlRecord.buildBatch(ControlRecordType.RAFT_NO_OP, CONTROL_TIMESTAMP, new byte[0]);
            default ->
                throw new IllegalArgumentException("cannot store entry " + e.getId() + " of type " + e.getType());
        }
        RecordBatch.stampRaftTerm(batch, batch.position(), term);
        return batch;
    }

    /** Rebuilds the {@link LogEntry} stored as {@code stored}. */
    static LogEntry toLogEntry(long index, ByteBuffer stored) {
        RecordBatch batch = RecordBatch.wrap(stored);
        LogEntry e = new LogEntry();
        e.setId(new LogId(index, batch.raftTerm()));
        if (!batch.isControl()) {
            e.setType(EntryType.ENTRY_TYPE_DATA);
            e.setData(stored);
            return e;
        }
        ControlRecord control = ControlRecord.read(batch);
        switch (control.type()) {
            case RAFT_CONFIGURATION -> {
                e.setType(EntryType.ENTRY_TYPE_CONFIGURATION);
                ConfigurationCodec.decodeInto(control.payload(), e);
            }
            case RAFT_NO_OP -> e.setType(EntryType.ENTRY_TYPE_NO_OP);
            default ->
                throw new IllegalStateException(
                        "entry " + index + " is a control batch of type " + control.type() + ", not a Raft entry");
        }
        return e;
    }

    /**
     * Loads the configuration entries into JRaft's manager: from the configuration index, each listing verified
     * against the log; by scanning the whole log when the index is missing or unreadable (then rewritten).
     */
    private void loadConfigurations(Log l, ConfigurationManager manager) throws IOException {
        long first = l.firstEntryIndex();
        long last = l.lastEntryIndex();
        Optional<ConfigurationIndexFile> existing = ConfigurationIndexFile.read(layout.configurationIndexFile());
        ConfigurationIndexFile index;
        List<LogEntry> found = new ArrayList<>();
        if (existing.isPresent()) {
            index = existing.get();
            for (Map.Entry<Long, Long> listed : new ArrayList<>(index.entries().entrySet())) {
                long i = listed.getKey();
                if (i < first || i > last) {
                    continue;
                }
                LogEntry e = getEntryFrom(l, i);
                if (e != null
                        && e.getType() == EntryType.ENTRY_TYPE_CONFIGURATION
                        && e.getId().getTerm() == listed.getValue()) {
                    found.add(e);
                }
            }
            index.removeBefore(first);
            index.removeAfter(last);
        } else {
            LOG.info("{}: no configuration index; scanning entries [{}, {}]", name, first, last);
            Map<Long, Long> listing = new TreeMap<>();
            for (long i = first; i <= last; i++) {
                OptionalLong term = l.termOf(i);
                if (term.isEmpty()) {
                    continue;
                }
                LogEntry e = getEntryFrom(l, i);
                if (e != null && e.getType() == EntryType.ENTRY_TYPE_CONFIGURATION) {
                    found.add(e);
                    listing.put(i, e.getId().getTerm());
                }
            }
            index = ConfigurationIndexFile.create(layout.configurationIndexFile(), 0, listing);
            index.write();
        }
        synchronized (this) {
            configurationIndex = index;
        }
        if (manager != null) {
            for (LogEntry e : found) {
                Configuration conf = new Configuration(e.getPeers(), e.getLearners());
                Configuration oldConf = e.getOldPeers() == null
                        ? new Configuration()
                        : new Configuration(e.getOldPeers(), e.getOldLearners());
                manager.add(new ConfigurationEntry(e.getId().copy(), conf, oldConf));
            }
        }
        LOG.info(
                "{}: loaded {} configuration entr{} from the log", name, found.size(), found.size() == 1 ? "y" : "ies");
    }

    private LogEntry getEntryFrom(Log l, long index) {
        return l.readEntry(index).map(b -> toLogEntry(index, b)).orElse(null);
    }

    @Override
    public String toString() {
        return "SegmentLogStorage[" + name + "]";
    }
}
