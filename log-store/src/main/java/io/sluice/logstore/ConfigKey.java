package io.sluice.logstore;

import java.util.Objects;

/**
 * One configuration key of the log store: its name, type, default and documentation, kept together so the
 * reference documentation can be generated from {@link LogConfig#KEYS}.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param key dotted lower-case name ending in its unit when it has one (e.g. {@code segment.bytes})
 * @param type how the value is written
 * @param defaultValue the default, written as it would be in a properties file
 * @param doc one or two sentences for operators
 */
public record ConfigKey(String key, Type type, String defaultValue, String doc) {

    /** How a value is written. */
    public enum Type {
        /** A decimal 32-bit integer. */
        INT,
        /** A decimal 64-bit integer. */
        LONG,
        /** One of a fixed set of lower-case names (listed in the doc). */
        ENUM
    }

    public ConfigKey {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(defaultValue, "defaultValue");
        Objects.requireNonNull(doc, "doc");
    }
}
