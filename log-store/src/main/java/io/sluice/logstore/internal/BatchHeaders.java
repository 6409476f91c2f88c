package io.sluice.logstore.internal;

import io.sluice.logstore.record.BatchHeader;
import java.nio.ByteBuffer;

/**
 * Fast reads of batch header fields at an absolute position of a buffer (big-endian), using the layout of
 * {@link BatchHeader}, and the structural checks the log applies before trusting a header.
 *
 * <p>Stateless and thread-safe.
 */
final class BatchHeaders {
    private BatchHeaders() {}

    static long baseOffset(ByteBuffer b, int at) {
        return b.getLong(at + BatchHeader.BASE_OFFSET_OFFSET);
    }

    static int batchLength(ByteBuffer b, int at) {
        return b.getInt(at + BatchHeader.BATCH_LENGTH_OFFSET);
    }

    /** Bytes the whole batch occupies. */
    static int sizeInBytes(ByteBuffer b, int at) {
        return BatchHeader.LOG_OVERHEAD + batchLength(b, at);
    }

    static long raftTerm(ByteBuffer b, int at) {
        return b.getLong(at + BatchHeader.RAFT_TERM_OFFSET);
    }

    static long entryIndex(ByteBuffer b, int at) {
        return b.getLong(at + BatchHeader.ENTRY_INDEX_OFFSET);
    }

    static byte magic(ByteBuffer b, int at) {
        return b.get(at + BatchHeader.MAGIC_OFFSET);
    }

    static short attributes(ByteBuffer b, int at) {
        return b.getShort(at + BatchHeader.ATTRIBUTES_OFFSET);
    }

    static int lastOffsetDelta(ByteBuffer b, int at) {
        return b.getInt(at + BatchHeader.LAST_OFFSET_DELTA_OFFSET);
    }

    static long lastOffset(ByteBuffer b, int at) {
        return baseOffset(b, at) + lastOffsetDelta(b, at);
    }

    static long maxTimestamp(ByteBuffer b, int at) {
        return b.getLong(at + BatchHeader.MAX_TIMESTAMP_OFFSET);
    }

    static int recordCount(ByteBuffer b, int at) {
        return b.getInt(at + BatchHeader.RECORD_COUNT_OFFSET);
    }

    static boolean isControl(ByteBuffer b, int at) {
        return (attributes(b, at) & BatchHeader.ATTR_CONTROL) != 0;
    }

    static void stampBaseOffset(ByteBuffer b, int at, long baseOffset) {
        b.putLong(at + BatchHeader.BASE_OFFSET_OFFSET, baseOffset);
    }

    static void stampEntryIndex(ByteBuffer b, int at, long entryIndex) {
        b.putLong(at + BatchHeader.ENTRY_INDEX_OFFSET, entryIndex);
    }

    /**
     * Checks the fields the log relies on for navigation (not the CRC) of a header fully inside
     * {@code b}; returns what is wrong, or an empty string.
     *
     * @param available bytes from {@code at} to the end of the region the batch must fit in
     */
    static String structuralProblem(ByteBuffer b, int at, long available) {
        byte magic = magic(b, at);
        if (magic != BatchHeader.CURRENT_MAGIC) {
            return "unknown magic " + magic;
        }
        int length = batchLength(b, at);
        if (length < BatchHeader.HEADER_SIZE - BatchHeader.LOG_OVERHEAD) {
            return "batch length " + length + " is smaller than a header";
        }
        if ((long) length + BatchHeader.LOG_OVERHEAD > available) {
            return "batch of " + ((long) length + BatchHeader.LOG_OVERHEAD) + " bytes runs past the end (" + available
                    + " bytes left)";
        }
        int delta = lastOffsetDelta(b, at);
        if (delta < 0) {
            return "negative last offset delta " + delta;
        }
        int count = recordCount(b, at);
        if (count < 0 || (count > 0 && delta < count - 1)) {
            return "record count " + count + " does not fit last offset delta " + delta;
        }
        return "";
    }
}
