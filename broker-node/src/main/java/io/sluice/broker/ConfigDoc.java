package io.sluice.broker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Generates {@code docs/config.md}, the configuration reference, from {@link BrokerConfig#KEYS}: the keys are
 * documented in one place and the page can never drift (a test compares it with the file).
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigDoc {
    private ConfigDoc() {}

    /** The whole page. */
    public static String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Broker configuration reference\n\n")
                .append("<!-- Generated from io.sluice.broker.BrokerConfig by io.sluice.broker.ConfigDoc; do not edit."
                        + " Regenerate: mvn -B -q -pl broker-node test -Dtest=ConfigDocTest -Dsluice.regenerate=true"
                        + " -Dspotless.check.skip=true"
                        + " -->\n\n")
                .append("Sources, lowest to highest precedence: defaults, `--config FILE` (a Java properties file),"
                        + " `SLUICE_*` environment variables (`SLUICE_GRPC_PORT` sets `grpc.port`: upper case, dots"
                        + " become underscores; variables that name no key are ignored), then `--set key=value`"
                        + " flags. An unknown key or a bad value stops the broker with a one-line error and exit"
                        + " code 1. Example: `config/broker.properties`.\n");
        String group = "";
        for (BrokerConfig.Key k : BrokerConfig.KEYS) {
            if (!k.group().equals(group)) {
                group = k.group();
                sb.append("\n## ").append(group).append("\n\n");
                sb.append("| key | type | default | description |\n|---|---|---|---|\n");
            }
            sb.append("| `")
                    .append(k.name())
                    .append("` | ")
                    .append(k.type().name().toLowerCase(java.util.Locale.ROOT))
                    .append(" | ")
                    .append(k.defaultValue()
                            .map(d -> d.isEmpty() ? "(empty)" : "`" + d + "`")
                            .orElse("required"))
                    .append(" | ")
                    .append(k.doc().replace("|", "\\|"))
                    .append(" |\n");
        }
        return sb.toString();
    }

    /** Writes the page to {@code args[0]} (default {@code docs/config.md}). */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "docs/config.md");
        Files.writeString(out, render(), StandardCharsets.UTF_8);
    }
}
