package io.sluice.replication;

/**
 * The batch handed to {@link ReplicatedPartition#append} is not a valid record batch (bad size, magic, CRC, or a
 * control batch from a producer). Not retriable: the same bytes will fail again. Instances are immutable and
 * thread-safe.
 */
public class InvalidBatchException extends ReplicationException {
    private static final long serialVersionUID = 1L;

    public InvalidBatchException(String message) {
        super(message);
    }

    public InvalidBatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
