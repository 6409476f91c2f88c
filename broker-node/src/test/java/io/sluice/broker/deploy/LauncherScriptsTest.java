package io.sluice.broker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real {@code bin/sluice-broker} and {@code bin/sluice} against a stand-in {@code java} that prints its
 * arguments, in a copy of the repository layout with empty jars, and checks the JVM options they pass: the JIT
 * defaults first, the user's {@code SLUICE_JVM_OPTS} / {@code SLUICE_CLI_OPTS} after them (the JVM takes the last
 * value of a repeated option, so the user's win), and the program's own arguments untouched.
 */
class LauncherScriptsTest {
    private static final Path ROOT = DeployRecipesTest.repoRoot();

    @TempDir
    Path tmp;

    @Test
    void brokerGetsShallowInliningBeforeTheUsersOptions() throws Exception {
        List<String> args = run(
                "sluice-broker", Map.of("SLUICE_JVM_OPTS", "-Xmx1g -XX:MaxInlineLevel=9"), "--config", "b.properties");
        int inline = args.indexOf("-XX:MaxInlineLevel=6");
        assertTrue(inline >= 0 && args.contains("-XX:InlineSmallCode=1000"), "JIT defaults: " + args);
        assertTrue(args.indexOf("-XX:MaxInlineLevel=9") > inline, "the user's options come after: " + args);
        assertTrue(args.indexOf("-Xmx1g") > inline, args.toString());
        assertEquals(
                List.of("io.sluice.broker.SluiceBroker", "--config", "b.properties"),
                args.subList(args.size() - 3, args.size()));
    }

    @Test
    void cliRunsOnC1ExceptForTheThroughputTools() throws Exception {
        String c1 = "-XX:TieredStopAtLevel=1";
        assertTrue(run("sluice", Map.of(), "topic", "list").contains(c1));
        assertTrue(run("sluice", Map.of(), "perf", "latency", "--topic", "t").contains(c1));
        assertTrue(
                run("sluice", Map.of(), "produce", "perf").contains(c1), "a topic named perf is not the perf command");
        assertFalse(run("sluice", Map.of(), "perf", "produce", "--topic", "t").contains(c1));
        List<String> consume =
                run("sluice", Map.of(), "--bootstrap", "127.0.0.1:7070", "perf", "consume", "--topic", "t");
        assertFalse(consume.contains(c1), consume.toString());
        assertEquals(
                List.of("io.sluice.cli.SluiceCli", "--bootstrap", "127.0.0.1:7070", "perf", "consume", "--topic", "t"),
                consume.subList(consume.size() - 7, consume.size()));

        List<String> overridden = run("sluice", Map.of("SLUICE_CLI_OPTS", "-XX:TieredStopAtLevel=4"), "topic", "list");
        assertTrue(overridden.indexOf("-XX:TieredStopAtLevel=4") > overridden.indexOf(c1), overridden.toString());
    }

    /** Runs {@code bin/NAME ARGS} in a copy of the layout it expects and returns the arguments it gave java. */
    private List<String> run(String name, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.copy(ROOT.resolve("bin").resolve(name), bin.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        for (String module : List.of("broker-node", "consumer-client")) {
            Path target = Files.createDirectories(
                    tmp.resolve(module).resolve("target").resolve("lib"));
            touch(target.resolve("dep.jar"));
            touch(target.getParent().resolve("sluice-" + module + "-1.0.jar"));
        }
        Path fake = Files.createDirectories(tmp.resolve("fake"));
        Path java = fake.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        assertTrue(java.toFile().setExecutable(true));

        String[] cmd = new String[args.length + 2];
        cmd[0] = "bash";
        cmd[1] = bin.resolve(name).toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("SLUICE_"));
        pb.environment().putAll(env);
        pb.environment().put("PATH", fake + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), name + " did not finish");
        assertEquals(0, p.exitValue(), name + ": " + out);
        return out.lines().toList();
    }

    private static void touch(Path file) throws IOException {
        if (!Files.exists(file)) {
            Files.createFile(file);
        }
    }
}
