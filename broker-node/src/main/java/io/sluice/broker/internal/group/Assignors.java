package io.sluice.broker.internal.group;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The assignors the broker offers, by the names members may send: {@value UniformAssignor#NAME} (the default, sticky;
 * alias {@value UniformAssignor#ALIAS}), {@value RangeAssignor#NAME} and {@value RoundRobinAssignor#NAME} (alias
 * {@code roundrobin}). Names are case-insensitive; an alias resolves to the canonical assignor, so a group never sees
 * two names for the same algorithm.
 *
 * <p>Stateless and thread-safe.
 */
public final class Assignors {
    /** The assignor of a group whose first member names none. */
    public static final Assignor DEFAULT = new UniformAssignor();

    private static final Assignor RANGE = new RangeAssignor();
    private static final Assignor ROUND_ROBIN = new RoundRobinAssignor();

    private Assignors() {}

    /** The canonical names, for error messages and docs. */
    public static List<String> names() {
        return List.of(UniformAssignor.NAME, RangeAssignor.NAME, RoundRobinAssignor.NAME);
    }

    /** The assignor called {@code name} (or an alias of it); empty for an unknown name. Blank means the default. */
    public static Optional<Assignor> byName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "", UniformAssignor.NAME, UniformAssignor.ALIAS -> Optional.of(DEFAULT);
            case RangeAssignor.NAME -> Optional.of(RANGE);
            case RoundRobinAssignor.NAME, "roundrobin" -> Optional.of(ROUND_ROBIN);
            default -> Optional.empty();
        };
    }
}
