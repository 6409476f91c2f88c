package io.sluice.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises the execution samples of JFR recordings: where the CPU goes (self and inclusive frames of
 * {@code jdk.ExecutionSample}), which threads burn it, and where threads wait in native code ({@code
 * jdk.NativeMethodSample}: fsync, epoll, socket reads). A command-line tool for {@code bench/kafka-compare.sh
 * --profile}; runs as a source file ({@code java JfrTop.java FILE.jfr...}) so it needs no build.
 *
 * <p>Usage: {@code JfrTop [--top N] FILE.jfr...}; several files are summed (e.g. the three brokers of one run).
 * Inclusive counts count a method once per sample however deep it recurs. Stateless apart from the counts of one run;
 * not thread-safe.
 */
public final class JfrTop {
    private final Map<String, Long> self = new HashMap<>();
    private final Map<String, Long> componentSelf = new HashMap<>();
    private final Map<String, Long> componentInclusive = new HashMap<>();
    // jdk.CPULoad sums of the current file, and the per-file means summed over the files (the JVMs together)
    private double jvmUser;
    private double jvmSystem;
    private double machineTotal;
    private long cpuLoadEvents;
    private double sumUser;
    private double sumSystem;
    private double meanMachine;
    private int files;
    private final Map<String, Long> inclusive = new HashMap<>();
    private final Map<String, Long> threads = new HashMap<>();
    private final Map<String, Long> nativeSelf = new HashMap<>();
    private final Map<String, Long> nativeThreads = new HashMap<>();
    private long samples;
    private long nativeSamples;

    private JfrTop() {}

    public static void main(String[] args) throws IOException {
        int top = 25;
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--top") && i + 1 < args.length) {
                top = Integer.parseInt(args[++i]);
            } else {
                files.add(Path.of(args[i]));
            }
        }
        if (files.isEmpty()) {
            System.err.println("usage: JfrTop [--top N] FILE.jfr...");
            System.exit(2);
        }
        JfrTop t = new JfrTop();
        for (Path f : files) {
            for (RecordedEvent e : RecordingFile.readAllEvents(f)) {
                t.add(e);
            }
            t.endFile();
        }
        t.print(top);
    }

    private void endFile() {
        if (cpuLoadEvents > 0) {
            sumUser += jvmUser / cpuLoadEvents;
            sumSystem += jvmSystem / cpuLoadEvents;
            meanMachine += machineTotal / cpuLoadEvents;
            files++;
        }
        jvmUser = 0;
        jvmSystem = 0;
        machineTotal = 0;
        cpuLoadEvents = 0;
    }

    private void add(RecordedEvent e) {
        String type = e.getEventType().getName();
        if (type.equals("jdk.CPULoad")) {
            jvmUser += e.getFloat("jvmUser");
            jvmSystem += e.getFloat("jvmSystem");
            machineTotal += e.getFloat("machineTotal");
            cpuLoadEvents++;
            return;
        }
        boolean cpu = type.equals("jdk.ExecutionSample");
        if (!cpu && !type.equals("jdk.NativeMethodSample")) {
            return;
        }
        RecordedStackTrace st = e.getStackTrace();
        String thread = threadGroup(e.getThread("sampledThread"));
        if (!cpu) {
            nativeSamples++;
            nativeThreads.merge(thread, 1L, Long::sum);
            if (st != null && !st.getFrames().isEmpty()) {
                nativeSelf.merge(frame(st.getFrames().get(0)) + " <- " + caller(st.getFrames()), 1L, Long::sum);
            }
            return;
        }
        samples++;
        threads.merge(thread, 1L, Long::sum);
        if (st == null || st.getFrames().isEmpty()) {
            return;
        }
        self.merge(frame(st.getFrames().get(0)), 1L, Long::sum);
        componentSelf.merge(owner(st.getFrames()), 1L, Long::sum);
        Set<String> seen = new HashSet<>();
        Set<String> seenComponents = new HashSet<>();
        for (RecordedFrame f : st.getFrames()) {
            String m = frame(f);
            if (seen.add(m)) {
                inclusive.merge(m, 1L, Long::sum);
            }
            String c = component(typeOf(f));
            if (c != null && seenComponents.add(c)) {
                componentInclusive.merge(c, 1L, Long::sum);
            }
        }
    }

    /**
     * The component whose code is on CPU: the leaf-most frame outside the JDK decides, so that a JDK method (say
     * ByteBuffer.allocate) counts for the library that called it.
     */
    private static String owner(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            String c = component(typeOf(f));
            if (c != null) {
                return c;
            }
        }
        return "JDK only (no library frame)";
    }

    private static String typeOf(RecordedFrame f) {
        RecordedMethod m = f.getMethod();
        return m == null ? "?" : m.getType().getName();
    }

    /** A readable component name for a class, or null for JDK classes. */
    private static String component(String type) {
        if (type.startsWith("java.")
                || type.startsWith("jdk.internal.")
                || type.startsWith("sun.")
                || type.startsWith("javax.")
                || type.equals("?")) {
            return null;
        }
        for (String[] k : COMPONENTS) {
            if (type.startsWith(k[0])) {
                return k[1];
            }
        }
        String[] parts = type.split("\\.");
        return parts.length > 2 ? parts[0] + "." + parts[1] + "." + parts[2] : type;
    }

    private static final String[][] COMPONENTS = {
        {"io.sluice.logstore.", "sluice log-store"},
        {"io.sluice.replication.", "sluice replication"},
        {"io.sluice.broker.", "sluice broker"},
        {"io.sluice.client.", "sluice client SDK"},
        {"io.sluice.cli.", "sluice CLI"},
        {"io.sluice.proto.", "sluice protobuf messages"},
        {"com.alipay.sofa.jraft.", "JRaft"},
        {"com.alipay.remoting.", "SOFABolt RPC (JRaft transport)"},
        {"io.grpc.", "gRPC"},
        {"io.netty.", "Netty"},
        {"com.google.protobuf.", "protobuf runtime"},
        {"com.lmax.disruptor.", "LMAX Disruptor (JRaft queues)"},
        {"com.codahale.metrics.", "Dropwizard metrics (JRaft)"},
        {"org.rocksdb.", "RocksDB"},
        {"org.apache.logging.", "logging"},
        {"org.slf4j.", "logging"},
        {"jdk.jfr.", "JFR (the profiler)"},
    };

    /** The first caller outside the JDK, which says who waits (the leaf is always a JDK native method). */
    private static String caller(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            String m = frame(f);
            if (!m.startsWith("java.") && !m.startsWith("sun.") && !m.startsWith("jdk.")) {
                return m;
            }
        }
        return "?";
    }

    private static String frame(RecordedFrame f) {
        RecordedMethod m = f.getMethod();
        return m == null ? "?" : m.getType().getName() + "." + m.getName();
    }

    /** Thread names without their trailing numbers, so pools show as one line. */
    private static String threadGroup(RecordedThread t) {
        if (t == null) {
            return "?";
        }
        String n = t.getJavaName() != null ? t.getJavaName() : t.getOSName();
        return n == null ? "?" : n.replaceAll("[-#]?\\d+", "-N").replaceAll("(-N)+", "-N");
    }

    private void print(int top) {
        if (files > 0) {
            System.out.printf(
                    "JVM CPU (jdk.CPULoad means, summed over %d recording(s); %% of the whole machine): user %.1f%%,"
                            + " system (kernel) %.1f%%; machine busy %.1f%%%n",
                    files, 100 * sumUser, 100 * sumSystem, 100 * meanMachine / files);
        }
        System.out.printf("CPU samples (jdk.ExecutionSample): %d%n", samples);
        section("CPU by component (the leaf-most non-JDK frame owns the sample)", componentSelf, samples, top);
        section("components on the stack (share of samples in which each appears)", componentInclusive, samples, top);
        section("threads by CPU samples", threads, samples, top);
        section("top frames, self (the method on CPU)", self, samples, top);
        section("top frames, inclusive (on the stack)", inclusive, samples, top * 2);
        System.out.printf("%nnative-method samples (threads waiting in native code): %d%n", nativeSamples);
        section("native waits by thread", nativeThreads, nativeSamples, top);
        section("native waits: method <- first non-JDK caller", nativeSelf, nativeSamples, top);
    }

    private static void section(String title, Map<String, Long> counts, long total, int top) {
        System.out.printf("%n%s%n", title);
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(top)
                .forEach(en -> System.out.printf(
                        "  %6.1f%%  %7d  %s%n",
                        100.0 * en.getValue() / Math.max(1, total), en.getValue(), en.getKey()));
    }
}
