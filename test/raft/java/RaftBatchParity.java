// Kafka's own KRaft batches, for test/raft/wire.test.ts: prints, one per line, the hex of
// (1) a data batch built by Kafka's raft BatchBuilder (what KafkaRaftClient appends and sends),
// (2) a LeaderChangeMessage control batch built by MemoryRecords.withLeaderChangeMessage (what a
// new KafkaRaftClient leader appends first). The values must match the test's.
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.LeaderChangeMessage;
import org.apache.kafka.common.message.LeaderChangeMessage.Voter;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Readable;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.raft.internals.BatchBuilder;
import org.apache.kafka.server.common.serialization.RecordSerde;

public final class RaftBatchParity {
    static final class BytesSerde implements RecordSerde<byte[]> {
        public int recordSize(byte[] data, ObjectSerializationCache cache) { return data.length; }
        public void write(byte[] data, ObjectSerializationCache cache, Writable out) { out.writeByteArray(data); }
        public byte[] read(Readable input, int size) { return input.readArray(size); }
    }

    static String hex(MemoryRecords records) {
        ByteBuffer b = records.buffer().duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return HexFormat.of().formatHex(out);
    }

    public static void main(String[] args) {
        BatchBuilder<byte[]> builder = new BatchBuilder<>(
            ByteBuffer.allocate(1024), new BytesSerde(), Compression.NONE, 7L, 1700000000123L, 3, 1 << 20);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        builder.appendRecord(new byte[] {1, 2, 3}, cache);
        builder.appendRecord(new byte[] {}, cache);
        builder.appendRecord("metadata".getBytes(), cache);
        System.out.println(hex(builder.build()));

        LeaderChangeMessage message = new LeaderChangeMessage()
            .setVersion((short) 0)
            .setLeaderId(2)
            .setVoters(List.of(new Voter().setVoterId(1), new Voter().setVoterId(2), new Voter().setVoterId(3)))
            .setGrantingVoters(List.of(new Voter().setVoterId(2), new Voter().setVoterId(3)));
        System.out.println(hex(MemoryRecords.withLeaderChangeMessage(10L, 1700000000456L, 4, ByteBuffer.allocate(256), message)));
    }
}
