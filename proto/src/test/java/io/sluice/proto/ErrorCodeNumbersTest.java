package io.sluice.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.proto.v1.ErrorCode;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Pins the wire number of every {@link ErrorCode}: the name may change, the number never. Adding a
 * code means adding it here; renumbering or removing one fails this test.
 */
class ErrorCodeNumbersTest {
    private static final Map<String, Integer> PINNED = new LinkedHashMap<>();

    static {
        PINNED.put("ERROR_CODE_UNSPECIFIED", 0);
        PINNED.put("ERROR_CODE_INTERNAL", 1);
        PINNED.put("ERROR_CODE_INVALID_REQUEST", 2);
        PINNED.put("ERROR_CODE_UNSUPPORTED_VERSION", 3);
        PINNED.put("ERROR_CODE_REQUEST_TIMED_OUT", 4);
        PINNED.put("ERROR_CODE_RESOURCE_EXHAUSTED", 5);
        PINNED.put("ERROR_CODE_BROKER_NOT_AVAILABLE", 6);
        PINNED.put("ERROR_CODE_NOT_LEADER", 100);
        PINNED.put("ERROR_CODE_UNKNOWN_TOPIC", 101);
        PINNED.put("ERROR_CODE_UNKNOWN_PARTITION", 102);
        PINNED.put("ERROR_CODE_OFFSET_OUT_OF_RANGE", 103);
        PINNED.put("ERROR_CODE_CORRUPT_BATCH", 104);
        PINNED.put("ERROR_CODE_BATCH_TOO_LARGE", 105);
        PINNED.put("ERROR_CODE_RECORD_TOO_LARGE", 106);
        PINNED.put("ERROR_CODE_NOT_ENOUGH_REPLICAS", 107);
        PINNED.put("ERROR_CODE_INVALID_TIMESTAMP", 108);
        PINNED.put("ERROR_CODE_INVALID_OFFSET", 109);
        PINNED.put("ERROR_CODE_FENCED_PRODUCER", 200);
        PINNED.put("ERROR_CODE_DUPLICATE_SEQUENCE", 201);
        PINNED.put("ERROR_CODE_OUT_OF_ORDER_SEQUENCE", 202);
        PINNED.put("ERROR_CODE_UNKNOWN_PRODUCER_ID", 203);
        PINNED.put("ERROR_CODE_TOPIC_ALREADY_EXISTS", 300);
        PINNED.put("ERROR_CODE_INVALID_TOPIC_NAME", 301);
        PINNED.put("ERROR_CODE_INVALID_PARTITION_COUNT", 302);
        PINNED.put("ERROR_CODE_INVALID_REPLICATION_FACTOR", 303);
        PINNED.put("ERROR_CODE_INVALID_CONFIG", 304);
        PINNED.put("ERROR_CODE_CONTROLLER_NOT_AVAILABLE", 305);
        PINNED.put("ERROR_CODE_UNKNOWN_GROUP", 400);
        PINNED.put("ERROR_CODE_UNKNOWN_MEMBER", 401);
        PINNED.put("ERROR_CODE_FENCED_MEMBER_EPOCH", 402);
        PINNED.put("ERROR_CODE_STALE_MEMBER_EPOCH", 403);
        PINNED.put("ERROR_CODE_GROUP_NOT_EMPTY", 404);
        PINNED.put("ERROR_CODE_NOT_COORDINATOR", 405);
        PINNED.put("ERROR_CODE_COORDINATOR_NOT_AVAILABLE", 406);
        PINNED.put("ERROR_CODE_COORDINATOR_LOAD_IN_PROGRESS", 407);
        PINNED.put("ERROR_CODE_INVALID_GROUP_ID", 408);
        PINNED.put("ERROR_CODE_FENCED_INSTANCE_ID", 409);
        PINNED.put("ERROR_CODE_UNSUPPORTED_ASSIGNOR", 410);
        PINNED.put("ERROR_CODE_INCONSISTENT_ASSIGNOR", 411);
    }

    private static ErrorCode[] definedCodes() {
        return Arrays.stream(ErrorCode.values())
                .filter(c -> c != ErrorCode.UNRECOGNIZED)
                .toArray(ErrorCode[]::new);
    }

    @Test
    void everyCodeKeepsItsPinnedNumber() {
        Map<String, Integer> actual = new TreeMap<>();
        for (ErrorCode code : definedCodes()) {
            actual.put(code.name(), code.getNumber());
        }
        Map<String, String> differences = new TreeMap<>();
        for (String name : union(PINNED.keySet(), actual.keySet())) {
            Integer pinned = PINNED.get(name);
            Integer now = actual.get(name);
            if (!java.util.Objects.equals(pinned, now)) {
                differences.put(name, "pinned " + pinned + ", now " + now);
            }
        }
        assertEquals(Map.of(), differences, "ErrorCode numbers are a wire contract: never renumber or remove");
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void numbersAreUniqueAndResolveBack() {
        Set<Integer> seen = new HashSet<>();
        for (ErrorCode code : definedCodes()) {
            assertTrue(seen.add(code.getNumber()), "duplicate number " + code.getNumber());
            assertEquals(code, ErrorCode.forNumber(code.getNumber()));
        }
    }

    @Test
    void zeroMeansNoError() {
        assertEquals(ErrorCode.ERROR_CODE_UNSPECIFIED, ErrorCode.forNumber(0));
        assertEquals(
                ErrorCode.ERROR_CODE_UNSPECIFIED,
                io.sluice.proto.v1.ErrorInfo.getDefaultInstance().getCode());
    }
}
