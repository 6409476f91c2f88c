package io.sluice.broker.internal;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sluice.logstore.OffsetOutOfRangeException;
import io.sluice.logstore.record.CorruptRecordException;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.InternalDetail;
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
            Metadata.Key.of("sluice-error-bin", Metadata.BINARY_BYTE_MARSHALLER);

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
        return switch (code) {
            case ERROR_CODE_UNSPECIFIED -> Status.OK;
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
                    ERROR_CODE_UNSUPPORTED_ASSIGNOR -> Status.INVALID_ARGUMENT;
            case ERROR_CODE_UNSUPPORTED_VERSION -> Status.UNIMPLEMENTED;
            case ERROR_CODE_REQUEST_TIMED_OUT -> Status.DEADLINE_EXCEEDED;
            case ERROR_CODE_RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case ERROR_CODE_BROKER_NOT_AVAILABLE,
                    ERROR_CODE_NOT_LEADER,
                    ERROR_CODE_NOT_ENOUGH_REPLICAS,
                    ERROR_CODE_CONTROLLER_NOT_AVAILABLE,
                    ERROR_CODE_NOT_COORDINATOR,
                    ERROR_CODE_COORDINATOR_NOT_AVAILABLE,
                    ERROR_CODE_COORDINATOR_LOAD_IN_PROGRESS -> Status.UNAVAILABLE;
            case ERROR_CODE_UNKNOWN_TOPIC, ERROR_CODE_UNKNOWN_PARTITION, ERROR_CODE_UNKNOWN_GROUP -> Status.NOT_FOUND;
            case ERROR_CODE_OFFSET_OUT_OF_RANGE -> Status.OUT_OF_RANGE;
            case ERROR_CODE_TOPIC_ALREADY_EXISTS, ERROR_CODE_DUPLICATE_SEQUENCE -> Status.ALREADY_EXISTS;
            case ERROR_CODE_FENCED_PRODUCER,
                    ERROR_CODE_OUT_OF_ORDER_SEQUENCE,
                    ERROR_CODE_UNKNOWN_PRODUCER_ID,
                    ERROR_CODE_UNKNOWN_MEMBER,
                    ERROR_CODE_FENCED_MEMBER_EPOCH,
                    ERROR_CODE_STALE_MEMBER_EPOCH,
                    ERROR_CODE_GROUP_NOT_EMPTY,
                    ERROR_CODE_FENCED_INSTANCE_ID,
                    ERROR_CODE_INCONSISTENT_ASSIGNOR -> Status.FAILED_PRECONDITION;
            default -> Status.INTERNAL;
        };
    }

    static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
