package io.sluice.replication;

/**
 * The replica is closed (its broker is shutting down, or the partition was removed from this broker). Retriable: the
 * partition may be served elsewhere; refresh metadata. Instances are immutable and thread-safe.
 */
public class PartitionClosedException extends RetriableReplicationException {
    private static final long serialVersionUID = 1L;

    public PartitionClosedException(String message) {
        super(message);
    }
}
