/**
 * The Sluice Java client: {@link io.sluice.client.SluiceClient} and the {@link io.sluice.client.Producer},
 * {@link io.sluice.client.Consumer} and {@link io.sluice.client.Admin} it creates.
 *
 * <p>This package holds only interfaces, value records and exceptions; the implementation lives in
 * {@code io.sluice.client.internal}, which applications must not use. No gRPC, protobuf or Guava type appears
 * in this package's API. Every remote operation exists as {@code fooAsync} returning a
 * {@link java.util.concurrent.CompletableFuture} and as a blocking {@code foo} that waits for it. Failures are
 * unchecked {@link io.sluice.client.SluiceException}s carrying a stable {@link io.sluice.client.ErrorCode};
 * retriable ones are {@link io.sluice.client.RetriableException}s.
 */
package io.sluice.client;
