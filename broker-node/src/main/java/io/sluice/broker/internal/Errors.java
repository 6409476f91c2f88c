package io.sluice.broker.internal;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sluice.broker.internal.offsets.NotCoordinatorException;
import io.sluice.logstore.OffsetOutOfRangeException;
import io.sluice.logstore.record.CorruptRecordException;
import io.sluice.proto.GrpcErrors;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.InternalDetail;
import io.sluice.proto.v1.NotLeaderDetail;
import io.sluice.proto.v1.OffsetRangeDetail;
import io.sluice.proto.v1.RetryAfterDetail;
import io.sluice.replication.InvalidBatchException;
import io.sluice.replication.NotLeaderException;
import io.sluice.replication.OverloadedException;
import io.sluice.replication.ReplicaFailedException;
import io.sluice.replication.RetriableReplicationException;
import io.sluice.replication.metadata.ControllerUnavailableException;
import io.sluice.replication.metadata.InvalidTopicException;
import io.sluice.replication.metadata.MetadataException;
import io.sluice.replication.metadata.TopicExistsException;
import io.sluice.replication.metadata.UnknownTopicException;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one mapping from exceptions to wire errors: {@link ErrorInfo} for in-band item errors, and gRPC status plus the
 * {@code sluice-error-bin} trailer for failed calls and streams. Anything not recognised is a bug: it becomes
 * INTERNAL with a fresh error id that is logged here with the stack trace, which never reaches the client.
 *
 * <p>Stateless and thread-safe.
 */
public final class Errors {
    private static final Logger LOG = LoggerFactory.getLogger(Errors.class);

    /** The trailer carrying the serialized {@link ErrorInfo} of a failed call (docs/api.md). */
    public static final Metadata.Key<byte[]> ERROR_TRAILER =
            Metadata.Key.of(GrpcErrors.ERROR_TRAILER, Metadata.BINARY_BYTE_MARSHALLER);

    /** Back-off suggested to clients when a partition's proposal queue is full. */
    static final int RETRY_AFTER_MS = 50;

    private Errors() {}

    /** The typed error for {@code t}, logging unexpected failures with an error id. */
    public static ErrorInfo toErrorInfo(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof BrokerException be) {
            return be.info();
        }
        if (e instanceof OffsetOutOfRangeException oor) {
            return ErrorInfo.newBuilder()
                    .setCode(ErrorCode.ERROR_CODE_OFFSET_OUT_OF_RANGE)
                    .setMessage(oor.getMessage())
                    .setOffsetRange(OffsetRangeDetail.newBuilder()
                            .setLogStartOffset(oor.logStartOffset())
                            .setHighWatermark(oor.logEndOffset())
                            .setLogEndOffset(oor.logEndOffset()))
                    .build();
        }
        if (e instanceof CorruptRecordException) {
            return info(ErrorCode.ERROR_CODE_CORRUPT_BATCH, e.getMessage());
        }
        if (e instanceof TimeoutException) {
            return info(ErrorCode.ERROR_CODE_REQUEST_TIMED_OUT, "the request timed out; its outcome is unknown");
        }
        if (e instanceof MetadataException me) {
            return metadataError(me);
        }
        if (e instanceof OverloadedException) {
            return ErrorInfo.newBuilder()
                    .setCode(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED)
                    .setMessage(e.getMessage())
                    .setRetryAfter(RetryAfterDetail.newBuilder().setRetryAfterMs(RETRY_AFTER_MS))
                    .build();
        }
        if (e instanceof InvalidBatchException) {
            return info(ErrorCode.ERROR_CODE_CORRUPT_BATCH, e.getMessage());
        }
        if (e instanceof NotCoordinatorException nc) {
            // Group handlers may add the coordinator's endpoint; this is the fallback with its id only.
            NotLeaderDetail.Builder d = NotLeaderDetail.newBuilder();
            nc.coordinator().ifPresent(d::setLeaderId);
            return ErrorInfo.newBuilder()
                    .setCode(ErrorCode.ERROR_CODE_NOT_COORDINATOR)
                    .setMessage(nc.getMessage())
                    .setNotLeader(d)
                    .build();
        }
        if (e instanceof NotLeaderException) {
            // Handlers translate it with the leader's endpoint; this is the fallback without one.
            return info(ErrorCode.ERROR_CODE_NOT_LEADER, e.getMessage());
        }
        if (e instanceof RetriableReplicationException || e instanceof ReplicaFailedException) {
            return info(ErrorCode.ERROR_CODE_BROKER_NOT_AVAILABLE, e.getMessage());
        }
        if (e instanceof StatusRuntimeException sre && sre.getStatus().getCode() == Status.Code.CANCELLED) {
            return info(ErrorCode.ERROR_CODE_BROKER_NOT_AVAILABLE, "cancelled");
        }
        String errorId = UUID.randomUUID().toString();
        LOG.error("internal error {}", errorId, e);
        return ErrorInfo.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_INTERNAL)
                .setMessage("internal error " + errorId + " (details in the broker log)")
                .setInternal(InternalDetail.newBuilder().setErrorId(errorId))
                .build();
    }

    private static ErrorInfo metadataError(MetadataException me) {
        if (me instanceof TopicExistsException) {
            return info(ErrorCode.ERROR_CODE_TOPIC_ALREADY_EXISTS, me.getMessage());
        }
        if (me instanceof UnknownTopicException) {
            return info(ErrorCode.ERROR_CODE_UNKNOWN_TOPIC, me.getMessage());
        }
        if (me instanceof ControllerUnavailableException) {
            return info(ErrorCode.ERROR_CODE_CONTROLLER_NOT_AVAILABLE, me.getMessage());
        }
        if (me instanceof InvalidTopicException) {
            ErrorCode code =
                    switch (me.error()) {
                        case INVALID_PARTITIONS -> ErrorCode.ERROR_CODE_INVALID_PARTITION_COUNT;
                        case INVALID_REPLICATION_FACTOR -> ErrorCode.ERROR_CODE_INVALID_REPLICATION_FACTOR;
                        default -> ErrorCode.ERROR_CODE_INVALID_TOPIC_NAME;
                    };
            return info(code, me.getMessage());
        }
        return switch (me.error()) {
            case NOT_CONTROLLER, CONTROLLER_UNAVAILABLE, UNKNOWN_BROKER ->
                info(ErrorCode.ERROR_CODE_CONTROLLER_NOT_AVAILABLE, me.getMessage());
            default -> toInternal(me);
        };
    }

    private static ErrorInfo toInternal(Throwable e) {
        String errorId = UUID.randomUUID().toString();
        LOG.error("internal error {}", errorId, e);
        return ErrorInfo.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_INTERNAL)
                .setMessage("internal error " + errorId + " (details in the broker log)")
                .setInternal(InternalDetail.newBuilder().setErrorId(errorId))
                .build();
    }

    private static ErrorInfo info(ErrorCode code, String message) {
        return ErrorInfo.newBuilder()
                .setCode(code)
                .setMessage(message == null ? "" : message)
                .build();
    }

    /** A failed-call exception for {@code t}: status from the code, message, and the ErrorInfo trailer. */
    public static StatusRuntimeException toStatusException(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof StatusRuntimeException sre
                && sre.getTrailers() != null
                && sre.getTrailers().containsKey(ERROR_TRAILER)) {
            return sre;
        }
        ErrorInfo info = toErrorInfo(e);
        Metadata trailers = new Metadata();
        trailers.put(ERROR_TRAILER, info.toByteArray());
        return statusOf(info.getCode())
                .withDescription(info.getCode().name() + ": " + info.getMessage())
                .asRuntimeException(trailers);
    }

    /** The gRPC status of each error code, as documented in common.proto. */
    public static Status statusOf(ErrorCode code) {
        // One table for the whole project: proto's GrpcErrors (the SDK maps statuses back with the same one).
        return Status.fromCode(GrpcErrors.statusCode(code));
    }

    static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
