package io.sluice.client.internal;

import io.sluice.client.ErrorCode;
import io.sluice.client.RetriableException;
import io.sluice.client.SluiceException;
import io.sluice.client.TopicPartition;
import io.sluice.proto.v1.HeartbeatRequest;
import io.sluice.proto.v1.HeartbeatResponse;
import io.sluice.proto.v1.LeaveGroupRequest;
import io.sluice.proto.v1.LeaveGroupResponse;
import io.sluice.proto.v1.SubscribedTopics;
import io.sluice.proto.v1.TopicPartitions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer's membership in its group, kept alive by a consumer-owned daemon thread that heartbeats the
 * subscription and the owned partitions to the coordinator (GroupService.Heartbeat, KIP-848 style) and records the
 * assignment it answers. The polling thread reads the latest assignment through {@link #view()}, reconciles (revokes,
 * commits, takes new partitions) and reports what it owns with {@link #owned(Set)}, which triggers an immediate
 * heartbeat.
 *
 * <p>Errors: a moved or unreachable coordinator is looked up again (FindCoordinator) with back-off, keeping the
 * membership; UNKNOWN_MEMBER and FENCED_MEMBER_EPOCH make the member <i>lost</i>: heartbeats stop until the polling
 * thread has dropped every partition without committing and called {@link #lostHandled()}, then it rejoins with an
 * empty member id and epoch 0; any other non-retriable error (FENCED_INSTANCE_ID, UNSUPPORTED_ASSIGNOR, ...) is
 * <i>fatal</i> and surfaces from the next poll.
 *
 * <p>Thread-safe: all state is guarded by this object's monitor; gRPC calls are made without holding it.
 */
final class GroupMember {
    private static final Logger log = LoggerFactory.getLogger(GroupMember.class);
    private static final long MAX_RETRY_BACKOFF_MS = 1000;
    private static final long MAX_HEARTBEAT_WAIT_MS = 5000;

    /**
     * A subscription: explicit topics or a pattern.
     *
     * @param topics the topics (empty with a pattern)
     * @param pattern the java.util.regex pattern, empty for explicit topics
     */
    record Subscription(List<String> topics, Optional<String> pattern) {}

    /**
     * What the polling thread needs to reconcile.
     *
     * @param memberId member id; empty before the first answer
     * @param epoch member epoch; 0 before the first answer
     * @param target the latest assignment
     * @param targetVersion bumped whenever {@code target} is replaced
     * @param lost true when the member was fenced and must drop its partitions
     * @param fatal a non-retriable failure, when one happened
     */
    record View(
            String memberId,
            int epoch,
            Set<TopicPartition> target,
            long targetVersion,
            boolean lost,
            Optional<SluiceException> fatal) {}

    private final GroupCalls calls;
    private final String groupId;
    private final Optional<String> instanceId;
    private final String clientId;
    private final int sessionTimeoutMs;
    private final String assignor;
    private final Runnable onChange;
    private final Thread thread;

    // guarded by this
    private Subscription subscription;
    private String memberId = "";
    private int epoch;
    private Set<TopicPartition> owned = Set.of();
    private Set<TopicPartition> target = Set.of();
    private long targetVersion;
    private boolean lost;
    private SluiceException fatal;
    private boolean heartbeatNow;
    private long nextHeartbeatNanos;
    private long intervalMs = 1000;
    private int failures;
    private long joinGeneration;
    private boolean stopped;
    private CompletableFuture<Void> nextOutcome = new CompletableFuture<>();

    GroupMember(
            GroupCalls calls,
            String groupId,
            Optional<String> instanceId,
            String clientId,
            int sessionTimeoutMs,
            String assignor,
            Runnable onChange) {
        this.calls = calls;
        this.groupId = groupId;
        this.instanceId = instanceId;
        this.clientId = clientId;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.assignor = assignor;
        this.onChange = onChange;
        this.thread = new Thread(this::run, "sluice-group-" + groupId + "-" + clientId);
        this.thread.setDaemon(true);
    }

    /** Starts (or changes) the subscription and heartbeats at once. */
    synchronized void subscribe(Subscription s) {
        subscription = s;
        heartbeatNow = true;
        if (!thread.isAlive() && !stopped) {
            thread.start();
        }
        notifyAll();
    }

    synchronized View view() {
        return new View(memberId, epoch, target, targetVersion, lost, Optional.ofNullable(fatal));
    }

    /** The polling thread now owns exactly {@code partitions}; tells the coordinator at once. */
    synchronized void owned(Set<TopicPartition> partitions) {
        owned = Set.copyOf(partitions);
        heartbeatNow = true;
        notifyAll();
    }

    /** Asks for a heartbeat now; the future completes after the next heartbeat's outcome. */
    synchronized CompletableFuture<Void> heartbeatSoon() {
        heartbeatNow = true;
        notifyAll();
        return nextOutcome;
    }

    /** The polling thread dropped every partition after {@link View#lost()}: rejoin as a new member. */
    synchronized void lostHandled() {
        owned = Set.of();
        target = Set.of();
        targetVersion++;
        lost = false;
        memberId = "";
        epoch = 0;
        joinGeneration++;
        heartbeatNow = true;
        notifyAll();
    }

    /**
     * Stops heartbeating and, when {@code leave}, tells the coordinator this member leaves (best effort, within
     * the request timeout). The member can {@link #subscribe} again afterwards unless {@code stop}.
     */
    void leave(boolean leave, boolean stop) {
        String id;
        int e;
        synchronized (this) {
            id = memberId;
            e = epoch;
            subscription = null;
            owned = Set.of();
            target = Set.of();
            targetVersion++;
            lost = false;
            memberId = "";
            epoch = 0;
            joinGeneration++;
            if (stop) {
                stopped = true;
            }
            notifyAll();
        }
        if (leave && !id.isEmpty()) {
            LeaveGroupRequest req = LeaveGroupRequest.newBuilder()
                    .setGroupId(groupId)
                    .setMemberId(id)
                    .setMemberEpoch(e)
                    .build();
            try {
                Futures.await(
                        calls.<LeaveGroupResponse>call(groupId, true, (s, f) -> s.leaveGroup(req, Futures.unary(f))));
            } catch (SluiceException ex) {
                // the coordinator removes the member after its session timeout anyway
                log.info(
                        "group {}: leaving as member {} failed ({}); the session timeout will remove it",
                        groupId,
                        id,
                        ex.getMessage());
            }
        }
    }

    private void run() {
        while (true) {
            HeartbeatRequest req;
            long generation;
            synchronized (this) {
                while (!stopped && !due()) {
                    long waitMs = subscription == null || lost || fatal != null
                            ? 0
                            : Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextHeartbeatNanos - System.nanoTime()));
                    try {
                        wait(waitMs);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (stopped) {
                    return;
                }
                heartbeatNow = false;
                generation = joinGeneration;
                req = request();
            }
            heartbeat(req, generation);
        }
    }

    /** Guarded by this. */
    private boolean due() {
        if (subscription == null || lost || fatal != null) {
            return false;
        }
        return heartbeatNow || System.nanoTime() >= nextHeartbeatNanos;
    }

    /** Guarded by this. */
    private HeartbeatRequest request() {
        HeartbeatRequest.Builder b = HeartbeatRequest.newBuilder()
                .setGroupId(groupId)
                .setMemberId(memberId)
                .setMemberEpoch(epoch)
                .setInstanceId(instanceId.orElse(""))
                .setClientId(clientId)
                .setSessionTimeoutMs(sessionTimeoutMs)
                .setAssignor(assignor);
        if (subscription.pattern().isPresent()) {
            b.setTopicRegex(subscription.pattern().get());
        } else {
            b.setTopics(SubscribedTopics.newBuilder().addAllNames(subscription.topics()));
        }
        b.addAllOwnedPartitions(toProto(owned));
        return b.build();
    }

    static List<TopicPartitions> toProto(Collection<TopicPartition> tps) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        for (TopicPartition tp : tps) {
            byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
        }
        List<TopicPartitions> out = new ArrayList<>();
        byTopic.forEach((t, ps) -> out.add(TopicPartitions.newBuilder()
                .setTopic(t)
                .addAllPartitions(ps.stream().sorted().toList())
                .build()));
        return out;
    }

    static Set<TopicPartition> fromProto(List<TopicPartitions> tps) {
        Set<TopicPartition> out = new LinkedHashSet<>();
        for (TopicPartitions t : tps) {
            for (int p : t.getPartitionsList()) {
                out.add(new TopicPartition(t.getTopic(), p));
            }
        }
        return out;
    }

    private void heartbeat(HeartbeatRequest req, long generation) {
        HeartbeatResponse response = null;
        SluiceException error = null;
        long deadline = System.nanoTime()
                + Math.min(calls.timeout().toNanos(), TimeUnit.MILLISECONDS.toNanos(MAX_HEARTBEAT_WAIT_MS));
        try {
            String endpoint = calls.coordinator(groupId, deadline).get();
            CompletableFuture<HeartbeatResponse> f = new CompletableFuture<>();
            calls.stub(endpoint, deadline).heartbeat(req, Futures.unary(f));
            response = f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (ExecutionException | RuntimeException e) {
            error = ErrorMapper.map(e);
        }
        CompletableFuture<Void> outcome;
        synchronized (this) {
            outcome = nextOutcome;
            nextOutcome = new CompletableFuture<>();
            if (generation != joinGeneration || stopped) {
                // the member left or was reset meanwhile: this answer belongs to a membership that is gone
            } else if (response != null) {
                onResponse(response);
            } else {
                onError(req, error);
            }
        }
        outcome.complete(null);
        onChange.run();
    }

    /** Guarded by this. */
    private void onResponse(HeartbeatResponse r) {
        failures = 0;
        if (!r.getMemberId().equals(memberId) || r.getMemberEpoch() != epoch) {
            log.debug("group {}: member {} epoch {}", groupId, r.getMemberId(), r.getMemberEpoch());
        }
        memberId = r.getMemberId();
        epoch = r.getMemberEpoch();
        intervalMs = r.getHeartbeatIntervalMs() > 0 ? r.getHeartbeatIntervalMs() : intervalMs;
        Set<TopicPartition> assignment = fromProto(r.getAssignmentList());
        if (!assignment.equals(target)) {
            target = Set.copyOf(assignment);
            targetVersion++;
        }
        nextHeartbeatNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(intervalMs);
    }

    /** Guarded by this. */
    private void onError(HeartbeatRequest req, SluiceException e) {
        if (e.code() == ErrorCode.UNKNOWN_MEMBER || e.code() == ErrorCode.FENCED_MEMBER_EPOCH) {
            log.info(
                    "group {}: member {} epoch {} was fenced ({}); dropping its partitions and rejoining",
                    groupId,
                    req.getMemberId(),
                    req.getMemberEpoch(),
                    e.getMessage());
            if (owned.isEmpty()) {
                // nothing to give up: rejoin as a new member, after a short pause in case this repeats
                memberId = "";
                epoch = 0;
                joinGeneration++;
                failures++;
                nextHeartbeatNanos = System.nanoTime()
                        + TimeUnit.MILLISECONDS.toNanos(Math.min(MAX_RETRY_BACKOFF_MS, 50L * failures));
            } else {
                lost = true;
            }
            target = Set.of();
            targetVersion++;
            return;
        }
        if (e instanceof RetriableException) {
            if (GroupCalls.coordinatorMoved(e) || e.code() == ErrorCode.REQUEST_TIMED_OUT) {
                calls.invalidate(groupId);
            }
            failures++;
            long backoff = Math.min(Math.min(MAX_RETRY_BACKOFF_MS, 100L * failures), Math.max(intervalMs, 100));
            log.debug("group {}: heartbeat failed ({}); retrying in {} ms", groupId, e.getMessage(), backoff);
            nextHeartbeatNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
            return;
        }
        log.warn("group {}: heartbeat failed for good: {} [{}]", groupId, e.getMessage(), e.code());
        fatal = e;
    }
}
