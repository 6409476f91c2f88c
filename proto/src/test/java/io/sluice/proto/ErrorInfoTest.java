package io.sluice.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.sluice.proto.v1.BadRequestDetail;
import io.sluice.proto.v1.Endpoint;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.InternalDetail;
import io.sluice.proto.v1.NotLeaderDetail;
import io.sluice.proto.v1.OffsetRangeDetail;
import io.sluice.proto.v1.ProduceResponse;
import io.sluice.proto.v1.RetryAfterDetail;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Round trips of {@link ErrorInfo} with each detail, and the presence rules the API relies on. */
class ErrorInfoTest {

    @Test
    void everyDetailSurvivesSerialization() throws InvalidProtocolBufferException {
        List<ErrorInfo> errors = List.of(
                ErrorInfo.newBuilder()
                        .setCode(ErrorCode.ERROR_CODE_NOT_LEADER)
                        .setMessage("leader moved")
                        .setNotLeader(NotLeaderDetail.newBuilder()
                                .setLeaderId(3)
                                .setLeaderEndpoint(Endpoint.newBuilder()
                                        .setHost("127.0.0.1")
                                        .setPort(9093))
                                .setLeaderTerm(7))
                        .build(),
                ErrorInfo.newBuilder()
                        .setCode(ErrorCode.ERROR_CODE_OFFSET_OUT_OF_RANGE)
                        .setOffsetRange(OffsetRangeDetail.newBuilder()
                                .setLogStartOffset(10)
                                .setHighWatermark(20)
                                .setLogEndOffset(25))
                        .build(),
                ErrorInfo.newBuilder()
                        .setCode(ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED)
                        .setRetryAfter(RetryAfterDetail.newBuilder().setRetryAfterMs(250))
                        .build(),
                ErrorInfo.newBuilder()
                        .setCode(ErrorCode.ERROR_CODE_INTERNAL)
                        .setInternal(InternalDetail.newBuilder().setErrorId("4b1d6c2e"))
                        .build(),
                ErrorInfo.newBuilder()
                        .setCode(ErrorCode.ERROR_CODE_INVALID_CONFIG)
                        .setBadRequest(BadRequestDetail.newBuilder()
                                .setField("retention.ms")
                                .setReason("not a number"))
                        .build());
        for (ErrorInfo error : errors) {
            ErrorInfo parsed = ErrorInfo.parseFrom(error.toByteArray());
            assertEquals(error, parsed);
            assertEquals(error.getDetailCase(), parsed.getDetailCase());
        }
    }

    @Test
    void unknownLeaderIsAbsentNotZero() throws InvalidProtocolBufferException {
        NotLeaderDetail electing = NotLeaderDetail.newBuilder().build();
        assertFalse(NotLeaderDetail.parseFrom(electing.toByteArray()).hasLeaderId());
        NotLeaderDetail brokerZero = NotLeaderDetail.newBuilder().setLeaderId(0).build();
        assertTrue(NotLeaderDetail.parseFrom(brokerZero.toByteArray()).hasLeaderId());
    }

    @Test
    void unknownCodeNumberIsKeptForTheCaller() throws InvalidProtocolBufferException {
        ErrorInfo fromNewerBroker =
                ErrorInfo.newBuilder().setCodeValue(9999).setMessage("new").build();
        ErrorInfo parsed = ErrorInfo.parseFrom(fromNewerBroker.toByteArray());
        assertEquals(ErrorCode.UNRECOGNIZED, parsed.getCode());
        assertEquals(9999, parsed.getCodeValue());
    }

    @Test
    void successfulProduceResponseHasNoError() {
        ProduceResponse ok = ProduceResponse.newBuilder()
                .setRequestId(1)
                .setBaseOffset(0)
                .setLastOffset(4)
                .build();
        assertFalse(ok.hasError());
        assertFalse(ok.hasLogAppendTimeMs());
    }
}
