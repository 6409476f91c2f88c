package io.sluice.broker.internal.offsets;

import java.util.Optional;

/**
 * This broker does not coordinate the group (it does not lead the group's {@code __offsets} partition, or has not
 * finished taking over). Retriable: the client looks the coordinator up again (FindCoordinator). Maps to the wire
 * error NOT_COORDINATOR.
 *
 * <p>Immutable and thread-safe.
 */
public final class NotCoordinatorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String groupId;
    private final transient Optional<Integer> coordinator;

    public NotCoordinatorException(String groupId, Optional<Integer> coordinator, String message) {
        super(message, null, false, false);
        this.groupId = groupId;
        this.coordinator = coordinator;
    }

    /** The group the request was for. */
    public String groupId() {
        return groupId;
    }

    /** The broker that coordinates the group as far as this broker knows; empty while unknown. */
    public Optional<Integer> coordinator() {
        return coordinator;
    }
}
