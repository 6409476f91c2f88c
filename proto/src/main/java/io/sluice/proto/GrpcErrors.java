package io.sluice.proto;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import java.util.Optional;

/**
 * The single mapping between Sluice {@link ErrorCode}s and gRPC status codes, and the carrier of an
 * {@link ErrorInfo} in the {@value #ERROR_TRAILER} trailer of a failed call.
 *
 * <p>Broker and SDK both use it, so the status table of {@code docs/api.md} exists once in code: the
 * broker's exception interceptor builds its failures with {@link #toStatusException(ErrorInfo)}, the
 * SDK recovers the typed error with {@link #fromThrowable(Throwable)}. Every {@link ErrorCode} value
 * must appear in {@link #statusCode(ErrorCode)}; the exhaustive {@code switch} makes a new code without
 * a mapping a compile error.
 *
 * <p>Stateless; this class is thread-safe.
 */
public final class GrpcErrors {
    /** Name of the binary trailer holding the serialized {@link ErrorInfo} of a failed call. */
    public static final String ERROR_TRAILER = "sluice-error-bin";

    /** Metadata key of the {@value #ERROR_TRAILER} trailer. */
    public static final Metadata.Key<ErrorInfo> ERROR_INFO_KEY =
            Metadata.Key.of(ERROR_TRAILER, ProtoUtils.metadataMarshaller(ErrorInfo.getDefaultInstance()));

    private GrpcErrors() {}

    /**
     * The gRPC status code a call failing with {@code code} ends with. {@code ERROR_CODE_UNSPECIFIED}
     * (no error) maps to {@code OK}; a number this build does not know ({@code UNRECOGNIZED}) to
     * {@code UNKNOWN}.
     */
    public static Status.Code statusCode(ErrorCode code) {
        return switch (code) {
            case ERROR_CODE_UNSPECIFIED -> Status.Code.OK;
            case ERROR_CODE_INTERNAL -> Status.Code.INTERNAL;
            case ERROR_CODE_INVALID_REQUEST,
                    ERROR_CODE_CORRUPT_BATCH,
                    ERROR_CODE_BATCH_TOO_LARGE,
                    ERROR_CODE_RECORD_TOO_LARGE,
                    ERROR_CODE_INVALID_TIMESTAMP,
                    ERROR_CODE_INVALID_OFFSET,
                    ERROR_CODE_INVALID_TOPIC_NAME,
                    ERROR_CODE_INVALID_PARTITION_COUNT,
                    ERROR_CODE_INVALID_REPLICATION_FACTOR,
                    ERROR_CODE_INVALID_CONFIG,
                    ERROR_CODE_INVALID_GROUP_ID,
                    ERROR_CODE_UNSUPPORTED_ASSIGNOR -> Status.Code.INVALID_ARGUMENT;
            case ERROR_CODE_UNSUPPORTED_VERSION -> Status.Code.UNIMPLEMENTED;
            case ERROR_CODE_REQUEST_TIMED_OUT -> Status.Code.DEADLINE_EXCEEDED;
            case ERROR_CODE_RESOURCE_EXHAUSTED -> Status.Code.RESOURCE_EXHAUSTED;
            case ERROR_CODE_BROKER_NOT_AVAILABLE,
                    ERROR_CODE_NOT_LEADER,
                    ERROR_CODE_NOT_ENOUGH_REPLICAS,
                    ERROR_CODE_CONTROLLER_NOT_AVAILABLE,
                    ERROR_CODE_NOT_COORDINATOR,
                    ERROR_CODE_COORDINATOR_NOT_AVAILABLE,
                    ERROR_CODE_COORDINATOR_LOAD_IN_PROGRESS -> Status.Code.UNAVAILABLE;
            case ERROR_CODE_UNKNOWN_TOPIC, ERROR_CODE_UNKNOWN_PARTITION, ERROR_CODE_UNKNOWN_GROUP ->
                Status.Code.NOT_FOUND;
            case ERROR_CODE_OFFSET_OUT_OF_RANGE -> Status.Code.OUT_OF_RANGE;
            case ERROR_CODE_DUPLICATE_SEQUENCE, ERROR_CODE_TOPIC_ALREADY_EXISTS -> Status.Code.ALREADY_EXISTS;
            case ERROR_CODE_FENCED_PRODUCER,
                    ERROR_CODE_OUT_OF_ORDER_SEQUENCE,
                    ERROR_CODE_UNKNOWN_PRODUCER_ID,
                    ERROR_CODE_UNKNOWN_MEMBER,
                    ERROR_CODE_FENCED_MEMBER_EPOCH,
                    ERROR_CODE_STALE_MEMBER_EPOCH,
                    ERROR_CODE_GROUP_NOT_EMPTY,
                    ERROR_CODE_FENCED_INSTANCE_ID,
                    ERROR_CODE_INCONSISTENT_ASSIGNOR -> Status.Code.FAILED_PRECONDITION;
            case UNRECOGNIZED -> Status.Code.UNKNOWN;
        };
    }

    /**
     * Whether the same request, unchanged, may succeed if sent again later (after a metadata refresh
     * or coordinator lookup for the redirect codes, after the advertised delay for
     * {@code RESOURCE_EXHAUSTED}). A produce request that failed with a code whose outcome is unknown
     * ({@code REQUEST_TIMED_OUT}, {@code NOT_LEADER}) may be duplicated by a retry unless the
     * producer is idempotent.
     */
    public static boolean isRetriable(ErrorCode code) {
        return switch (code) {
            case ERROR_CODE_REQUEST_TIMED_OUT,
                    ERROR_CODE_RESOURCE_EXHAUSTED,
                    ERROR_CODE_BROKER_NOT_AVAILABLE,
                    ERROR_CODE_NOT_LEADER,
                    ERROR_CODE_NOT_ENOUGH_REPLICAS,
                    ERROR_CODE_CONTROLLER_NOT_AVAILABLE,
                    ERROR_CODE_NOT_COORDINATOR,
                    ERROR_CODE_COORDINATOR_NOT_AVAILABLE,
                    ERROR_CODE_COORDINATOR_LOAD_IN_PROGRESS -> true;
            default -> false;
        };
    }

    /** An {@link ErrorInfo} without detail. */
    public static ErrorInfo errorInfo(ErrorCode code, String message) {
        return ErrorInfo.newBuilder().setCode(code).setMessage(message).build();
    }

    /**
     * The exception a server hands to {@code StreamObserver.onError} to fail a call with {@code error}:
     * the status derived from its code, a description naming the code, and the error in the
     * {@value #ERROR_TRAILER} trailer.
     *
     * @throws IllegalArgumentException if {@code error} carries no error ({@code ERROR_CODE_UNSPECIFIED})
     */
    public static StatusRuntimeException toStatusException(ErrorInfo error) {
        if (error.getCode() == ErrorCode.ERROR_CODE_UNSPECIFIED) {
            throw new IllegalArgumentException("an ErrorInfo without error code cannot fail a call");
        }
        String name = error.getCode() == ErrorCode.UNRECOGNIZED
                ? "code " + error.getCodeValue()
                : error.getCode().name();
        String description = error.getMessage().isEmpty() ? name : name + ": " + error.getMessage();
        Metadata trailers = new Metadata();
        trailers.put(ERROR_INFO_KEY, error);
        return Status.fromCode(statusCode(error.getCode()))
                .withDescription(description)
                .asRuntimeException(trailers);
    }

    /**
     * The {@link ErrorInfo} carried by a failed call, looked up in the trailers of the first
     * {@link StatusRuntimeException} or {@link StatusException} in {@code failure}'s cause chain.
     * Empty when there is none, e.g. when the transport failed before the broker answered; callers
     * then decide from the gRPC status alone.
     */
    public static Optional<ErrorInfo> fromThrowable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            Metadata trailers = null;
            if (t instanceof StatusRuntimeException sre) {
                trailers = sre.getTrailers();
            } else if (t instanceof StatusException se) {
                trailers = se.getTrailers();
            } else {
                continue;
            }
            if (trailers == null) {
                return Optional.empty();
            }
            try {
                return Optional.ofNullable(trailers.get(ERROR_INFO_KEY));
            } catch (RuntimeException malformed) {
                // A trailer that does not parse must not turn error handling into a crash.
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
