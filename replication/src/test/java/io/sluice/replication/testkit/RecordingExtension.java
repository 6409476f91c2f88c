package io.sluice.replication.testkit;

import io.sluice.logstore.record.Record;
import io.sluice.logstore.record.RecordBatch;
import io.sluice.replication.PartitionStateExtension;
import io.sluice.replication.ReplicatedPartition;
import io.sluice.replication.TopicPartition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small {@link PartitionStateExtension} for tests: it keeps one line {@code base last term values} per committed
 * batch in a text file (appended, so it survives a halt), and counts how often each base offset was applied in this
 * process. Snapshots copy the file. A batch applied twice shows up as a repeated line.
 *
 * <p>Called by one state-machine thread; the accessors may be read from any thread (synchronized).
 */
public final class RecordingExtension implements PartitionStateExtension {
    private static final String SNAPSHOT_FILE = SNAPSHOT_FILE_PREFIX + "recording.txt";

    private final Path file;
    private final List<String> lines = new ArrayList<>();
    private final Map<Long, AtomicInteger> appliedInThisProcess = new ConcurrentHashMap<>();
    private final AtomicInteger snapshotLoads = new AtomicInteger();
    private long applied;

    private RecordingExtension(Path file) {
        this.file = file;
        reload();
    }

    /**
     * A factory for one broker: every partition of {@code topic} gets a recording extension whose file lives under
     * {@code dir}; the latest instance of each partition is kept in {@code instances}.
     */
    public static Factory factory(Path dir, String topic, Map<TopicPartition, RecordingExtension> instances) {
        return (ReplicatedPartition p) -> {
            if (!p.topicPartition().topic().equals(topic)) {
                return Optional.empty();
            }
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            RecordingExtension e =
                    new RecordingExtension(dir.resolve(p.topicPartition().dirName() + ".txt"));
            instances.put(p.topicPartition(), e);
            return Optional.of(e);
        };
    }

    private synchronized void reload() {
        lines.clear();
        applied = 0;
        try {
            if (Files.exists(file)) {
                for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    lines.add(l);
                    applied = Long.parseLong(l.split(" ")[1]) + 1;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized long appliedOffset() {
        return applied;
    }

    @Override
    public synchronized void onCommitted(CommittedBatch batch) {
        StringBuilder values = new StringBuilder();
        for (Record r : RecordBatch.wrap(batch.records())) {
            values.append(values.length() == 0 ? "" : ",").append(new String(r.valueBytes(), StandardCharsets.UTF_8));
        }
        String line = batch.baseOffset() + " " + batch.lastOffset() + " " + batch.term() + " " + values;
        try {
            Files.writeString(
                    file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        lines.add(line);
        applied = batch.lastOffset() + 1;
        appliedInThisProcess
                .computeIfAbsent(batch.baseOffset(), k -> new AtomicInteger())
                .incrementAndGet();
    }

    @Override
    public synchronized List<String> saveSnapshot(Path dir) throws IOException {
        Path out = dir.resolve(SNAPSHOT_FILE);
        if (Files.exists(file)) {
            Files.copy(file, out, StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.writeString(out, "");
        }
        return List.of(SNAPSHOT_FILE);
    }

    @Override
    public synchronized void loadSnapshot(Path dir, List<String> files) throws IOException {
        if (!files.equals(List.of(SNAPSHOT_FILE))) {
            throw new IOException("unexpected snapshot files " + files);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.copy(dir.resolve(SNAPSHOT_FILE), tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        reload();
        snapshotLoads.incrementAndGet();
    }

    /** The persisted lines, one per applied batch: {@code base last term values}. */
    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /** How many times this process applied a batch at each base offset. */
    public Map<Long, Integer> appliedCounts() {
        Map<Long, Integer> out = new java.util.TreeMap<>();
        appliedInThisProcess.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** How many snapshots this instance loaded. */
    public int snapshotLoads() {
        return snapshotLoads.get();
    }
}
