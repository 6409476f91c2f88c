package io.sluice.bench;

import io.sluice.client.Admin;
import io.sluice.client.NewTopic;
import io.sluice.client.PartitionInfo;
import io.sluice.client.SluiceClient;
import io.sluice.client.TopicDescription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Creates many replicated partitions at once and times how long the cluster takes to elect a leader for every one
 * of them, and then to spread those leaders evenly (the preferred-leader rebalance). A command-line tool for {@code
 * bench/replication-bench.sh scale}; it runs as a source file against the consumer-client jars, so it needs no build.
 *
 * <p>Usage: {@code ScaleProbe --bootstrap HOST:PORT --topics T --partitions P [--rf R] [--timeout-s S] [--prefix
 * NAME]}. Prints {@code key=value} lines on stdout: {@code created_s} (all create calls answered), {@code
 * all_leaders_s} (every partition reports a leader), {@code balanced_s} (leader counts per broker differ by at most
 * one), {@code preferred_s} (every partition is led by its preferred replica, the first assigned one: where the
 * leader rebalance puts it), and the final leader count per broker. Times are seconds from the first create call.
 * After every partition has a leader, the probe waits at most {@code --balance-timeout-s} (120) more for the last
 * two. Exit code 1 when {@code --timeout-s} passes before every partition has a leader. Single-threaded; not
 * thread-safe.
 */
public final class ScaleProbe {
    private ScaleProbe() {}

    public static void main(String[] args) {
        String bootstrap = "127.0.0.1:7070";
        String prefix = "scale";
        int topics = 4;
        int partitions = 250;
        int rf = 3;
        long timeoutS = 600;
        long balanceTimeoutS = 120;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--bootstrap" -> bootstrap = args[i + 1];
                case "--topics" -> topics = Integer.parseInt(args[i + 1]);
                case "--partitions" -> partitions = Integer.parseInt(args[i + 1]);
                case "--rf" -> rf = Integer.parseInt(args[i + 1]);
                case "--timeout-s" -> timeoutS = Long.parseLong(args[i + 1]);
                case "--prefix" -> prefix = args[i + 1];
                case "--balance-timeout-s" -> balanceTimeoutS = Long.parseLong(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        int total = topics * partitions;
        try (SluiceClient client = SluiceClient.builder()
                .bootstrap(bootstrap)
                .requestTimeout(Duration.ofSeconds(120))
                .build()) {
            Admin admin = client.admin();
            long t0 = System.nanoTime();
            long deadline = t0 + Duration.ofSeconds(timeoutS).toNanos();
            List<CompletableFuture<?>> creates = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (int t = 0; t < topics; t++) {
                String name = prefix + "-" + t;
                names.add(name);
                creates.add(admin.createTopicAsync(new NewTopic(name, partitions, rf, Map.of())));
            }
            CompletableFuture.allOf(creates.toArray(CompletableFuture[]::new)).join();
            System.out.printf("created_s=%.2f%n", secs(t0));
            System.out.flush();
            boolean allLed = false;
            boolean wasBalanced = false;
            int lastLed = -1;
            long lastPrint = 0;
            Map<Integer, Integer> perBroker = new TreeMap<>();
            while (System.nanoTime() < deadline) {
                perBroker = new TreeMap<>();
                int led = 0;
                int preferred = 0;
                for (String name : names) {
                    TopicDescription d;
                    try {
                        d = admin.describeTopic(name);
                    } catch (RuntimeException e) {
                        continue; // a broker busy electing may time out a describe; try again next round
                    }
                    for (PartitionInfo p : d.partitions()) {
                        for (int r : p.replicas()) {
                            perBroker.putIfAbsent(r, 0);
                        }
                        if (p.leaderId().isPresent()) {
                            led++;
                            if (p.leaderId().getAsInt() == p.replicas().get(0)) {
                                preferred++;
                            }
                            perBroker.merge(p.leaderId().getAsInt(), 1, Integer::sum);
                        }
                    }
                }
                if (!allLed && led == total) {
                    allLed = true;
                    System.out.printf("all_leaders_s=%.2f%n", secs(t0));
                    System.out.flush();
                    deadline = Math.min(
                            deadline,
                            System.nanoTime()
                                    + Duration.ofSeconds(balanceTimeoutS).toNanos());
                }
                if (allLed && !wasBalanced && balanced(perBroker)) {
                    wasBalanced = true;
                    System.out.printf("balanced_s=%.2f%n", secs(t0));
                    System.out.flush();
                }
                if (allLed && preferred == total) {
                    if (!wasBalanced) {
                        System.out.printf("balanced_s=%.2f%n", secs(t0));
                    }
                    System.out.printf("preferred_s=%.2f%n", secs(t0));
                    System.out.println("leaders_per_broker=" + perBroker);
                    return;
                }
                if (led != lastLed || System.nanoTime() - lastPrint > 5_000_000_000L) {
                    System.err.printf(
                            "%.1fs: %d/%d partitions have a leader, %d their preferred one; per broker %s%n",
                            secs(t0), led, total, preferred, perBroker);
                    lastLed = led;
                    lastPrint = System.nanoTime();
                }
                sleepQuietly(250);
            }
            System.out.println("leaders_per_broker=" + perBroker);
            if (!allLed) {
                System.out.printf("timeout_s=%d%n", timeoutS);
                System.exit(1);
            }
            System.out.printf("preferred_timeout_s=%d%n", balanceTimeoutS);
        }
    }

    /** Leader counts differ by at most one; every replica broker is in the map, with 0 when it leads nothing. */
    private static boolean balanced(Map<Integer, Integer> perBroker) {
        if (perBroker.isEmpty()) {
            return false;
        }
        int min = perBroker.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        int max = perBroker.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        return max - min <= 1;
    }

    private static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void sleepQuietly(long millis) {
        // a pacing pause between polls of the cluster's state, not a wait for a condition
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
