package io.sluice.logstore.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Releases a file mapping now instead of at garbage collection (so deleted index files free their disk
 * space promptly), through {@code sun.misc.Unsafe.invokeCleaner} when the JDK offers it; otherwise does
 * nothing and the mapping goes away with the buffer.
 *
 * <p>Callers must guarantee that nobody touches the buffer afterwards (segments only unmap when their
 * reference count reaches zero): accessing an unmapped buffer crashes the JVM. Thread-safe.
 */
final class Unmapper {
    private static final MethodHandle INVOKE_CLEANER = lookup();

    private Unmapper() {}

    private static MethodHandle lookup() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field f = unsafeClass.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            Object unsafe = f.get(null);
            return MethodHandles.lookup()
                    .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
                    .bindTo(unsafe);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    static void unmap(MappedByteBuffer buffer) {
        if (INVOKE_CLEANER == null || buffer == null || buffer.capacity() == 0) {
            return;
        }
        try {
            INVOKE_CLEANER.invokeExact((ByteBuffer) buffer);
        } catch (Throwable ignored) {
            // Best effort: the GC unmaps it eventually.
        }
    }
}
