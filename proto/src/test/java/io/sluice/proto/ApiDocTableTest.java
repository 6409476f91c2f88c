package io.sluice.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.proto.v1.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Keeps the error table of {@code docs/api.md} and the code in agreement: every code is listed with
 * its number, gRPC status and retriability exactly as {@link GrpcErrors} maps it.
 */
class ApiDocTableTest {
    // | 100 | `NOT_LEADER` | UNAVAILABLE | detail | yes | action |
    private static final Pattern ROW = Pattern.compile(
            "^\\| (\\d+) \\| `([A-Z_]+)` \\| ([A-Z_]+) \\| [^|]* \\| (yes|no|—)[¹²]? \\|", Pattern.MULTILINE);

    @Test
    void errorTableMatchesTheCode() throws IOException {
        // Surefire runs in the module directory; the docs live beside it in the repository.
        Path doc = Path.of("..", "docs", "api.md");
        assertTrue(Files.exists(doc), "missing " + doc.toAbsolutePath());
        String text = Files.readString(doc);

        Map<String, String> documented = new TreeMap<>();
        Matcher m = ROW.matcher(text);
        while (m.find()) {
            documented.put("ERROR_CODE_" + m.group(2), m.group(1) + " " + m.group(3) + " " + m.group(4));
        }
        Map<String, String> expected = Arrays.stream(ErrorCode.values())
                .filter(c -> c != ErrorCode.UNRECOGNIZED)
                .collect(Collectors.toMap(
                        ErrorCode::name,
                        c -> c.getNumber() + " " + GrpcErrors.statusCode(c) + " " + retriable(c),
                        (a, b) -> a,
                        TreeMap::new));
        assertEquals(expected, documented, "docs/api.md error table disagrees with ErrorCode/GrpcErrors");
    }

    private static String retriable(ErrorCode code) {
        if (code == ErrorCode.ERROR_CODE_UNSPECIFIED) {
            return "—";
        }
        return GrpcErrors.isRetriable(code) ? "yes" : "no";
    }
}
