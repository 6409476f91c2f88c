package io.sluice.replication.metadata;

/**
 * Called with each new metadata view. Implementations must not block for long: all listeners of a broker share one
 * thread. Must be thread-safe only if registered with several clients.
 */
@FunctionalInterface
public interface MetadataListener {
    void onChange(ClusterMetadata metadata);
}
