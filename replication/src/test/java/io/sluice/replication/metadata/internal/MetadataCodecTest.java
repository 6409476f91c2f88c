package io.sluice.replication.metadata.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.PartitionAssignment;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MetadataCodecTest {

    static BrokerInfo broker(int id) {
        return new BrokerInfo(
                id,
                "127.0.0.1",
                9000 + id,
                7000 + id,
                8000 + id,
                id % 2 == 0 ? Optional.of("r" + id) : Optional.empty());
    }

    static List<MetadataCommand> samples() {
        return List.of(
                new MetadataCommand.RegisterBroker(broker(1)),
                new MetadataCommand.RegisterBroker(broker(2)),
                new MetadataCommand.SetLiveness(Map.of(1, false, 2, true)),
                new MetadataCommand.CreateTopic(
                        "orders",
                        Map.of("retention.ms", "1000", "ünïcode", "välue"),
                        List.of(new PartitionAssignment(0, List.of(1, 2)), new PartitionAssignment(1, List.of(2, 1))),
                        42L,
                        -7L),
                new MetadataCommand.DeleteTopic("orders", 17));
    }

    @Test
    void commandsRoundTrip() {
        for (MetadataCommand c : samples()) {
            byte[] bytes = MetadataCodec.encode(c);
            assertEquals(c, MetadataCodec.decode(bytes));
            assertArrayEquals(bytes, MetadataCodec.encode(MetadataCodec.decode(bytes)));
        }
    }

    @Test
    void registerBrokerLayoutIsAsDocumented() {
        byte[] b = MetadataCodec.encode(
                new MetadataCommand.RegisterBroker(new BrokerInfo(3, "h", 1, 2, 4, Optional.empty())));
        // format, type, i32 id, i32 len + "h", u16 x3, u8 hasRack
        assertArrayEquals(new byte[] {1, 1, 0, 0, 0, 3, 0, 0, 0, 1, 'h', 0, 1, 0, 2, 0, 4, 0}, b);
    }

    @Test
    void everyTruncationIsRejected() {
        for (MetadataCommand c : samples()) {
            byte[] bytes = MetadataCodec.encode(c);
            for (int len = 0; len < bytes.length; len++) {
                byte[] cut = java.util.Arrays.copyOf(bytes, len);
                assertThrows(CorruptMetadataException.class, () -> MetadataCodec.decode(cut), c + " cut at " + len);
            }
            byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
            assertThrows(CorruptMetadataException.class, () -> MetadataCodec.decode(longer));
        }
    }

    @Test
    void randomGarbageNeverEscapesAsAnotherException() {
        Random rnd = new Random(1234);
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes =
                    MetadataCodec.encode(samples().get(rnd.nextInt(samples().size())));
            bytes[rnd.nextInt(bytes.length)] = (byte) rnd.nextInt(256);
            try {
                MetadataCodec.decode(bytes);
            } catch (CorruptMetadataException expected) {
                // fine: either decodes to some valid command or is rejected
            }
        }
    }

    @Test
    void snapshotRoundTripsAndDetectsCorruption() {
        MetadataState state = new MetadataState();
        long index = 1;
        for (MetadataCommand c : samples().subList(0, 4)) {
            state.apply(c, index++);
        }
        byte[] snap = MetadataCodec.encodeSnapshot(state);
        MetadataState back = MetadataCodec.decodeSnapshot(snap);
        assertEquals(state.view(), back.view());
        assertArrayEquals(snap, MetadataCodec.encodeSnapshot(back));
        for (int i = 0; i < snap.length; i++) {
            byte[] bad = snap.clone();
            bad[i] ^= 0x10;
            assertThrows(CorruptMetadataException.class, () -> MetadataCodec.decodeSnapshot(bad), "flip at " + i);
        }
    }
}
