package io.sluice.logstore.record;

import java.util.Optional;

/**
 * The kinds of control record, identified by a stable int16 id stored in the control record's key.
 *
 * <p>Assigned ids: 1 {@link #RAFT_CONFIGURATION}, 2 {@link #RAFT_NO_OP}. Id 0 is invalid; 3-99 are
 * reserved for future Sluice control records (e.g. transaction markers, leader change). An id, once
 * assigned, never changes meaning.
 *
 * <p>This enum is immutable and thread-safe.
 */
public enum ControlRecordType {
    /**
     * A Raft membership change. The payload is defined by the replication module (docs/replication.md);
     * this package treats it as opaque bytes.
     */
    RAFT_CONFIGURATION((short) 1),
    /** The no-op entry a new Raft leader appends to commit its term; empty payload. */
    RAFT_NO_OP((short) 2);

    private final short id;

    ControlRecordType(short id) {
        this.id = id;
    }

    /** The stable id written in the control record key. */
    public short id() {
        return id;
    }

    /** The type with this id, or empty for an unassigned id. */
    public static Optional<ControlRecordType> forId(int id) {
        for (ControlRecordType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
