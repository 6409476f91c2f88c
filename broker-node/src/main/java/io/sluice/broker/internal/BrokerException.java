package io.sluice.broker.internal;

import io.sluice.proto.v1.BadRequestDetail;
import io.sluice.proto.v1.Endpoint;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.ErrorInfo;
import io.sluice.proto.v1.NotLeaderDetail;
import io.sluice.replication.metadata.BrokerInfo;
import java.util.Objects;
import java.util.Optional;

/**
 * A request failure the broker expects and explains to the client: it carries the typed {@link ErrorInfo} sent
 * in-band or in the {@code sluice-error-bin} trailer. The gRPC status follows from the code ({@link Errors}).
 *
 * <p>Immutable and thread-safe. No stack trace is filled in: these are answers, not bugs.
 */
public final class BrokerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient ErrorInfo info;

    public BrokerException(ErrorInfo info) {
        super(info.getMessage(), null, false, false);
        this.info = Objects.requireNonNull(info, "info");
    }

    public ErrorInfo info() {
        return info;
    }

    public ErrorCode code() {
        return info.getCode();
    }

    public static BrokerException of(ErrorCode code, String message) {
        return new BrokerException(
                ErrorInfo.newBuilder().setCode(code).setMessage(message).build());
    }

    /** INVALID_REQUEST naming the rejected field. */
    public static BrokerException invalidRequest(String field, String reason) {
        return badRequest(ErrorCode.ERROR_CODE_INVALID_REQUEST, field, reason);
    }

    public static BrokerException badRequest(ErrorCode code, String field, String reason) {
        return new BrokerException(ErrorInfo.newBuilder()
                .setCode(code)
                .setMessage(field + ": " + reason)
                .setBadRequest(BadRequestDetail.newBuilder().setField(field).setReason(reason))
                .build());
    }

    /** NOT_LEADER naming the leader when it is known. */
    public static BrokerException notLeader(String topic, int partition, Optional<BrokerInfo> leader, long leaderTerm) {
        NotLeaderDetail.Builder d = NotLeaderDetail.newBuilder().setLeaderTerm(leaderTerm);
        leader.ifPresent(b -> d.setLeaderId(b.id())
                .setLeaderEndpoint(Endpoint.newBuilder().setHost(b.host()).setPort(b.grpcPort())));
        String msg = "this broker is not the leader of " + topic + "-" + partition
                + leader.map(b -> "; the leader is broker " + b.id() + " at " + b.host() + ":" + b.grpcPort())
                        .orElse("; no leader is known (election in progress)");
        return new BrokerException(ErrorInfo.newBuilder()
                .setCode(ErrorCode.ERROR_CODE_NOT_LEADER)
                .setMessage(msg)
                .setNotLeader(d)
                .build());
    }
}
