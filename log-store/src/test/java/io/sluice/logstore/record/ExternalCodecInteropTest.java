package io.sluice.logstore.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shows that the compressed records section is a standard frame: the reference {@code lz4} and
 * {@code zstd} command-line tools (C implementations) decode what the builder writes, and frames they
 * write are accepted. Skipped where the tools are not installed.
 */
class ExternalCodecInteropTest {
    @TempDir
    Path dir;

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertEquals(true, p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + new String(out));
    }

    private static ByteBuffer sample(CompressionType codec) {
        RecordBatchBuilder b = RecordBatchBuilder.create(codec);
        for (int i = 0; i < 3_000; i++) {
            b.append(
                    i,
                    ("key-" + i).getBytes(),
                    ("value-" + (i % 17)).repeat(10).getBytes(),
                    List.of(new Header("n", new byte[] {(byte) i})));
        }
        return b.build();
    }

    /** Command line for {@code tool}: lz4 takes the output file positionally, zstd after -o. */
    private static String[] command(String tool, List<String> options, Path in, Path out) {
        List<String> cmd = new java.util.ArrayList<>(List.of(tool, "-q", "-f"));
        cmd.addAll(options);
        cmd.add(in.toString());
        if (tool.equals("zstd")) {
            cmd.add("-o");
        }
        cmd.add(out.toString());
        return cmd.toArray(String[]::new);
    }

    private void check(CompressionType codec, String tool, String... compressOptions) throws Exception {
        assumeTrue(onPath(tool), tool + " not installed");
        ByteBuffer compressed = sample(codec);
        byte[] plain = TestBatches.recordsSection(sample(CompressionType.NONE));

        // Theirs decodes ours.
        Path ours = dir.resolve("ours." + tool);
        Files.write(ours, TestBatches.recordsSection(compressed));
        Path decoded = dir.resolve("decoded");
        run(command(tool, List.of("-d"), ours, decoded));
        assertArrayEquals(plain, Files.readAllBytes(decoded));

        // Ours decodes theirs.
        Path raw = dir.resolve("plain");
        Files.write(raw, plain);
        Path theirs = dir.resolve("theirs." + tool);
        run(command(tool, List.of(compressOptions), raw, theirs));
        RecordBatch batch = RecordBatch.wrap(TestBatches.withRecordsSection(compressed, Files.readAllBytes(theirs)));
        batch.ensureValid();
        assertEquals(RecordBatch.wrap(sample(CompressionType.NONE)).records(), batch.records());
    }

    @Test
    void lz4CommandLineToolInteroperates() throws Exception {
        // --content-size and independent blocks (-BD would link them; readers reject linked blocks).
        check(CompressionType.LZ4, "lz4", "-z", "-BI", "--content-size");
    }

    @Test
    void zstdCommandLineToolInteroperates() throws Exception {
        check(CompressionType.ZSTD, "zstd", "-z", "-3");
    }

    /** Linked blocks need the previous block as dictionary; lz4-java refuses such multi-block frames. */
    @Test
    void lz4FramesWithLinkedBlocksAreRejectedAsCorrupt() throws Exception {
        assumeTrue(onPath("lz4"), "lz4 not installed");
        Path raw = dir.resolve("plain");
        Files.write(raw, TestBatches.recordsSection(sample(CompressionType.NONE)));
        Path linked = dir.resolve("linked.lz4");
        run(command("lz4", List.of("-z", "-B4", "-BD"), raw, linked));
        ByteBuffer batch = TestBatches.withRecordsSection(sample(CompressionType.LZ4), Files.readAllBytes(linked));
        org.junit.jupiter.api.Assertions.assertThrows(
                CorruptRecordException.class, () -> RecordBatch.wrap(batch).records());
    }
}
