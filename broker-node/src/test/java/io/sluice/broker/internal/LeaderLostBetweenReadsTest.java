package io.sluice.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.stub.StreamObserver;
import io.sluice.logstore.LogConfig;
import io.sluice.logstore.LogReadResult;
import io.sluice.proto.v1.ErrorCode;
import io.sluice.proto.v1.GetMetadataRequest;
import io.sluice.proto.v1.GetMetadataResponse;
import io.sluice.replication.metadata.MetadataClient;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A replica's leader can be lost between two reads of it (a failover in progress). Found by KillLeaderIT: GetMetadata
 * answered INTERNAL (NoSuchElementException from {@code leaderId().isPresent()} followed by {@code getAsInt()}). Here a
 * handle whose leader alternates between known and unknown on every read makes that interleaving deterministic.
 */
class LeaderLostBetweenReadsTest {

    /** Delegates to a partition, but every second read of the leader finds none. */
    static final class FlickeringLeader implements PartitionHandle {
        final PartitionHandle p;
        final AtomicInteger reads = new AtomicInteger();

        FlickeringLeader(PartitionHandle p) {
            this.p = p;
        }

        @Override
        public String topic() {
            return p.topic();
        }

        @Override
        public int partition() {
            return p.partition();
        }

        @Override
        public boolean isLeader() {
            return false;
        }

        @Override
        public OptionalInt leaderId() {
            return reads.getAndIncrement() % 2 == 0 ? p.leaderId() : OptionalInt.empty();
        }

        @Override
        public long leaderTerm() {
            return 3;
        }

        @Override
        public java.util.List<Integer> inSyncReplicas() {
            return java.util.List.of();
        }

        @Override
        public CompletableFuture<AppendResult> append(ByteBuffer batch, boolean quorum) {
            return p.append(batch, quorum);
        }

        @Override
        public long logStartOffset() {
            return p.logStartOffset();
        }

        @Override
        public long highWatermark() {
            return p.highWatermark();
        }

        @Override
        public long logEndOffset() {
            return p.logEndOffset();
        }

        @Override
        public LogReadResult read(long offset, int maxBytes) {
            return p.read(offset, maxBytes);
        }

        @Override
        public Optional<TimestampOffset> offsetForTimestamp(long timestampMs) {
            return p.offsetForTimestamp(timestampMs);
        }

        @Override
        public Subscription subscribe(Runnable listener) {
            return p.subscribe(listener);
        }
    }

    static BrokerBackend flickering(InMemoryBackend mem) {
        return new BrokerBackend() {
            @Override
            public int brokerId() {
                return mem.brokerId();
            }

            @Override
            public MetadataClient metadata() {
                return mem.metadata();
            }

            @Override
            public Optional<PartitionHandle> partition(String topic, int partition) {
                return mem.partition(topic, partition).map(FlickeringLeader::new);
            }

            @Override
            public Optional<LeaderInfo> leaderOf(String topic, int partition) {
                return Optional.empty();
            }

            @Override
            public boolean isReady() {
                return true;
            }
        };
    }

    @Test
    void metadataAndNotLeaderAnswersSurviveALeaderLostBetweenReads() {
        InMemoryBackend mem = new InMemoryBackend(1, 3);
        mem.createTopic("t", 1, 3, Map.of()).join();
        mem.local("t", 0).setLeader(false, OptionalInt.of(2));
        BrokerBackend backend = flickering(mem);

        List<GetMetadataResponse> answers = new ArrayList<>();
        new AdminServiceImpl(backend, LogConfig.defaults(), 100, 1, 3)
                .getMetadata(GetMetadataRequest.newBuilder().addTopics("t").build(), new StreamObserver<>() {
                    @Override
                    public void onNext(GetMetadataResponse r) {
                        answers.add(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        throw new AssertionError(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        assertEquals(2, answers.get(0).getTopics(0).getPartitions(0).getLeaderId());

        BrokerException e = assertThrows(BrokerException.class, () -> new PartitionLookup(backend).leader("t", 0));
        assertEquals(ErrorCode.ERROR_CODE_NOT_LEADER, e.code());
        assertEquals(2, e.info().getNotLeader().getLeaderId());
    }
}
