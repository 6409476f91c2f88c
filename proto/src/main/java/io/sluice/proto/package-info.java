/**
 * Helpers over the generated v1 API ({@code io.sluice.proto.v1}, generated from
 * {@code src/main/proto/sluice/v1}): the error-code to gRPC-status mapping and the error trailer.
 */
package io.sluice.proto;
