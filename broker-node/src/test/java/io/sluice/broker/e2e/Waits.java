package io.sluice.broker.e2e;

import io.sluice.broker.internal.TestUtil;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Deadline-bounded polling for the end-to-end tests. Stateless; thread-safe. */
final class Waits {
    private Waits() {}

    /**
     * Polls {@code condition} until it holds; fails with {@code message} after {@code timeout}. A condition that throws
     * counts as not holding yet (see {@link TestUtil#waitFor}).
     */
    static void waitFor(BooleanSupplier condition, Duration timeout, String message) {
        TestUtil.waitFor(condition, timeout, message);
    }

    /** Like {@link #waitFor(BooleanSupplier, Duration, String)}, the message computed only on failure. */
    static void waitFor(BooleanSupplier condition, Duration timeout, Supplier<String> message) {
        TestUtil.waitFor(condition, timeout, message);
    }

    /** One polling period (never used to wait for a condition by itself). */
    static void pause(Duration d) {
        LockSupport.parkNanos(d.toNanos());
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}
