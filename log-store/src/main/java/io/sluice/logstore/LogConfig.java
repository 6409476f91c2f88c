package io.sluice.logstore;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The settings of one partition log, validated on construction.
 *
 * <p>Build one with {@link #builder()} (every field has a default), from string properties with
 * {@link #fromMap(Map)}, or take {@link #defaults()}. {@link #KEYS} lists the property keys with their
 * types, defaults and documentation.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param segmentBytes a segment rolls before an append would make it larger than this (a single batch
 *     larger than this gets a segment of its own)
 * @param segmentMs a non-empty active segment rolls on the first append this long after its first append
 * @param indexIntervalBytes bytes of batches between two entries of the sparse offset index
 * @param maxIndexBytes capacity of each index file; a segment rolls when an index is full
 * @param durability when appends are forced to disk
 * @param retentionBytes size retention keeps at least this many bytes; -1 turns it off
 * @param retentionMs time retention deletes closed segments whose newest record is older than this; -1
 *     turns it off
 * @param cleanupPolicy whether retention deletes, compaction compacts, or both
 * @param deleteRetentionMs compaction keeps a tombstone until it is older than this
 * @param minCompactionLagMs compaction leaves segments alone until their newest record is this old
 */
public record LogConfig(
        int segmentBytes,
        long segmentMs,
        int indexIntervalBytes,
        int maxIndexBytes,
        DurabilityPolicy durability,
        long retentionBytes,
        long retentionMs,
        CleanupPolicy cleanupPolicy,
        long deleteRetentionMs,
        long minCompactionLagMs) {

    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
    public static final String SEGMENT_INDEX_BYTES = "segment.index.bytes";
    public static final String FLUSH_POLICY = "log.flush.policy";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String RETENTION_MS = "retention.ms";
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String DELETE_RETENTION_MS = "delete.retention.ms";
    public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";

    /** Smallest accepted {@code segment.bytes}: small enough for tests, large enough for a few batches. */
    public static final int MIN_SEGMENT_BYTES = 1024;
    /** Bytes per entry of both index files (see {@code docs/storage.md}). */
    public static final int INDEX_ENTRY_BYTES = 12;
    /** Smallest accepted {@code segment.index.bytes}: room for four entries. */
    public static final int MIN_INDEX_BYTES = 4 * INDEX_ENTRY_BYTES;

    private static final int DEFAULT_SEGMENT_BYTES = 512 * 1024 * 1024;
    private static final long DEFAULT_SEGMENT_MS = Duration.ofDays(7).toMillis();
    private static final int DEFAULT_INDEX_INTERVAL_BYTES = 4096;
    private static final int DEFAULT_MAX_INDEX_BYTES = 10 * 1024 * 1024 - (10 * 1024 * 1024) % INDEX_ENTRY_BYTES;
    private static final long DEFAULT_RETENTION_MS = Duration.ofDays(7).toMillis();
    private static final long DEFAULT_DELETE_RETENTION_MS = Duration.ofDays(1).toMillis();

    /** Every key {@link #fromMap(Map)} accepts, in documentation order. */
    public static final List<ConfigKey> KEYS = List.of(
            new ConfigKey(
                    SEGMENT_BYTES,
                    ConfigKey.Type.INT,
                    Integer.toString(DEFAULT_SEGMENT_BYTES),
                    "Maximum size of a segment file; the active segment rolls before it would grow past it."
                            + " At least " + MIN_SEGMENT_BYTES + ", at most 2147483647."),
            new ConfigKey(
                    SEGMENT_MS,
                    ConfigKey.Type.LONG,
                    Long.toString(DEFAULT_SEGMENT_MS),
                    "The active segment rolls on the first append this many milliseconds after its first"
                            + " append, so that time retention and compaction can reach its data. At least 1."),
            new ConfigKey(
                    INDEX_INTERVAL_BYTES,
                    ConfigKey.Type.INT,
                    Integer.toString(DEFAULT_INDEX_INTERVAL_BYTES),
                    "Bytes of batches between two entries of the sparse offset and time indexes; 0 indexes"
                            + " every batch. Smaller is faster to look up and larger on disk."),
            new ConfigKey(
                    SEGMENT_INDEX_BYTES,
                    ConfigKey.Type.INT,
                    Integer.toString(DEFAULT_MAX_INDEX_BYTES),
                    "Capacity of each index file (12 bytes per entry, rounded down); the segment rolls when"
                            + " an index is full. At least " + MIN_INDEX_BYTES + "."),
            new ConfigKey(
                    FLUSH_POLICY,
                    ConfigKey.Type.ENUM,
                    "grouped",
                    "When appends are fsynced: fsync_per_append (before each append returns), grouped"
                            + " (by flush requests, many appends sharing one fsync on the fsync thread) or"
                            + " none (only on segment roll and close)."),
            new ConfigKey(
                    RETENTION_BYTES,
                    ConfigKey.Type.LONG,
                    "-1",
                    "Size retention: closed segments are deleted, oldest first, while the log stays at"
                            + " least this large. -1 turns it off."),
            new ConfigKey(
                    RETENTION_MS,
                    ConfigKey.Type.LONG,
                    Long.toString(DEFAULT_RETENTION_MS),
                    "Time retention: closed segments whose newest record timestamp is older than this many"
                            + " milliseconds are deleted, oldest first. -1 turns it off."),
            new ConfigKey(
                    CLEANUP_POLICY,
                    ConfigKey.Type.ENUM,
                    "delete",
                    "delete (retention deletes whole segments), compact (keep the latest record per key)"
                            + " or compact,delete (both)."),
            new ConfigKey(
                    DELETE_RETENTION_MS,
                    ConfigKey.Type.LONG,
                    Long.toString(DEFAULT_DELETE_RETENTION_MS),
                    "Compaction keeps a tombstone (null value) until its timestamp is this many"
                            + " milliseconds old, so that consumers reading from the start see the delete."),
            new ConfigKey(
                    MIN_COMPACTION_LAG_MS,
                    ConfigKey.Type.LONG,
                    "0",
                    "Compaction leaves a segment alone until its newest record is at least this many"
                            + " milliseconds old."));

    public LogConfig {
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(cleanupPolicy, "cleanupPolicy");
        require(
                segmentBytes >= MIN_SEGMENT_BYTES,
                SEGMENT_BYTES,
                segmentBytes,
                "must be at least " + MIN_SEGMENT_BYTES);
        require(segmentMs >= 1, SEGMENT_MS, segmentMs, "must be at least 1");
        require(indexIntervalBytes >= 0, INDEX_INTERVAL_BYTES, indexIntervalBytes, "must not be negative");
        require(
                maxIndexBytes >= MIN_INDEX_BYTES,
                SEGMENT_INDEX_BYTES,
                maxIndexBytes,
                "must be at least " + MIN_INDEX_BYTES);
        require(retentionBytes >= -1, RETENTION_BYTES, retentionBytes, "must be -1 (off) or a size");
        require(retentionMs >= -1, RETENTION_MS, retentionMs, "must be -1 (off) or a duration");
        require(deleteRetentionMs >= 0, DELETE_RETENTION_MS, deleteRetentionMs, "must not be negative");
        require(minCompactionLagMs >= 0, MIN_COMPACTION_LAG_MS, minCompactionLagMs, "must not be negative");
        maxIndexBytes -= maxIndexBytes % INDEX_ENTRY_BYTES;
    }

    private static void require(boolean ok, String key, long value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("invalid value " + value + " for " + key + ": " + rule);
        }
    }

    /** Every setting at its default. */
    public static LogConfig defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this config. */
    public Builder toBuilder() {
        return new Builder()
                .segmentBytes(segmentBytes)
                .segmentMs(segmentMs)
                .indexIntervalBytes(indexIntervalBytes)
                .maxIndexBytes(maxIndexBytes)
                .durability(durability)
                .retentionBytes(retentionBytes)
                .retentionMs(retentionMs)
                .cleanupPolicy(cleanupPolicy)
                .deleteRetentionMs(deleteRetentionMs)
                .minCompactionLagMs(minCompactionLagMs);
    }

    /** Capacity of each index, in entries. */
    public int maxIndexEntries() {
        return maxIndexBytes / INDEX_ENTRY_BYTES;
    }

    /**
     * Parses string properties. Keys missing from the map keep their defaults.
     *
     * @throws IllegalArgumentException naming the key when a key is unknown or a value does not parse or
     *     is out of range
     */
    public static LogConfig fromMap(Map<String, String> properties) {
        Map<String, String> values = new HashMap<>();
        for (ConfigKey k : KEYS) {
            values.put(k.key(), k.defaultValue());
        }
        for (Map.Entry<String, String> e : properties.entrySet()) {
            if (!values.containsKey(e.getKey())) {
                throw new IllegalArgumentException("unknown log config key '" + e.getKey() + "' (known keys: "
                        + KEYS.stream().map(ConfigKey::key).collect(Collectors.joining(", ")) + ")");
            }
            values.put(
                    e.getKey(), Objects.requireNonNull(e.getValue(), e.getKey()).trim());
        }
        return new LogConfig(
                parseInt(values, SEGMENT_BYTES),
                parseLong(values, SEGMENT_MS),
                parseInt(values, INDEX_INTERVAL_BYTES),
                parseInt(values, SEGMENT_INDEX_BYTES),
                parseDurability(values.get(FLUSH_POLICY)),
                parseLong(values, RETENTION_BYTES),
                parseLong(values, RETENTION_MS),
                parseCleanupPolicy(values.get(CLEANUP_POLICY)),
                parseLong(values, DELETE_RETENTION_MS),
                parseLong(values, MIN_COMPACTION_LAG_MS));
    }

    /** This config as string properties; {@code fromMap(toMap())} equals this config. */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(SEGMENT_BYTES, Integer.toString(segmentBytes));
        m.put(SEGMENT_MS, Long.toString(segmentMs));
        m.put(INDEX_INTERVAL_BYTES, Integer.toString(indexIntervalBytes));
        m.put(SEGMENT_INDEX_BYTES, Integer.toString(maxIndexBytes));
        m.put(FLUSH_POLICY, durability.name().toLowerCase(Locale.ROOT));
        m.put(RETENTION_BYTES, Long.toString(retentionBytes));
        m.put(RETENTION_MS, Long.toString(retentionMs));
        m.put(
                CLEANUP_POLICY,
                switch (cleanupPolicy) {
                    case DELETE -> "delete";
                    case COMPACT -> "compact";
                    case COMPACT_DELETE -> "compact,delete";
                });
        m.put(DELETE_RETENTION_MS, Long.toString(deleteRetentionMs));
        m.put(MIN_COMPACTION_LAG_MS, Long.toString(minCompactionLagMs));
        return m;
    }

    private static int parseInt(Map<String, String> values, String key) {
        String v = values.get(key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid value '" + v + "' for " + key + ": not a 32-bit integer", e);
        }
    }

    private static long parseLong(Map<String, String> values, String key) {
        String v = values.get(key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid value '" + v + "' for " + key + ": not a 64-bit integer", e);
        }
    }

    private static DurabilityPolicy parseDurability(String v) {
        String norm = v.toUpperCase(Locale.ROOT).replace('-', '_');
        for (DurabilityPolicy p : DurabilityPolicy.values()) {
            if (p.name().equals(norm)) {
                return p;
            }
        }
        throw new IllegalArgumentException(
                "invalid value '" + v + "' for " + FLUSH_POLICY + ": expected fsync_per_append, grouped or none");
    }

    private static CleanupPolicy parseCleanupPolicy(String v) {
        String norm = v.toLowerCase(Locale.ROOT).replace(" ", "");
        return switch (norm) {
            case "delete" -> CleanupPolicy.DELETE;
            case "compact" -> CleanupPolicy.COMPACT;
            case "compact,delete", "delete,compact", "compact_delete" -> CleanupPolicy.COMPACT_DELETE;
            default ->
                throw new IllegalArgumentException("invalid value '" + v + "' for " + CLEANUP_POLICY
                        + ": expected delete, compact or compact,delete");
        };
    }

    /**
     * Builds a {@link LogConfig}; every field starts at its default and {@link #build()} validates.
     *
     * <p>Not thread-safe.
     */
    public static final class Builder {
        private int segmentBytes = DEFAULT_SEGMENT_BYTES;
        private long segmentMs = DEFAULT_SEGMENT_MS;
        private int indexIntervalBytes = DEFAULT_INDEX_INTERVAL_BYTES;
        private int maxIndexBytes = DEFAULT_MAX_INDEX_BYTES;
        private DurabilityPolicy durability = DurabilityPolicy.GROUPED;
        private long retentionBytes = -1;
        private long retentionMs = DEFAULT_RETENTION_MS;
        private CleanupPolicy cleanupPolicy = CleanupPolicy.DELETE;
        private long deleteRetentionMs = DEFAULT_DELETE_RETENTION_MS;
        private long minCompactionLagMs = 0;

        private Builder() {}

        public Builder segmentBytes(int v) {
            segmentBytes = v;
            return this;
        }

        public Builder segmentMs(long v) {
            segmentMs = v;
            return this;
        }

        public Builder indexIntervalBytes(int v) {
            indexIntervalBytes = v;
            return this;
        }

        public Builder maxIndexBytes(int v) {
            maxIndexBytes = v;
            return this;
        }

        public Builder durability(DurabilityPolicy v) {
            durability = v;
            return this;
        }

        public Builder retentionBytes(long v) {
            retentionBytes = v;
            return this;
        }

        public Builder retentionMs(long v) {
            retentionMs = v;
            return this;
        }

        public Builder cleanupPolicy(CleanupPolicy v) {
            cleanupPolicy = v;
            return this;
        }

        public Builder deleteRetentionMs(long v) {
            deleteRetentionMs = v;
            return this;
        }

        public Builder minCompactionLagMs(long v) {
            minCompactionLagMs = v;
            return this;
        }

        /**
         * The validated config.
         *
         * @throws IllegalArgumentException naming the key of the first invalid value
         */
        public LogConfig build() {
            return new LogConfig(
                    segmentBytes,
                    segmentMs,
                    indexIntervalBytes,
                    maxIndexBytes,
                    durability,
                    retentionBytes,
                    retentionMs,
                    cleanupPolicy,
                    deleteRetentionMs,
                    minCompactionLagMs);
        }
    }
}
