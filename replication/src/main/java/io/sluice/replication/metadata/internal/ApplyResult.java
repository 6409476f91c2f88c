package io.sluice.replication.metadata.internal;

import io.sluice.replication.metadata.MetadataError;
import io.sluice.replication.metadata.TopicInfo;
import java.util.Optional;

/**
 * The outcome of applying one command (or of refusing a request before proposing it).
 *
 * <p>Immutable, thread-safe.
 *
 * @param error {@link MetadataError#NONE} on success
 * @param message human-readable detail of an error, empty on success
 * @param version the metadata version (Raft index) at which the command was applied, 0 when not applied
 * @param topic the created topic, for a successful create
 */
public record ApplyResult(MetadataError error, String message, long version, Optional<TopicInfo> topic) {

    public static ApplyResult ok(long version) {
        return new ApplyResult(MetadataError.NONE, "", version, Optional.empty());
    }

    public static ApplyResult created(long version, TopicInfo topic) {
        return new ApplyResult(MetadataError.NONE, "", version, Optional.of(topic));
    }

    public static ApplyResult failed(MetadataError error, String message) {
        return new ApplyResult(error, message, 0, Optional.empty());
    }

    public boolean isOk() {
        return error == MetadataError.NONE;
    }
}
