package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import io.sluice.logstore.FsyncScheduler;
import io.sluice.logstore.LogConfig;
import io.sluice.replication.AckMode;
import io.sluice.replication.AppendResult;
import io.sluice.replication.PartitionListener;
import io.sluice.replication.PartitionStateExtension;
import io.sluice.replication.PartitionStateExtension.CommittedBatch;
import io.sluice.replication.ReplicaFailedException;
import io.sluice.replication.ReplicaId;
import io.sluice.replication.ReplicationObserver;
import io.sluice.replication.TopicPartition;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The offset arithmetic of {@link PartitionStateMachine} and its refusal to skip an entry it cannot apply. */
class PartitionStateMachineTest {
    @TempDir
    Path dir;

    private FsyncScheduler fsync;
    private PartitionReplica replica;
    private SegmentLogStorage storage;
    private PartitionStateMachine fsm;

    @BeforeEach
    void setUp() {
        fsync = FsyncScheduler.start("test-fsync");
        ReplicaId self = new ReplicaId(0, "127.0.0.1", 7000);
        replica = new PartitionReplica(
                new TopicPartition("t", 0), self, List.of(self), 16, 10_000, ReplicationObserver.NONE);
        storage = new SegmentLogStorage(
                "t-0",
                new PartitionLayout(dir.resolve("t-0")),
                LogConfig.defaults(),
                fsync,
                Clock.systemUTC(),
                replica);
        assertTrue(storage.init(new com.alipay.sofa.jraft.option.LogStorageOptions()));
        withExtension(Optional.empty());
    }

    private void withExtension(Optional<PartitionStateExtension> ext) {
        fsm = new PartitionStateMachine(replica, storage, Runnable::run, ext);
        replica.bind(storage, fsm, ext);
    }

    @AfterEach
    void tearDown() {
        storage.shutdown();
        fsync.close();
    }

    /** A JRaft iterator over data entries at the given indexes (JRaft skips control entries). */
    static final class FakeIterator implements Iterator {
        final long[] indexes;
        final ByteBuffer[] data;
        final Closure[] dones;
        int at;
        Status error;

        FakeIterator(long[] indexes, ByteBuffer[] data, Closure[] dones) {
            this.indexes = indexes;
            this.data = data;
            this.dones = dones;
        }

        @Override
        public boolean hasNext() {
            return error == null && at < indexes.length;
        }

        @Override
        public ByteBuffer next() {
            return data[at++];
        }

        @Override
        public void setAutoCommitPerLog(boolean status) {}

        @Override
        public ByteBuffer getData() {
            return data[at];
        }

        @Override
        public long getIndex() {
            return indexes[at];
        }

        @Override
        public long getTerm() {
            return 3;
        }

        @Override
        public Closure done() {
            return dones[at];
        }

        @Override
        public boolean commit() {
            return false;
        }

        @Override
        public void commitAndSnapshotSync(Closure done) {}

        @Override
        public void setErrorAndRollback(long ntail, Status st) {
            error = st;
        }
    }

    @Test
    void offsetsFollowFromIndexesControlEntriesTakingOneOffsetEach() {
        List<AppendResult> results = new ArrayList<>();
        List<Long> commitNanos = new ArrayList<>();
        ReplicationObserver observer = new ReplicationObserver() {
            @Override
            public void onCommitted(long nanos) {
                commitNanos.add(nanos);
            }
        };
        ProposalClosure p = new ProposalClosure(
                SegmentLogStorageTest.batch(4, "p"),
                AckMode.QUORUM,
                st -> new IllegalStateException(st.toString()),
                () -> {},
                observer);
        p.future().thenAccept(results::add);
        // Entry 1 is a configuration entry (skipped by JRaft), then data at 2 (3 records), a no-op at 3, data at 4.
        FakeIterator it = new FakeIterator(
                new long[] {2, 4},
                new ByteBuffer[] {SegmentLogStorageTest.batch(3, "a"), SegmentLogStorageTest.batch(4, "p")},
                new Closure[] {null, p});
        fsm.onApply(it);
        assertNull(it.error);
        assertEquals(new PartitionStateMachine.Applied(4, 9), fsm.applied());
        // 0 = configuration, 1..3 = first batch, 4 = no-op, 5..8 = the proposal.
        assertEquals(List.of(new AppendResult(5, 8, 3, 4)), results);
        assertEquals(1, commitNanos.size(), "the proposal's commit latency was reported once");
        assertTrue(commitNanos.get(0) >= 0);
        // No node, and nothing durable locally: the high watermark waits for the local log.
        assertEquals(0, replica.highWatermark());
    }

    @Test
    void callbacksNeverThrowWhileTheNodeShutsDown() {
        // JRaft's Node refuses getLastAppliedLogIndex() once it is shutting down; an exception escaping onApply would
        // abort JRaft's FSM task (and could drop its SHUTDOWN task, hanging Node.join()).
        com.alipay.sofa.jraft.Node stopping = (com.alipay.sofa.jraft.Node) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {com.alipay.sofa.jraft.Node.class}, (proxy, m, args) -> {
                    throw new IllegalStateException("The node is not active, current state: STATE_SHUTTING");
                });
        replica.started(stopping);
        FakeIterator it = new FakeIterator(
                new long[] {1}, new ByteBuffer[] {SegmentLogStorageTest.batch(2, "a")}, new Closure[] {null});
        fsm.onApply(it);
        assertNull(it.error);
        assertEquals(new PartitionStateMachine.Applied(1, 2), fsm.applied());
        fsm.onLeaderStart(2);
        fsm.onLeaderStop(Status.OK());
    }

    @Test
    void anEntryThatCannotBeAppliedIsFatalNeverSkipped() {
        AtomicReference<ReplicaFailedException> failed = new AtomicReference<>();
        replica.addListener(new PartitionListener() {
            @Override
            public void onFailed(ReplicaFailedException cause) {
                failed.set(cause);
            }
        });
        replica.started(null);
        FakeIterator it = new FakeIterator(
                new long[] {1, 2},
                new ByteBuffer[] {ByteBuffer.wrap(new byte[] {1, 2, 3}), SegmentLogStorageTest.batch(1, "b")},
                new Closure[] {null, null});
        fsm.onApply(it);
        assertNotNull(it.error, "setErrorAndRollback was called");
        assertEquals(0, it.at, "the iterator did not move past the bad entry");
        assertEquals(new PartitionStateMachine.Applied(0, 0), fsm.applied());
        assertInstanceOf(ReplicaFailedException.class, failed.get());
        assertFalse(replica.isOpen());
    }

    /** An in-memory extension recording what it was given; optionally failing. */
    static final class ListExtension implements PartitionStateExtension {
        final List<CommittedBatch> seen = new ArrayList<>();
        final List<Boolean> proposalDoneWhenApplied = new ArrayList<>();
        volatile ProposalClosure watched;
        long applied;
        boolean fail;

        @Override
        public long appliedOffset() {
            return applied;
        }

        @Override
        public void onCommitted(CommittedBatch batch) {
            if (fail) {
                throw new IllegalStateException("cannot apply");
            }
            seen.add(batch);
            if (watched != null) {
                proposalDoneWhenApplied.add(watched.future().isDone());
            }
            applied = batch.lastOffset() + 1;
        }

        @Override
        public List<String> saveSnapshot(Path dir) {
            return List.of();
        }

        @Override
        public void loadSnapshot(Path dir, List<String> files) {}
    }

    @Test
    void extensionSeesEachCommittedBatchWithItsOffsetsBeforeTheProposalCompletes() {
        ListExtension ext = new ListExtension();
        withExtension(Optional.of(ext));
        ProposalClosure p = new ProposalClosure(
                SegmentLogStorageTest.batch(4, "p"),
                AckMode.QUORUM,
                st -> new IllegalStateException(st.toString()),
                () -> {},
                io.sluice.replication.ReplicationObserver.NONE);
        ext.watched = p;
        FakeIterator it = new FakeIterator(
                new long[] {2, 4},
                new ByteBuffer[] {SegmentLogStorageTest.batch(3, "a"), SegmentLogStorageTest.batch(4, "p")},
                new Closure[] {null, p});
        fsm.onApply(it);
        assertNull(it.error);
        assertEquals(2, ext.seen.size());
        assertEquals(
                List.of(1L, 3L, 3L, 2L),
                List.of(
                        ext.seen.get(0).baseOffset(),
                        ext.seen.get(0).lastOffset(),
                        ext.seen.get(0).term(),
                        ext.seen.get(0).entryIndex()));
        assertEquals(
                List.of(5L, 8L, 4L),
                List.of(
                        ext.seen.get(1).baseOffset(),
                        ext.seen.get(1).lastOffset(),
                        ext.seen.get(1).entryIndex()));
        assertEquals(
                List.of(false, false),
                ext.proposalDoneWhenApplied,
                "the proposal completes only after the extension applied");
        assertTrue(p.future().isDone());
        assertTrue(ext.seen.get(1).records().isReadOnly());
    }

    @Test
    void batchesTheExtensionAlreadyHoldsAreNotPassedAgain() {
        ListExtension ext = new ListExtension();
        ext.applied = 4; // persisted before a "restart": offsets 0..3
        withExtension(Optional.of(ext));
        FakeIterator it = new FakeIterator(
                new long[] {1, 2, 3},
                new ByteBuffer[] {
                    SegmentLogStorageTest.batch(2, "a"),
                    SegmentLogStorageTest.batch(2, "b"),
                    SegmentLogStorageTest.batch(1, "c")
                },
                new Closure[] {null, null, null});
        fsm.onApply(it);
        assertNull(it.error);
        assertEquals(1, ext.seen.size());
        assertEquals(4, ext.seen.get(0).baseOffset());
        assertEquals(5, ext.appliedOffset());
    }

    @Test
    void anExtensionThatCannotApplyIsFatalForTheReplica() {
        AtomicReference<ReplicaFailedException> failed = new AtomicReference<>();
        replica.addListener(new PartitionListener() {
            @Override
            public void onFailed(ReplicaFailedException cause) {
                failed.set(cause);
            }
        });
        replica.started(null);
        ListExtension ext = new ListExtension();
        ext.fail = true;
        withExtension(Optional.of(ext));
        ProposalClosure p = new ProposalClosure(
                SegmentLogStorageTest.batch(1, "p"),
                AckMode.QUORUM,
                st -> new IllegalStateException(st.toString()),
                () -> {},
                io.sluice.replication.ReplicationObserver.NONE);
        FakeIterator it = new FakeIterator(
                new long[] {1}, new ByteBuffer[] {SegmentLogStorageTest.batch(1, "p")}, new Closure[] {p});
        fsm.onApply(it);
        assertNotNull(it.error, "setErrorAndRollback was called");
        assertEquals(new PartitionStateMachine.Applied(0, 0), fsm.applied());
        assertFalse(p.future().isDone() && !p.future().isCompletedExceptionally(), "the proposal never succeeds");
        assertInstanceOf(ReplicaFailedException.class, failed.get());
    }
}
