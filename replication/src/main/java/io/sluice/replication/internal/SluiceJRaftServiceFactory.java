package io.sluice.replication.internal;

import com.alipay.sofa.jraft.core.DefaultJRaftServiceFactory;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.storage.LogStorage;

/**
 * JRaft's service factory for one partition replica: JRaft's own meta and snapshot storage, but the partition's
 * {@link SegmentLogStorage} as the Raft log, so no RocksDB log and no second copy of the data. One instance per
 * replica (it hands out that replica's storage). Thread-safe.
 */
final class SluiceJRaftServiceFactory extends DefaultJRaftServiceFactory {
    private final SegmentLogStorage storage;

    SluiceJRaftServiceFactory(SegmentLogStorage storage) {
        this.storage = storage;
    }

    @Override
    public LogStorage createLogStorage(String uri, RaftOptions raftOptions) {
        return storage;
    }
}
