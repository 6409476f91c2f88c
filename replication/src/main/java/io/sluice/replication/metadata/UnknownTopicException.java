package io.sluice.replication.metadata;

/** No topic with that name exists. Immutable, thread-safe. */
public final class UnknownTopicException extends MetadataException {
    public UnknownTopicException(String message) {
        super(MetadataError.UNKNOWN_TOPIC, message);
    }
}
