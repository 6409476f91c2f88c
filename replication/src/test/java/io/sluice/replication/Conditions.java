package io.sluice.replication;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Condition waits for tests: poll with a deadline, never a bare sleep. Stateless and thread-safe. */
public final class Conditions {
    private Conditions() {}

    /**
     * Polls {@code condition} every few milliseconds until it holds.
     *
     * @throws AssertionError with {@code message} if it does not hold within {@code timeout}
     */
    public static void waitFor(BooleanSupplier condition, Duration timeout, String message) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + message);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }
}
