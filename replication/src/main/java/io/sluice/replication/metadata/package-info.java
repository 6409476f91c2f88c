/**
 * The cluster metadata API: brokers and their liveness, topics, partition assignments, as replicated by the metadata
 * controller (the {@code __metadata} Raft group). Values are immutable records; {@link
 * io.sluice.replication.metadata.MetadataClient} creates and deletes topics from any broker.
 */
package io.sluice.replication.metadata;
