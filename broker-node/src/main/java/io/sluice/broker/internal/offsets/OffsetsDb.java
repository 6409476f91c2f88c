package io.sluice.broker.internal.offsets;

import io.sluice.broker.internal.offsets.OffsetStore.StoredOffset;
import io.sluice.broker.internal.offsets.OffsetStore.TopicPartitionKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.EnvOptions;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.SstFileWriter;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's one RocksDB of committed offsets, {@code <data.dir>/offsets-rocksdb}: one column family per {@code
 * __offsets} partition ({@code offsets-<n>}), each holding that partition's offsets and its applied offset (layout in
 * {@link OffsetRecords}). A partition's state is only ever changed by one write batch that also moves its applied
 * offset, so after a crash it is exactly the state after some applied batch.
 *
 * <p>Snapshots export one partition's column family as a single SST file ({@link Partition#exportTo}), read from a
 * RocksDB snapshot, so the export is consistent; loading one ({@link Partition#importFrom}) drops and recreates the
 * column family and ingests the file. Why not {@code Checkpoint}: a checkpoint covers the whole database (every
 * partition), so a follower would receive and have to filter 16 partitions' data to install one; and the Java API
 * cannot carry the metadata of {@code exportColumnFamily} to another broker. An SST file written with {@code
 * SstFileWriter} is RocksDB's own format for moving a key range between databases, and its ingestion is atomic.
 *
 * <p>Thread-safe: each partition guards its column-family handle with a read-write lock (reads, applies and exports
 * share it; import and drop take it exclusively).
 */
public final class OffsetsDb implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OffsetsDb.class);
    /** Directory name under the broker's data directory. */
    public static final String DIR_NAME = "offsets-rocksdb";

    private static final String CF_PREFIX = "offsets-";
    private static final long WRITE_BUFFER_BYTES = 4L << 20;

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final WriteOptions writeOptions;
    private final RocksDB db;
    private final ColumnFamilyHandle defaultCf;
    private final Map<Integer, Partition> partitions = new TreeMap<>();
    private final Object lifecycle = new Object();
    private volatile boolean closed;

    private OffsetsDb(
            Path dir,
            DBOptions dbOptions,
            ColumnFamilyOptions cfOptions,
            RocksDB db,
            List<ColumnFamilyDescriptor> descriptors,
            List<ColumnFamilyHandle> handles) {
        this.dir = dir;
        this.dbOptions = dbOptions;
        this.cfOptions = cfOptions;
        this.db = db;
        // WAL on, no fsync per write: a process crash keeps what was written (the OS has it); what a machine crash
        // loses comes back from the Raft log, or from the Raft snapshot when the log no longer has it.
        this.writeOptions = new WriteOptions().setSync(false);
        ColumnFamilyHandle def = null;
        for (int i = 0; i < descriptors.size(); i++) {
            String name = new String(descriptors.get(i).getName(), StandardCharsets.UTF_8);
            if (name.equals(new String(RocksDB.DEFAULT_COLUMN_FAMILY, StandardCharsets.UTF_8))) {
                def = handles.get(i);
            } else if (name.startsWith(CF_PREFIX)) {
                int p = Integer.parseInt(name.substring(CF_PREFIX.length()));
                partitions.put(p, new Partition(p, handles.get(i)));
            } else {
                LOG.warn("offsets RocksDB {}: ignoring unknown column family {}", dir, name);
            }
        }
        this.defaultCf = def;
    }

    /** Opens (creating if missing) the database in {@code dir}. */
    public static OffsetsDb open(Path dir) throws IOException {
        Files.createDirectories(dir);
        DBOptions dbOptions = new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setKeepLogFileNum(3)
                .setMaxTotalWalSize(64L << 20);
        ColumnFamilyOptions cfOptions =
                new ColumnFamilyOptions().setWriteBufferSize(WRITE_BUFFER_BYTES).setMaxWriteBufferNumber(2);
        List<byte[]> names;
        try (Options o = new Options()) {
            names = RocksDB.listColumnFamilies(o, dir.toString());
        } catch (RocksDBException e) {
            names = List.of();
        }
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
        for (byte[] n : names) {
            if (!java.util.Arrays.equals(n, RocksDB.DEFAULT_COLUMN_FAMILY)) {
                descriptors.add(new ColumnFamilyDescriptor(n, cfOptions));
            }
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
            OffsetsDb out = new OffsetsDb(dir, dbOptions, cfOptions, db, descriptors, handles);
            LOG.info("offsets RocksDB opened in {} with partitions {}", dir, out.partitions.keySet());
            return out;
        } catch (RocksDBException | RuntimeException e) {
            handles.forEach(ColumnFamilyHandle::close);
            dbOptions.close();
            cfOptions.close();
            throw new IOException("cannot open the offsets RocksDB in " + dir + ": " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** The state of {@code __offsets} partition {@code p}, creating its (empty) column family if needed. */
    public Partition partition(int p) {
        synchronized (lifecycle) {
            checkOpen();
            Partition existing = partitions.get(p);
            if (existing != null) {
                return existing;
            }
            try {
                Partition created = new Partition(p, createCf(p));
                partitions.put(p, created);
                return created;
            } catch (RocksDBException e) {
                throw new OffsetsStorageException("cannot create the column family of __offsets-" + p, e);
            }
        }
    }

    /** The state of partition {@code p} if this database has it (without creating it). */
    public Optional<Partition> existing(int p) {
        synchronized (lifecycle) {
            return closed ? Optional.empty() : Optional.ofNullable(partitions.get(p));
        }
    }

    /** The partitions that have state in this database. */
    public Set<Integer> partitionIds() {
        synchronized (lifecycle) {
            return new TreeSet<>(partitions.keySet());
        }
    }

    private ColumnFamilyHandle createCf(int p) throws RocksDBException {
        ColumnFamilyHandle h = db.createColumnFamily(
                new ColumnFamilyDescriptor((CF_PREFIX + p).getBytes(StandardCharsets.UTF_8), cfOptions));
        // Every partition holds its applied offset from the start, so that an export is never empty.
        db.put(h, writeOptions, OffsetRecords.APPLIED_KEY, OffsetRecords.encodeLong(0));
        return h;
    }

    private void checkOpen() {
        if (closed) {
            throw new OffsetsStorageException("the offsets RocksDB in " + dir + " is closed", null);
        }
    }

    /** Closes the database (after flushing memtables, so the next open replays little WAL). Idempotent. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            for (Partition p : partitions.values()) {
                p.lock.writeLock().lock();
            }
            try {
                try {
                    db.flushWal(true);
                } catch (RocksDBException e) {
                    LOG.warn("offsets RocksDB {}: WAL flush at close failed", dir, e);
                }
                for (Partition p : partitions.values()) {
                    if (p.cf != null) {
                        p.cf.close();
                    }
                }
                if (defaultCf != null) {
                    defaultCf.close();
                }
                try {
                    db.closeE();
                } catch (RocksDBException e) {
                    LOG.warn("offsets RocksDB {}: close failed", dir, e);
                }
                writeOptions.close();
                dbOptions.close();
                cfOptions.close();
            } finally {
                for (Partition p : partitions.values()) {
                    p.lock.writeLock().unlock();
                }
            }
            LOG.info("offsets RocksDB {} closed", dir);
        }
    }

    /** One change to a partition's offsets: a commit, or a deletion when {@code offset} is empty. */
    record Mutation(byte[] dbKey, Optional<StoredOffset> offset) {}

    /**
     * The offsets of one {@code __offsets} partition in this database. Thread-safe (see the outer class).
     */
    public final class Partition {
        private final int id;
        private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        /** Null once dropped. Guarded by {@link #lock} for replacement. */
        private ColumnFamilyHandle cf;

        private volatile long applied;
        private final java.util.concurrent.atomic.AtomicInteger imports =
                new java.util.concurrent.atomic.AtomicInteger();

        private Partition(int id, ColumnFamilyHandle cf) {
            this.id = id;
            this.cf = cf;
            this.applied = readApplied(cf);
        }

        public int id() {
            return id;
        }

        private long readApplied(ColumnFamilyHandle h) {
            try {
                byte[] v = db.get(h, OffsetRecords.APPLIED_KEY);
                return v == null ? 0 : OffsetRecords.decodeLong(v);
            } catch (RocksDBException e) {
                throw new OffsetsStorageException("cannot read the applied offset of __offsets-" + id, e);
            }
        }

        /** How many snapshots were imported into this partition since the database was opened. */
        public int imports() {
            return imports.get();
        }

        /** The offset after the last applied batch (0 = nothing applied). */
        public long appliedOffset() {
            return applied;
        }

        private ColumnFamilyHandle handle() {
            checkOpen();
            if (cf == null) {
                throw new OffsetsStorageException("the state of __offsets-" + id + " was dropped", null);
            }
            return cf;
        }

        /** Applies {@code mutations} and sets the applied offset to {@code newApplied}, in one atomic write. */
        void apply(List<Mutation> mutations, long newApplied) {
            lock.readLock().lock();
            try (WriteBatch batch = new WriteBatch()) {
                ColumnFamilyHandle h = handle();
                for (Mutation m : mutations) {
                    if (m.offset().isPresent()) {
                        batch.put(
                                h,
                                m.dbKey(),
                                OffsetRecords.encodeDbValue(m.offset().get()));
                    } else {
                        batch.delete(h, m.dbKey());
                    }
                }
                batch.put(h, OffsetRecords.APPLIED_KEY, OffsetRecords.encodeLong(newApplied));
                db.write(writeOptions, batch);
                applied = newApplied;
            } catch (RocksDBException e) {
                throw new OffsetsStorageException("cannot apply to __offsets-" + id, e);
            } finally {
                lock.readLock().unlock();
            }
        }

        /** The stored offsets of {@code group}: all of them when {@code partitions} is empty. */
        public Map<TopicPartitionKey, StoredOffset> fetch(String group, Collection<TopicPartitionKey> partitions) {
            lock.readLock().lock();
            try {
                ColumnFamilyHandle h = handle();
                Map<TopicPartitionKey, StoredOffset> out = new LinkedHashMap<>();
                if (partitions.isEmpty()) {
                    byte[] prefix = OffsetRecords.dbGroupPrefix(group);
                    try (RocksIterator it = db.newIterator(h)) {
                        for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
                            OffsetRecords.Key k = OffsetRecords.decodeDbKey(it.key());
                            out.put(k.topicPartition(), OffsetRecords.decodeDbValue(it.value()));
                        }
                        it.status();
                    }
                } else {
                    for (TopicPartitionKey tp : partitions) {
                        byte[] v = db.get(h, OffsetRecords.dbKey(group, tp.topic(), tp.partition()));
                        if (v != null) {
                            out.put(tp, OffsetRecords.decodeDbValue(v));
                        }
                    }
                }
                return out;
            } catch (RocksDBException e) {
                throw new OffsetsStorageException("cannot read __offsets-" + id, e);
            } finally {
                lock.readLock().unlock();
            }
        }

        /** The groups with at least one stored offset here. */
        public Set<String> groups() {
            lock.readLock().lock();
            try (RocksIterator it = db.newIterator(handle())) {
                Set<String> out = new TreeSet<>();
                it.seek(new byte[] {OffsetRecords.DB_OFFSET});
                while (it.isValid()) {
                    String g = OffsetRecords.decodeDbKey(it.key()).group();
                    out.add(g);
                    Optional<byte[]> next = OffsetRecords.prefixSuccessor(OffsetRecords.dbGroupPrefix(g));
                    if (next.isEmpty()) {
                        break;
                    }
                    it.seek(next.get());
                }
                it.status();
                return out;
            } catch (RocksDBException e) {
                throw new OffsetsStorageException("cannot read __offsets-" + id, e);
            } finally {
                lock.readLock().unlock();
            }
        }

        /** Every key and value of this partition, applied offset included, in key order (tests and tooling). */
        public Map<String, String> dump() {
            lock.readLock().lock();
            try (RocksIterator it = db.newIterator(handle())) {
                Map<String, String> out = new LinkedHashMap<>();
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] k = it.key();
                    if (k.length > 0 && k[0] == OffsetRecords.DB_OFFSET) {
                        out.put(
                                OffsetRecords.decodeDbKey(k).toString(),
                                OffsetRecords.decodeDbValue(it.value()).toString());
                    } else {
                        out.put("applied", Long.toString(OffsetRecords.decodeLong(it.value())));
                    }
                }
                it.status();
                return out;
            } catch (RocksDBException e) {
                throw new OffsetsStorageException("cannot read __offsets-" + id, e);
            } finally {
                lock.readLock().unlock();
            }
        }

        /**
         * Writes this partition's state (a consistent RocksDB snapshot of it) as one SST file {@code file}, and returns
         * the applied offset it holds.
         */
        long exportTo(Path file) throws IOException {
            lock.readLock().lock();
            try {
                return export(handle(), file);
            } finally {
                lock.readLock().unlock();
            }
        }

        private long export(ColumnFamilyHandle h, Path file) throws IOException {
            Snapshot snap = db.getSnapshot();
            try (ReadOptions ro = new ReadOptions().setSnapshot(snap);
                    RocksIterator it = db.newIterator(h, ro);
                    EnvOptions env = new EnvOptions();
                    Options opts = new Options();
                    SstFileWriter w = new SstFileWriter(env, opts)) {
                Files.deleteIfExists(file);
                w.open(file.toString());
                long exported = -1;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] k = it.key();
                    if (java.util.Arrays.equals(k, OffsetRecords.APPLIED_KEY)) {
                        exported = OffsetRecords.decodeLong(it.value());
                    }
                    w.put(k, it.value());
                }
                it.status();
                if (exported < 0) {
                    throw new IOException("__offsets-" + id + " has no applied offset");
                }
                w.finish();
                return exported;
            } catch (RocksDBException e) {
                throw new IOException("cannot export __offsets-" + id + " to " + file + ": " + e.getMessage(), e);
            } finally {
                db.releaseSnapshot(snap);
                snap.close();
            }
        }

        /**
         * Replaces this partition's state with the SST file written by {@link #exportTo}. Crash-safe: the column family
         * is dropped, recreated and filled by one atomic ingestion; a crash in between leaves it absent or empty, i.e.
         * applied offset 0, and Raft loads the snapshot again at the restart.
         */
        void importFrom(Path file) throws IOException {
            lock.writeLock().lock();
            try {
                ColumnFamilyHandle old = handle();
                db.dropColumnFamily(old);
                old.close();
                cf = null;
                ColumnFamilyHandle h = db.createColumnFamily(
                        new ColumnFamilyDescriptor((CF_PREFIX + id).getBytes(StandardCharsets.UTF_8), cfOptions));
                cf = h;
                try (IngestExternalFileOptions io = new IngestExternalFileOptions().setMoveFiles(false)) {
                    db.ingestExternalFile(h, List.of(file.toString()), io);
                }
                applied = readApplied(h);
                imports.incrementAndGet();
                LOG.info("__offsets-{}: state imported from snapshot file {} (applied offset {})", id, file, applied);
            } catch (RocksDBException e) {
                throw new IOException("cannot import __offsets-" + id + " from " + file + ": " + e.getMessage(), e);
            } finally {
                lock.writeLock().unlock();
            }
        }

        /** Drops this partition's state (its topic partition was deleted). */
        void drop() {
            synchronized (lifecycle) {
                lock.writeLock().lock();
                try {
                    if (cf != null && !closed) {
                        db.dropColumnFamily(cf);
                        cf.close();
                        cf = null;
                    }
                    partitions.remove(id, this);
                } catch (RocksDBException e) {
                    throw new OffsetsStorageException("cannot drop the state of __offsets-" + id, e);
                } finally {
                    lock.writeLock().unlock();
                }
            }
        }

        @Override
        public String toString() {
            return "__offsets-" + id + "[applied " + applied + "]";
        }
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        if (key.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (key[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
