package io.sluice.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where benchmarks keep their data: {@code -Dsluice.bench.dir} (default: the system temp dir), so a run can target the
 * disk being measured. Thread-safe (stateless).
 */
final class BenchDirs {
    private BenchDirs() {}

    static Path root() throws IOException {
        Path root = Path.of(System.getProperty("sluice.bench.dir", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(root);
        return root;
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
