package io.sluice.client.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.sluice.client.ErrorCode;
import io.sluice.client.NotLeaderException;
import io.sluice.client.OffsetOutOfRangeException;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TimeoutException;
import io.sluice.proto.GrpcErrors;
import io.sluice.proto.v1.ErrorInfo;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one place that turns wire failures into {@link SluiceException}s: an in-band {@link ErrorInfo}, or a gRPC
 * status with (preferably) the {@code sluice-error-bin} trailer holding an ErrorInfo. Without the trailer the
 * gRPC status code decides, following the status of each code in the API.
 *
 * <p>Stateless and thread-safe.
 */
public final class ErrorMapper {
    /** The trailer carrying an {@link ErrorInfo} next to a non-OK status. */
    public static final Metadata.Key<byte[]> ERROR_TRAILER =
            Metadata.Key.of(GrpcErrors.ERROR_TRAILER, Metadata.BINARY_BYTE_MARSHALLER);

    private ErrorMapper() {}

    /** Maps an in-band error (present, code not UNSPECIFIED). */
    public static SluiceException fromErrorInfo(ErrorInfo info) {
        ErrorCode code = ErrorCode.forNumber(info.getCodeValue());
        String message = info.getMessage().isEmpty() ? code.name() : info.getMessage();
        switch (code) {
            case NOT_LEADER, NOT_COORDINATOR -> {
                if (code == ErrorCode.NOT_LEADER) {
                    var d = info.getNotLeader();
                    OptionalInt id = d.hasLeaderId() ? OptionalInt.of(d.getLeaderId()) : OptionalInt.empty();
                    Optional<String> endpoint = d.hasLeaderEndpoint()
                                    && !d.getLeaderEndpoint().getHost().isEmpty()
                            ? Optional.of(d.getLeaderEndpoint().getHost() + ":"
                                    + d.getLeaderEndpoint().getPort())
                            : Optional.empty();
                    return new NotLeaderException(message, id, endpoint, d.getLeaderTerm());
                }
                return new RetriableException(code, message);
            }
            case OFFSET_OUT_OF_RANGE -> {
                if (info.hasOffsetRange()) {
                    return new OffsetOutOfRangeException(
                            message,
                            info.getOffsetRange().getLogStartOffset(),
                            info.getOffsetRange().getHighWatermark());
                }
                return new OffsetOutOfRangeException(message, -1, -1);
            }
            case REQUEST_TIMED_OUT -> {
                return new TimeoutException(message);
            }
            default -> {
                if (info.hasInternal() && !info.getInternal().getErrorId().isEmpty()) {
                    message = message + " (error id " + info.getInternal().getErrorId() + ")";
                }
                if (info.hasBadRequest() && !info.getBadRequest().getField().isEmpty()) {
                    message = message + " [" + info.getBadRequest().getField() + "]";
                }
                if (code.isRetriable()) {
                    Duration after = info.hasRetryAfter()
                            ? Duration.ofMillis(info.getRetryAfter().getRetryAfterMs())
                            : null;
                    return new RetriableException(code, message, after, null);
                }
                return new SluiceException(code, message);
            }
        }
    }

    /**
     * Maps any failure of an RPC or of a future: gRPC status exceptions (with or without the trailer), already
     * mapped {@link SluiceException}s (unwrapped from completion wrappers), and anything else as UNKNOWN.
     */
    public static SluiceException map(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof SluiceException se) {
            return se;
        }
        Status status;
        Metadata trailers;
        if (cause instanceof StatusRuntimeException sre) {
            status = sre.getStatus();
            trailers = sre.getTrailers();
        } else if (cause instanceof StatusException se) {
            status = se.getStatus();
            trailers = se.getTrailers();
        } else {
            return new SluiceException(ErrorCode.UNKNOWN, String.valueOf(cause.getMessage()), cause);
        }
        if (trailers != null) {
            byte[] raw = trailers.get(ERROR_TRAILER);
            if (raw != null) {
                try {
                    ErrorInfo info = ErrorInfo.parseFrom(raw);
                    if (info.getCodeValue() != 0) {
                        return fromErrorInfo(info);
                    }
                } catch (InvalidProtocolBufferException e) {
                    // fall through to the status code: a garbled detail must not hide the failure itself
                }
            }
        }
        return fromStatus(status);
    }

    /** Maps a bare gRPC status (no ErrorInfo) by its code. */
    public static SluiceException fromStatus(Status status) {
        String description = status.getDescription();
        if (description == null || description.isBlank()) {
            description = status.getCode().name();
        }
        if (status.getCause() != null && status.getCode() == Status.Code.UNAVAILABLE) {
            description = description + ": " + status.getCause().getMessage();
        }
        return switch (status.getCode()) {
            case UNAVAILABLE, CANCELLED, ABORTED ->
                new RetriableException(ErrorCode.BROKER_NOT_AVAILABLE, "broker not available: " + description);
            case DEADLINE_EXCEEDED -> new TimeoutException("request timed out: " + description);
            case RESOURCE_EXHAUSTED -> new RetriableException(ErrorCode.RESOURCE_EXHAUSTED, description);
            case INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION ->
                new SluiceException(ErrorCode.INVALID_REQUEST, description);
            case UNIMPLEMENTED -> new SluiceException(ErrorCode.UNSUPPORTED_VERSION, description);
            case NOT_FOUND -> new SluiceException(ErrorCode.UNKNOWN_TOPIC, description);
            case ALREADY_EXISTS -> new SluiceException(ErrorCode.TOPIC_ALREADY_EXISTS, description);
            case INTERNAL -> new SluiceException(ErrorCode.INTERNAL, description);
            default -> new SluiceException(ErrorCode.UNKNOWN, status.getCode() + ": " + description);
        };
    }

    /** Strips {@link CompletionException}/{@link ExecutionException} wrappers. */
    public static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
