package io.sluice.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/config.md equal to what {@link ConfigDoc} generates from {@link BrokerConfig#KEYS}. With {@code
 * -Dsluice.regenerate=true} it rewrites the file instead of failing.
 */
class ConfigDocTest {
    static final String REGENERATE =
            "mvn -B -q -pl broker-node test -Dtest=ConfigDocTest -Dsluice.regenerate=true -Dspotless.check.skip=true";

    @Test
    void docsConfigMdIsUpToDate() throws Exception {
        Path doc = Path.of("..", "docs", "config.md");
        String expected = ConfigDoc.render();
        if (Boolean.getBoolean("sluice.regenerate")) {
            Files.writeString(doc, expected, StandardCharsets.UTF_8);
        }
        String actual = Files.exists(doc) ? Files.readString(doc, StandardCharsets.UTF_8) : "";
        assertEquals(expected, actual, "docs/config.md is stale; regenerate it with: " + REGENERATE);
    }
}
