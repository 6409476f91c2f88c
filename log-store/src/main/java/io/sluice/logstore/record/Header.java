package io.sluice.logstore.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * One record header: a UTF-8 string key and an optional byte value ({@code null} is encoded as length -1,
 * distinct from an empty value).
 *
 * <p>Equality compares the value's bytes. The value array is not copied: callers must not mutate it after
 * handing it over. Instances are otherwise immutable and thread-safe.
 *
 * @param key the header key, never null
 * @param value the header value, or null
 */
public record Header(String key, byte[] value) {
    public Header {
        Objects.requireNonNull(key, "key");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Header other && key.equals(other.key) && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return 31 * key.hashCode() + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Header[key=" + key + ", value=" + (value == null ? "null" : value.length + " bytes") + "]";
    }
}
