package io.sluice.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for CLI values: durations ({@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, ISO-8601 {@code PT5S})
 * and consume start positions ({@code earliest}, {@code latest}, an offset, an ISO-8601 time).
 *
 * <p>Stateless and thread-safe.
 */
public final class CliParsing {
    private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    private CliParsing() {}

    /** Parses a duration; throws IllegalArgumentException with a readable reason. */
    public static Duration duration(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        Matcher m = SIMPLE_DURATION.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            Duration d = Duration.parse(s.trim().toUpperCase(Locale.ROOT));
            if (d.isNegative()) {
                throw new IllegalArgumentException("duration must not be negative: '" + s + "'");
            }
            return d;
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    "invalid duration '" + s + "' (expected e.g. 500ms, 5s, 2m, 1h or PT5S)");
        }
    }

    /**
     * Where a consume starts.
     */
    public sealed interface From {
        /** The log start. */
        record Earliest() implements From {}

        /** The high watermark. */
        record Latest() implements From {}

        /**
         * An offset.
         *
         * @param offset the offset, {@code >= 0}
         */
        record Offset(long offset) implements From {}

        /**
         * A time.
         *
         * @param time the time
         */
        record Time(Instant time) implements From {}
    }

    /** Parses {@code earliest | latest | OFFSET | ISO-8601-TIME}. */
    public static From from(String s) {
        String t = s.trim();
        if (t.equalsIgnoreCase("earliest") || t.equalsIgnoreCase("beginning")) {
            return new From.Earliest();
        }
        if (t.equalsIgnoreCase("latest") || t.equalsIgnoreCase("end")) {
            return new From.Latest();
        }
        if (t.matches("\\d+")) {
            try {
                return new From.Offset(Long.parseLong(t));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("offset out of range: '" + s + "'");
            }
        }
        try {
            return new From.Time(Instant.parse(t));
        } catch (DateTimeParseException e) {
            // also accept an explicit offset such as +02:00
        }
        try {
            return new From.Time(OffsetDateTime.parse(t).toInstant());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("invalid --from '" + s
                    + "' (expected earliest, latest, an offset, or an ISO-8601 time like 2026-01-31T12:00:00Z)");
        }
    }
}
