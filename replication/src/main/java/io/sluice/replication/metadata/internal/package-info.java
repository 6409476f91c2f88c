/**
 * The metadata controller: the {@code __metadata} Raft group's state machine, its command and snapshot encoding,
 * replica placement, the controller RPCs and the client that forwards requests to the controller leader.
 */
package io.sluice.replication.metadata.internal;
