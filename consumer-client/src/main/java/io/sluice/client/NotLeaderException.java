package io.sluice.client;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The broker asked does not lead the partition (code {@link ErrorCode#NOT_LEADER}). Carries the leader it
 * named, when it knew one. Producers and consumers handle it themselves by redirecting; applications see it
 * only when retries run out.
 *
 * <p>Immutable and thread-safe once constructed.
 */
public class NotLeaderException extends RetriableException {
    private final Integer leaderId;
    private final String leaderEndpoint;
    private final long leaderTerm;

    public NotLeaderException(String message, OptionalInt leaderId, Optional<String> leaderEndpoint, long leaderTerm) {
        super(ErrorCode.NOT_LEADER, message);
        this.leaderId = leaderId.isPresent() ? leaderId.getAsInt() : null;
        this.leaderEndpoint = leaderEndpoint.orElse(null);
        this.leaderTerm = leaderTerm;
    }

    /** The leader's broker id, absent during an election. */
    public OptionalInt leaderId() {
        return leaderId == null ? OptionalInt.empty() : OptionalInt.of(leaderId);
    }

    /** The leader's client endpoint as {@code host:port}, absent when unknown. */
    public Optional<String> leaderEndpoint() {
        return Optional.ofNullable(leaderEndpoint);
    }

    /** The Raft term in which the named leader leads; 0 when unknown. */
    public long leaderTerm() {
        return leaderTerm;
    }
}
