package io.sluice.broker.internal.offsets;

/**
 * The broker's offsets RocksDB failed (I/O error, closed, corrupt value). Applying a committed {@code __offsets} batch
 * that fails this way stops that replica, as any entry that cannot be applied.
 *
 * <p>Immutable and thread-safe.
 */
public final class OffsetsStorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OffsetsStorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
