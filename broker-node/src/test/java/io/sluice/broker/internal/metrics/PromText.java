package io.sluice.broker.internal.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: families with their TYPE and HELP, samples
 * with their labels and value. Any line it does not understand fails the parse, so a test using it also checks that
 * the output is well formed. Immutable after parsing; thread-safe.
 */
public final class PromText {
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\\w+)");
    private static final Pattern HELP = Pattern.compile("# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)");
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)( -?\\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    /** TYPE by family name. */
    public final Map<String, String> types = new LinkedHashMap<>();
    /** HELP text by family name. */
    public final Map<String, String> help = new LinkedHashMap<>();

    public final List<Sample> samples = new ArrayList<>();

    private PromText() {}

    /** Parses a whole exposition; throws {@link IllegalArgumentException} naming the first bad line. */
    public static PromText parse(String text) {
        PromText t = new PromText();
        int n = 0;
        for (String line : text.split("\n")) {
            n++;
            if (line.isEmpty()) {
                continue;
            }
            Matcher m;
            if ((m = TYPE.matcher(line)).matches()) {
                t.types.put(m.group(1), m.group(2));
            } else if ((m = HELP.matcher(line)).matches()) {
                t.help.put(m.group(1), m.group(2));
            } else if (line.startsWith("#")) {
                throw new IllegalArgumentException("line " + n + ": unknown comment: " + line);
            } else if ((m = SAMPLE.matcher(line)).matches()) {
                Map<String, String> labels = new TreeMap<>();
                if (m.group(3) != null && !m.group(3).isEmpty()) {
                    Matcher l = LABEL.matcher(m.group(3));
                    int end = 0;
                    while (l.find() && l.start() == end) {
                        labels.put(l.group(1), l.group(2));
                        end = l.end();
                    }
                    if (end != m.group(3).length()) {
                        throw new IllegalArgumentException("line " + n + ": bad labels: " + line);
                    }
                }
                t.samples.add(new Sample(m.group(1), labels, parseValue(m.group(4), n)));
            } else {
                throw new IllegalArgumentException("line " + n + ": not a sample: " + line);
            }
        }
        for (Sample s : t.samples) {
            if (t.family(s.name()).isEmpty()) {
                throw new IllegalArgumentException("sample " + s.name() + " has no TYPE line");
            }
        }
        return t;
    }

    private static double parseValue(String v, int line) {
        return switch (v) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                try {
                    yield Double.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("line " + line + ": bad value " + v, e);
                }
            }
        };
    }

    /** The family a sample name belongs to (a histogram's {@code _bucket}/{@code _sum}/{@code _count} included). */
    public Optional<String> family(String sampleName) {
        if (types.containsKey(sampleName)) {
            return Optional.of(sampleName);
        }
        for (String suffix : List.of("_bucket", "_sum", "_count", "_total", "_created")) {
            if (sampleName.endsWith(suffix)) {
                String base = sampleName.substring(0, sampleName.length() - suffix.length());
                if (types.containsKey(base)) {
                    return Optional.of(base);
                }
            }
        }
        return Optional.empty();
    }

    /** Samples named exactly {@code name}. */
    public List<Sample> samples(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).toList();
    }

    /** The one sample named {@code name} whose labels include {@code labels}. */
    public Optional<Sample> sample(String name, Map<String, String> labels) {
        List<Sample> found = samples(name).stream()
                .filter(s -> s.labels().entrySet().containsAll(labels.entrySet()))
                .toList();
        if (found.size() > 1) {
            throw new IllegalStateException(found.size() + " samples " + name + labels + ": " + found);
        }
        return found.stream().findFirst();
    }

    /** The value of {@link #sample}, or NaN when absent. */
    public double value(String name, Map<String, String> labels) {
        return sample(name, labels).map(Sample::value).orElse(Double.NaN);
    }
}
