package io.sluice.broker.internal;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Test helpers. */
public final class TestUtil {
    private TestUtil() {}

    /** Polls {@code condition} until it holds or {@code timeout} passes, then fails with {@code message}. */
    public static void waitFor(BooleanSupplier condition, Duration timeout, String message) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + ": " + message);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
