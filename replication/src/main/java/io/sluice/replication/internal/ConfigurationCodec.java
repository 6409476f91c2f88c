package io.sluice.replication.internal;

import com.alipay.sofa.jraft.entity.LogEntry;
import com.alipay.sofa.jraft.entity.PeerId;
import io.sluice.logstore.record.CorruptRecordException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes the membership carried by a Raft configuration entry as the payload of a {@code RAFT_CONFIGURATION} control
 * record, and back.
 *
 * <p>Payload layout, big-endian (version 1):
 *
 * <pre>
 * int8   version            1
 * then four peer lists, in this order: peers, oldPeers, learners, oldLearners; each:
 *   int32  count            0 when the list is absent or empty
 *   count x peer:
 *     int16  hostLength
 *     bytes  host            UTF-8, hostLength bytes
 *     int32  port
 *     int32  index           JRaft's peer index; Sluice stores the broker id here
 *     int32  priority        JRaft's election priority (-1 = disabled)
 * </pre>
 *
 * <p>An empty list decodes as absent ({@code null} in {@link LogEntry}), which is how JRaft's own codecs treat it.
 * The encoding depends on the entry's membership only, so every replica writes the same bytes.
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigurationCodec {
    public static final byte VERSION = 1;

    private ConfigurationCodec() {}

    /** The payload for {@code entry}'s membership. */
    public static byte[] encode(LogEntry entry) {
        List<List<PeerId>> lists = List.of(
                nonNull(entry.getPeers()),
                nonNull(entry.getOldPeers()),
                nonNull(entry.getLearners()),
                nonNull(entry.getOldLearners()));
        int size = 1;
        for (List<PeerId> list : lists) {
            size += 4;
            for (PeerId p : list) {
                size += 2 + p.getIp().getBytes(StandardCharsets.UTF_8).length + 12;
            }
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        buf.put(VERSION);
        for (List<PeerId> list : lists) {
            buf.putInt(list.size());
            for (PeerId p : list) {
                byte[] host = p.getIp().getBytes(StandardCharsets.UTF_8);
                if (host.length > Short.MAX_VALUE) {
                    throw new IllegalArgumentException("host name too long: " + p);
                }
                buf.putShort((short) host.length).put(host);
                buf.putInt(p.getPort()).putInt(p.getIdx()).putInt(p.getPriority());
            }
        }
        return buf.array();
    }

    /**
     * Sets {@code entry}'s peers, oldPeers, learners and oldLearners from {@code payload} (read from its position, not
     * moved).
     *
     * @throws CorruptRecordException if the payload is malformed or of an unknown version
     */
    public static void decodeInto(ByteBuffer payload, LogEntry entry) {
        ByteBuffer buf = payload.duplicate();
        try {
            byte version = buf.get();
            if (version != VERSION) {
                throw new CorruptRecordException("unknown Raft configuration payload version " + version);
            }
            List<PeerId> peers = readList(buf);
            List<PeerId> oldPeers = readList(buf);
            List<PeerId> learners = readList(buf);
            List<PeerId> oldLearners = readList(buf);
            if (buf.hasRemaining()) {
                throw new CorruptRecordException(
                        "Raft configuration payload has " + buf.remaining() + " trailing bytes");
            }
            if (peers == null) {
                throw new CorruptRecordException("Raft configuration payload without peers");
            }
            entry.setPeers(peers);
            entry.setOldPeers(oldPeers);
            entry.setLearners(learners);
            entry.setOldLearners(oldLearners);
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("truncated Raft configuration payload");
        }
    }

    private static List<PeerId> readList(ByteBuffer buf) {
        int count = buf.getInt();
        if (count < 0 || count > buf.remaining() / 14) {
            throw new CorruptRecordException("invalid peer count " + count + " in Raft configuration payload");
        }
        if (count == 0) {
            return null;
        }
        List<PeerId> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int hostLength = buf.getShort();
            if (hostLength <= 0 || hostLength > buf.remaining()) {
                throw new CorruptRecordException("invalid host length " + hostLength + " in Raft configuration");
            }
            byte[] host = new byte[hostLength];
            buf.get(host);
            int port = buf.getInt();
            int idx = buf.getInt();
            int priority = buf.getInt();
            out.add(new PeerId(new String(host, StandardCharsets.UTF_8), port, idx, priority));
        }
        return out;
    }

    private static List<PeerId> nonNull(List<PeerId> list) {
        return list == null ? List.of() : list;
    }
}
