package io.sluice.replication;

/**
 * The partition has too many proposals in flight (its bound, or JRaft's apply queue, is full): the batch was not
 * written. Retry after a short back-off. Instances are immutable and thread-safe.
 */
public class OverloadedException extends RetriableReplicationException {
    private static final long serialVersionUID = 1L;

    public OverloadedException(String message) {
        super(message);
    }
}
