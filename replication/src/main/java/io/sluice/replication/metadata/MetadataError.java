package io.sluice.replication.metadata;

import java.util.Optional;

/**
 * Errors of metadata operations, with stable numeric codes used on the controller RPC wire: the name may change, the
 * code never does.
 *
 * <p>Thread-safe (an enum).
 */
public enum MetadataError {
    NONE(0, false),
    TOPIC_EXISTS(1, false),
    UNKNOWN_TOPIC(2, false),
    INVALID_TOPIC(3, false),
    INVALID_PARTITIONS(4, false),
    INVALID_REPLICATION_FACTOR(5, false),
    /** The receiver is not the controller leader; the response names the leader when it knows it. */
    NOT_CONTROLLER(6, true),
    /** No controller leader answered before the deadline. */
    CONTROLLER_UNAVAILABLE(7, true),
    /** The broker is not registered (e.g. a heartbeat before registration). */
    UNKNOWN_BROKER(8, true),
    /** A topic config value is invalid (e.g. a log setting out of range). */
    INVALID_CONFIG(9, false),
    INTERNAL(99, false);

    private final int code;
    private final boolean retriable;

    MetadataError(int code, boolean retriable) {
        this.code = code;
        this.retriable = retriable;
    }

    public int code() {
        return code;
    }

    /** Whether retrying the same request later may succeed. */
    public boolean retriable() {
        return retriable;
    }

    public static Optional<MetadataError> forCode(int code) {
        for (MetadataError e : values()) {
            if (e.code == code) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /** The typed exception for this error. */
    public MetadataException exception(String message) {
        return switch (this) {
            case TOPIC_EXISTS -> new TopicExistsException(message);
            case UNKNOWN_TOPIC -> new UnknownTopicException(message);
            case INVALID_TOPIC, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG ->
                new InvalidTopicException(this, message);
            case NOT_CONTROLLER, CONTROLLER_UNAVAILABLE, UNKNOWN_BROKER ->
                new ControllerUnavailableException(this, message);
            default -> new MetadataException(this, message);
        };
    }
}
