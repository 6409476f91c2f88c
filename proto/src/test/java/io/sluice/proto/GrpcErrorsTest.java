package io.sluice.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.InternalDetail;
import io.sluice.proto.v1.RetryAfterDetail;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The status table of docs/api.md, and the trailer round trip without a transport. */
class GrpcErrorsTest {

    @Test
    void statusTableOfTheDocs() {
        assertEquals(Status.Code.OK, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_UNSPECIFIED));
        assertEquals(Status.Code.UNAVAILABLE, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_NOT_LEADER));
        assertEquals(Status.Code.OUT_OF_RANGE, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_OFFSET_OUT_OF_RANGE));
        assertEquals(Status.Code.NOT_FOUND, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_UNKNOWN_TOPIC));
        assertEquals(Status.Code.FAILED_PRECONDITION, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_FENCED_PRODUCER));
        assertEquals(Status.Code.FAILED_PRECONDITION, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED));
        assertEquals(Status.Code.INVALID_ARGUMENT, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_CORRUPT_BATCH));
        assertEquals(Status.Code.INTERNAL, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_INTERNAL));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, GrpcErrors.statusCode(ErrorCode.ERROR_CODE_REQUEST_TIMED_OUT));
        assertEquals(Status.Code.UNKNOWN, GrpcErrors.statusCode(ErrorCode.UNRECOGNIZED));
    }

    @Test
    void everyErrorIsANonOkStatus() {
        for (ErrorCode code : ErrorCode.values()) {
            if (code != ErrorCode.ERROR_CODE_UNSPECIFIED) {
                assertNotEquals(Status.Code.OK, GrpcErrors.statusCode(code), code.name());
            }
        }
    }

    @Test
    void retriableCodesAreTransientOnes() {
        assertTrue(GrpcErrors.isRetriable(ErrorCode.ERROR_CODE_NOT_LEADER));
        assertTrue(GrpcErrors.isRetriable(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED));
        assertTrue(GrpcErrors.isRetriable(ErrorCode.ERROR_CODE_NOT_COORDINATOR));
        assertFalse(GrpcErrors.isRetriable(ErrorCode.ERROR_CODE_CORRUPT_BATCH));
        assertFalse(GrpcErrors.isRetriable(ErrorCode.ERROR_CODE_FENCED_PRODUCER));
        assertFalse(GrpcErrors.isRetriable(ErrorCode.ERROR_CODE_INTERNAL));
        assertFalse(GrpcErrors.isRetriable(ErrorCode.UNRECOGNIZED));
        // Every retriable code is one a client can wait out, i.e. never a caller mistake.
        for (ErrorCode code : ErrorCode.values()) {
            if (GrpcErrors.isRetriable(code)) {
                assertNotEquals(Status.Code.INVALID_ARGUMENT, GrpcErrors.statusCode(code), code.name());
            }
        }
    }

    @Test
    void exceptionCarriesStatusAndErrorInfo() {
        ErrorInfo error = ErrorInfo.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED)
                .setMessage("too many fetch streams")
                .setRetryAfter(RetryAfterDetail.newBuilder().setRetryAfterMs(100))
                .build();
        StatusRuntimeException e = GrpcErrors.toStatusException(error);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertEquals(
                "ERROR_CODE_RESOURCE_EXHAUSTED: too many fetch streams",
                e.getStatus().getDescription());
        assertEquals(Optional.of(error), GrpcErrors.fromThrowable(e));
        // Futures wrap failures: the lookup follows the cause chain.
        assertEquals(Optional.of(error), GrpcErrors.fromThrowable(new CompletionException(e)));
    }

    @Test
    void trailerIsTheSerializedErrorInfoUnderItsDocumentedKey() {
        ErrorInfo error = ErrorInfo.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_INTERNAL)
                .setInternal(InternalDetail.newBuilder().setErrorId("e-42"))
                .build();
        Metadata trailers = GrpcErrors.toStatusException(error).getTrailers();
        byte[] raw = trailers.get(Metadata.Key.of("sluice-error-bin", Metadata.BINARY_BYTE_MARSHALLER));
        assertEquals(error.toByteString(), com.google.protobuf.ByteString.copyFrom(raw));
    }

    @Test
    void noTrailerMeansEmpty() {
        assertEquals(Optional.empty(), GrpcErrors.fromThrowable(Status.UNAVAILABLE.asRuntimeException()));
        assertEquals(Optional.empty(), GrpcErrors.fromThrowable(new IllegalStateException("not grpc")));
        Metadata junk = new Metadata();
        junk.put(Metadata.Key.of("sluice-error-bin", Metadata.BINARY_BYTE_MARSHALLER), new byte[] {(byte) 0xff});
        assertEquals(Optional.empty(), GrpcErrors.fromThrowable(Status.INTERNAL.asRuntimeException(junk)));
    }

    @Test
    void successCannotFailACall() {
        assertThrows(
                IllegalArgumentException.class, () -> GrpcErrors.toStatusException(ErrorInfo.getDefaultInstance()));
    }
}
