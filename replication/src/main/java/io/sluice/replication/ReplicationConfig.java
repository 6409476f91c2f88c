package io.sluice.replication;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The replication layer's configuration for one broker (one {@link RaftHost}): every key with its type, default,
 * valid range and documentation in {@link #KEYS}, parsed once and passed down as this immutable record.
 *
 * <p>Keys are dotted, lower case and end in their unit. Per-partition Raft options ({@link RaftGroupOptions}) default
 * to the values here ({@link #defaultGroupOptions()}). Invariants: every field is within the range its key declares.
 * Immutable and thread-safe.
 *
 * @param dataDir {@value #DATA_DIR}
 * @param host {@value #HOST}
 * @param port {@value #PORT}
 * @param electionTimeoutMs {@value #ELECTION_TIMEOUT_MS}
 * @param snapshotIntervalMs {@value #SNAPSHOT_INTERVAL_MS}
 * @param maxInflightProposals {@value #MAX_INFLIGHT_PROPOSALS}
 * @param disruptorBufferEntries {@value #DISRUPTOR_BUFFER_ENTRIES}
 * @param appendMaxBytes {@value #APPEND_MAX_BYTES}
 * @param snapshotChunkBytes {@value #SNAPSHOT_CHUNK_BYTES}
 * @param shutdownTransferTimeoutMs {@value #SHUTDOWN_TRANSFER_TIMEOUT_MS}
 * @param replicaLagTimeMaxMs {@value #REPLICA_LAG_TIME_MAX_MS}
 * @param heartbeatCoalesceMs {@value #HEARTBEAT_COALESCE_MS}
 * @param electionHeartbeatsCount {@value #ELECTION_HEARTBEATS_COUNT}
 * @param replicatorMaxInflightRequests {@value #REPLICATOR_MAX_INFLIGHT_REQUESTS}
 */
public record ReplicationConfig(
        Path dataDir,
        String host,
        int port,
        int electionTimeoutMs,
        long snapshotIntervalMs,
        int maxInflightProposals,
        int disruptorBufferEntries,
        int appendMaxBytes,
        int snapshotChunkBytes,
        long shutdownTransferTimeoutMs,
        long replicaLagTimeMaxMs,
        long heartbeatCoalesceMs,
        int electionHeartbeatsCount,
        int replicatorMaxInflightRequests) {

    public static final String DATA_DIR = "raft.data.dir";
    public static final String HOST = "raft.host";
    public static final String PORT = "raft.port";
    public static final String ELECTION_TIMEOUT_MS = "raft.election.timeout.ms";
    public static final String SNAPSHOT_INTERVAL_MS = "raft.snapshot.interval.ms";
    public static final String MAX_INFLIGHT_PROPOSALS = "raft.max.inflight.proposals.count";
    public static final String DISRUPTOR_BUFFER_ENTRIES = "raft.disruptor.buffer.entries";
    public static final String APPEND_MAX_BYTES = "raft.append.max.bytes";
    public static final String SNAPSHOT_CHUNK_BYTES = "raft.snapshot.chunk.bytes";
    public static final String SHUTDOWN_TRANSFER_TIMEOUT_MS = "raft.shutdown.transfer.timeout.ms";
    public static final String REPLICA_LAG_TIME_MAX_MS = "raft.replica.lag.time.max.ms";
    public static final String HEARTBEAT_COALESCE_MS = "raft.heartbeat.coalesce.ms";
    public static final String ELECTION_HEARTBEATS_COUNT = "raft.election.heartbeats.count";
    public static final String REPLICATOR_MAX_INFLIGHT_REQUESTS = "raft.replicator.max.inflight.requests.count";

    /** The default of {@value #HEARTBEAT_COALESCE_MS}. */
    public static final long DEFAULT_HEARTBEAT_COALESCE_MS = 25;

    /** The type of a configuration value. */
    public enum Type {
        PATH,
        STRING,
        INT,
        LONG
    }

    /**
     * One configuration key: name, type, default (as text; empty = required), inclusive numeric range and doc.
     *
     * @param name the dotted key
     * @param type the value type
     * @param defaultValue the default as text, or empty when the key is required
     * @param min smallest valid value (numeric keys)
     * @param max largest valid value (numeric keys)
     * @param doc what it does
     */
    public record Key(String name, Type type, String defaultValue, long min, long max, String doc) {}

    /** Every key, in documentation order. */
    public static final List<Key> KEYS = List.of(
            new Key(
                    DATA_DIR,
                    Type.PATH,
                    "",
                    0,
                    0,
                    "Directory holding one sub-directory per hosted partition (`<topic>-<partition>/`: the segment"
                            + " log, Raft metadata and snapshots). Required."),
            new Key(
                    HOST,
                    Type.STRING,
                    "127.0.0.1",
                    0,
                    0,
                    "Address the shared Raft RPC server binds to and advertises; peers reach this broker's replicas"
                            + " at `host:port`."),
            new Key(
                    PORT,
                    Type.INT,
                    "9095",
                    0,
                    65535,
                    "Port of the shared Raft RPC server (all Raft groups of the broker). 0 binds an ephemeral port"
                            + " (tests); `RaftHost.self()` tells which."),
            new Key(
                    ELECTION_TIMEOUT_MS,
                    Type.INT,
                    "3000",
                    100,
                    600_000,
                    "Default Raft election timeout: a follower that hears nothing from its leader for this long (plus"
                            + " a random delay of up to 1 s) starts an election, so a crashed leader is replaced in about"
                            + " 3-5 s; a leader that has not heard from a quorum for 90 % of it steps down. Shorter fails"
                            + " over sooner but turns a stall of a broker (a GC pause, a CPU spike) into elections"
                            + " sooner, and heartbeats (every this / raft.election.heartbeats.count) cost idle CPU in"
                            + " proportion to partitions: with 1,000 partitions on a 2-core machine, 1000 ms let a 1 s"
                            + " stall start election storms, and an idle broker used ~14 % of a core with 2000 ms,"
                            + " ~12 % with 3000 ms (docs/benchmarks.md, \"Scale\")."),
            new Key(
                    SNAPSHOT_INTERVAL_MS,
                    Type.LONG,
                    "300000",
                    0,
                    Integer.MAX_VALUE * 1000L,
                    "Default interval between Raft snapshots of a partition (rounded up to whole seconds; 0"
                            + " disables periodic snapshots). A snapshot is cheap (hard links), and retention can only"
                            + " delete segments below the previous snapshot, so this bounds how late retention runs."),
            new Key(
                    MAX_INFLIGHT_PROPOSALS,
                    Type.INT,
                    "256",
                    1,
                    1 << 20,
                    "Appends a partition leader accepts that are not yet committed (or failed); further appends fail"
                            + " fast with OverloadedException."),
            new Key(
                    DISRUPTOR_BUFFER_ENTRIES,
                    Type.INT,
                    "1024",
                    64,
                    1 << 20,
                    "Size of each of JRaft's per-group ring buffers (power of two). The JRaft default (16384) costs"
                            + " about 10 MB of heap per partition."),
            new Key(
                    APPEND_MAX_BYTES,
                    Type.INT,
                    "1048576",
                    4096,
                    Integer.MAX_VALUE,
                    "Largest AppendEntries request body a leader sends (at least one entry is always sent)."),
            new Key(
                    SNAPSHOT_CHUNK_BYTES,
                    Type.INT,
                    "1048576",
                    4096,
                    64 << 20,
                    "Bytes per file-read request when a follower copies segment files from the leader while"
                            + " installing a snapshot."),
            new Key(
                    SHUTDOWN_TRANSFER_TIMEOUT_MS,
                    Type.LONG,
                    "5000",
                    0,
                    600_000,
                    "How long a graceful RaftHost.close() waits for the leadership of its led partitions to move to"
                            + " other replicas before stopping them anyway."),
            new Key(
                    REPLICA_LAG_TIME_MAX_MS,
                    Type.LONG,
                    "10000",
                    100,
                    3_600_000,
                    "A leader counts a follower as in sync while the follower acknowledged a Raft request within"
                            + " this time and held the leader's whole log at some point within it (as Kafka's"
                            + " replica.lag.time.max.ms). Fewer in-sync replicas than replicas = under-replicated."
                            + " Checked every 500 ms."),
            new Key(
                    HEARTBEAT_COALESCE_MS,
                    Type.LONG,
                    Long.toString(DEFAULT_HEARTBEAT_COALESCE_MS),
                    0,
                    100,
                    "Heartbeats this broker's partition leaders send to one other broker within this window travel in"
                            + " one RPC (each group still gets its own answer); a heartbeat waits at most this long, and"
                            + " never more than a twentieth of its group's election timeout."
                            + " 0 sends each heartbeat on its own. Process-wide; every broker of a cluster must"
                            + " understand coalesced heartbeats (all Sluice versions that have this key do)."),
            new Key(
                    ELECTION_HEARTBEATS_COUNT,
                    Type.INT,
                    "4",
                    2,
                    100,
                    "A partition leader heartbeats each follower every election timeout / this count (750 ms with"
                            + " the default 3000 ms timeout): a follower starts an election after an election timeout"
                            + " plus a random delay of up to 1 s without one, so it has missed at least this many."
                            + " Heartbeats are most of an idle broker's CPU, in proportion to its partitions and their"
                            + " rate (docs/benchmarks.md, \"Scale\"). JRaft's default is 10; etcd's ratio is 10, TiKV's"
                            + " 5, CockroachDB's 3."),
            new Key(
                    REPLICATOR_MAX_INFLIGHT_REQUESTS,
                    Type.INT,
                    "32",
                    1,
                    65536,
                    "AppendEntries requests a partition leader keeps in flight to one follower (the replication"
                            + " pipeline's depth). Each holds up to raft.append.max.bytes until answered, so this"
                            + " bounds the heap a leader spends per follower: 32 MiB with the defaults. JRaft's own"
                            + " default, 256, allowed 256 MiB per follower, and a broker with a 1 GiB heap ran out of memory"
                            + " while sending entries under repeated P3 load."));

    public ReplicationConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException(HOST + " must not be blank");
        }
        check(PORT, port);
        check(ELECTION_TIMEOUT_MS, electionTimeoutMs);
        check(SNAPSHOT_INTERVAL_MS, snapshotIntervalMs);
        check(MAX_INFLIGHT_PROPOSALS, maxInflightProposals);
        check(DISRUPTOR_BUFFER_ENTRIES, disruptorBufferEntries);
        if (Integer.bitCount(disruptorBufferEntries) != 1) {
            throw new IllegalArgumentException(
                    DISRUPTOR_BUFFER_ENTRIES + " must be a power of two: " + disruptorBufferEntries);
        }
        check(APPEND_MAX_BYTES, appendMaxBytes);
        check(SNAPSHOT_CHUNK_BYTES, snapshotChunkBytes);
        check(SHUTDOWN_TRANSFER_TIMEOUT_MS, shutdownTransferTimeoutMs);
        check(REPLICA_LAG_TIME_MAX_MS, replicaLagTimeMaxMs);
        check(HEARTBEAT_COALESCE_MS, heartbeatCoalesceMs);
        check(ELECTION_HEARTBEATS_COUNT, electionHeartbeatsCount);
        check(REPLICATOR_MAX_INFLIGHT_REQUESTS, replicatorMaxInflightRequests);
    }

    /** The defaults, with the given data directory. */
    public static ReplicationConfig defaults(Path dataDir) {
        Map<String, String> props = new HashMap<>();
        props.put(DATA_DIR, dataDir.toString());
        return fromProperties(props);
    }

    /**
     * Parses the {@code raft.*} keys of {@code props}; absent keys take their defaults, other keys are ignored.
     *
     * @throws IllegalArgumentException on an unknown {@code raft.*} key, a missing required key, or an invalid value
     */
    public static ReplicationConfig fromProperties(Map<String, String> props) {
        for (String name : props.keySet()) {
            if (name.startsWith("raft.")
                    && KEYS.stream().noneMatch(k -> k.name().equals(name))) {
                throw new IllegalArgumentException("unknown configuration key: " + name);
            }
        }
        return new ReplicationConfig(
                Path.of(value(props, DATA_DIR)),
                value(props, HOST),
                (int) number(props, PORT),
                (int) number(props, ELECTION_TIMEOUT_MS),
                number(props, SNAPSHOT_INTERVAL_MS),
                (int) number(props, MAX_INFLIGHT_PROPOSALS),
                (int) number(props, DISRUPTOR_BUFFER_ENTRIES),
                (int) number(props, APPEND_MAX_BYTES),
                (int) number(props, SNAPSHOT_CHUNK_BYTES),
                number(props, SHUTDOWN_TRANSFER_TIMEOUT_MS),
                number(props, REPLICA_LAG_TIME_MAX_MS),
                number(props, HEARTBEAT_COALESCE_MS),
                (int) number(props, ELECTION_HEARTBEATS_COUNT),
                (int) number(props, REPLICATOR_MAX_INFLIGHT_REQUESTS));
    }

    /** Every key with its value, as text, in {@link #KEYS} order; {@code fromProperties(toProperties())} is equal. */
    public Map<String, String> toProperties() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(DATA_DIR, dataDir.toString());
        out.put(HOST, host);
        out.put(PORT, Integer.toString(port));
        out.put(ELECTION_TIMEOUT_MS, Integer.toString(electionTimeoutMs));
        out.put(SNAPSHOT_INTERVAL_MS, Long.toString(snapshotIntervalMs));
        out.put(MAX_INFLIGHT_PROPOSALS, Integer.toString(maxInflightProposals));
        out.put(DISRUPTOR_BUFFER_ENTRIES, Integer.toString(disruptorBufferEntries));
        out.put(APPEND_MAX_BYTES, Integer.toString(appendMaxBytes));
        out.put(SNAPSHOT_CHUNK_BYTES, Integer.toString(snapshotChunkBytes));
        out.put(SHUTDOWN_TRANSFER_TIMEOUT_MS, Long.toString(shutdownTransferTimeoutMs));
        out.put(REPLICA_LAG_TIME_MAX_MS, Long.toString(replicaLagTimeMaxMs));
        out.put(HEARTBEAT_COALESCE_MS, Long.toString(heartbeatCoalesceMs));
        out.put(ELECTION_HEARTBEATS_COUNT, Integer.toString(electionHeartbeatsCount));
        out.put(REPLICATOR_MAX_INFLIGHT_REQUESTS, Integer.toString(replicatorMaxInflightRequests));
        return out;
    }

    /** A copy with one key changed (parsed and validated like {@link #fromProperties}). */
    public ReplicationConfig with(String key, String value) {
        Map<String, String> props = toProperties();
        if (!props.containsKey(key)) {
            throw new IllegalArgumentException("unknown configuration key: " + key);
        }
        props.put(key, value);
        return fromProperties(props);
    }

    /** A copy with another port ({@code 0} = ephemeral). */
    public ReplicationConfig withPort(int newPort) {
        return with(PORT, Integer.toString(newPort));
    }

    /** The Raft options a partition gets unless its {@link PartitionSpec} says otherwise. */
    public RaftGroupOptions defaultGroupOptions() {
        return new RaftGroupOptions(electionTimeoutMs, snapshotIntervalMs);
    }

    /** The reference documentation of every key, as a Markdown table. */
    public static String referenceDoc() {
        StringBuilder sb = new StringBuilder("| key | type | default | range | description |\n|---|---|---|---|---|\n");
        for (Key k : KEYS) {
            String range = k.type() == Type.INT || k.type() == Type.LONG ? "[" + k.min() + ", " + k.max() + "]" : "";
            sb.append("| `")
                    .append(k.name())
                    .append("` | ")
                    .append(k.type().name().toLowerCase(java.util.Locale.ROOT))
                    .append(" | ")
                    .append(k.defaultValue().isEmpty() ? "(required)" : "`" + k.defaultValue() + "`")
                    .append(" | ")
                    .append(range)
                    .append(" | ")
                    .append(k.doc())
                    .append(" |\n");
        }
        return sb.toString();
    }

    private static Key key(String name) {
        return KEYS.stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
    }

    private static String value(Map<String, String> props, String name) {
        String v = props.getOrDefault(name, key(name).defaultValue()).trim();
        if (v.isEmpty()) {
            throw new IllegalArgumentException("missing required configuration key: " + name);
        }
        return v;
    }

    private static long number(Map<String, String> props, String name) {
        String v = value(props, name);
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " is not a number: '" + v + "'", e);
        }
        check(name, n);
        return n;
    }

    private static void check(String name, long n) {
        Key k = key(name);
        if (n < k.min() || n > k.max()) {
            throw new IllegalArgumentException(name + " = " + n + " is outside [" + k.min() + ", " + k.max() + "]");
        }
    }
}
