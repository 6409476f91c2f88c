package io.sluice.replication.node;

import io.sluice.logstore.LogConfig;
import io.sluice.replication.ReplicationConfig;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Configuration of one broker's {@link ReplicationNode}: the broker's identity and advertised ports, the Raft host
 * ({@link ReplicationConfig}, keys {@code raft.*}), the defaults of partition logs ({@link LogConfig}; topic configs
 * override them per topic), and the metadata controller keys listed in {@link #KEYS}.
 *
 * <p>Invariants: {@code brokerId >= 0}; at least one controller voter; if this broker is a voter, its configured
 * endpoint is {@code replication.host():replication.port()} (so a voter cannot use an ephemeral port); {@code
 * heartbeatIntervalMs < sessionTimeoutMs}. Immutable and thread-safe.
 *
 * @param brokerId {@value #BROKER_ID}
 * @param rack {@value #BROKER_RACK}
 * @param grpcPort {@value #GRPC_PORT}
 * @param httpPort {@value #HTTP_PORT}
 * @param replication the Raft host configuration ({@code raft.*} keys)
 * @param defaultLogConfig log settings of partitions whose topic does not override them
 * @param controllerVoters {@value #CONTROLLER_VOTERS}, parsed: broker id → {@code host:port}
 * @param controllerElectionTimeoutMs {@value #CONTROLLER_ELECTION_TIMEOUT_MS}
 * @param heartbeatIntervalMs {@value #HEARTBEAT_INTERVAL_MS}
 * @param sessionTimeoutMs {@value #SESSION_TIMEOUT_MS}
 * @param requestTimeoutMs {@value #REQUEST_TIMEOUT_MS}
 * @param controllerSnapshotIntervalMs {@value #CONTROLLER_SNAPSHOT_INTERVAL_MS}
 * @param reconcileIntervalMs {@value #RECONCILE_INTERVAL_MS}
 * @param leaderRebalanceIntervalMs {@value #LEADER_REBALANCE_INTERVAL_MS}
 */
public record ReplicationNodeConfig(
        int brokerId,
        Optional<String> rack,
        int grpcPort,
        int httpPort,
        ReplicationConfig replication,
        LogConfig defaultLogConfig,
        Map<Integer, String> controllerVoters,
        int controllerElectionTimeoutMs,
        int heartbeatIntervalMs,
        int sessionTimeoutMs,
        int requestTimeoutMs,
        long controllerSnapshotIntervalMs,
        long reconcileIntervalMs,
        long leaderRebalanceIntervalMs) {

    public static final String BROKER_ID = "broker.id";
    public static final String BROKER_RACK = "broker.rack";
    public static final String GRPC_PORT = "grpc.port";
    public static final String HTTP_PORT = "http.port";
    public static final String CONTROLLER_VOTERS = "controller.voters";
    public static final String CONTROLLER_ELECTION_TIMEOUT_MS = "controller.election.timeout.ms";
    public static final String HEARTBEAT_INTERVAL_MS = "controller.heartbeat.interval.ms";
    public static final String SESSION_TIMEOUT_MS = "controller.session.timeout.ms";
    public static final String REQUEST_TIMEOUT_MS = "controller.request.timeout.ms";
    public static final String CONTROLLER_SNAPSHOT_INTERVAL_MS = "controller.snapshot.interval.ms";
    public static final String RECONCILE_INTERVAL_MS = "replica.reconcile.interval.ms";
    public static final String LEADER_REBALANCE_INTERVAL_MS = "leader.rebalance.interval.ms";

    /**
     * One key: name, default as text (empty = required or "none"), inclusive range for numbers, and documentation.
     *
     * @param name the dotted key
     * @param defaultValue the default, as text
     * @param min smallest valid value (numeric keys)
     * @param max largest valid value (numeric keys)
     * @param doc what it does
     */
    public record Key(String name, String defaultValue, long min, long max, String doc) {}

    /** The keys this record parses (the {@code raft.*} keys are {@link ReplicationConfig#KEYS}). */
    public static final List<Key> KEYS = List.of(
            new Key(BROKER_ID, "", 0, Integer.MAX_VALUE, "This broker's id, unique in the cluster. Required."),
            new Key(
                    BROKER_RACK,
                    "",
                    0,
                    0,
                    "Rack (or zone) of this broker; replicas of a partition go to distinct racks when possible."
                            + " Empty: none."),
            new Key(GRPC_PORT, "0", 0, 65535, "Client API port, advertised in the broker registration."),
            new Key(HTTP_PORT, "0", 0, 65535, "Metrics/health port, advertised in the broker registration."),
            new Key(
                    CONTROLLER_VOTERS,
                    "",
                    0,
                    0,
                    "The voters of the metadata controller Raft group, as `id@host:port,...` where host:port is"
                            + " that broker's Raft endpoint (raft.host:raft.port). 1 or 3 voters (5 works too);"
                            + " every other broker follows the controller as a learner. Required."),
            new Key(
                    CONTROLLER_ELECTION_TIMEOUT_MS,
                    "1000",
                    100,
                    600_000,
                    "Election timeout of the metadata controller group."),
            new Key(HEARTBEAT_INTERVAL_MS, "500", 10, 600_000, "How often a broker heartbeats the controller leader."),
            new Key(
                    SESSION_TIMEOUT_MS,
                    "6000",
                    20,
                    3_600_000,
                    "A broker whose heartbeats stop for this long is marked dead (new replicas are not placed on"
                            + " it; preferred leadership does not move to it). Larger than the heartbeat interval."),
            new Key(
                    REQUEST_TIMEOUT_MS,
                    "15000",
                    100,
                    3_600_000,
                    "Deadline of a metadata change (create/delete topic) forwarded to the controller leader,"
                            + " retries on NOT_CONTROLLER included."),
            new Key(
                    CONTROLLER_SNAPSHOT_INTERVAL_MS,
                    "600000",
                    1000,
                    Integer.MAX_VALUE * 1000L,
                    "Interval between snapshots of the controller state (rounded up to whole seconds)."),
            new Key(
                    RECONCILE_INTERVAL_MS,
                    "1000",
                    10,
                    3_600_000,
                    "Besides reacting to each metadata change, how often a broker re-checks that its local"
                            + " replicas match the assignment (retries failed opens and deletions)."),
            new Key(
                    LEADER_REBALANCE_INTERVAL_MS,
                    "10000",
                    0,
                    3_600_000,
                    "How often a broker hands the leadership of partitions it leads to their preferred replica"
                            + " (the first assigned) when that replica is alive. 0 turns the rebalance off."));

    public ReplicationNodeConfig {
        if (brokerId < 0) {
            throw new IllegalArgumentException(BROKER_ID + " must be >= 0: " + brokerId);
        }
        Objects.requireNonNull(rack, "rack");
        Objects.requireNonNull(replication, "replication");
        Objects.requireNonNull(defaultLogConfig, "defaultLogConfig");
        controllerVoters = Collections.unmodifiableMap(new TreeMap<>(controllerVoters));
        if (controllerVoters.isEmpty()) {
            throw new IllegalArgumentException(CONTROLLER_VOTERS + " must name at least one voter");
        }
        check(GRPC_PORT, grpcPort);
        check(HTTP_PORT, httpPort);
        check(CONTROLLER_ELECTION_TIMEOUT_MS, controllerElectionTimeoutMs);
        check(HEARTBEAT_INTERVAL_MS, heartbeatIntervalMs);
        check(SESSION_TIMEOUT_MS, sessionTimeoutMs);
        check(REQUEST_TIMEOUT_MS, requestTimeoutMs);
        check(CONTROLLER_SNAPSHOT_INTERVAL_MS, controllerSnapshotIntervalMs);
        check(RECONCILE_INTERVAL_MS, reconcileIntervalMs);
        check(LEADER_REBALANCE_INTERVAL_MS, leaderRebalanceIntervalMs);
        if (heartbeatIntervalMs >= sessionTimeoutMs) {
            throw new IllegalArgumentException(HEARTBEAT_INTERVAL_MS + " must be < " + SESSION_TIMEOUT_MS);
        }
        String own = controllerVoters.get(brokerId);
        if (own != null && !own.equals(replication.host() + ":" + replication.port())) {
            throw new IllegalArgumentException("broker " + brokerId + " is the controller voter " + own + " but its "
                    + ReplicationConfig.HOST + ":" + ReplicationConfig.PORT + " is " + replication.host() + ":"
                    + replication.port());
        }
    }

    /** Whether this broker is a voter of the metadata controller group. */
    public boolean isControllerVoter() {
        return controllerVoters.containsKey(brokerId);
    }

    /** The defaults for {@code brokerId} with the given Raft host config and voters; everything else default. */
    public static ReplicationNodeConfig defaults(int brokerId, ReplicationConfig replication, String voters) {
        Map<String, String> props = new HashMap<>();
        props.put(BROKER_ID, Integer.toString(brokerId));
        props.put(CONTROLLER_VOTERS, voters);
        return fromProperties(props, replication, LogConfig.defaults());
    }

    /**
     * Parses the keys of {@link #KEYS} from {@code props} (absent keys take their defaults; other keys are ignored).
     *
     * @throws IllegalArgumentException on a missing required key or an invalid value
     */
    public static ReplicationNodeConfig fromProperties(
            Map<String, String> props, ReplicationConfig replication, LogConfig defaultLogConfig) {
        String rack = value(props, BROKER_RACK);
        return new ReplicationNodeConfig(
                (int) number(props, BROKER_ID),
                rack.isEmpty() ? Optional.empty() : Optional.of(rack),
                (int) number(props, GRPC_PORT),
                (int) number(props, HTTP_PORT),
                replication,
                defaultLogConfig,
                parseVoters(required(props, CONTROLLER_VOTERS)),
                (int) number(props, CONTROLLER_ELECTION_TIMEOUT_MS),
                (int) number(props, HEARTBEAT_INTERVAL_MS),
                (int) number(props, SESSION_TIMEOUT_MS),
                (int) number(props, REQUEST_TIMEOUT_MS),
                number(props, CONTROLLER_SNAPSHOT_INTERVAL_MS),
                number(props, RECONCILE_INTERVAL_MS),
                number(props, LEADER_REBALANCE_INTERVAL_MS));
    }

    /** This config's own keys as text ({@code fromProperties(toProperties(), replication(), ...)} is equal). */
    public Map<String, String> toProperties() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(BROKER_ID, Integer.toString(brokerId));
        out.put(BROKER_RACK, rack.orElse(""));
        out.put(GRPC_PORT, Integer.toString(grpcPort));
        out.put(HTTP_PORT, Integer.toString(httpPort));
        out.put(CONTROLLER_VOTERS, formatVoters(controllerVoters));
        out.put(CONTROLLER_ELECTION_TIMEOUT_MS, Integer.toString(controllerElectionTimeoutMs));
        out.put(HEARTBEAT_INTERVAL_MS, Integer.toString(heartbeatIntervalMs));
        out.put(SESSION_TIMEOUT_MS, Integer.toString(sessionTimeoutMs));
        out.put(REQUEST_TIMEOUT_MS, Integer.toString(requestTimeoutMs));
        out.put(CONTROLLER_SNAPSHOT_INTERVAL_MS, Long.toString(controllerSnapshotIntervalMs));
        out.put(RECONCILE_INTERVAL_MS, Long.toString(reconcileIntervalMs));
        out.put(LEADER_REBALANCE_INTERVAL_MS, Long.toString(leaderRebalanceIntervalMs));
        return out;
    }

    /** A copy with one of {@link #KEYS} changed. */
    public ReplicationNodeConfig with(String key, String value) {
        Map<String, String> props = toProperties();
        if (!props.containsKey(key)) {
            throw new IllegalArgumentException("unknown configuration key: " + key);
        }
        props.put(key, value);
        return fromProperties(props, replication, defaultLogConfig);
    }

    /** A copy with another Raft host configuration. */
    public ReplicationNodeConfig withReplication(ReplicationConfig newReplication) {
        return fromProperties(toProperties(), newReplication, defaultLogConfig);
    }

    /** A copy with other partition log defaults. */
    public ReplicationNodeConfig withDefaultLogConfig(LogConfig newDefaults) {
        return fromProperties(toProperties(), replication, newDefaults);
    }

    /**
     * Parses {@code id@host:port[,id@host:port...]}.
     *
     * @throws IllegalArgumentException on a malformed entry or a repeated id or endpoint
     */
    public static Map<Integer, String> parseVoters(String voters) {
        Map<Integer, String> out = new TreeMap<>();
        for (String entry : voters.split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            int at = e.indexOf('@');
            int colon = e.lastIndexOf(':');
            if (at <= 0 || colon <= at + 1 || colon == e.length() - 1) {
                throw new IllegalArgumentException("bad controller voter '" + e + "': expected id@host:port");
            }
            int id;
            int port;
            try {
                id = Integer.parseInt(e.substring(0, at));
                port = Integer.parseInt(e.substring(colon + 1));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("bad controller voter '" + e + "': expected id@host:port", ex);
            }
            if (id < 0 || port < 1 || port > 65535) {
                throw new IllegalArgumentException("bad controller voter '" + e + "': id or port out of range");
            }
            String endpoint = e.substring(at + 1, colon) + ":" + port;
            if (out.containsValue(endpoint) || out.put(id, endpoint) != null) {
                throw new IllegalArgumentException("controller voter repeated: '" + e + "'");
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(CONTROLLER_VOTERS + " names no voter");
        }
        return out;
    }

    /** The inverse of {@link #parseVoters}. */
    public static String formatVoters(Map<Integer, String> voters) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(voters).forEach((id, ep) -> {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(id).append('@').append(ep);
        });
        return sb.toString();
    }

    /** The reference documentation of {@link #KEYS}, as a Markdown table. */
    public static String referenceDoc() {
        StringBuilder sb = new StringBuilder("| key | default | range | description |\n|---|---|---|---|\n");
        for (Key k : KEYS) {
            boolean numeric = k.max() > 0;
            sb.append("| `")
                    .append(k.name())
                    .append("` | ")
                    .append(k.defaultValue().isEmpty() ? "(none)" : "`" + k.defaultValue() + "`")
                    .append(" | ")
                    .append(numeric ? "[" + k.min() + ", " + k.max() + "]" : "")
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
        return props.getOrDefault(name, key(name).defaultValue()).trim();
    }

    private static String required(Map<String, String> props, String name) {
        String v = value(props, name);
        if (v.isEmpty()) {
            throw new IllegalArgumentException("missing required configuration key: " + name);
        }
        return v;
    }

    private static long number(Map<String, String> props, String name) {
        String v = required(props, name);
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
