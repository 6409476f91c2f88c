package io.sluice.replication.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.alipay.sofa.jraft.entity.EnumOutter.EntryType;
import com.alipay.sofa.jraft.entity.LogEntry;
import com.alipay.sofa.jraft.entity.PeerId;
import io.sluice.logstore.record.CorruptRecordException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigurationCodecTest {
    private static List<PeerId> peers(String... s) {
        return Arrays.stream(s).map(PeerId::parsePeer).toList();
    }

    @Test
    void roundTripsEveryListAndKeepsAbsentListsAbsent() {
        LogEntry e = new LogEntry(EntryType.ENTRY_TYPE_CONFIGURATION);
        e.setPeers(peers("127.0.0.1:7001:1", "host-b:7002:2:5"));
        e.setOldPeers(peers("127.0.0.1:7001:1"));
        e.setLearners(peers("127.0.0.1:7009:9"));
        byte[] bytes = ConfigurationCodec.encode(e);
        LogEntry d = new LogEntry(EntryType.ENTRY_TYPE_CONFIGURATION);
        ConfigurationCodec.decodeInto(ByteBuffer.wrap(bytes), d);
        assertEquals(e.getPeers(), d.getPeers());
        assertEquals(5, d.getPeers().get(1).getPriority());
        assertEquals(e.getOldPeers(), d.getOldPeers());
        assertEquals(e.getLearners(), d.getLearners());
        assertNull(d.getOldLearners());
        assertArrayEquals(bytes, ConfigurationCodec.encode(d), "deterministic: replicas write identical bytes");
    }

    @Test
    void rejectsMalformedPayloads() {
        LogEntry e = new LogEntry(EntryType.ENTRY_TYPE_CONFIGURATION);
        e.setPeers(peers("127.0.0.1:7001:1"));
        byte[] ok = ConfigurationCodec.encode(e);
        LogEntry d = new LogEntry();
        assertThrows(
                CorruptRecordException.class,
                () -> ConfigurationCodec.decodeInto(ByteBuffer.wrap(Arrays.copyOf(ok, ok.length - 1)), d));
        byte[] badVersion = ok.clone();
        badVersion[0] = 9;
        assertThrows(CorruptRecordException.class, () -> ConfigurationCodec.decodeInto(ByteBuffer.wrap(badVersion), d));
        assertThrows(
                CorruptRecordException.class,
                () -> ConfigurationCodec.decodeInto(ByteBuffer.wrap(Arrays.copyOf(ok, ok.length + 1)), d));
        LogEntry empty = new LogEntry(EntryType.ENTRY_TYPE_CONFIGURATION);
        assertThrows(
                CorruptRecordException.class,
                () -> ConfigurationCodec.decodeInto(ByteBuffer.wrap(ConfigurationCodec.encode(empty)), d));
    }
}
