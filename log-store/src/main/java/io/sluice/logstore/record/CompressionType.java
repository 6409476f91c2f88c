package io.sluice.logstore.record;

/**
 * The codec applied to a batch's records section, stored in bits 0-2 of the batch attributes. The ids are
 * part of the on-disk and wire format and never change.
 *
 * <ul>
 *   <li>{@link #NONE} (0): records stored as is.
 *   <li>{@link #LZ4} (1): one standard LZ4 frame (magic {@code 04 22 4d 18}) with independent blocks; any
 *       LZ4 frame decoder reads it. Readers reject frames with linked blocks.
 *   <li>{@link #ZSTD} (2): one standard Zstandard frame.
 * </ul>
 *
 * <p>Ids 3-7 are reserved; a batch naming one is corrupt. This enum is immutable and thread-safe.
 */
public enum CompressionType {
    NONE(0, "none"),
    LZ4(1, "lz4"),
    ZSTD(2, "zstd");

    private final int id;
    private final String displayName;

    CompressionType(int id, String displayName) {
        this.id = id;
        this.displayName = displayName;
    }

    /** The stable numeric id stored in the batch attributes. */
    public int id() {
        return id;
    }

    /** The lower-case name used in configuration and the CLI ({@code none}, {@code lz4}, {@code zstd}). */
    public String displayName() {
        return displayName;
    }

    /**
     * The codec with the given id.
     *
     * @throws CorruptRecordException if no codec has this id
     */
    public static CompressionType forId(int id) {
        return switch (id) {
            case 0 -> NONE;
            case 1 -> LZ4;
            case 2 -> ZSTD;
            default -> throw new CorruptRecordException("unknown compression codec id " + id);
        };
    }

    /**
     * The codec with the given display name, case-insensitively.
     *
     * @throws IllegalArgumentException if no codec has this name
     */
    public static CompressionType forName(String name) {
        for (CompressionType t : values()) {
            if (t.displayName.equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown compression type '" + name + "' (expected none, lz4 or zstd)");
    }
}
