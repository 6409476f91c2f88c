package io.sluice.client;

/**
 * The codec a producer compresses each batch's records with. Immutable and thread-safe.
 */
public enum Compression {
    NONE,
    LZ4,
    ZSTD
}
