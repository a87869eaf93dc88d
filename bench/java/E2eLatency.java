// End-to-end and produce latency at a fixed load, with microsecond resolution.
//
// Kafka's own kafka-e2e-latency tool sends one record at a time and waits for it to be consumed, so
// it measures an idle broker and reports whole milliseconds. This program keeps a steady rate
// instead (the "50% of Kafka's maximum" load of the benchmark): a paced producer stamps each record
// with its index and System.nanoTime(), a consumer in the same JVM (same clock) assigned to every
// partition from the log end reads them back. Produce latency is send() to the acknowledgement
// callback; end-to-end latency is send() to the record arriving in poll(). The first --warmup
// seconds of records are left out of the percentiles (JIT, connection set-up).
//
// Usage: E2eLatency BOOTSTRAP TOPIC RATE_RECORDS_PER_SEC DURATION_S RECORD_BYTES ACKS LINGER_MS
//        BATCH_BYTES COMPRESSION
// Prints progress lines, then one line "RESULT {json}" that bench/src/parse.ts reads.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class E2eLatency {
    private static final int HEADER_BYTES = 12; // int index + long send time (ns)
    private static final long DRAIN_TIMEOUT_NS = 15_000_000_000L;
    private static final int WARMUP_SECONDS = 1;

    public static void main(String[] args) throws Exception {
        if (args.length != 9) {
            System.err.println("usage: E2eLatency BOOTSTRAP TOPIC RATE DURATION_S RECORD_BYTES ACKS LINGER_MS BATCH_BYTES COMPRESSION");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1];
        int rate = Integer.parseInt(args[2]);
        int durationS = Integer.parseInt(args[3]);
        int recordBytes = Math.max(HEADER_BYTES, Integer.parseInt(args[4]));
        String acks = args[5];
        String lingerMs = args[6];
        String batchBytes = args[7];
        String compression = args[8];
        if (rate <= 0 || durationS <= 0 || (long) rate * durationS > 50_000_000L) {
            System.err.println("E2eLatency: rate and duration must be positive and rate*duration at most 50M");
            System.exit(2);
        }
        int total = rate * durationS;
        int warmup = Math.min(total / 2, rate * WARMUP_SECONDS);
        long[] produceNs = new long[total];
        long[] endToEndNs = new long[total];
        AtomicInteger acked = new AtomicInteger();
        AtomicInteger received = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>(null);

        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.ACKS_CONFIG, acks);
        pp.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        pp.put(ProducerConfig.BATCH_SIZE_CONFIG, batchBytes);
        pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "20000");
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(20))) {
                partitions.add(new TopicPartition(p.topic(), p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            for (TopicPartition tp : partitions) consumer.position(tp, Duration.ofSeconds(20));

            // The consumer is not thread-safe; only this thread touches it until it is joined.
            final boolean[] stop = {false};
            Thread reader = new Thread(() -> {
                while (true) {
                    synchronized (stop) {
                        if (stop[0]) return;
                    }
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                    long now = System.nanoTime();
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        byte[] v = r.value();
                        if (v == null || v.length < HEADER_BYTES) continue;
                        int index = readInt(v, 0);
                        if (index < 0 || index >= total || endToEndNs[index] != 0) continue;
                        endToEndNs[index] = Math.max(1, now - readLong(v, 4));
                        received.incrementAndGet();
                    }
                }
            }, "e2e-reader");
            reader.start();

            long startNs = System.nanoTime();
            long intervalNs = 1_000_000_000L / rate;
            int sent = 0;
            for (int i = 0; i < total; i++) {
                long due = startNs + (long) i * intervalNs;
                long wait = due - System.nanoTime();
                if (wait > 0) LockSupport.parkNanos(wait);
                byte[] value = new byte[recordBytes];
                long sentAt = System.nanoTime();
                writeInt(value, 0, i);
                writeLong(value, 4, sentAt);
                final int index = i;
                try {
                    producer.send(new ProducerRecord<>(topic, value), (md, ex) -> {
                        if (ex != null) {
                            errors.incrementAndGet();
                            firstError.compareAndSet(null, ex.toString());
                        } else {
                            produceNs[index] = Math.max(1, System.nanoTime() - sentAt);
                            acked.incrementAndGet();
                        }
                    });
                    sent++;
                } catch (Exception e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, e.toString());
                    break;
                }
                if (i > 0 && i % rate == 0) {
                    System.out.printf("%d s: sent %d, acked %d, received %d%n", i / rate, sent, acked.get(), received.get());
                }
            }
            long sendEndNs = System.nanoTime();
            producer.flush();
            long drainDeadline = System.nanoTime() + DRAIN_TIMEOUT_NS;
            while (received.get() < acked.get() && System.nanoTime() < drainDeadline) {
                Thread.sleep(20);
            }
            synchronized (stop) {
                stop[0] = true;
            }
            reader.join(5000);

            double achieved = sent / ((sendEndNs - startNs) / 1e9);
            System.out.println("RESULT {\"sent\":" + sent + ",\"acked\":" + acked.get() + ",\"received\":" + received.get()
                + ",\"targetRecordsPerSec\":" + rate + ",\"achievedRecordsPerSec\":" + String.format("%.1f", achieved)
                + ",\"produceUs\":" + percentiles(produceNs, warmup) + ",\"endToEndUs\":" + percentiles(endToEndNs, warmup)
                + ",\"errors\":" + errors.get() + ",\"firstError\":" + jsonString(firstError.get()) + "}");
        }
    }

    /** Nearest-rank percentiles in microseconds over the measured (non-zero) samples after warm-up. */
    private static String percentiles(long[] ns, int from) {
        long[] xs = Arrays.stream(ns, from, ns.length).filter(v -> v > 0).sorted().toArray();
        if (xs.length == 0) return "{\"p50\":-1,\"p99\":-1,\"p999\":-1,\"max\":-1,\"count\":0}";
        return "{\"p50\":" + rank(xs, 0.50) + ",\"p99\":" + rank(xs, 0.99) + ",\"p999\":" + rank(xs, 0.999)
            + ",\"max\":" + (xs[xs.length - 1] / 1000.0) + ",\"count\":" + xs.length + "}";
    }

    private static double rank(long[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1000.0;
    }

    private static String jsonString(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(' ');
            else b.append(c);
        }
        return b.append('"').toString();
    }

    private static void writeInt(byte[] b, int at, int v) {
        for (int k = 0; k < 4; k++) b[at + k] = (byte) (v >>> (24 - 8 * k));
    }

    private static void writeLong(byte[] b, int at, long v) {
        for (int k = 0; k < 8; k++) b[at + k] = (byte) (v >>> (56 - 8 * k));
    }

    private static int readInt(byte[] b, int at) {
        int v = 0;
        for (int k = 0; k < 4; k++) v = (v << 8) | (b[at + k] & 0xff);
        return v;
    }

    private static long readLong(byte[] b, int at) {
        long v = 0;
        for (int k = 0; k < 8; k++) v = (v << 8) | (b[at + k] & 0xff);
        return v;
    }
}
