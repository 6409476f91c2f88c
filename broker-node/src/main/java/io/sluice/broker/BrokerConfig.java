package io.sluice.broker;

import io.sluice.logstore.ConfigKey;
import io.sluice.logstore.LogConfig;
import io.sluice.replication.ReplicationConfig;
import io.sluice.replication.node.ReplicationNodeConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The broker's configuration: every key it accepts (with type, default, validator and documentation, in {@link
 * #KEYS}) and the resolved values. Sources, lowest to highest precedence: defaults, the {@code --config} properties
 * file, {@code SLUICE_*} environment variables ({@code SLUICE_GRPC_PORT} sets {@code grpc.port}; variables that name no
 * key are ignored, since other tools share the prefix), and {@code --set key=value} flags. The log-store keys are
 * accepted with a {@code log.} prefix (e.g. {@code log.segment.bytes}) and are the defaults of every topic.
 *
 * <p>Invariant: every value in a {@code BrokerConfig} has passed its key's validator and the cross-key checks.
 * Immutable and thread-safe.
 */
public final class BrokerConfig {

    /** How a value is written; each type parses and checks its own syntax. */
    public enum Type {
        INT,
        LONG,
        STRING,
        ENUM
    }

    /**
     * One configuration key.
     *
     * @param name dotted lower-case name, ending in its unit where it has one
     * @param type value syntax
     * @param defaultValue the default; empty when the key is required
     * @param validator checks a parsed value, returning an error reason when it is invalid
     * @param doc one or two sentences for operators
     * @param group section of the reference documentation
     */
    public record Key(
            String name,
            Type type,
            Optional<String> defaultValue,
            Function<String, Optional<String>> validator,
            String doc,
            String group) {}

    public static final String BROKER_ID = "broker.id";
    public static final String BROKER_HOST = "broker.host";
    public static final String BROKER_RACK = "broker.rack";
    public static final String GRPC_PORT = "grpc.port";
    public static final String RAFT_PORT = ReplicationConfig.PORT;
    public static final String HTTP_PORT = "http.port";
    public static final String DATA_DIR = "data.dir";
    public static final String CONTROLLER_VOTERS = "controller.voters";
    public static final String PRODUCE_MAX_BATCH_BYTES = "produce.max.batch.bytes";
    public static final String MESSAGE_MAX_BYTES = "message.max.bytes";
    public static final String PRODUCE_MAX_INFLIGHT = "produce.max.inflight.per.stream";
    public static final String PRODUCE_TIMEOUT_MS = "produce.timeout.ms";
    public static final String FETCH_MAX_BYTES = "fetch.max.bytes";
    public static final String FETCH_MAX_BUFFERED_BYTES = "fetch.max.buffered.bytes.per.stream";
    public static final String TOPIC_MAX_PARTITIONS = "topic.max.partitions";
    public static final String TOPIC_DEFAULT_PARTITIONS = "topic.default.partitions";
    public static final String TOPIC_DEFAULT_RF = "topic.default.replication.factor";
    public static final String REQUEST_THREADS = "request.threads";
    public static final String SHUTDOWN_TIMEOUT_MS = "shutdown.timeout.ms";
    public static final String JIT_COMPILER_NICE = "jit.compiler.nice";
    public static final String OFFSETS_TOPIC_PARTITIONS = "offsets.topic.partitions";
    public static final String OFFSETS_TOPIC_RF = "offsets.topic.replication.factor";
    public static final String GROUP_HEARTBEAT_INTERVAL_MS = "group.heartbeat.interval.ms";
    public static final String GROUP_SESSION_TIMEOUT_MS = "group.session.timeout.ms";
    public static final String GROUP_MIN_SESSION_TIMEOUT_MS = "group.min.session.timeout.ms";
    public static final String GROUP_MAX_SESSION_TIMEOUT_MS = "group.max.session.timeout.ms";
    public static final String GROUP_REBALANCE_TIMEOUT_MS = "group.rebalance.timeout.ms";
    public static final String OFFSETS_RETENTION_MS = "offsets.retention.ms";
    public static final String OFFSETS_RETENTION_CHECK_INTERVAL_MS = "offsets.retention.check.interval.ms";
    public static final String METRICS_ENABLED = "metrics.enabled";

    /** Replication keys the broker derives from its own ({@code raft.host} = broker.host, {@code raft.data.dir} = data.dir/raft). */
    private static final java.util.Set<String> DERIVED =
            java.util.Set.of(ReplicationConfig.HOST, ReplicationConfig.DATA_DIR);

    /** Prefix under which the log-store keys are broker-wide topic defaults. */
    public static final String LOG_PREFIX = "log.";

    private static final int MIB = 1024 * 1024;

    /** Every key, in documentation order. */
    public static final List<Key> KEYS = buildKeys();

    private static final Map<String, Key> BY_NAME =
            KEYS.stream().collect(Collectors.toMap(Key::name, k -> k, (a, b) -> a, LinkedHashMap::new));

    private final Map<String, String> values;

    private BrokerConfig(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    private static List<Key> buildKeys() {
        List<Key> k = new ArrayList<>();
        String node = "Node";
        k.add(new Key(
                BROKER_ID,
                Type.INT,
                Optional.empty(),
                atLeast(0),
                "Unique id of this broker in the cluster, >= 0. Required; never change it for existing data.",
                node));
        k.add(key(
                BROKER_HOST,
                Type.STRING,
                "127.0.0.1",
                nonEmpty(),
                "Address every server of this broker binds to and advertises to clients and peers.",
                node));
        k.add(key(
                BROKER_RACK,
                Type.STRING,
                "",
                s -> Optional.empty(),
                "Rack label used to spread replicas; empty for none.",
                node));
        k.add(key(
                GRPC_PORT,
                Type.INT,
                "7070",
                port(),
                "Port of the client gRPC API. 0 picks a free port (tests).",
                node));
        k.add(key(
                HTTP_PORT,
                Type.INT,
                "7270",
                port(),
                "Port of the HTTP endpoints: GET /health/live and /health/ready (200 once registered with the"
                        + " controller and serving, else 503) and GET /metrics (Prometheus); 0 picks a free port."
                        + " Advertised in the metadata.",
                node));
        k.add(key(
                DATA_DIR,
                Type.STRING,
                "./data",
                nonEmpty(),
                "Directory holding this broker's partition logs and Raft metadata; created if missing.",
                node));
        k.add(key(
                CONTROLLER_VOTERS,
                Type.STRING,
                "",
                BrokerConfig::checkVoters,
                "The metadata controller's Raft voters as id@host:raftport, comma-separated (e.g."
                        + " 1@127.0.0.1:7170,2@127.0.0.1:7171,3@127.0.0.1:7172). Empty: this broker alone.",
                node));
        String limits = "Limits";
        k.add(key(
                PRODUCE_MAX_BATCH_BYTES,
                Type.INT,
                Integer.toString(MIB),
                atLeast(128),
                "Largest record batch a produce request may carry; larger batches fail with BATCH_TOO_LARGE (or"
                        + " RECORD_TOO_LARGE for a single record).",
                limits));
        k.add(key(
                MESSAGE_MAX_BYTES,
                Type.INT,
                Integer.toString(2 * MIB),
                atLeast(1024),
                "Largest gRPC message the broker reads (envelope included); larger messages fail the call with"
                        + " RESOURCE_EXHAUSTED. Must be at least produce.max.batch.bytes + 1024.",
                limits));
        k.add(key(
                PRODUCE_MAX_INFLIGHT,
                Type.INT,
                "64",
                atLeast(1),
                "Produce requests admitted per stream before the broker stops reading it (gRPC inbound flow"
                        + " control) until responses are sent.",
                limits));
        k.add(key(
                PRODUCE_TIMEOUT_MS,
                Type.INT,
                "30000",
                atLeast(1),
                "How long a produce request waits for its acknowledgement when the request sets no timeout_ms.",
                limits));
        k.add(key(
                FETCH_MAX_BYTES,
                Type.INT,
                Integer.toString(MIB),
                atLeast(1024),
                "Upper bound on the record bytes of one fetch response (a single larger batch is still sent"
                        + " alone). Clients ask for less or more per stream (256 KiB when they do not say); the"
                        + " broker lowers larger asks to this, and reads larger responses 256 KiB at a time.",
                limits));
        k.add(key(
                FETCH_MAX_BUFFERED_BYTES,
                Type.INT,
                Integer.toString(4 * MIB),
                atLeast(1024),
                "Bytes a fetch stream may have queued for a client that is not reading before the broker stops"
                        + " sending to it (gRPC onReady threshold), plus at most one response.",
                limits));
        k.add(key(
                TOPIC_MAX_PARTITIONS,
                Type.INT,
                "256",
                atLeast(1),
                "Most partitions a topic may have; more fail with INVALID_PARTITION_COUNT.",
                limits));
        k.add(key(
                TOPIC_DEFAULT_PARTITIONS,
                Type.INT,
                "1",
                atLeast(1),
                "Partitions of a topic created without a partition count.",
                limits));
        k.add(key(
                TOPIC_DEFAULT_RF,
                Type.INT,
                "3",
                atLeast(1),
                "Replication factor of a topic created without one, lowered to the number of live brokers.",
                limits));
        k.add(key(
                REQUEST_THREADS,
                Type.INT,
                "8",
                atLeast(1),
                "Threads running request handlers and fetch reads (never the network event loop).",
                limits));
        k.add(key(
                SHUTDOWN_TIMEOUT_MS,
                Type.INT,
                "10000",
                atLeast(0),
                "On SIGTERM, how long to wait for in-flight calls after leadership was handed over.",
                limits));
        k.add(key(
                JIT_COMPILER_NICE,
                Type.INT,
                "10",
                range(0, 19),
                "Nice value (Linux) the broker process gives the JVM's JIT compiler threads at start, so that on a"
                        + " busy machine request, Raft and disk threads get the CPU before compilation does; 0 leaves"
                        + " them alone. See docs/operations.md, \"JVM options\".",
                limits));
        String groups = "Consumer groups";
        k.add(key(
                OFFSETS_TOPIC_PARTITIONS,
                Type.INT,
                "16",
                range(1, 1000),
                "Partitions of the internal topic __offsets (committed offsets of consumer groups; a group's"
                        + " coordinator is the leader of the partition its id hashes to). Used when the topic is created,"
                        + " at the first group lookup; changing it later has no effect on the existing topic.",
                groups));
        k.add(key(
                OFFSETS_TOPIC_RF,
                Type.INT,
                "3",
                atLeast(1),
                "Replication factor of __offsets, lowered to the number of brokers (the registered ones, and at least the"
                        + " controller voters); the topic is created (at the first group lookup) once that many brokers"
                        + " are alive.",
                groups));
        k.add(key(
                GROUP_HEARTBEAT_INTERVAL_MS,
                Type.INT,
                "1000",
                atLeast(1),
                "Interval group members are told to heartbeat at. Also bounds how long a partition released by one"
                        + " member waits before the next member picks it up. Must be below group.min.session.timeout.ms.",
                groups));
        k.add(key(
                GROUP_SESSION_TIMEOUT_MS,
                Type.INT,
                "10000",
                atLeast(1),
                "Session timeout of a member that asks for none: a member silent for this long is removed and its"
                        + " partitions are reassigned.",
                groups));
        k.add(key(
                GROUP_MIN_SESSION_TIMEOUT_MS,
                Type.INT,
                "2000",
                atLeast(1),
                "Smallest session timeout a member may ask for (else INVALID_REQUEST).",
                groups));
        k.add(key(
                GROUP_MAX_SESSION_TIMEOUT_MS,
                Type.INT,
                "300000",
                atLeast(1),
                "Largest session timeout a member may ask for (else INVALID_REQUEST).",
                groups));
        k.add(key(
                GROUP_REBALANCE_TIMEOUT_MS,
                Type.INT,
                "60000",
                atLeast(1),
                "Rebalance timeout of a member that asks for none: a member that still owns a revoked partition this"
                        + " long after the revocation is removed from the group.",
                groups));
        k.add(key(
                OFFSETS_RETENTION_MS,
                Type.LONG,
                Long.toString(7L * 24 * 3600 * 1000),
                atLeast(1),
                "A group without members whose last commit (and the moment it became empty) is older than this is"
                        + " deleted with its committed offsets. Default 7 days.",
                groups));
        k.add(key(
                OFFSETS_RETENTION_CHECK_INTERVAL_MS,
                Type.LONG,
                "600000",
                atLeast(1),
                "How often each coordinator looks for expired groups.",
                groups));
        k.add(key(
                METRICS_ENABLED,
                Type.ENUM,
                "true",
                v -> v.equals("true") || v.equals("false") ? Optional.empty() : Optional.of("must be true or false"),
                "Serve GET /metrics on http.port (Prometheus text; see docs/metrics.md) and record the metrics."
                        + " false: no registry, nothing recorded, /metrics answers 404.",
                "Metrics"));
        java.util.Set<String> own = new java.util.HashSet<>();
        k.forEach(x -> own.add(x.name()));
        for (ReplicationNodeConfig.Key nk : ReplicationNodeConfig.KEYS) {
            if (!own.contains(nk.name())) {
                boolean numeric = nk.max() > 0;
                k.add(key(
                        nk.name(),
                        numeric ? Type.LONG : Type.STRING,
                        nk.defaultValue(),
                        numeric ? range(nk.min(), nk.max()) : s -> Optional.empty(),
                        nk.doc(),
                        "Controller and replicas"));
            }
        }
        for (ReplicationConfig.Key rk : ReplicationConfig.KEYS) {
            if (DERIVED.contains(rk.name())) {
                continue;
            }
            boolean numeric = rk.type() != ReplicationConfig.Type.STRING && rk.max() > rk.min();
            k.add(key(
                    rk.name(),
                    numeric ? Type.LONG : Type.STRING,
                    rk.name().equals(ReplicationConfig.PORT) ? "7170" : rk.defaultValue(),
                    numeric ? range(rk.min(), rk.max()) : s -> Optional.empty(),
                    rk.doc(),
                    "Raft"));
        }
        for (ConfigKey lk : LogConfig.KEYS) {
            String name = lk.key().startsWith(LOG_PREFIX) ? lk.key() : LOG_PREFIX + lk.key();
            Type type =
                    switch (lk.type()) {
                        case INT -> Type.INT;
                        case LONG -> Type.LONG;
                        case ENUM -> Type.ENUM;
                    };
            k.add(key(
                    name,
                    type,
                    lk.defaultValue(),
                    v -> checkLog(lk.key(), v),
                    lk.doc() + " Topic-level key: " + lk.key() + ".",
                    "Log (topic defaults)"));
        }
        return List.copyOf(k);
    }

    private static Key key(
            String name,
            Type type,
            String def,
            Function<String, Optional<String>> validator,
            String doc,
            String group) {
        return new Key(name, type, Optional.of(def), validator, doc, group);
    }

    private static Function<String, Optional<String>> atLeast(long min) {
        return v -> Long.parseLong(v) >= min ? Optional.empty() : Optional.of("must be >= " + min);
    }

    private static Function<String, Optional<String>> range(long min, long max) {
        return v -> {
            long n = Long.parseLong(v);
            return n >= min && n <= max ? Optional.empty() : Optional.of("must be in [" + min + ", " + max + "]");
        };
    }

    private static Function<String, Optional<String>> port() {
        return v -> {
            int p = Integer.parseInt(v);
            return p >= 0 && p <= 65535 ? Optional.empty() : Optional.of("must be a port in [0, 65535]");
        };
    }

    private static Function<String, Optional<String>> nonEmpty() {
        return v -> v.isEmpty() ? Optional.of("must not be empty") : Optional.empty();
    }

    private static Optional<String> checkLog(String logKey, String value) {
        try {
            LogConfig.fromMap(Map.of(logKey, value));
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    private static Optional<String> checkVoters(String value) {
        try {
            parseVoters(value);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** A controller voter: broker id and Raft address. */
    public record Voter(int id, String host, int raftPort) {
        @Override
        public String toString() {
            return id + "@" + host + ":" + raftPort;
        }
    }

    static List<Voter> parseVoters(String value) {
        List<Voter> out = new ArrayList<>();
        if (value.isBlank()) {
            return out;
        }
        for (String part : value.split(",")) {
            String p = part.trim();
            int at = p.indexOf('@');
            int colon = p.lastIndexOf(':');
            if (at <= 0 || colon <= at + 1 || colon == p.length() - 1) {
                throw new IllegalArgumentException("voter '" + p + "' is not id@host:port");
            }
            try {
                int id = Integer.parseInt(p.substring(0, at));
                int port = Integer.parseInt(p.substring(colon + 1));
                if (id < 0 || port < 1 || port > 65535) {
                    throw new IllegalArgumentException("voter '" + p + "' has an id < 0 or a bad port");
                }
                out.add(new Voter(id, p.substring(at + 1, colon), port));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("voter '" + p + "' is not id@host:port");
            }
        }
        return out;
    }

    /** The key named {@code name}, if any. */
    public static Optional<Key> key(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** The environment variable that sets {@code key}: {@code grpc.port} → {@code SLUICE_GRPC_PORT}. */
    public static String envName(String key) {
        return "SLUICE_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    /**
     * Resolves and validates a configuration from its sources.
     *
     * @param file the {@code --config} file's properties, if any
     * @param env the process environment (only {@code SLUICE_*} variables naming a key are used)
     * @param overrides the {@code --set} flags, in order
     * @throws ConfigException naming the first bad key and its source
     */
    public static BrokerConfig resolve(
            Map<String, String> file, Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> merged = new LinkedHashMap<>();
        Map<String, String> source = new LinkedHashMap<>();
        for (Key k : KEYS) {
            k.defaultValue().ifPresent(d -> {
                merged.put(k.name(), d);
                source.put(k.name(), "default");
            });
        }
        put(merged, source, file, "the config file");
        for (Key k : KEYS) {
            String v = env.get(envName(k.name()));
            if (v != null) {
                merged.put(k.name(), v.trim());
                source.put(k.name(), "environment variable " + envName(k.name()));
            }
        }
        put(merged, source, overrides, "--set");
        for (Key k : KEYS) {
            String v = merged.get(k.name());
            if (v == null) {
                throw new ConfigException("missing required config key '" + k.name() + "' (set it in the config file,"
                        + " with --set " + k.name() + "=VALUE or " + envName(k.name()) + ")");
            }
            Optional<String> problem = check(k, v);
            if (problem.isPresent()) {
                throw new ConfigException("invalid value '" + v + "' for config key '" + k.name() + "' (from "
                        + source.get(k.name()) + "): " + problem.get());
            }
        }
        BrokerConfig c = new BrokerConfig(merged);
        try {
            c.replicationNodeConfig();
        } catch (IllegalArgumentException e) {
            throw new ConfigException("invalid configuration: " + e.getMessage());
        }
        try {
            c.groupConfig();
        } catch (IllegalArgumentException e) {
            throw new ConfigException("invalid consumer group configuration: " + e.getMessage());
        }
        if (c.messageMaxBytes() < (long) c.produceMaxBatchBytes() + 1024) {
            throw new ConfigException("config key '" + MESSAGE_MAX_BYTES + "' (" + c.messageMaxBytes()
                    + ") must be at least produce.max.batch.bytes + 1024 (" + (c.produceMaxBatchBytes() + 1024L) + ")");
        }
        return c;
    }

    private static void put(
            Map<String, String> merged, Map<String, String> source, Map<String, String> from, String where) {
        for (Map.Entry<String, String> e : from.entrySet()) {
            String name = e.getKey().trim();
            if (!BY_NAME.containsKey(name)) {
                throw new ConfigException(
                        "unknown config key '" + name + "' (from " + where + "); see docs/config.md for the keys");
            }
            merged.put(name, e.getValue().trim());
            source.put(name, where);
        }
    }

    private static Optional<String> check(Key k, String v) {
        try {
            switch (k.type()) {
                case INT -> Integer.parseInt(v);
                case LONG -> Long.parseLong(v);
                default -> {}
            }
        } catch (NumberFormatException e) {
            return Optional.of("not a " + (k.type() == Type.INT ? "32-bit" : "64-bit") + " integer");
        }
        return k.validator().apply(v);
    }

    /** Reads a properties file. */
    public static Map<String, String> readFile(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : p.stringPropertyNames()) {
            out.put(name, p.getProperty(name));
        }
        return out;
    }

    /** Values of all keys, sorted by key. */
    public Map<String, String> values() {
        return values;
    }

    public String get(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("unknown config key " + key);
        }
        return v;
    }

    public int getInt(String key) {
        return Integer.parseInt(get(key));
    }

    /** The group coordinator's settings (the {@code group.*} and {@code offsets.retention.*} keys). */
    public io.sluice.broker.internal.group.GroupConfig groupConfig() {
        return new io.sluice.broker.internal.group.GroupConfig(
                getInt(GROUP_HEARTBEAT_INTERVAL_MS),
                getInt(GROUP_SESSION_TIMEOUT_MS),
                getInt(GROUP_MIN_SESSION_TIMEOUT_MS),
                getInt(GROUP_MAX_SESSION_TIMEOUT_MS),
                getInt(GROUP_REBALANCE_TIMEOUT_MS),
                Long.parseLong(get(OFFSETS_RETENTION_MS)),
                Long.parseLong(get(OFFSETS_RETENTION_CHECK_INTERVAL_MS)));
    }

    public int brokerId() {
        return getInt(BROKER_ID);
    }

    public String host() {
        return get(BROKER_HOST);
    }

    public Optional<String> rack() {
        String r = get(BROKER_RACK);
        return r.isEmpty() ? Optional.empty() : Optional.of(r);
    }

    public int grpcPort() {
        return getInt(GRPC_PORT);
    }

    public int raftPort() {
        return getInt(RAFT_PORT);
    }

    public int httpPort() {
        return getInt(HTTP_PORT);
    }

    public Path dataDir() {
        return Path.of(get(DATA_DIR));
    }

    /** The controller voters; empty means this broker alone. */
    public List<Voter> controllerVoters() {
        return parseVoters(get(CONTROLLER_VOTERS));
    }

    public int produceMaxBatchBytes() {
        return getInt(PRODUCE_MAX_BATCH_BYTES);
    }

    public int messageMaxBytes() {
        return getInt(MESSAGE_MAX_BYTES);
    }

    public int produceMaxInflightPerStream() {
        return getInt(PRODUCE_MAX_INFLIGHT);
    }

    public int produceTimeoutMs() {
        return getInt(PRODUCE_TIMEOUT_MS);
    }

    public int fetchMaxBytes() {
        return getInt(FETCH_MAX_BYTES);
    }

    public int fetchMaxBufferedBytesPerStream() {
        return getInt(FETCH_MAX_BUFFERED_BYTES);
    }

    public int topicMaxPartitions() {
        return getInt(TOPIC_MAX_PARTITIONS);
    }

    public int topicDefaultPartitions() {
        return getInt(TOPIC_DEFAULT_PARTITIONS);
    }

    public int topicDefaultReplicationFactor() {
        return getInt(TOPIC_DEFAULT_RF);
    }

    public int requestThreads() {
        return getInt(REQUEST_THREADS);
    }

    public int shutdownTimeoutMs() {
        return getInt(SHUTDOWN_TIMEOUT_MS);
    }

    public int jitCompilerNice() {
        return getInt(JIT_COMPILER_NICE);
    }

    public int offsetsTopicPartitions() {
        return getInt(OFFSETS_TOPIC_PARTITIONS);
    }

    public int offsetsTopicReplicationFactor() {
        return getInt(OFFSETS_TOPIC_RF);
    }

    public boolean metricsEnabled() {
        return Boolean.parseBoolean(get(METRICS_ENABLED));
    }

    /** The Raft host configuration: raft.* keys, with raft.host = broker.host and raft.data.dir = data.dir/raft. */
    public ReplicationConfig replicationConfig() {
        Map<String, String> m = new LinkedHashMap<>();
        values.forEach((key, v) -> {
            if (key.startsWith("raft.")) {
                m.put(key, v);
            }
        });
        m.put(ReplicationConfig.HOST, host());
        m.put(ReplicationConfig.DATA_DIR, dataDir().resolve("raft").toString());
        return ReplicationConfig.fromProperties(m);
    }

    /** The replication node configuration; an empty controller.voters means this broker alone. */
    public ReplicationNodeConfig replicationNodeConfig() {
        Map<String, String> m = new LinkedHashMap<>(values);
        if (get(CONTROLLER_VOTERS).isBlank()) {
            m.put(CONTROLLER_VOTERS, brokerId() + "@" + host() + ":" + raftPort());
        }
        return ReplicationNodeConfig.fromProperties(m, replicationConfig(), logDefaults());
    }

    /** The broker-wide topic defaults for the log store. */
    public LogConfig logDefaults() {
        Map<String, String> m = new LinkedHashMap<>();
        for (ConfigKey lk : LogConfig.KEYS) {
            String name = lk.key().startsWith(LOG_PREFIX) ? lk.key() : LOG_PREFIX + lk.key();
            m.put(lk.key(), get(name));
        }
        return LogConfig.fromMap(m);
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
