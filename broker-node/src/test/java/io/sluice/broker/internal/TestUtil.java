package io.sluice.broker.internal;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Test helpers. */
public final class TestUtil {
    private TestUtil() {}

    /** Polls {@code condition} until it holds or {@code timeout} passes, then fails with {@code message}. */
    public static void waitFor(BooleanSupplier condition, Duration timeout, String message) {
        waitFor(condition, timeout, message, () -> "");
    }

    /** As {@link #waitFor(BooleanSupplier, Duration, String)}; on timeout the message ends with {@code state.get()}. */
    public static void waitFor(BooleanSupplier condition, Duration timeout, String message, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String detail = state.get();
                throw new AssertionError(
                        "timed out after " + timeout + ": " + message + (detail.isEmpty() ? "" : "; " + detail));
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
