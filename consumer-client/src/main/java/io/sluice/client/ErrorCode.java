package io.sluice.client;

import java.util.HashMap;
import java.util.Map;

/**
 * Why an operation failed: the wire error codes of the Sluice v1 API plus {@link #UNKNOWN}. Each constant's
 * {@link #number()} is the stable wire number; the name may change, the number never.
 *
 * <p>Immutable and thread-safe.
 */
public enum ErrorCode {
    /** A code this client does not know, or a failure without a code (e.g. an unexpected gRPC status). */
    UNKNOWN(-1),
    INTERNAL(1),
    INVALID_REQUEST(2),
    UNSUPPORTED_VERSION(3),
    /** The broker (or the client, waiting for it) gave up; the outcome of a write is unknown. */
    REQUEST_TIMED_OUT(4),
    RESOURCE_EXHAUSTED(5),
    /** The broker could not be reached, is starting or stopping, or the connection broke. */
    BROKER_NOT_AVAILABLE(6),
    NOT_LEADER(100),
    UNKNOWN_TOPIC(101),
    UNKNOWN_PARTITION(102),
    OFFSET_OUT_OF_RANGE(103),
    CORRUPT_BATCH(104),
    BATCH_TOO_LARGE(105),
    RECORD_TOO_LARGE(106),
    NOT_ENOUGH_REPLICAS(107),
    INVALID_TIMESTAMP(108),
    INVALID_OFFSET(109),
    FENCED_PRODUCER(200),
    DUPLICATE_SEQUENCE(201),
    OUT_OF_ORDER_SEQUENCE(202),
    UNKNOWN_PRODUCER_ID(203),
    TOPIC_ALREADY_EXISTS(300),
    INVALID_TOPIC_NAME(301),
    INVALID_PARTITION_COUNT(302),
    INVALID_REPLICATION_FACTOR(303),
    INVALID_CONFIG(304),
    CONTROLLER_NOT_AVAILABLE(305),
    UNKNOWN_GROUP(400),
    UNKNOWN_MEMBER(401),
    FENCED_MEMBER_EPOCH(402),
    STALE_MEMBER_EPOCH(403),
    GROUP_NOT_EMPTY(404),
    NOT_COORDINATOR(405),
    COORDINATOR_NOT_AVAILABLE(406),
    COORDINATOR_LOAD_IN_PROGRESS(407),
    INVALID_GROUP_ID(408),
    FENCED_INSTANCE_ID(409),
    UNSUPPORTED_ASSIGNOR(410),
    INCONSISTENT_ASSIGNOR(411);

    private static final Map<Integer, ErrorCode> BY_NUMBER = new HashMap<>();

    static {
        for (ErrorCode c : values()) {
            BY_NUMBER.put(c.number, c);
        }
    }

    private final int number;

    ErrorCode(int number) {
        this.number = number;
    }

    /** The stable wire number. */
    public int number() {
        return number;
    }

    /** The code with this wire number, or {@link #UNKNOWN}. */
    public static ErrorCode forNumber(int number) {
        return BY_NUMBER.getOrDefault(number, UNKNOWN);
    }

    /**
     * Whether the API defines this code as retriable: the same request may succeed later, possibly at
     * another broker. Exceptions with such a code are {@link RetriableException}s.
     */
    public boolean isRetriable() {
        return switch (this) {
            case REQUEST_TIMED_OUT,
                    RESOURCE_EXHAUSTED,
                    BROKER_NOT_AVAILABLE,
                    NOT_LEADER,
                    NOT_ENOUGH_REPLICAS,
                    CONTROLLER_NOT_AVAILABLE,
                    NOT_COORDINATOR,
                    COORDINATOR_NOT_AVAILABLE,
                    COORDINATOR_LOAD_IN_PROGRESS -> true;
            default -> false;
        };
    }
}
