package io.sluice.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompilerThreadsTest {
    @TempDir
    Path dir;

    @Test
    void findsTheCompilerThreadsByTheirKernelNames() throws IOException {
        task(101, "java");
        task(102, "C2 CompilerThre");
        task(103, "GC Thread#0");
        task(104, "C1 CompilerThre");
        task(105, "JVMCI CompilerT");
        task(106, "grpc-default-ex");
        Files.createDirectory(dir.resolve("107")); // a thread that ended: no comm left

        assertEquals(List.of(102L, 104L, 105L), CompilerThreads.find(dir));
    }

    @Test
    void readsTheNiceValueEvenWhenTheNameHasSpacesAndParentheses() throws IOException {
        Path t = Files.createDirectory(dir.resolve("42"));
        Files.writeString(
                t.resolve("stat"),
                "42 (C2 Comp) (x) S 1 41 41 0 -1 1077936192 1 0 0 0 5 2 0 0 30 10 1 0 388 0 0 18446744073709551615\n");
        assertEquals(OptionalInt.of(10), CompilerThreads.niceOf(t));
        assertEquals(OptionalInt.empty(), CompilerThreads.niceOf(dir.resolve("43")));
    }

    @Test
    void zeroLeavesThemAlone() {
        assertTrue(CompilerThreads.renice(0).contains("left at their priority"));
    }

    @Test
    void aFailingOrMissingReniceIsReportedNotThrown() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux /proc");
        String failed = CompilerThreads.renice(5, "false");
        assertTrue(failed.startsWith("JIT compiler threads left at their priority: false exited 1"), failed);
        assertTrue(failed.endsWith("(set jit.compiler.nice=0 to skip)"), failed);
        String missing = CompilerThreads.renice(5, "/nonexistent/renice");
        assertTrue(missing.contains("cannot run /nonexistent/renice"), missing);
    }

    /** The real thing, in a JVM of its own so that this one's compilers keep their priority. */
    @Test
    void reniceSetsEveryCompilerThreadOfTheProcess() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux /proc");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Child.class.getName(), "7")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.get(0).contains("now run at nice 7"), out);
        List<String> nices = lines.subList(1, lines.size());
        assertFalse(nices.isEmpty(), out);
        nices.forEach(n -> assertEquals("nice 7", n, out));
    }

    /** Renices its own compiler threads, then prints the message and each compiler thread's nice value. */
    public static final class Child {
        public static void main(String[] args) throws IOException {
            System.out.println(CompilerThreads.renice(Integer.parseInt(args[0])));
            Path tasks = Path.of("/proc/self/task");
            for (long id : CompilerThreads.find(tasks)) {
                OptionalInt n = CompilerThreads.niceOf(tasks.resolve(Long.toString(id)));
                System.out.println(n.isPresent() ? "nice " + n.getAsInt() : "unreadable " + id);
            }
        }
    }

    private void task(long id, String comm) throws IOException {
        Path t = Files.createDirectory(dir.resolve(Long.toString(id)));
        Files.writeString(t.resolve("comm"), comm + "\n");
    }
}
