/**
 * Internals of {@link io.sluice.replication.node.ReplicationNode}: the adapter that runs the metadata controller on
 * the broker's Raft host, the reconciler that makes local replicas follow the assignment, and the preferred-leader
 * rebalance.
 */
package io.sluice.replication.node.internal;
