package io.sluice.broker.e2e;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.sluice.proto.v1.AdminServiceGrpc;
import io.sluice.proto.v1.DescribeClusterRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A test cluster of N real broker processes on 127.0.0.1, each a {@code java ... io.sluice.broker.SluiceBroker
 * --config FILE} child of the test JVM started from the packaged jar ({@code target/sluice-broker-node-*.jar} and
 * {@code target/lib/}), with the JVM flags of {@code bin/sluice-broker}.
 *
 * <p>Broker {@code i} is 1-based. Its ports (gRPC, Raft, HTTP) are chosen free once and kept, so {@link #restart}
 * brings it back on the same address and the same data directory ({@code dataRoot/broker-i/data}). Each process's
 * stdout and stderr are appended to {@code target/e2e-logs/<name>-<time>/broker-i.log}, which survive the test;
 * {@link #dumpLogs} prints their tails (the {@link #dumpLogsOnFailure} watcher does so when a test fails, and
 * {@link #awaitReady} puts them into its failure message). Only processes this object started are ever signalled:
 * {@link #kill} is SIGKILL ({@link Process#destroyForcibly()}), {@link #freeze}/{@link #thaw} are SIGSTOP/SIGCONT,
 * {@link #close} kills whatever is still running (frozen or not) and a JVM shutdown hook does the same if the test
 * JVM exits first.
 *
 * <p>Thread-safe: every method is synchronized except the read-only accessors of immutable state.
 */
public final class ProcessCluster implements AutoCloseable {
    /** JVM flags of bin/sluice-broker, plus a bounded heap so that several brokers fit next to other work. */
    static final List<String> JVM_FLAGS = List.of(
            "-Xmx384m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "--add-opens",
            "java.base/java.lang=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.nio=ALL-UNNAMED",
            "--add-opens",
            "java.base/sun.nio.ch=ALL-UNNAMED",
            "--enable-native-access=ALL-UNNAMED",
            "-Dcom.google.protobuf.use_unsafe_pre22_gencode=true",
            "-Dsofa.middleware.log.disable=true");

    private static final int LOG_TAIL_LINES = 40;

    private final String name;
    private final Path dataRoot;
    private final Path logDir;
    private final String classPath;
    private final int[] grpcPorts;
    private final int[] raftPorts;
    private final int[] httpPorts;
    private final Map<String, String> extraConfig;
    private final Process[] processes;
    private final int[] starts;
    private final ManagedChannel[] channels;
    private final Thread shutdownHook;
    private boolean closed;

    private ProcessCluster(String name, int size, Path dataRoot, Map<String, String> extraConfig) throws IOException {
        this.name = name;
        this.dataRoot = dataRoot;
        this.extraConfig = Map.copyOf(extraConfig);
        this.classPath = brokerClassPath();
        this.logDir = Path.of("target", "e2e-logs", name + "-" + System.currentTimeMillis())
                .toAbsolutePath();
        Files.createDirectories(logDir);
        this.grpcPorts = new int[size];
        this.raftPorts = new int[size];
        this.httpPorts = new int[size];
        int[] ports = freePorts(3 * size);
        for (int i = 0; i < size; i++) {
            grpcPorts[i] = ports[3 * i];
            raftPorts[i] = ports[3 * i + 1];
            httpPorts[i] = ports[3 * i + 2];
        }
        this.processes = new Process[size];
        this.starts = new int[size];
        this.channels = new ManagedChannel[size];
        for (int i = 0; i < size; i++) {
            channels[i] = NettyChannelBuilder.forAddress("127.0.0.1", grpcPorts[i])
                    .usePlaintext()
                    .build();
        }
        this.shutdownHook = new Thread(this::killAll, "process-cluster-" + name + "-cleanup");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Starts {@code size} brokers (controller voters: the first three) and waits until every one is ready.
     *
     * @param name names the log directory
     * @param dataRoot parent of the brokers' data directories (a {@code @TempDir})
     * @param extraConfig broker configuration added to every broker's file (e.g. limits)
     * @param readyTimeout how long to wait for readiness
     */
    public static ProcessCluster start(
            String name, int size, Path dataRoot, Map<String, String> extraConfig, Duration readyTimeout)
            throws IOException {
        ProcessCluster c = new ProcessCluster(name, size, dataRoot, extraConfig);
        try {
            for (int i = 1; i <= size; i++) {
                c.launch(i);
            }
            c.awaitReady(readyTimeout);
            return c;
        } catch (IOException | RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    /** The packaged broker: the jar and its runtime libraries, as {@code bin/sluice-broker} runs it. */
    static String brokerClassPath() throws IOException {
        Path target = Path.of("target").toAbsolutePath();
        Path jar = null;
        if (Files.isDirectory(target)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(target, "sluice-broker-node-*.jar")) {
                for (Path p : ds) {
                    String f = p.getFileName().toString();
                    if (!f.endsWith("-tests.jar") && !f.endsWith("-sources.jar") && !f.endsWith("-javadoc.jar")) {
                        jar = p;
                    }
                }
            }
        }
        Path lib = target.resolve("lib");
        if (jar == null || !Files.isDirectory(lib)) {
            throw new IllegalStateException("the broker is not packaged: " + target
                    + "/sluice-broker-node-*.jar and lib/ are missing (run these tests with 'mvn -pl broker-node"
                    + " verify', which packages first)");
        }
        return jar + java.io.File.pathSeparator + lib + java.io.File.separator + "*";
    }

    /**
     * {@code n} distinct free ports on 127.0.0.1. All sockets stay open until every port is picked, so the ports are
     * distinct (also used by the in-JVM cluster configs).
     */
    public static int[] freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            while (sockets.size() < n) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"));
                s.setReuseAddress(true);
                sockets.add(s);
            }
            return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    /** Number of brokers. */
    public int size() {
        return processes.length;
    }

    /** {@code 127.0.0.1:port} of every broker, comma-separated (the SDK's and CLI's bootstrap). */
    public String bootstrap() {
        StringJoiner j = new StringJoiner(",");
        for (int p : grpcPorts) {
            j.add("127.0.0.1:" + p);
        }
        return j.toString();
    }

    /** The gRPC port of broker {@code i}. */
    public int grpcPort(int i) {
        return grpcPorts[i - 1];
    }

    /** A channel to broker {@code i}, owned by the cluster (it reconnects after a restart). */
    public ManagedChannel channel(int i) {
        return channels[i - 1];
    }

    /** The broker id (1-based index) serving gRPC on {@code port}, if one does. */
    public Optional<Integer> brokerWithPort(int port) {
        for (int i = 0; i < grpcPorts.length; i++) {
            if (grpcPorts[i] == port) {
                return Optional.of(i + 1);
            }
        }
        return Optional.empty();
    }

    /** The log file of broker {@code i} (every start of it appends there). */
    public Path logFile(int i) {
        return logDir.resolve("broker-" + i + ".log");
    }

    /** Whether broker {@code i}'s process is running. */
    public synchronized boolean isAlive(int i) {
        Process p = processes[i - 1];
        return p != null && p.isAlive();
    }

    /** The OS process id of broker {@code i}'s current process. */
    public synchronized long pid(int i) {
        Process p = processes[i - 1];
        if (p == null) {
            throw new IllegalStateException("broker " + i + " was never started");
        }
        return p.pid();
    }

    private String voters() {
        int m = Math.min(3, size());
        StringJoiner j = new StringJoiner(",");
        for (int i = 1; i <= m; i++) {
            j.add(i + "@127.0.0.1:" + raftPorts[i - 1]);
        }
        return j.toString();
    }

    private synchronized void launch(int i) throws IOException {
        if (closed) {
            throw new IllegalStateException("cluster is closed");
        }
        if (isAlive(i)) {
            throw new IllegalStateException("broker " + i + " is already running (pid " + pid(i) + ")");
        }
        Path dir = dataRoot.resolve("broker-" + i);
        Files.createDirectories(dir);
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("broker.id", Integer.toString(i));
        conf.put("broker.host", "127.0.0.1");
        conf.put("grpc.port", Integer.toString(grpcPorts[i - 1]));
        conf.put("raft.port", Integer.toString(raftPorts[i - 1]));
        conf.put("http.port", Integer.toString(httpPorts[i - 1]));
        conf.put("data.dir", dir.resolve("data").toString());
        conf.put("controller.voters", voters());
        conf.putAll(extraConfig);
        Properties props = new Properties();
        props.putAll(conf);
        Path configFile = dir.resolve("broker.properties");
        try (var w = Files.newBufferedWriter(configFile, StandardCharsets.UTF_8)) {
            props.store(w, "ProcessCluster " + name + " broker " + i);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add("io.sluice.broker.SluiceBroker");
        cmd.add("--config");
        cmd.add(configFile.toString());
        Path log = logFile(i);
        starts[i - 1]++;
        Files.writeString(
                log,
                "===== start #" + starts[i - 1] + " of broker " + i + " at " + Instant.now() + ": "
                        + String.join(" ", cmd) + System.lineSeparator(),
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        // SLUICE_* variables of the developer's shell would override the file (they rank above it).
        pb.environment().keySet().removeIf(k -> k.startsWith("SLUICE_"));
        processes[i - 1] = pb.start();
    }

    /** SIGKILLs broker {@code i} and waits until the process is gone. */
    public synchronized void kill(int i) {
        Process p = processes[i - 1];
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("broker " + i + " is not running");
        }
        p.destroyForcibly();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("broker " + i + " (pid " + p.pid() + ") survived SIGKILL for 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** SIGSTOPs broker {@code i}: it stays in memory but runs nothing (like a long GC pause or a hung disk). */
    public synchronized void freeze(int i) {
        signal(i, "STOP");
    }

    /** SIGCONTs a frozen broker. */
    public synchronized void thaw(int i) {
        signal(i, "CONT");
    }

    private void signal(int i, String signal) {
        Process p = processes[i - 1];
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("broker " + i + " is not running");
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                    .redirectErrorStream(true)
                    .start();
            String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + signal + " " + p.pid() + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Starts broker {@code i} again (same ports, same data) and waits until it is ready. */
    public void restart(int i, Duration readyTimeout) throws IOException {
        launch(i);
        awaitReady(readyTimeout, i);
    }

    /** Starts the given (stopped) brokers again together and waits until all of them are ready. */
    public void restartAll(Duration readyTimeout, int... brokers) throws IOException {
        for (int i : brokers) {
            launch(i);
        }
        awaitReady(readyTimeout, brokers);
    }

    /** Waits until every broker is ready. */
    public void awaitReady(Duration timeout) {
        int[] all = new int[size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i + 1;
        }
        awaitReady(timeout, all);
    }

    /**
     * Waits until each of the given brokers reports SERVING on the gRPC health service and names a controller (what
     * {@code sluice-broker --check-ready} checks). Fails at once, with the log tail, if a process exits.
     */
    public void awaitReady(Duration timeout, int... brokers) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<Integer> pending = new HashSet<>();
        for (int b : brokers) {
            pending.add(b);
        }
        while (!pending.isEmpty()) {
            for (var it = pending.iterator(); it.hasNext(); ) {
                int i = it.next();
                if (!isAlive(i)) {
                    throw new AssertionError("broker " + i + " exited while starting (exit code "
                            + processes[i - 1].exitValue() + "); " + logTail(i, LOG_TAIL_LINES));
                }
                if (isReady(i)) {
                    it.remove();
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                String tails = pending.stream()
                        .sorted()
                        .map(i -> logTail(i, LOG_TAIL_LINES))
                        .collect(Collectors.joining("\n"));
                throw new AssertionError("brokers " + pending + " not ready after " + timeout + "\n" + tails);
            }
            Waits.pause(Duration.ofMillis(200));
        }
    }

    /** One readiness probe of broker {@code i}. */
    public boolean isReady(int i) {
        try {
            HealthCheckResponse h = HealthGrpc.newBlockingStub(channel(i))
                    .withDeadlineAfter(2, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance());
            return h.getStatus() == HealthCheckResponse.ServingStatus.SERVING
                    && AdminServiceGrpc.newBlockingStub(channel(i))
                            .withDeadlineAfter(2, TimeUnit.SECONDS)
                            .describeCluster(DescribeClusterRequest.getDefaultInstance())
                            .hasControllerId();
        } catch (StatusRuntimeException e) {
            return false;
        }
    }

    /** The last {@code lines} lines of broker {@code i}'s log, with a header naming the file. */
    public String logTail(int i, int lines) {
        Path f = logFile(i);
        StringBuilder sb = new StringBuilder("---- last lines of broker " + i + " (" + f + ") ----\n");
        try {
            List<String> all = Files.exists(f) ? Files.readAllLines(f, StandardCharsets.ISO_8859_1) : List.of();
            for (String l : all.subList(Math.max(0, all.size() - lines), all.size())) {
                sb.append(l).append('\n');
            }
        } catch (IOException e) {
            sb.append("(cannot read: ").append(e).append(")\n");
        }
        return sb.toString();
    }

    /** Prints the tail of every broker's log. */
    public void dumpLogs(PrintStream out) {
        for (int i = 1; i <= size(); i++) {
            out.println(logTail(i, LOG_TAIL_LINES));
        }
    }

    /** Greps broker {@code i}'s log for lines containing {@code needle} (e.g. to check no stack trace leaked). */
    public List<String> logLines(int i, String needle) {
        try {
            return Files.readAllLines(logFile(i), StandardCharsets.ISO_8859_1).stream()
                    .filter(l -> l.contains(needle))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every INTERNAL error any broker logged (the error mapping logs each with its id; INTERNAL means a bug, never a
     * bad request or a failover).
     */
    public List<String> internalErrors() {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= size(); i++) {
            for (String l : logLines(i, "Errors - internal error")) {
                out.add("broker " + i + ": " + l);
            }
        }
        return out;
    }

    /** A JUnit watcher that prints every broker's log tail when a test fails. */
    public static TestWatcher dumpLogsOnFailure(Supplier<ProcessCluster> cluster) {
        return new TestWatcher() {
            @Override
            public void testFailed(ExtensionContext context, Throwable cause) {
                ProcessCluster c = cluster.get();
                if (c != null) {
                    System.err.println("==== " + context.getDisplayName() + " failed; broker logs in " + c.logDir);
                    c.dumpLogs(System.err);
                }
            }
        };
    }

    private void killAll() {
        Process[] ps;
        synchronized (this) {
            ps = processes.clone();
        }
        for (Process p : ps) {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
        }
        for (Process p : ps) {
            if (p != null) {
                try {
                    p.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Kills every broker still running (SIGKILL: the data is temporary) and closes the channels. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        killAll();
        for (ManagedChannel ch : channels) {
            ch.shutdownNow();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down; the hook runs or ran
        }
    }
}
