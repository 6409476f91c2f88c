package io.sluice.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import io.grpc.Status;
import io.sluice.client.ErrorCode;
import io.sluice.client.NotLeaderException;
import io.sluice.client.OffsetOutOfRangeException;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TimeoutException;
import io.sluice.proto.v1.Endpoint;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.NotLeaderDetail;
import io.sluice.proto.v1.OffsetRangeDetail;
import io.sluice.proto.v1.RetryAfterDetail;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** One mapper from wire failures to typed exceptions. */
class ErrorMapperTest {
    private static Throwable withTrailer(Status status, ErrorInfo info) {
        Metadata m = new Metadata();
        m.put(ErrorMapper.ERROR_TRAILER, info.toByteArray());
        return status.asRuntimeException(m);
    }

    @Test
    void notLeaderCarriesTheHint() {
        ErrorInfo info = ErrorInfo.newBuilder()
                .setCodeValue(100)
                .setNotLeader(NotLeaderDetail.newBuilder()
                        .setLeaderId(3)
                        .setLeaderEndpoint(Endpoint.newBuilder().setHost("h3").setPort(7072))
                        .setLeaderTerm(9))
                .build();
        NotLeaderException e = assertInstanceOf(
                NotLeaderException.class,
                ErrorMapper.map(new CompletionException(withTrailer(Status.UNAVAILABLE, info))));
        assertEquals(3, e.leaderId().getAsInt());
        assertEquals("h3:7072", e.leaderEndpoint().orElseThrow());
        assertEquals(9, e.leaderTerm());
        assertTrue(e.code().isRetriable());
    }

    @Test
    void offsetRangeAndRetryAfterAndTimeouts() {
        OffsetOutOfRangeException oor = assertInstanceOf(
                OffsetOutOfRangeException.class,
                ErrorMapper.fromErrorInfo(ErrorInfo.newBuilder()
                        .setCodeValue(103)
                        .setOffsetRange(OffsetRangeDetail.newBuilder()
                                .setLogStartOffset(5)
                                .setHighWatermark(10))
                        .build()));
        assertEquals(5, oor.logStartOffset());
        assertEquals(10, oor.highWatermark());
        assertFalse(oor.code().isRetriable());
        RetriableException busy = assertInstanceOf(
                RetriableException.class,
                ErrorMapper.fromErrorInfo(ErrorInfo.newBuilder()
                        .setCodeValue(5)
                        .setRetryAfter(RetryAfterDetail.newBuilder().setRetryAfterMs(250))
                        .build()));
        assertEquals(Duration.ofMillis(250), busy.retryAfter().orElseThrow());
        assertInstanceOf(
                TimeoutException.class,
                ErrorMapper.fromErrorInfo(ErrorInfo.newBuilder().setCodeValue(4).build()));
    }

    @Test
    void bareStatusesAndUnknownCodes() {
        SluiceException unavailable =
                ErrorMapper.map(Status.UNAVAILABLE.withDescription("refused").asRuntimeException());
        assertInstanceOf(RetriableException.class, unavailable);
        assertEquals(ErrorCode.BROKER_NOT_AVAILABLE, unavailable.code());
        assertEquals(
                ErrorCode.INVALID_REQUEST,
                ErrorMapper.map(Status.INVALID_ARGUMENT.asRuntimeException()).code());
        assertInstanceOf(TimeoutException.class, ErrorMapper.map(Status.DEADLINE_EXCEEDED.asException()));
        SluiceException unknown = ErrorMapper.fromErrorInfo(
                ErrorInfo.newBuilder().setCodeValue(9999).build());
        assertEquals(ErrorCode.UNKNOWN, unknown.code());
        assertFalse(unknown instanceof RetriableException, "unknown codes are not retriable");
        assertEquals(ErrorCode.TOPIC_ALREADY_EXISTS, ErrorCode.forNumber(300));
        assertEquals(
                ErrorCode.UNKNOWN_TOPIC,
                ErrorMapper.map(withTrailer(
                                Status.NOT_FOUND,
                                ErrorInfo.newBuilder()
                                        .setCodeValue(101)
                                        .setMessage("x")
                                        .build()))
                        .code());
    }
}
