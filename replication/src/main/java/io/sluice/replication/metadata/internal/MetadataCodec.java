package io.sluice.replication.metadata.internal;

import io.sluice.replication.metadata.BrokerInfo;
import io.sluice.replication.metadata.PartitionAssignment;
import io.sluice.replication.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * The byte encodings of the metadata controller: Raft entries (commands) and the snapshot file. All integers are
 * big-endian; {@code string} is {@code i32 byteLength + UTF-8 bytes}; {@code configs} is {@code i32 n + n × (string
 * key, string value)} sorted by key; {@code broker} is {@code i32 id, string host, u16 grpcPort, u16 raftPort, u16
 * httpPort, u8 hasRack, [string rack]}.
 *
 * <h2>Command entry (one Raft entry's data)</h2>
 *
 * <pre>
 * u8  format        = 1
 * u8  type          1 RegisterBroker | 2 SetLiveness | 3 CreateTopic | 4 DeleteTopic
 * payload:
 *   RegisterBroker: broker
 *   SetLiveness:    i32 n, n × (i32 brokerId, u8 alive)            sorted by broker id
 *   CreateTopic:    string name, configs, i32 partitionCount, i32 replicationFactor,
 *                   partitionCount × replicationFactor × i32 brokerId  (partition-major, preferred leader first),
 *                   i64 requestIdHigh, i64 requestIdLow
 *   DeleteTopic:    string name, i64 topicId (0 = any incarnation)
 * </pre>
 *
 * <p>No trailing bytes are allowed. A new command type gets a new type byte; a changed payload gets a new format
 * byte, so an old broker fails loudly instead of misreading.
 *
 * <h2>Snapshot file ({@value #SNAPSHOT_FILE})</h2>
 *
 * <pre>
 * u32 magic          = 0x534C4D44 ("SLMD")
 * u8  format         = 1
 * i64 version        last applied index
 * i32 brokerCount, brokerCount × (broker, u8 alive)               sorted by id
 * i32 topicCount,  topicCount × (string name, i64 topicId, configs, i32 partitionCount, i32 replicationFactor,
 *                                brokerIds as in CreateTopic, i64 requestIdHigh, i64 requestIdLow)   sorted by name
 * u32 crc32c         over every preceding byte
 * </pre>
 *
 * <p>Stateless and thread-safe.
 */
public final class MetadataCodec {

    public static final String SNAPSHOT_FILE = "metadata.snap";

    static final int COMMAND_FORMAT = 1;
    static final int SNAPSHOT_MAGIC = 0x534C4D44;
    static final int SNAPSHOT_FORMAT = 1;

    private static final int REGISTER_BROKER = 1;
    private static final int SET_LIVENESS = 2;
    private static final int CREATE_TOPIC = 3;
    private static final int DELETE_TOPIC = 4;

    private MetadataCodec() {}

    public static byte[] encode(MetadataCommand command) {
        Binary.Writer w = new Binary.Writer().u8(COMMAND_FORMAT);
        if (command instanceof MetadataCommand.RegisterBroker r) {
            w.u8(REGISTER_BROKER);
            writeBroker(w, r.broker());
        } else if (command instanceof MetadataCommand.SetLiveness s) {
            w.u8(SET_LIVENESS);
            TreeMap<Integer, Boolean> sorted = new TreeMap<>(s.alive());
            w.i32(sorted.size());
            sorted.forEach((id, alive) -> w.i32(id).bool(alive));
        } else if (command instanceof MetadataCommand.CreateTopic c) {
            w.u8(CREATE_TOPIC).string(c.name()).stringMap(c.configs());
            writeAssignment(w, c.partitions());
            w.i64(c.requestIdHigh()).i64(c.requestIdLow());
        } else if (command instanceof MetadataCommand.DeleteTopic d) {
            w.u8(DELETE_TOPIC).string(d.name()).i64(d.topicId());
        } else {
            throw new IllegalArgumentException("unknown command " + command);
        }
        return w.toByteArray();
    }

    /** Decodes a command entry; throws {@link CorruptMetadataException} for anything malformed. */
    public static MetadataCommand decode(byte[] data) {
        Binary.Reader r = new Binary.Reader(data);
        int format = r.u8();
        if (format != COMMAND_FORMAT) {
            throw new CorruptMetadataException("unknown command format " + format);
        }
        int type = r.u8();
        MetadataCommand command;
        try {
            command = switch (type) {
                case REGISTER_BROKER -> new MetadataCommand.RegisterBroker(readBroker(r));
                case SET_LIVENESS -> {
                    int n = r.count(5);
                    Map<Integer, Boolean> alive = new HashMap<>();
                    for (int i = 0; i < n; i++) {
                        alive.put(r.i32(), r.bool());
                    }
                    yield new MetadataCommand.SetLiveness(alive);
                }
                case CREATE_TOPIC -> {
                    String name = r.string();
                    Map<String, String> configs = r.stringMap();
                    List<PartitionAssignment> partitions = readAssignment(r);
                    yield new MetadataCommand.CreateTopic(name, configs, partitions, r.i64(), r.i64());
                }
                case DELETE_TOPIC -> new MetadataCommand.DeleteTopic(r.string(), r.i64());
                default -> throw new CorruptMetadataException("unknown command type " + type);
            };
        } catch (IllegalArgumentException e) {
            // Record validation (e.g. a negative broker id) on decoded values.
            throw new CorruptMetadataException("invalid command: " + e.getMessage());
        }
        r.expectEnd();
        return command;
    }

    public static byte[] encodeSnapshot(MetadataState state) {
        Binary.Writer w =
                new Binary.Writer().i32(SNAPSHOT_MAGIC).u8(SNAPSHOT_FORMAT).i64(state.version());
        w.i32(state.brokers().size());
        state.brokers().values().forEach(b -> {
            writeBroker(w, b);
            w.bool(state.live().contains(b.id()));
        });
        w.i32(state.topicEntries().size());
        state.topicEntries().values().forEach(e -> {
            TopicInfo t = e.info();
            w.string(t.name()).i64(t.topicId()).stringMap(t.configs());
            writeAssignment(w, t.partitions());
            w.i64(e.requestIdHigh()).i64(e.requestIdLow());
        });
        byte[] body = w.toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(body);
        return new Binary.Writer().raw(body).i32((int) crc.getValue()).toByteArray();
    }

    public static MetadataState decodeSnapshot(byte[] data) {
        if (data.length < 4) {
            throw new CorruptMetadataException("snapshot too short: " + data.length);
        }
        CRC32C crc = new CRC32C();
        crc.update(data, 0, data.length - 4);
        int stored = new Binary.Reader(java.nio.ByteBuffer.wrap(data, data.length - 4, 4)).i32();
        if ((int) crc.getValue() != stored) {
            throw new CorruptMetadataException("snapshot checksum mismatch");
        }
        Binary.Reader r = new Binary.Reader(java.nio.ByteBuffer.wrap(data, 0, data.length - 4));
        if (r.i32() != SNAPSHOT_MAGIC) {
            throw new CorruptMetadataException("not a metadata snapshot");
        }
        int format = r.u8();
        if (format != SNAPSHOT_FORMAT) {
            throw new CorruptMetadataException("unknown snapshot format " + format);
        }
        try {
            long version = r.i64();
            int nb = r.count(16);
            Map<Integer, BrokerInfo> brokers = new TreeMap<>();
            Set<Integer> live = new TreeSet<>();
            for (int i = 0; i < nb; i++) {
                BrokerInfo b = readBroker(r);
                brokers.put(b.id(), b);
                if (r.bool()) {
                    live.add(b.id());
                }
            }
            int nt = r.count(16);
            Map<String, MetadataState.TopicEntry> topics = new TreeMap<>();
            for (int i = 0; i < nt; i++) {
                String name = r.string();
                long topicId = r.i64();
                Map<String, String> configs = r.stringMap();
                List<PartitionAssignment> partitions = readAssignment(r);
                long hi = r.i64();
                long lo = r.i64();
                topics.put(
                        name, new MetadataState.TopicEntry(new TopicInfo(name, topicId, configs, partitions), hi, lo));
            }
            r.expectEnd();
            MetadataState state = new MetadataState();
            state.reset(version, brokers, live, topics);
            state.view(); // checks live brokers are registered
            return state;
        } catch (IllegalArgumentException e) {
            throw new CorruptMetadataException("invalid snapshot: " + e.getMessage());
        }
    }

    /** A topic as carried in a CreateTopic response: {@code string name, i64 topicId, configs, assignment}. */
    public static byte[] encodeTopic(TopicInfo t) {
        Binary.Writer w = new Binary.Writer().string(t.name()).i64(t.topicId()).stringMap(t.configs());
        writeAssignment(w, t.partitions());
        return w.toByteArray();
    }

    public static TopicInfo decodeTopic(byte[] data) {
        Binary.Reader r = new Binary.Reader(data);
        try {
            TopicInfo t = new TopicInfo(r.string(), r.i64(), r.stringMap(), readAssignment(r));
            r.expectEnd();
            return t;
        } catch (IllegalArgumentException e) {
            throw new CorruptMetadataException("invalid topic: " + e.getMessage());
        }
    }

    public static byte[] encodeBroker(BrokerInfo b) {
        Binary.Writer w = new Binary.Writer();
        writeBroker(w, b);
        return w.toByteArray();
    }

    public static BrokerInfo decodeBroker(byte[] data) {
        Binary.Reader r = new Binary.Reader(data);
        try {
            BrokerInfo b = readBroker(r);
            r.expectEnd();
            return b;
        } catch (IllegalArgumentException e) {
            throw new CorruptMetadataException("invalid broker: " + e.getMessage());
        }
    }

    static void writeBroker(Binary.Writer w, BrokerInfo b) {
        w.i32(b.id()).string(b.host()).u16(b.grpcPort()).u16(b.raftPort()).u16(b.httpPort());
        w.bool(b.rack().isPresent());
        b.rack().ifPresent(w::string);
    }

    static BrokerInfo readBroker(Binary.Reader r) {
        int id = r.i32();
        String host = r.string();
        int grpc = r.u16();
        int raft = r.u16();
        int http = r.u16();
        Optional<String> rack = r.bool() ? Optional.of(r.string()) : Optional.empty();
        return new BrokerInfo(id, host, grpc, raft, http, rack);
    }

    private static void writeAssignment(Binary.Writer w, List<PartitionAssignment> partitions) {
        int rf = partitions.isEmpty() ? 0 : partitions.get(0).replicas().size();
        w.i32(partitions.size()).i32(rf);
        for (PartitionAssignment p : partitions) {
            if (p.replicas().size() != rf) {
                throw new IllegalArgumentException("uneven replication factor");
            }
            p.replicas().forEach(w::i32);
        }
    }

    private static List<PartitionAssignment> readAssignment(Binary.Reader r) {
        int n = r.i32();
        int rf = r.i32();
        if (n < 1 || rf < 1 || (long) n * rf * 4 > r.remaining()) {
            throw new CorruptMetadataException("bad assignment " + n + " x " + rf);
        }
        List<PartitionAssignment> out = new ArrayList<>(n);
        for (int p = 0; p < n; p++) {
            List<Integer> replicas = new ArrayList<>(rf);
            for (int i = 0; i < rf; i++) {
                replicas.add(r.i32());
            }
            out.add(new PartitionAssignment(p, replicas));
        }
        return out;
    }
}
