package io.sluice.cli;

import java.util.Map;

/**
 * A tiny JSON writer for the CLI's output: string escaping per RFC 8259 and helpers for flat objects.
 *
 * <p>Stateless and thread-safe.
 */
public final class Json {
    private Json() {}

    /** {@code s} as a JSON string literal (with quotes), or {@code null} for null. */
    public static String string(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** A JSON object of string values (null values written as null), keys in iteration order. */
    public static String stringMap(Map<String, String> map) {
        StringBuilder b = new StringBuilder("{");
        boolean first = true;
        for (var e : map.entrySet()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(string(e.getKey())).append(':').append(string(e.getValue()));
        }
        return b.append('}').toString();
    }
}
