package io.sluice.cli;

import io.sluice.client.SluiceClient;
import io.sluice.client.SluiceException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code sluice} command line: cluster, topic, produce, consume, group, replay and perf commands over the Java
 * SDK.
 *
 * <p>Exit codes: 0 success, 1 any error, reported as one line on stderr (never a stack trace). Every command
 * takes {@code --bootstrap} (default {@code $SLUICE_BOOTSTRAP}, else {@code 127.0.0.1:7070}) and {@code --format
 * text|json}. One instance runs one command line; not thread-safe.
 */
@Command(
        name = "sluice",
        mixinStandardHelpOptions = true,
        version = "sluice 0.1.0",
        description = "Command line client for a Sluice cluster.",
        subcommands = {
            ClusterCommands.class,
            TopicCommands.class,
            ProduceCommand.class,
            ConsumeCommand.class,
            GroupCommands.class,
            ReplayCommand.class,
            PerfCommands.class
        })
public final class SluiceCli {
    final InputStream in;
    final PrintStream out;
    final PrintStream err;
    final Function<String, SluiceClient> clientFactory;
    /** Whether stderr is a terminal (progress bars are drawn only then). */
    final BooleanSupplier stderrIsTerminal;

    SluiceCli(
            InputStream in,
            PrintStream out,
            PrintStream err,
            Function<String, SluiceClient> clientFactory,
            BooleanSupplier stderrIsTerminal) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.clientFactory = clientFactory;
        this.stderrIsTerminal = stderrIsTerminal;
    }

    /**
     * Whether this process's stderr is a terminal. Java 17 cannot ask isatty(2) directly: on Linux the fd's link
     * names the device; elsewhere a console (stdin and stdout on a terminal) is the best hint.
     */
    static boolean stderrIsTerminal() {
        try {
            Path fd = Path.of("/proc/self/fd/2");
            if (Files.exists(fd)) {
                String target = Files.readSymbolicLink(fd).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            }
        } catch (java.io.IOException | UnsupportedOperationException | SecurityException e) {
            // fall back below
        }
        return System.console() != null;
    }

    /** Output formats of every command. */
    public enum Format {
        text,
        json
    }

    /** Options every command takes. */
    public static final class CommonOptions {
        @Option(
                names = "--bootstrap",
                paramLabel = "HOST:PORT,...",
                defaultValue = "${env:SLUICE_BOOTSTRAP:-127.0.0.1:7070}",
                description = "Brokers to connect to (default: $SLUICE_BOOTSTRAP or 127.0.0.1:7070).")
        String bootstrap;

        @Option(
                names = "--format",
                defaultValue = "text",
                description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        Format format;
    }

    /** Base of every leaf command: access to the streams, the options and a client. */
    abstract static class Base implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Spec
        CommandLine.Model.CommandSpec spec;

        SluiceCli cli() {
            return (SluiceCli) spec.root().userObject();
        }

        PrintStream out() {
            return cli().out;
        }

        PrintStream err() {
            return cli().err;
        }

        boolean json() {
            return common.format == Format.json;
        }

        SluiceClient client() {
            return cli().clientFactory.apply(common.bootstrap);
        }
    }

    /** Runs a command line with the given streams and client factory; returns the exit code. */
    static int run(
            String[] args,
            InputStream in,
            PrintStream out,
            PrintStream err,
            Function<String, SluiceClient> clientFactory) {
        return run(args, in, out, err, clientFactory, () -> false);
    }

    /** Like {@link #run(String[], InputStream, PrintStream, PrintStream, Function)}, saying whether stderr is a TTY. */
    static int run(
            String[] args,
            InputStream in,
            PrintStream out,
            PrintStream err,
            Function<String, SluiceClient> clientFactory,
            BooleanSupplier stderrIsTerminal) {
        CommandLine cmd = new CommandLine(new SluiceCli(in, out, err, clientFactory, stderrIsTerminal));
        cmd.setOut(new java.io.PrintWriter(out, true));
        cmd.setErr(new java.io.PrintWriter(err, true));
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        cmd.setParameterExceptionHandler((ex, a) -> {
            err.println("error: " + oneLine(ex.getMessage()) + " (see 'sluice --help')");
            return 1;
        });
        cmd.setExecutionExceptionHandler((ex, cl, parsed) -> {
            err.println("error: " + describe(ex));
            return 1;
        });
        return cmd.execute(args);
    }

    /** One line saying what failed: the code for Sluice errors, the message otherwise. */
    static String describe(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null
                && (c instanceof java.util.concurrent.CompletionException
                        || c instanceof java.util.concurrent.ExecutionException)) {
            c = c.getCause();
        }
        if (c instanceof SluiceException se) {
            return oneLine(se.getMessage()) + " [" + se.code() + "]";
        }
        if (c instanceof IllegalArgumentException || c instanceof IllegalStateException) {
            return oneLine(c.getMessage());
        }
        return oneLine(c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage()));
    }

    static String oneLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        return s.replaceAll("\\s*[\\r\\n]+\\s*", "; ").trim();
    }

    /** The launcher's entry point. */
    public static void main(String[] args) {
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:log4j2-sluice-cli.xml");
        }
        // gRPC logs through java.util.logging; its warnings would print stack traces on the terminal
        LogManager.getLogManager().reset();
        Logger.getLogger("").setLevel(Level.OFF);
        int code = run(
                args,
                System.in,
                System.out,
                System.err,
                bootstrap -> SluiceClient.builder().bootstrap(bootstrap).build(),
                SluiceCli::stderrIsTerminal);
        System.out.flush();
        System.exit(code);
    }
}
