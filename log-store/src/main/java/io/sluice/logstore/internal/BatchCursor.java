package io.sluice.logstore.internal;

import io.sluice.logstore.record.BatchHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Walks the batches of a file region through a read-ahead buffer, so that stepping from header to header
 * costs one positional read per buffer-full rather than one per batch.
 *
 * <p>Usage: {@link #seek(long)}, then {@link #header()} to get the header of the batch at the current
 * position (buffered at {@link #at()} of {@link #buffer()}), {@link #whole(int)} when the whole batch is
 * needed (CRC checks), {@link #seek(long)} to the next batch. Positions are file positions. Short reads at
 * the end of the file are reported as "not available", never as an error.
 *
 * <p>Not thread-safe: one cursor per reading thread.
 */
final class BatchCursor {
    private final FileChannel channel;
    private final long limit;
    private ByteBuffer buf;
    private long bufStart;
    private int bufLen;
    private long pos;

    /**
     * @param limit the end of the region (e.g. the segment size a reader saw)
     * @param bufferSize read-ahead size
     */
    BatchCursor(FileChannel channel, long limit, int bufferSize) {
        this.channel = channel;
        this.limit = limit;
        this.buf = ByteBuffer.allocate(Math.max(bufferSize, BatchHeader.HEADER_SIZE));
        this.bufStart = 0;
        this.bufLen = 0;
    }

    void seek(long position) {
        pos = position;
    }

    long position() {
        return pos;
    }

    long limit() {
        return limit;
    }

    /** Bytes between the current position and the region end. */
    long remaining() {
        return limit - pos;
    }

    /**
     * Buffers the header of the batch at the current position; false when fewer than a header's bytes
     * are left in the region (or in the file).
     */
    boolean header() throws IOException {
        return ensure(pos, BatchHeader.HEADER_SIZE);
    }

    /** Buffers the {@code size} bytes of the batch at the current position; false if not available. */
    boolean whole(int size) throws IOException {
        return ensure(pos, size);
    }

    /** The buffer holding the current batch (valid after a successful {@link #header()}/{@link #whole}). */
    ByteBuffer buffer() {
        return buf;
    }

    /** Index of the current batch in {@link #buffer()}. */
    int at() {
        return (int) (pos - bufStart);
    }

    /** A view of {@code size} bytes of the current batch (after a successful {@link #whole(int)}). */
    ByteBuffer slice(int size) {
        return buf.slice(at(), size);
    }

    private boolean ensure(long from, int len) throws IOException {
        if (from < 0 || limit - from < len) {
            return false;
        }
        if (from >= bufStart && from + len <= bufStart + bufLen) {
            return true;
        }
        if (buf.capacity() < len) {
            buf = ByteBuffer.allocate(len);
        }
        int want = (int) Math.min(buf.capacity(), limit - from);
        buf.clear().limit(want);
        long p = from;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, p);
            if (n < 0) {
                break;
            }
            p += n;
        }
        bufStart = from;
        bufLen = buf.position();
        buf.clear();
        return bufLen >= len;
    }
}
