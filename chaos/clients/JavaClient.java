// A chaos workload client on the Apache Kafka Java client, writing the history the checker reads
// (chaos/src/history.ts). Run with the single-file source launcher and the Kafka classpath:
//
//   java -cp CLASSPATH chaos/clients/JavaClient.java queue BOOTSTRAP TOPIC PARTITIONS PROCESS HISTORY SEED DURATION_MS
//
// queue: one thread alternating at random between an idempotent acks=all producer (one to three
// values to random partitions, each its own op, waited for in order) and a KafkaConsumer in group
// chaos-queue-java (read_committed) that commits synchronously after each poll. Rebalances are
// logged as assign ops (revoked: the keys left; assigned: the keys now owned). After a send whose
// outcome is unknown the producer is replaced and the process renamed NAME.1, NAME.2, ...
// SIGTERM (the shutdown hook) ends the loop after the current operation.
import java.io.FileWriter;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class JavaClient {
  static volatile boolean stopping = false;
  static FileWriter history;
  static String topic;
  static String process;
  static int incarnation = 0;

  static String key(int partition) {
    return topic + "/" + partition;
  }

  static String q(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
  }

  static String name() {
    return incarnation == 0 ? process : process + "." + incarnation;
  }

  static synchronized void log(String type, String f, String value, long started, String error) {
    StringBuilder sb = new StringBuilder();
    sb.append("{\"process\":").append(q(name())).append(",\"type\":").append(q(type)).append(",\"f\":").append(q(f))
        .append(",\"value\":").append(value).append(",\"time\":").append(started).append(",\"end\":")
        .append(System.currentTimeMillis());
    if (error != null) {
      String e = error.length() > 300 ? error.substring(0, 300) : error;
      sb.append(",\"error\":").append(q(e));
    }
    sb.append("}\n");
    try {
      history.write(sb.toString());
      history.flush();
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  static void logAssign(Collection<TopicPartition> partitions) {
    TreeSet<String> keys = new TreeSet<>();
    for (TopicPartition tp : partitions) keys.add(q(key(tp.partition())));
    log("ok", "assign", "[" + String.join(",", keys) + "]", System.currentTimeMillis(), null);
  }

  static KafkaProducer<String, String> producer(String bootstrap) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("delivery.timeout.ms", "15000");
    p.put("request.timeout.ms", "5000");
    p.put("linger.ms", "2");
    p.put("max.block.ms", "10000");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 8 || !args[0].equals("queue")) {
      System.err.println("usage: JavaClient queue BOOTSTRAP TOPIC PARTITIONS PROCESS HISTORY SEED DURATION_MS");
      System.exit(2);
    }
    String bootstrap = args[1];
    topic = args[2];
    int partitions = Integer.parseInt(args[3]);
    process = args[4];
    history = new FileWriter(args[5], true);
    Random rnd = new Random(Long.parseLong(args[6]));
    long deadline = System.currentTimeMillis() + Long.parseLong(args[7]);
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping = true;
      try {
        main.join(30_000);
      } catch (InterruptedException ignored) {
      }
    }));

    Properties c = new Properties();
    c.put("bootstrap.servers", bootstrap);
    c.put("group.id", "chaos-queue-java");
    c.put("enable.auto.commit", "false");
    c.put("auto.offset.reset", "earliest");
    c.put("isolation.level", "read_committed");
    c.put("session.timeout.ms", "10000");
    c.put("heartbeat.interval.ms", "1000");
    c.put("request.timeout.ms", "10000");
    c.put("default.api.timeout.ms", "10000");
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    List<TopicPartition> owned = new ArrayList<>();
    consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
      public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
        owned.removeAll(revoked);
        logAssign(owned);
      }

      public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
        owned.addAll(assigned);
        logAssign(owned);
      }

      public void onPartitionsLost(Collection<TopicPartition> lost) {
        owned.removeAll(lost);
        logAssign(owned);
      }
    });
    KafkaProducer<String, String> producer = producer(bootstrap);
    int counter = 0;
    while (!stopping && System.currentTimeMillis() < deadline) {
      if (rnd.nextBoolean()) {
        int n = 1 + rnd.nextInt(3);
        List<Object[]> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          int partition = rnd.nextInt(partitions);
          String value = name() + ":" + (++counter);
          long started = System.currentTimeMillis();
          Future<RecordMetadata> f = null;
          String error = null;
          try {
            f = producer.send(new ProducerRecord<>(topic, partition, null, value));
          } catch (Exception e) {
            error = e.toString();
          }
          sent.add(new Object[] {partition, value, started, f, error});
        }
        boolean restart = false;
        for (Object[] s : sent) {
          int partition = (Integer) s[0];
          String value = (String) s[1];
          long started = (Long) s[2];
          @SuppressWarnings("unchecked")
          Future<RecordMetadata> f = (Future<RecordMetadata>) s[3];
          String error = (String) s[4];
          if (f != null) {
            try {
              RecordMetadata m = f.get(30, TimeUnit.SECONDS);
              log("ok", "send", "[[\"send\"," + q(key(partition)) + ",[" + m.offset() + "," + q(value) + "]]]", started, null);
              continue;
            } catch (Exception e) {
              error = e.toString();
            }
          }
          log("info", "send", "[[\"send\"," + q(key(partition)) + ",[null," + q(value) + "]]]", started, error);
          restart = true;
        }
        if (restart) {
          producer.close(Duration.ofSeconds(5));
          incarnation++;
          producer = producer(bootstrap);
        }
      } else {
        long started = System.currentTimeMillis();
        ConsumerRecords<String, String> records;
        try {
          records = consumer.poll(Duration.ofMillis(500));
        } catch (Exception e) {
          System.err.println(name() + ": poll failed: " + e);
          continue;
        }
        if (records.isEmpty()) continue;
        StringBuilder reads = new StringBuilder("{");
        boolean firstKey = true;
        for (TopicPartition tp : records.partitions()) {
          if (!firstKey) reads.append(",");
          firstKey = false;
          reads.append(q(key(tp.partition()))).append(":[");
          boolean first = true;
          for (ConsumerRecord<String, String> r : records.records(tp)) {
            if (!first) reads.append(",");
            first = false;
            reads.append("[").append(r.offset()).append(",").append(q(r.value())).append("]");
          }
          reads.append("]");
        }
        reads.append("}");
        String error = null;
        try {
          consumer.commitSync(Duration.ofSeconds(10));
        } catch (Exception e) {
          error = "commit: " + e;
        }
        log("ok", "poll", "[[\"poll\"," + reads + "]]", started, error);
      }
    }
    producer.close(Duration.ofSeconds(5));
    consumer.close(Duration.ofSeconds(5));
    history.close();
  }
}
