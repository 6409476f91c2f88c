package io.sluice.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Keeps the configuration table of {@code docs/storage.md} in step with {@link LogConfig#KEYS}. */
class StorageDocTest {

    @Test
    void configTableMatchesTheKeys() throws Exception {
        Path doc = Path.of(System.getProperty("basedir", ".")).resolve("../docs/storage.md");
        String text = Files.readString(doc);
        int start = text.indexOf("\n## Configuration");
        assertTrue(start >= 0, "docs/storage.md has a Configuration section");
        int end = text.indexOf("\n## ", start + 1);
        text = text.substring(start, end < 0 ? text.length() : end);
        Map<String, String[]> rows = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("| `")) {
                String[] cells = line.split("\\|");
                String key = cells[1].trim().replace("`", "");
                rows.put(key, new String[] {cells[2].trim(), cells[3].trim().replace("`", "")});
            }
        }
        for (ConfigKey k : LogConfig.KEYS) {
            String[] row = rows.get(k.key());
            assertTrue(row != null, "docs/storage.md has no row for " + k.key());
            assertEquals(k.type().name().toLowerCase(Locale.ROOT), row[0], "type of " + k.key());
            assertEquals(k.defaultValue(), row[1], "default of " + k.key());
        }
        assertEquals(LogConfig.KEYS.size(), rows.size(), "rows without a key: " + rows.keySet());
    }
}
