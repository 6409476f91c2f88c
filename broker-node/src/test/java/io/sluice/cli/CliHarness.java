package io.sluice.cli;

import io.sluice.client.SluiceClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Runs the {@code sluice} command line in-process for broker-node integration tests (the entry point's {@code run} is
 * package-private). Stateless; thread-safe.
 */
public final class CliHarness {
    /** Exit code, standard output and standard error of one run. */
    public record Result(int code, String out, String err) {}

    private CliHarness() {}

    /** Runs {@code args} against real brokers through a fresh client per command, like the launcher does. */
    public static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = SluiceCli.run(args, new ByteArrayInputStream(new byte[0]), o, e, bootstrap -> SluiceClient.builder()
                    .bootstrap(bootstrap)
                    .build());
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
