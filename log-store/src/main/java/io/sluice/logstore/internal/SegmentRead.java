package io.sluice.logstore.internal;

import java.nio.ByteBuffer;

/**
 * Whole batches read from one segment.
 *
 * <p>Immutable once returned; thread-safe if the caller does not mutate the buffer.
 */
record SegmentRead(ByteBuffer records, long firstBaseOffset, long nextOffset, int batchCount) {}
