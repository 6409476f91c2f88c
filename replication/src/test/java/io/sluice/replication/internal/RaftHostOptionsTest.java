package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.alipay.sofa.jraft.option.NodeOptions;
import io.sluice.replication.RaftHost;
import io.sluice.replication.ReplicationConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host-wide JRaft options a real host gives every group it starts. */
class RaftHostOptionsTest {
    @TempDir
    Path dir;

    private static NodeOptions optionsOf(ReplicationConfig c) throws Exception {
        try (RaftHost h = RaftHost.start(1, c)) {
            NodeOptions opts = new NodeOptions();
            ((RaftHostImpl) h).applySharedOptions(opts, 3000);
            return opts;
        }
    }

    @Test
    void replicationPipelineDepthIsBoundedByTheConfigNotJraftsDefault() throws Exception {
        ReplicationConfig c = ReplicationConfig.defaults(dir.resolve("a")).withPort(0);
        NodeOptions dflt = optionsOf(c);
        assertEquals(32, dflt.getRaftOptions().getMaxReplicatorInflightMsgs(), "JRaft's own default is 256");
        assertEquals(1024 * 1024, dflt.getRaftOptions().getMaxBodySize());

        NodeOptions set = optionsOf(ReplicationConfig.defaults(dir.resolve("b"))
                .withPort(0)
                .with(ReplicationConfig.REPLICATOR_MAX_INFLIGHT_REQUESTS, "7"));
        assertEquals(7, set.getRaftOptions().getMaxReplicatorInflightMsgs());
    }
}
