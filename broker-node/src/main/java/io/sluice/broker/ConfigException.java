package io.sluice.broker;

/**
 * A configuration problem an operator must fix: an unknown key, a value that does not parse or is out of range, a
 * missing required key or a bad command-line flag. The message is one line naming the key and where it came from.
 *
 * <p>Immutable and thread-safe.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
