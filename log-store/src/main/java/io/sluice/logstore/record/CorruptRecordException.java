package io.sluice.logstore.record;

/**
 * Thrown when bytes that claim to be a record batch (or a record inside one) are malformed: bad magic,
 * CRC mismatch, lengths out of bounds, truncated varints, undecodable compressed data and so on.
 *
 * <p>The message always says what is wrong and where (a byte position, relative to the batch start or to
 * the start of the decompressed records section). Readers of untrusted bytes only ever see this exception
 * for malformed input, never an {@code IndexOutOfBoundsException} or {@code BufferUnderflowException}.
 * Brokers map it to {@code INVALID_ARGUMENT}; the log treats it as a corrupt tail during recovery.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class CorruptRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CorruptRecordException(String message) {
        super(message);
    }

    public CorruptRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
