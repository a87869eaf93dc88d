// Scenarios for the Java consumer with the KIP-848 group protocol (group.protocol=consumer), run
// with Java's single-file source launcher on the Kafka client jars Maven resolved:
//   java -cp "$(cat compat-tests/.cache/kafka-4.4.0.classpath)" ConsumerProtocolScenarios.java <scenario>
// Reads the broker address from BOOTSTRAP. Exits 0 on success; on failure prints one line starting
// with FAIL and exits 1. Every wait is bounded by a deadline.
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class ConsumerProtocolScenarios {
  static final String BOOTSTRAP = System.getenv("BOOTSTRAP");
  static final long DEADLINE_MS = 45_000;

  static final class ScenarioFailure extends RuntimeException {
    ScenarioFailure(String message) {
      super(message);
    }
  }

  static void check(boolean condition, String message) {
    if (!condition) throw new ScenarioFailure(message);
  }

  public static void main(String[] args) throws Exception {
    if (BOOTSTRAP == null || args.length != 1) {
      System.out.println("FAIL: usage: BOOTSTRAP=host:port java ... ConsumerProtocolScenarios.java <scenario>");
      System.exit(2);
    }
    try {
      switch (args[0]) {
        case "consume-commit" -> consumeCommit();
        case "two-members" -> twoMembers();
        case "seek" -> seek();
        default -> throw new ScenarioFailure("unknown scenario " + args[0]);
      }
    } catch (ScenarioFailure e) {
      System.out.println("FAIL: " + e.getMessage());
      System.exit(1);
    } catch (Exception e) {
      System.out.println("FAIL: " + e);
      System.exit(1);
    }
  }

  static String uniqueName(String prefix) {
    return "compat-" + prefix + "-" + System.currentTimeMillis() + "-" + ThreadLocalRandom.current().nextInt(100_000);
  }

  static Admin admin() {
    Properties p = new Properties();
    p.put("bootstrap.servers", BOOTSTRAP);
    return Admin.create(p);
  }

  static void createTopic(Admin admin, String topic, int partitions) throws Exception {
    admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
  }

  /** Produces count records with keys k0..k(count-1) and values v0.., acks=all, idempotent. */
  static void produce(String topic, int count) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BOOTSTRAP);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < count; i++) producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i));
      producer.flush();
    }
  }

  static KafkaConsumer<String, String> consumer(String group) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BOOTSTRAP);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  static Map<TopicPartition, Long> endOffsets(Admin admin, String topic, int partitions) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int i = 0; i < partitions; i++) request.put(new TopicPartition(topic, i), OffsetSpec.latest());
    Map<TopicPartition, Long> result = new HashMap<>();
    admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> result.put(tp, info.offset()));
    return result;
  }

  /** One member consumes every record, commits, and the committed offsets equal the end offsets. */
  static void consumeCommit() throws Exception {
    String topic = uniqueName("kip848");
    String group = topic + "-group";
    int records = 60;
    try (Admin admin = admin()) {
      createTopic(admin, topic, 3);
      produce(topic, records);
      Set<String> seen = new HashSet<>();
      try (KafkaConsumer<String, String> consumer = consumer(group)) {
        consumer.subscribe(List.of(topic));
        long deadline = System.currentTimeMillis() + DEADLINE_MS;
        while (seen.size() < records && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            check(r.value().equals("v" + r.key().substring(1)), "value " + r.value() + " under key " + r.key());
            check(seen.add(r.key()), "duplicate record " + r.key());
          }
        }
        check(seen.size() == records, "consumed " + seen.size() + " of " + records + " records");
        check(consumer.assignment().size() == 3, "assignment " + consumer.assignment());
        consumer.commitSync(Duration.ofSeconds(30));
        ConsumerGroupDescription description =
            admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
        check(description.type() == GroupType.CONSUMER, "group type " + description.type());
        check(description.members().size() == 1, "members " + description.members());
      }
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      Map<TopicPartition, Long> ends = endOffsets(admin, topic, 3);
      for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
        OffsetAndMetadata c = committed.get(end.getKey());
        check(c != null && c.offset() == end.getValue(), "committed " + c + " for " + end.getKey() + ", end " + end.getValue());
      }
    }
  }

  /**
   * Two members split four partitions between them; when one leaves, the other is assigned all of
   * them. Together they consume every record exactly once (each commits what it processed before
   * giving a partition up).
   */
  static void twoMembers() throws Exception {
    String topic = uniqueName("kip848-two");
    String group = topic + "-group";
    int partitions = 4;
    try (Admin admin = admin()) {
      createTopic(admin, topic, partitions);
      Map<String, Integer> seen = new ConcurrentHashMap<>();
      AtomicBoolean stopSecond = new AtomicBoolean(false);
      List<String> errors = new ArrayList<>();
      Map<String, Set<TopicPartition>> assigned = new ConcurrentHashMap<>();
      Thread second = new Thread(() -> {
        try (KafkaConsumer<String, String> c = consumer(group)) {
          c.subscribe(List.of(topic), committingListener(c, "second", assigned));
          while (!stopSecond.get()) {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) seen.merge(r.key(), 1, Integer::sum);
            c.commitSync(Duration.ofSeconds(30));
          }
        } catch (Exception e) {
          synchronized (errors) {
            errors.add("second member: " + e);
          }
        }
      });
      try (KafkaConsumer<String, String> first = consumer(group)) {
        first.subscribe(List.of(topic), committingListener(first, "first", assigned));
        second.start();
        long deadline = System.currentTimeMillis() + DEADLINE_MS;
        // Wait until both members hold partitions, all four between them.
        while (System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : first.poll(Duration.ofMillis(200))) seen.merge(r.key(), 1, Integer::sum);
          Set<TopicPartition> a = assigned.getOrDefault("first", Set.of());
          Set<TopicPartition> b = assigned.getOrDefault("second", Set.of());
          if (!a.isEmpty() && !b.isEmpty() && a.size() + b.size() == partitions) break;
        }
        check(!assigned.getOrDefault("first", Set.of()).isEmpty() && !assigned.getOrDefault("second", Set.of()).isEmpty(),
            "the partitions were not split between two members: " + assigned);
        produce(topic, 40);
        while (seen.size() < 40 && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : first.poll(Duration.ofMillis(200))) seen.merge(r.key(), 1, Integer::sum);
          first.commitSync(Duration.ofSeconds(30));
        }
        check(seen.size() == 40, "two members consumed " + seen.size() + " of 40 records");
        stopSecond.set(true);
        second.join(30_000);
        check(!second.isAlive(), "second member did not stop");
        // The remaining member takes over every partition.
        while (assigned.getOrDefault("first", Set.of()).size() < partitions && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : first.poll(Duration.ofMillis(200))) seen.merge(r.key(), 1, Integer::sum);
        }
        check(assigned.getOrDefault("first", Set.of()).size() == partitions,
            "after the second member left, first holds " + assigned.get("first"));
        for (Map.Entry<String, Integer> e : seen.entrySet()) check(e.getValue() == 1, e.getKey() + " consumed " + e.getValue() + " times");
      }
      synchronized (errors) {
        check(errors.isEmpty(), String.join("; ", errors));
      }
    }
  }

  static ConsumerRebalanceListener committingListener(
      KafkaConsumer<String, String> consumer, String name, Map<String, Set<TopicPartition>> assigned) {
    return new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        consumer.commitSync(Duration.ofSeconds(30));
        assigned.compute(name, (k, v) -> {
          Set<TopicPartition> s = v == null ? new HashSet<>() : new HashSet<>(v);
          s.removeAll(partitions);
          return s;
        });
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        assigned.compute(name, (k, v) -> {
          Set<TopicPartition> s = v == null ? new HashSet<>() : new HashSet<>(v);
          s.addAll(partitions);
          return s;
        });
      }
    };
  }

  /** seek / seekToBeginning / position / committed with the consumer protocol. */
  static void seek() throws Exception {
    String topic = uniqueName("kip848-seek");
    String group = topic + "-group";
    try (Admin admin = admin()) {
      createTopic(admin, topic, 1);
      produce(topic, 10);
      TopicPartition tp = new TopicPartition(topic, 0);
      try (KafkaConsumer<String, String> consumer = consumer(group)) {
        consumer.subscribe(List.of(topic));
        long deadline = System.currentTimeMillis() + DEADLINE_MS;
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        while (got.size() < 10 && System.currentTimeMillis() < deadline) {
          consumer.poll(Duration.ofMillis(200)).forEach(got::add);
        }
        check(got.size() == 10, "consumed " + got.size() + " of 10");
        check(consumer.position(tp) == 10, "position " + consumer.position(tp));
        consumer.seek(tp, 6);
        List<String> after = new ArrayList<>();
        while (after.size() < 4 && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) after.add(r.offset() + ":" + r.value());
        }
        check(after.equals(List.of("6:v6", "7:v7", "8:v8", "9:v9")), "after seek(6): " + after);
        consumer.commitSync(Map.of(tp, new OffsetAndMetadata(7, "compat")), Duration.ofSeconds(30));
        OffsetAndMetadata committed = consumer.committed(Set.of(tp), Duration.ofSeconds(30)).get(tp);
        check(committed != null && committed.offset() == 7 && "compat".equals(committed.metadata()),
            "committed " + committed);
        consumer.seekToBeginning(Set.of(tp));
        check(consumer.position(tp, Duration.ofSeconds(30)) == 0, "position after seekToBeginning");
      }
    }
  }
}
