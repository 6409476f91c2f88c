package io.sluice.replication.metadata;

/** A topic with that name already exists. Immutable, thread-safe. */
public final class TopicExistsException extends MetadataException {
    public TopicExistsException(String message) {
        super(MetadataError.TOPIC_EXISTS, message);
    }
}
