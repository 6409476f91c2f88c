package io.sluice.broker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The monitoring recipes against real components (issue 6, item 3): runs {@code deploy/prometheus/check-live.sh},
 * which starts the local 3-broker cluster of {@code deploy/local/cluster.sh}, drives traffic and a consumer group with
 * {@code bin/sluice}, runs a real Prometheus (Debian's package, installed by the script when missing) on
 * {@code deploy/prometheus/prometheus.yml}, and asserts that every target is up, {@code promtool check metrics} finds
 * no problem, every PromQL expression of the Grafana dashboard returns data, and killing a broker fires the
 * broker-down and under-replicated alerts. The script's output is streamed to this test's output; a failure carries
 * its last lines, which name the failed step.
 *
 * <p>It runs from the packaged build: this module's jar and {@code target/lib} (failsafe runs after {@code package})
 * for {@code bin/sluice-broker}, and consumer-client's jar and {@code target/lib} for {@code bin/sluice}, which the
 * reactor packages before this module because of this module's test-scoped dependency on it. It uses the fixed ports
 * of the local cluster (7070-7072, 7170-7172, 7270-7272) and 9090, and fails at once, saying so, if one is taken.
 * Not thread-safe (one test).
 */
class PrometheusLiveIT {
    private static final int TAIL_LINES = 80;
    /** The script bounds each of its steps; this only guards against a hung script. */
    private static final Duration LIMIT = Duration.ofMinutes(30);

    @Test
    void monitoringRecipesWorkAgainstALiveCluster() throws Exception {
        Path root = DeployRecipesTest.repoRoot();
        Path script = root.resolve("deploy/prometheus/check-live.sh");
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString())
                .directory(root.toFile())
                .redirectErrorStream(true);
        // SLUICE_* variables of the developer's shell would change the brokers' and the CLI's configuration;
        // the script's own SLUICE_LIVE_* settings pass through.
        pb.environment().keySet().removeIf(k -> k.startsWith("SLUICE_") && !k.startsWith("SLUICE_LIVE_"));
        Process p = pb.start();
        Deque<String> tail = new ArrayDeque<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader r =
                            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = r.readLine()) != null; ) {
                            System.out.println("[check-live] " + line);
                            synchronized (tail) {
                                tail.addLast(line);
                                if (tail.size() > TAIL_LINES) {
                                    tail.removeFirst();
                                }
                            }
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                "check-live-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(LIMIT.toMinutes(), TimeUnit.MINUTES)) {
            // SIGTERM lets the script's trap stop the cluster and Prometheus it started.
            p.destroy();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
            }
            reader.join(10_000);
            fail("check-live.sh did not finish within " + LIMIT + "; last lines:\n" + lines(tail));
        }
        reader.join(10_000);
        int exit = p.exitValue();
        assertEquals(0, exit, () -> "check-live.sh failed (exit code " + exit + "); last lines:\n" + lines(tail));
    }

    private static String lines(Deque<String> tail) {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }
}
