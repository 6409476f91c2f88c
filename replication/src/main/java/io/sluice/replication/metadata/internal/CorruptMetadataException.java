package io.sluice.replication.metadata.internal;

/**
 * Bytes that do not decode as a metadata command, RPC message or snapshot. For a committed entry this is fatal for
 * the replica (the entry is never skipped). Immutable, thread-safe.
 */
public final class CorruptMetadataException extends RuntimeException {
    public CorruptMetadataException(String message) {
        super(message);
    }
}
