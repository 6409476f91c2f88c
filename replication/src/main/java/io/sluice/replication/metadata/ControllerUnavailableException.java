package io.sluice.replication.metadata;

/**
 * No controller leader could serve the request before its deadline (election in progress, partitioned away, ...).
 * Retriable. Immutable, thread-safe.
 */
public final class ControllerUnavailableException extends MetadataException {
    public ControllerUnavailableException(MetadataError error, String message) {
        super(error, message);
    }
}
