package io.sluice.broker.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the CPU priority of this JVM's JIT compiler threads (Linux; elsewhere it does nothing).
 *
 * <p>A fresh broker compiles its hot paths with C2 for its first minute or so, and on a small machine the compiler
 * threads then compete with the request, Raft and fsync threads for the CPU: a thread woken to answer a request waits
 * while a compile runs. With the compilers at a higher nice value the scheduler runs the woken thread first, and
 * compilation uses what is left. HotSpot can do the same itself ({@code -XX:ThreadPriorityPolicy=1
 * -XX:CompilerThreadPriority=N}), but that also re-prioritises its other threads when run as root and prints a warning
 * when not, so the broker sets the nice value of the compiler threads alone, with {@code renice}. Compiler threads the
 * JVM adds later are started by a compiler thread and inherit its nice value.
 *
 * <p>Stateless; safe to call from any thread.
 */
public final class CompilerThreads {
    private static final Path SELF_TASKS = Path.of("/proc/self/task");

    private CompilerThreads() {}

    /**
     * Gives this process's compiler threads the nice value {@code nice}.
     *
     * @return a line for the log saying what was done, or why nothing was
     */
    public static String renice(int nice) {
        return renice(nice, "renice");
    }

    /** As {@link #renice(int)}, with {@code command} standing in for {@code renice} (tests). */
    static String renice(int nice, String command) {
        if (nice == 0) {
            return "JIT compiler threads left at their priority (jit.compiler.nice=0)";
        }
        if (!Files.isDirectory(SELF_TASKS)) {
            return "JIT compiler threads left at their priority: no " + SELF_TASKS + " (not Linux)";
        }
        List<Long> ids;
        try {
            ids = find(SELF_TASKS);
        } catch (IOException e) {
            return "JIT compiler threads left at their priority: cannot list " + SELF_TASKS + ": " + e.getMessage();
        }
        if (ids.isEmpty()) {
            return "JIT compiler threads left at their priority: none found in " + SELF_TASKS;
        }
        List<String> cmd = new ArrayList<>(List.of(command, "-n", Integer.toString(nice), "-p"));
        ids.forEach(id -> cmd.add(Long.toString(id)));
        String failure = run(cmd);
        if (failure != null) {
            return "JIT compiler threads left at their priority: " + failure + " (set jit.compiler.nice=0 to skip)";
        }
        return "JIT compiler threads " + ids + " now run at nice " + nice;
    }

    /** Ids of the threads under {@code tasks} (a {@code /proc/PID/task} directory) that are HotSpot compiler threads. */
    public static List<Long> find(Path tasks) throws IOException {
        List<Long> ids = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
            for (Path task : dir) {
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm"), StandardCharsets.UTF_8)
                            .strip();
                } catch (NoSuchFileException e) {
                    continue; // the thread ended while we looked
                }
                // "C1 CompilerThread0", "C2 CompilerThread1", "JVMCI CompilerThread0", cut to 15 bytes by the kernel
                if (comm.contains(" CompilerT")) {
                    ids.add(Long.parseLong(task.getFileName().toString()));
                }
            }
        }
        ids.sort(null);
        return ids;
    }

    /** The nice value of a thread, from its {@code /proc/.../task/TID/stat}; empty if it cannot be read. */
    public static OptionalInt niceOf(Path task) {
        try {
            String stat = Files.readString(task.resolve("stat"), StandardCharsets.UTF_8);
            // the name in field 2 may hold spaces and parentheses; the fields after the last ')' start at field 3
            String[] rest = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return OptionalInt.of(Integer.parseInt(rest[19 - 3]));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    /** Runs {@code cmd}; null when it exited 0, else what went wrong. */
    private static String run(List<String> cmd) {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return "cannot run " + cmd.get(0) + ": " + e.getMessage();
        }
        // Wait first (its few lines of output fit the pipe), so that a command that hangs cannot hold the start.
        try (InputStream out = p.getInputStream()) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return cmd.get(0) + " did not finish within 10 s";
            }
            if (p.exitValue() == 0) {
                return null;
            }
            String text = new String(out.readNBytes(4096), StandardCharsets.UTF_8).strip();
            return cmd.get(0) + " exited " + p.exitValue() + ": " + text;
        } catch (IOException e) {
            return "cannot read the output of " + cmd.get(0) + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return "interrupted while running " + cmd.get(0);
        }
    }
}
