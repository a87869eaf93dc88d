// Produce to and consume from Krill in a container: 3 partitions, 600 keyed records in batches
// (uncompressed and gzip), then a consumer group reads them all back; per partition the offsets are
// 0..n-1 in order and every key/value arrives exactly once.
import kafkajs from "kafkajs";
import { check, consumeAll, kafka, scenario, startKrill, uniqueName } from "../lib.mjs";

const RECORDS = 600;
const PARTITIONS = 3;

scenario(async () => {
  const { started } = await startKrill();
  try {
    const client = kafka(started.getBootstrapServers());
    const topic = uniqueName("pc");
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();

    const producer = client.producer();
    await producer.connect();
    for (let sent = 0; sent < RECORDS; sent += 100) {
      const messages = [];
      for (let i = sent; i < sent + 100; i++)
        messages.push({ key: `k${i}`, value: `v${i}`, partition: i % PARTITIONS });
      const compression =
        (sent / 100) % 2 === 0 ? kafkajs.CompressionTypes.None : kafkajs.CompressionTypes.GZIP;
      await producer.send({ topic, messages, compression, acks: -1 });
    }
    await producer.disconnect();

    const received = await consumeAll(client, topic, RECORDS);
    check(received.length === RECORDS, `received ${received.length} of ${RECORDS}`);
    const values = new Set(received.map((r) => `${r.key}=${r.value}`));
    check(values.size === RECORDS, `${values.size} distinct records of ${RECORDS}`);
    for (let i = 0; i < RECORDS; i++) check(values.has(`k${i}=v${i}`), `record k${i} missing`);
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = received.filter((r) => r.partition === p).map((r) => Number(r.offset));
      check(
        offsets.every((o, i) => o === i),
        `partition ${p} offsets out of order: ${offsets.slice(0, 10).join(",")}...`,
      );
    }
  } finally {
    await started.stop();
  }
});
