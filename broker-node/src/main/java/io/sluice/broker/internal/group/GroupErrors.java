package io.sluice.broker.internal.group;

import io.sluice.broker.internal.BrokerException;
import io.sluice.proto.v1.ErrorCode;

/**
 * The group-level failures of the coordinator, with messages that tell the member what to do next.
 *
 * <p>Stateless and thread-safe.
 */
final class GroupErrors {
    private GroupErrors() {}

    static BrokerException unknownMember(String groupId, String memberId) {
        return BrokerException.of(
                ErrorCode.ERROR_CODE_UNKNOWN_MEMBER,
                "\"" + memberId + "\" is not a member of group \"" + groupId + "\" (its session expired, it left or"
                        + " it never joined); drop the partitions without committing and rejoin with an empty member id"
                        + " and epoch 0");
    }

    static BrokerException fencedEpoch(String groupId, String memberId, int sent, int current) {
        return BrokerException.of(
                ErrorCode.ERROR_CODE_FENCED_MEMBER_EPOCH,
                "member \"" + memberId + "\" of group \"" + groupId + "\" sent epoch " + sent
                        + " but its current epoch is " + current + ": it is fenced; drop the partitions without"
                        + " committing and rejoin with epoch 0");
    }

    static BrokerException staleEpoch(String groupId, String memberId, int sent, int current) {
        return BrokerException.of(
                ErrorCode.ERROR_CODE_STALE_MEMBER_EPOCH,
                "commit refused: member \"" + memberId + "\" of group \"" + groupId + "\" sent epoch " + sent
                        + ", older than its current epoch " + current + "; heartbeat to learn the current assignment,"
                        + " then commit the partitions it still owns with the new epoch");
    }

    static BrokerException fencedInstance(String groupId, String memberId) {
        return BrokerException.of(
                ErrorCode.ERROR_CODE_FENCED_INSTANCE_ID,
                "member \"" + memberId + "\" of group \"" + groupId + "\" was replaced by another member joining"
                        + " with the same instance id; stop this consumer (two processes must not share an instance"
                        + " id)");
    }

    static BrokerException notEmpty(String groupId, int members, String operation) {
        return BrokerException.of(
                ErrorCode.ERROR_CODE_GROUP_NOT_EMPTY,
                "group \"" + groupId + "\" has " + members + " active member" + (members == 1 ? "" : "s") + "; "
                        + operation + " needs a group without members: stop its consumers (or wait until their"
                        + " sessions time out) and retry");
    }

    static BrokerException deleting(String groupId) {
        return BrokerException.of(
                ErrorCode.ERROR_CODE_COORDINATOR_LOAD_IN_PROGRESS,
                "group \"" + groupId + "\" is being deleted; retry shortly");
    }
}
