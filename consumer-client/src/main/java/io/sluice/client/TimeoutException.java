package io.sluice.client;

/**
 * An operation did not complete in time (code {@link ErrorCode#REQUEST_TIMED_OUT}): a broker timed out, or a
 * client-side bound (max block, delivery timeout, request timeout) passed. For a write the outcome is unknown.
 *
 * <p>Immutable and thread-safe once constructed.
 */
public class TimeoutException extends RetriableException {
    public TimeoutException(String message) {
        super(ErrorCode.REQUEST_TIMED_OUT, message);
    }
}
