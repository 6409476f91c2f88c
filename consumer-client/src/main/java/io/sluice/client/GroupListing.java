package io.sluice.client;

import java.util.Objects;

/**
 * The outline of one consumer group, as listed by {@link Admin#listGroups()}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param groupId group id
 * @param state current state
 * @param memberCount number of members
 */
public record GroupListing(String groupId, GroupState state, int memberCount) {
    public GroupListing {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(state, "state");
    }
}
