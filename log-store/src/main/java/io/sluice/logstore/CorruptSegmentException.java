package io.sluice.logstore;

import java.nio.file.Path;

/**
 * A closed (or durable) part of a segment holds bytes that are not a valid batch: media corruption, not a
 * torn write. The log never truncates such data silently; it reports it and refuses to serve the segment.
 *
 * <p>Recovery records the exception on the segment and logs it; every later read that touches the segment
 * throws it again. Deleting the segment (retention, {@code deleteSegmentsBefore}, {@code reset}) is the way
 * out, e.g. after the replication layer installed a snapshot. Instances are immutable and thread-safe.
 */
public class CorruptSegmentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long position;
    private final String reason;

    public CorruptSegmentException(Path file, long position, String reason) {
        super("corrupt segment " + file + " at position " + position + ": " + reason);
        this.file = file;
        this.position = position;
        this.reason = reason;
    }

    public CorruptSegmentException(Path file, long position, String reason, Throwable cause) {
        super("corrupt segment " + file + " at position " + position + ": " + reason, cause);
        this.file = file;
        this.position = position;
        this.reason = reason;
    }

    /** The {@code .log} file. */
    public Path file() {
        return file;
    }

    /** Byte position in the file where the first bad batch starts. */
    public long position() {
        return position;
    }

    /** What is wrong there. */
    public String reason() {
        return reason;
    }
}
