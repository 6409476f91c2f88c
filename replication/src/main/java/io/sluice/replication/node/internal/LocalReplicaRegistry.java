package io.sluice.replication.node.internal;

import io.sluice.replication.TopicPartition;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Which topic incarnation ({@code topicId}) each local partition replica belongs to, persisted so a broker that was
 * down while a topic was deleted (or deleted and created again) can still tell, after a restart, that its data is
 * stale and delete it.
 *
 * <p>File format ({@value #FILE_NAME} in the data directory), UTF-8 text, one replica per line: {@code <topicId>
 * <partition> <topic>\n}, rewritten whole through a temporary file, fsync and atomic rename on every change. Topic names
 * contain no whitespace (see topic name validation). Not thread-safe: used by the reconciler thread only.
 */
final class LocalReplicaRegistry {

    static final String FILE_NAME = "replicas.registry";

    private final Path file;
    private final Map<TopicPartition, Long> topicIds =
            new TreeMap<>((a, b) -> a.topic().equals(b.topic())
                    ? Integer.compare(a.partition(), b.partition())
                    : a.topic().compareTo(b.topic()));

    private LocalReplicaRegistry(Path file) {
        this.file = file;
    }

    static LocalReplicaRegistry open(Path dataDir) throws IOException {
        LocalReplicaRegistry r = new LocalReplicaRegistry(dataDir.resolve(FILE_NAME));
        if (Files.exists(r.file)) {
            for (String line : Files.readAllLines(r.file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.trim().split(" ", 3);
                if (parts.length != 3) {
                    throw new IOException("corrupt line in " + r.file + ": '" + line + "'");
                }
                try {
                    r.topicIds.put(new TopicPartition(parts[2], Integer.parseInt(parts[1])), Long.parseLong(parts[0]));
                } catch (IllegalArgumentException e) {
                    throw new IOException("corrupt line in " + r.file + ": '" + line + "'", e);
                }
            }
        }
        return r;
    }

    Optional<Long> topicId(TopicPartition tp) {
        return Optional.ofNullable(topicIds.get(tp));
    }

    Map<TopicPartition, Long> all() {
        return Map.copyOf(topicIds);
    }

    void put(TopicPartition tp, long topicId) throws IOException {
        Long old = topicIds.put(tp, topicId);
        if (old == null || old != topicId) {
            write();
        }
    }

    void remove(TopicPartition tp) throws IOException {
        if (topicIds.remove(tp) != null) {
            write();
        }
    }

    private void write() throws IOException {
        StringBuilder sb = new StringBuilder();
        topicIds.forEach((tp, id) -> sb.append(id)
                .append(' ')
                .append(tp.partition())
                .append(' ')
                .append(tp.topic())
                .append('\n'));
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        Files.writeString(tmp, sb, StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // Some file systems cannot fsync a directory; the rename is still atomic.
        }
    }
}
