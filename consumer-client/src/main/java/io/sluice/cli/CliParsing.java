package io.sluice.cli;

import io.sluice.client.OffsetResetSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for CLI values: durations ({@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, ISO-8601 {@code PT5S}),
 * positions ({@code earliest}, {@code latest}, an offset, an ISO-8601 time) and group reset targets
 * ({@code earliest}, {@code latest}, {@code offset:N}, {@code time:ISO-8601}, {@code shift:±N}).
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

    /** Parses {@code earliest | latest | OFFSET | ISO-8601-TIME} as the value of {@code --from}. */
    public static From from(String s) {
        return position(s, "--from");
    }

    /** Parses {@code earliest | latest | OFFSET | ISO-8601-TIME} as the value of {@code option}. */
    public static From position(String s, String option) {
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
                throw new IllegalArgumentException("offset out of range in " + option + ": '" + s + "'");
            }
        }
        try {
            return new From.Time(time(t));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + option + " '" + s
                    + "' (expected earliest, latest, an offset, or an ISO-8601 time like 2026-01-31T12:00:00Z)");
        }
    }

    /**
     * Parses an ISO-8601 instant ({@code 2026-01-31T12:00:00Z}, fractions allowed) or date-time with an offset
     * ({@code 2026-01-31T13:00:00+01:00}); rejects times before 1970.
     */
    public static Instant time(String s) {
        String t = s.trim();
        Instant i;
        try {
            i = Instant.parse(t);
        } catch (DateTimeParseException e) {
            try {
                i = OffsetDateTime.parse(t).toInstant();
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("invalid time '" + s
                        + "' (expected ISO-8601 with a zone, like 2026-01-31T12:00:00Z or 2026-01-31T13:00:00+01:00)");
            }
        }
        if (i.toEpochMilli() < 0) {
            throw new IllegalArgumentException("time '" + s + "' is before 1970-01-01T00:00:00Z");
        }
        return i;
    }

    /** Parses a {@code group reset --to} value: earliest, latest, offset:N, time:ISO-8601 or shift:±N. */
    public static OffsetResetSpec resetSpec(String s) {
        String t = s.trim();
        String lower = t.toLowerCase(Locale.ROOT);
        String expected = " (expected earliest, latest, offset:N, time:ISO-8601 or shift:+N/-N)";
        if (lower.equals("earliest")) {
            return OffsetResetSpec.earliest();
        }
        if (lower.equals("latest")) {
            return OffsetResetSpec.latest();
        }
        if (lower.startsWith("offset:")) {
            String n = t.substring("offset:".length()).trim();
            if (!n.matches("\\d{1,18}")) {
                throw new IllegalArgumentException(
                        "invalid --to '" + s + "': the offset must be a number >= 0" + expected);
            }
            return OffsetResetSpec.toOffset(Long.parseLong(n));
        }
        if (lower.startsWith("time:")) {
            try {
                return OffsetResetSpec.toTime(time(t.substring("time:".length())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid --to '" + s + "': " + e.getMessage());
            }
        }
        if (lower.startsWith("shift:")) {
            String n = t.substring("shift:".length()).trim();
            if (!n.matches("[+-]?\\d{1,18}")) {
                throw new IllegalArgumentException(
                        "invalid --to '" + s + "': the shift must be a signed number like -100 or +5" + expected);
            }
            return OffsetResetSpec.shiftBy(Long.parseLong(n));
        }
        throw new IllegalArgumentException("invalid --to '" + s + "'" + expected);
    }
}
