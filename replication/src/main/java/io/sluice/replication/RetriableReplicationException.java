package io.sluice.replication;

/**
 * An error after which the same request may succeed if retried (possibly elsewhere: see {@link NotLeaderException}).
 *
 * <p>For appends, a retriable failure reported after the entry was proposed means the outcome is unknown: the batch
 * may still be committed. Producers that need exactly-once retry with the same producer id and sequence. Instances are
 * immutable and thread-safe.
 */
public class RetriableReplicationException extends ReplicationException {
    private static final long serialVersionUID = 1L;

    public RetriableReplicationException(String message) {
        super(message);
    }

    public RetriableReplicationException(String message, Throwable cause) {
        super(message, cause);
    }
}
