package io.sluice.replication;

/**
 * The replica hit a fatal error (a committed entry could not be applied, or its log storage failed) and stopped
 * serving: it neither applies nor votes any more. Reopening the partition (a broker restart) recovers from the log on
 * disk. Not retriable on this replica. Instances are immutable and thread-safe.
 */
public class ReplicaFailedException extends ReplicationException {
    private static final long serialVersionUID = 1L;

    public ReplicaFailedException(String message) {
        super(message);
    }

    public ReplicaFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
