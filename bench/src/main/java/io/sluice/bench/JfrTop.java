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
        }
        t.print(top);
    }

    private void add(RecordedEvent e) {
        String type = e.getEventType().getName();
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
        Set<String> seen = new HashSet<>();
        for (RecordedFrame f : st.getFrames()) {
            String m = frame(f);
            if (seen.add(m)) {
                inclusive.merge(m, 1L, Long::sum);
            }
        }
    }

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
        System.out.printf("CPU samples (jdk.ExecutionSample): %d%n", samples);
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
