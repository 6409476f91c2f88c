package io.sluice.broker.internal.group;

import io.sluice.broker.internal.TopicNames;
import io.sluice.replication.metadata.ClusterMetadata;
import java.util.Collections;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What a member subscribes to: an explicit topic list (topics that do not exist yet are kept and assigned once
 * created) or a regular expression matched against the whole name of every non-internal topic, re-resolved whenever
 * the metadata changes.
 *
 * <p>Immutable and thread-safe.
 */
sealed interface Subscription {

    /** The names of the topics subscribed to under {@code metadata} (listed topics are returned even if absent). */
    SortedSet<String> resolve(ClusterMetadata metadata);

    /** An explicit topic list. */
    record Topics(SortedSet<String> names) implements Subscription {
        public Topics {
            names = Collections.unmodifiableSortedSet(new TreeSet<>(names));
        }

        @Override
        public SortedSet<String> resolve(ClusterMetadata metadata) {
            return names;
        }
    }

    /** A pattern; two patterns are equal when their source strings are. */
    record Regex(String source, Pattern pattern) implements Subscription {
        static Regex compile(String source) {
            return new Regex(source, Pattern.compile(source));
        }

        @Override
        public SortedSet<String> resolve(ClusterMetadata metadata) {
            SortedSet<String> out = new TreeSet<>();
            for (String t : metadata.topics().keySet()) {
                if (!TopicNames.isInternal(t) && pattern.matcher(t).matches()) {
                    out.add(t);
                }
            }
            return out;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Regex r && r.source.equals(source);
        }

        @Override
        public int hashCode() {
            return source.hashCode();
        }
    }

    /** Names for messages. */
    static Set<String> describe(Subscription s) {
        return s instanceof Topics t ? t.names() : Set.of("/" + ((Regex) s).source() + "/");
    }
}
