package io.sluice.replication.metadata;

/**
 * A topic request was invalid: a bad name, partition count, config, or a replication factor that the live brokers
 * cannot satisfy ({@link MetadataError#INVALID_TOPIC}, {@link MetadataError#INVALID_PARTITIONS}, {@link
 * MetadataError#INVALID_CONFIG}, {@link MetadataError#INVALID_REPLICATION_FACTOR}). Immutable, thread-safe.
 */
public final class InvalidTopicException extends MetadataException {
    public InvalidTopicException(MetadataError error, String message) {
        super(error, message);
    }
}
