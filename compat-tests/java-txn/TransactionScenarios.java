// Scenarios for the Java transactional producer and read_committed consumer, run with Java's
// single-file source launcher on the client jars Maven resolved for KAFKA_TOOLS_VERSION:
//   java -cp "$(cat compat-tests/.cache/kafka-4.4.0.classpath)" TransactionScenarios.java <scenario>
// Reads the broker address from BOOTSTRAP. Exits 0 on success; on failure prints one line starting
// with FAIL and exits 1. Every wait is bounded by a deadline.
//
// Which transaction protocol ran is checked through the producer epochs the broker reports
// (DescribeProducers, DescribeTransactions): a 4.x client on a broker finalizing
// transaction.version 2 uses transactions v2 (KIP-890 part 2), where every transaction end bumps
// the epoch, so after N transactions the epoch is N; a 3.x client uses v1, where it stays 0.
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class TransactionScenarios {
  static final String BOOTSTRAP = System.getenv("BOOTSTRAP");
  static final long DEADLINE_MS = 45_000;
  /** Transactions v2 is what a 4.x client runs against a broker finalizing transaction.version 2. */
  static final String CLIENT_VERSION = System.getProperty("kafka.client.version", "4.4.0");
  static final boolean V2_CLIENT = !CLIENT_VERSION.startsWith("3.");

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
      System.out.println("FAIL: usage: BOOTSTRAP=host:port java ... TransactionScenarios.java <scenario>");
      System.exit(2);
    }
    System.out.println("client " + CLIENT_VERSION + ", transactions v2 expected: " + V2_CLIENT);
    try {
      switch (args[0]) {
        case "commit-abort" -> commitAbort();
        case "consume-transform-produce" -> consumeTransformProduce();
        case "fencing" -> fencing();
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

  static KafkaProducer<String, String> transactionalProducer(String transactionalId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BOOTSTRAP);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
    return new KafkaProducer<>(p);
  }

  static KafkaConsumer<String, String> readCommittedConsumer(String group) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BOOTSTRAP);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  /** Reads the topic from the start with read_committed until `expected` values arrived (bounded). */
  static List<String> readAll(String topic, int expected) {
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = readCommittedConsumer(uniqueName("reader"))) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + DEADLINE_MS;
      while (values.size() < expected && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) values.add(r.value());
      }
      // A little longer, so that records that must not be there would show up.
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(1000))) values.add(r.value());
    }
    return values;
  }

  static ProducerState producerState(Admin admin, TopicPartition tp) throws Exception {
    List<ProducerState> states =
        admin.describeProducers(List.of(tp)).partitionResult(tp).get(30, TimeUnit.SECONDS).activeProducers();
    check(states.size() == 1, "expected one producer in " + tp + ", found " + states);
    return states.get(0);
  }

  /**
   * Three transactions (commit, abort, commit): read_committed sees the committed ones only, and
   * the epochs show the protocol: v2 ends each transaction one epoch later (the last marker in the
   * partition carries epoch 3, the coordinator holds 3), v1 keeps epoch 0.
   */
  static void commitAbort() throws Exception {
    String topic = uniqueName("txn");
    String transactionalId = topic + "-tid";
    try (Admin admin = admin()) {
      createTopic(admin, topic, 1);
      try (KafkaProducer<String, String> producer = transactionalProducer(transactionalId)) {
        producer.initTransactions();
        for (int t = 0; t < 3; t++) {
          producer.beginTransaction();
          for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>(topic, "k" + i, "t" + t + "-" + i));
          if (t == 1) producer.abortTransaction();
          else producer.commitTransaction();
        }
      }
      List<String> values = readAll(topic, 10);
      check(values.size() == 10, "read_committed saw " + values.size() + " records, expected 10: " + values);
      check(values.stream().noneMatch(v -> v.startsWith("t1-")), "aborted records visible: " + values);
      int expectedEpoch = V2_CLIENT ? 3 : 0;
      ProducerState state = producerState(admin, new TopicPartition(topic, 0));
      check(state.producerEpoch() == expectedEpoch,
          "partition's producer epoch " + state.producerEpoch() + ", expected " + expectedEpoch);
      TransactionDescription txn =
          admin.describeTransactions(List.of(transactionalId)).description(transactionalId).get(30, TimeUnit.SECONDS);
      // The enum's toString is "CompleteCommit" in 3.x clients and "COMPLETE_COMMIT" in 4.x.
      check(txn.state().toString().replace("_", "").equalsIgnoreCase("CompleteCommit"), "transaction state " + txn.state());
      check(txn.producerEpoch() == expectedEpoch, "coordinator's epoch " + txn.producerEpoch() + ", expected " + expectedEpoch);
      System.out.println("epochs: partition " + state.producerEpoch() + ", coordinator " + txn.producerEpoch());
    }
  }

  /**
   * Exactly-once copy: a read_committed consumer in a group reads 20 records, a transactional
   * producer writes them to an output topic and commits the consumed offsets in the same
   * transactions (sendOffsetsToTransaction with the group's metadata). The output holds each
   * record once and the group's committed offset is the input's end.
   */
  static void consumeTransformProduce() throws Exception {
    String input = uniqueName("ctp-in");
    String output = input + "-out";
    String group = input + "-group";
    try (Admin admin = admin()) {
      createTopic(admin, input, 1);
      createTopic(admin, output, 1);
      try (KafkaProducer<String, String> seed = transactionalProducer(input + "-seed")) {
        seed.initTransactions();
        seed.beginTransaction();
        for (int i = 0; i < 20; i++) seed.send(new ProducerRecord<>(input, "k" + i, "v" + i));
        seed.commitTransaction();
      }
      TopicPartition tp = new TopicPartition(input, 0);
      int copied = 0;
      try (KafkaConsumer<String, String> consumer = readCommittedConsumer(group);
          KafkaProducer<String, String> producer = transactionalProducer(input + "-copier")) {
        producer.initTransactions();
        consumer.subscribe(List.of(input));
        long deadline = System.currentTimeMillis() + DEADLINE_MS;
        while (copied < 20 && System.currentTimeMillis() < deadline) {
          var records = consumer.poll(Duration.ofMillis(500));
          if (records.isEmpty()) continue;
          producer.beginTransaction();
          long next = -1;
          for (ConsumerRecord<String, String> r : records) {
            producer.send(new ProducerRecord<>(output, r.key(), r.value().toUpperCase()));
            next = r.offset() + 1;
            copied++;
          }
          producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(next)), consumer.groupMetadata());
          producer.commitTransaction();
        }
      }
      check(copied == 20, "copied " + copied + " records, expected 20");
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      check(committed.get(tp) != null && committed.get(tp).offset() == 20, "group's committed offsets " + committed);
      List<String> values = readAll(output, 20);
      check(values.size() == 20, "output holds " + values.size() + " records, expected 20: " + values);
      check(values.get(0).equals("V0") && values.get(19).equals("V19"), "output values " + values);
    }
  }

  /**
   * A second producer with the same transactional id fences the first: the first one's commit
   * fails (ProducerFencedException, or InvalidProducerEpochException when the fencing reaches it
   * through a produce), its open transaction is aborted, and the second one's commits.
   */
  static void fencing() throws Exception {
    String topic = uniqueName("fence");
    String transactionalId = topic + "-tid";
    try (Admin admin = admin()) {
      createTopic(admin, topic, 1);
      KafkaProducer<String, String> first = transactionalProducer(transactionalId);
      try {
        first.initTransactions();
        first.beginTransaction();
        first.send(new ProducerRecord<>(topic, "k", "zombie")).get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> second = transactionalProducer(transactionalId)) {
          second.initTransactions();
          boolean fenced = false;
          try {
            first.send(new ProducerRecord<>(topic, "k", "zombie-2"));
            first.commitTransaction();
          } catch (ProducerFencedException | InvalidProducerEpochException e) {
            fenced = true;
          } catch (org.apache.kafka.common.KafkaException e) {
            fenced = e.getCause() instanceof ProducerFencedException || e.getCause() instanceof InvalidProducerEpochException;
            if (!fenced) throw e;
          }
          check(fenced, "the first producer committed after being fenced");
          second.beginTransaction();
          second.send(new ProducerRecord<>(topic, "k", "winner"));
          second.commitTransaction();
        }
      } finally {
        first.close(Duration.ofSeconds(5));
      }
      List<String> values = readAll(topic, 1);
      check(values.equals(List.of("winner")), "read_committed saw " + values + ", expected [winner]");
    }
  }
}
