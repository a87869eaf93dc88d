import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Writes golden record batches with the Java client's own MemoryRecordsBuilder, the code path the
 * producer's RecordAccumulator uses to build every batch it sends: one file per compression codec
 * holding GOLDEN_RECORDS (tools/capture/golden-records.ts, repeated here by hand), plus a
 * transactional idempotent batch and the COMMIT/ABORT control batches a partition leader appends.
 *
 * Usage: java -cp <classpath> CaptureBatches.java <outDir>
 *        java -cp <classpath> CaptureBatches.java --verify <dir>
 *
 * With --verify it works the other way round: it reads every <codec>.bin in <dir> (batches Krill
 * built from the same records, see tools/capture/write-krill-batches.ts), checks each with the
 * Java client's own decoder (CRC via ensureValid, decompression, record parsing) and compares the
 * records with GOLDEN_RECORDS, exiting non-zero on any difference.
 */
public class CaptureBatches {
    static final long T = 1_700_000_000_000L;
    static final String FOX = "the quick brown fox jumps over the lazy dog ";

    record Golden(String key, String value, Header[] headers, long timestamp) {}

    static List<Golden> goldenRecords() {
        return List.of(
            new Golden("key-0", "value-0 " + FOX.repeat(20),
                new Header[] {header("h1", "v1"), header("h2", "")}, T),
            new Golden(null, "value-1", new Header[0], T + 1),
            new Golden("key-2", null, new Header[0], T + 2),
            new Golden("ключ-3", "", new Header[] {header("empty", "")}, T + 3),
            new Golden("key-4", "0123456789".repeat(300), new Header[0], T + 4));
    }

    static Header header(String key, String value) {
        return new RecordHeader(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    static void write(Path dir, String name, MemoryRecords records) throws IOException {
        ByteBuffer buffer = records.buffer();
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        Files.write(dir.resolve(name), out);
        System.out.println("java " + name + ": " + out.length + " bytes");
    }

    static MemoryRecords build(Compression compression, long producerId, short producerEpoch, int baseSequence,
                               boolean transactional, long baseOffset, int partitionLeaderEpoch) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(16384), RecordBatch.MAGIC_VALUE_V2,
            compression, TimestampType.CREATE_TIME, baseOffset, RecordBatch.NO_TIMESTAMP, producerId, producerEpoch,
            baseSequence, transactional, partitionLeaderEpoch);
        for (Golden g : goldenRecords()) {
            builder.append(g.timestamp(), bytes(g.key()), bytes(g.value()), g.headers());
        }
        return builder.build();
    }

    static String str(ByteBuffer b) {
        if (b == null) return null;
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return new String(out, StandardCharsets.UTF_8);
    }

    static int verify(Path dir) throws IOException {
        int failures = 0;
        for (String codec : new String[] {"none", "gzip", "snappy", "lz4", "zstd"}) {
            Path file = dir.resolve(codec + ".bin");
            MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(Files.readAllBytes(file)));
            List<Golden> expected = goldenRecords();
            int batches = 0;
            int index = 0;
            String problem = null;
            for (RecordBatch batch : records.batches()) {
                batches++;
                batch.ensureValid();
                if (!batch.compressionType().name.equals(codec)) problem = "codec " + batch.compressionType().name;
                for (org.apache.kafka.common.record.internal.Record r : batch) {
                    if (index >= expected.size()) { problem = "too many records"; break; }
                    Golden g = expected.get(index);
                    String key = str(r.key());
                    String value = str(r.value());
                    if (r.offset() != index || r.timestamp() != g.timestamp()
                        || !java.util.Objects.equals(key, g.key()) || !java.util.Objects.equals(value, g.value())
                        || r.headers().length != g.headers().length) {
                        problem = "record " + index + " differs";
                    } else {
                        for (int h = 0; h < g.headers().length; h++) {
                            Header got = r.headers()[h];
                            Header want = g.headers()[h];
                            if (!got.key().equals(want.key()) || !java.util.Arrays.equals(got.value(), want.value())) {
                                problem = "record " + index + " header " + h + " differs";
                            }
                        }
                    }
                    index++;
                }
            }
            if (problem == null && (batches != 1 || index != expected.size())) {
                problem = batches + " batches, " + index + " records";
            }
            System.out.println("java reads krill " + codec + ": " + (problem == null ? "ok" : "FAILED: " + problem));
            if (problem != null) failures++;
        }
        return failures;
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 2 && args[0].equals("--verify")) {
            System.exit(verify(Path.of(args[1])) == 0 ? 0 : 1);
        }
        Path dir = Path.of(args.length > 0 ? args[0] : "test/protocol/golden/java");
        Files.createDirectories(dir);
        Compression[] codecs = {
            Compression.NONE, Compression.gzip().build(), Compression.snappy().build(), Compression.lz4().build(),
            Compression.zstd().build()
        };
        String[] names = {"none", "gzip", "snappy", "lz4", "zstd"};
        for (int i = 0; i < codecs.length; i++) {
            write(dir, names[i] + ".bin", build(codecs[i], RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
                RecordBatch.NO_SEQUENCE, false, 0L, RecordBatch.NO_PARTITION_LEADER_EPOCH));
        }
        // What a transactional, idempotent producer sends (producer id 4242, epoch 3, first
        // sequence 17), as a leader stores it (base offset 100, leader epoch 5).
        write(dir, "transactional-lz4.bin",
            build(Compression.lz4().build(), 4242L, (short) 3, 17, true, 100L, 5));
        // The markers a partition leader appends when the transaction ends.
        write(dir, "end-txn-commit.bin", MemoryRecords.withEndTransactionMarker(105L, T + 10, 5, 4242L, (short) 3,
            new EndTransactionMarker(ControlRecordType.COMMIT, 7)));
        write(dir, "end-txn-abort.bin", MemoryRecords.withEndTransactionMarker(106L, T + 11, 5, 4242L, (short) 3,
            new EndTransactionMarker(ControlRecordType.ABORT, 7)));
    }
}
