package io.sluice.replication;

/**
 * Base of the replication layer's domain errors (unchecked).
 *
 * <p>Whether an operation may be retried is a type: see {@link RetriableReplicationException}. Instances are immutable
 * and thread-safe.
 */
public class ReplicationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ReplicationException(String message) {
        super(message);
    }

    public ReplicationException(String message, Throwable cause) {
        super(message, cause);
    }
}
