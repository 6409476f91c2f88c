package io.sluice.replication;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * A partition of a topic: the unit of replication. Each one is replicated by its own Raft group ({@link #groupId()})
 * and stored in its own directory ({@link #dirName()}).
 *
 * <p>Invariants: {@code topic} is non-blank and contains no path separator; {@code partition >= 0}. Immutable and
 * thread-safe.
 *
 * @param topic the topic name
 * @param partition the partition number
 */
public record TopicPartition(String topic, int partition) {
    private static final String HEX = "0123456789abcdef";
    /** Marks a group id whose topic does not start with a letter; never produced by the escaping itself. */
    private static final String NON_LETTER_PREFIX = "t_g";

    public TopicPartition {
        Objects.requireNonNull(topic, "topic");
        if (topic.isBlank() || topic.contains("/") || topic.contains("\\") || topic.equals(".") || topic.equals("..")) {
            throw new IllegalArgumentException("invalid topic name: '" + topic + "'");
        }
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0: " + partition);
        }
    }

    /**
     * The Raft group id: {@code topic-partition} when the topic consists of ASCII letters, digits and {@code -} and
     * starts with a letter (JRaft requires group ids matching {@code [a-zA-Z][a-zA-Z0-9_-]*}). Otherwise every other
     * byte of the topic's UTF-8 form is escaped as {@code _} plus two lower-case hex digits ({@code my_topic.v2} →
     * {@code my_5ftopic_2ev2}), and a topic not starting with a letter gets the prefix {@code t_g} ({@code __offsets}
     * → {@code t_g_5f_5foffsets}); {@code _g} cannot come from escaping, so the mapping is injective.
     */
    public String groupId() {
        StringBuilder sb = new StringBuilder(topic.length() + 8);
        char first = topic.charAt(0);
        if (!isAsciiLetter(first)) {
            sb.append(NON_LETTER_PREFIX);
        }
        for (byte b : topic.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (isAsciiLetter(c) || (c >= '0' && c <= '9') || c == '-') {
                sb.append(c);
            } else {
                sb.append('_').append(HEX.charAt((b >> 4) & 0xf)).append(HEX.charAt(b & 0xf));
            }
        }
        return sb.append('-').append(partition).toString();
    }

    /** {@code topic-partition}: the name of the partition's data directory (and of the partition in messages). */
    public String dirName() {
        return topic + "-" + partition;
    }

    /** The partition a directory named by {@link #dirName()} belongs to; empty if the name has no such form. */
    public static Optional<TopicPartition> fromDirName(String name) {
        int dash = name.lastIndexOf('-');
        if (dash <= 0 || dash == name.length() - 1) {
            return Optional.empty();
        }
        String digits = name.substring(dash + 1);
        for (int i = 0; i < digits.length(); i++) {
            if (!Character.isDigit(digits.charAt(i))) {
                return Optional.empty();
            }
        }
        try {
            return Optional.of(new TopicPartition(name.substring(0, dash), Integer.parseInt(digits)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    @Override
    public String toString() {
        return dirName();
    }
}
