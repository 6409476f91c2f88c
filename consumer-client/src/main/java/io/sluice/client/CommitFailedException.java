package io.sluice.client;

/**
 * The group refused a commit because this consumer is no longer the member that owns the partitions: it was fenced
 * (code {@link ErrorCode#FENCED_MEMBER_EPOCH} or {@link ErrorCode#STALE_MEMBER_EPOCH} after a retry) or removed from
 * the group ({@link ErrorCode#UNKNOWN_MEMBER}), typically after its session expired. Nothing was committed. The
 * consumer rejoins by itself (its partitions are reported lost to the {@link RebalanceListener}); records processed
 * since the last successful commit will be consumed again by the partitions' new owners. Not retriable as is.
 *
 * <p>Immutable and thread-safe once constructed.
 */
public class CommitFailedException extends SluiceException {
    public CommitFailedException(ErrorCode code, String message) {
        super(code, message);
    }
}
