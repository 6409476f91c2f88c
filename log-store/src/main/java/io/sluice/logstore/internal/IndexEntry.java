package io.sluice.logstore.internal;

/**
 * A batch start found through the offset index: the batch with base offset {@code offset} and entry index
 * {@code entryIndex} begins at byte {@code position} of its segment.
 *
 * <p>Instances are immutable and thread-safe.
 */
record IndexEntry(long offset, int position, long entryIndex) {}
