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

    /** As {@link #waitFor(BooleanSupplier, Duration, String)}, the message computed only on timeout. */
    public static void waitFor(BooleanSupplier condition, Duration timeout, Supplier<String> message) {
        waitFor(condition, timeout, message, () -> "");
    }

    /** As {@link #waitFor(BooleanSupplier, Duration, String)}; on timeout the message ends with {@code state.get()}. */
    public static void waitFor(BooleanSupplier condition, Duration timeout, String message, Supplier<String> state) {
        waitFor(condition, timeout, () -> message, state);
    }

    private static void waitFor(
            BooleanSupplier condition, Duration timeout, Supplier<String> message, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (true) {
            // A transient error (a broker between leaders, a connection being opened) counts as "not yet".
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                String detail = state.get();
                AssertionError error = new AssertionError("timed out after " + timeout + ": " + message.get()
                        + (detail.isEmpty() ? "" : "; " + detail)
                        + (last == null ? "" : "; last error: " + last));
                if (last != null) {
                    error.initCause(last);
                }
                throw error;
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
