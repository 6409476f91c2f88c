package io.sluice.broker.internal;

import io.sluice.proto.v1.ErrorCode;

/**
 * Topic naming rules, as in Kafka: 1 to 249 characters from {@code [a-zA-Z0-9._-]}, neither {@code "."} nor {@code
 * ".."}; names starting with {@code "__"} are reserved for internal topics.
 *
 * <p>Stateless and thread-safe.
 */
public final class TopicNames {
    public static final int MAX_LENGTH = 249;

    private TopicNames() {}

    /** Whether {@code name} is reserved for internal topics. */
    public static boolean isInternal(String name) {
        return name.startsWith("__");
    }

    /**
     * Checks a name a user wants to create.
     *
     * @throws BrokerException INVALID_TOPIC_NAME explaining the rule broken
     */
    public static void validateForCreate(String name) {
        validateSyntax(name);
        if (isInternal(name)) {
            throw invalid(name, "names starting with \"__\" are reserved for internal topics");
        }
    }

    /** Checks only the syntax (internal names allowed). */
    public static void validateSyntax(String name) {
        if (name.isEmpty()) {
            throw invalid(name, "the name is empty");
        }
        if (name.length() > MAX_LENGTH) {
            throw invalid(name, "the name has " + name.length() + " characters, more than " + MAX_LENGTH);
        }
        if (name.equals(".") || name.equals("..")) {
            throw invalid(name, "\".\" and \"..\" are not allowed");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '_'
                    || c == '-';
            if (!ok) {
                throw invalid(
                        name,
                        "character " + describe(c) + " at index " + i
                                + " is not allowed (only a-z, A-Z, 0-9, '.', '_', '-')");
            }
        }
    }

    private static String describe(char c) {
        return c < 0x20 || c > 0x7e ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }

    private static BrokerException invalid(String name, String reason) {
        String shown = name.length() > 60 ? name.substring(0, 60) + "..." : name;
        return BrokerException.badRequest(
                ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME, "name", "invalid topic name \"" + shown + "\": " + reason);
    }
}
