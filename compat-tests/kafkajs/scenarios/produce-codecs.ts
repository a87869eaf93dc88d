// kafkajs producer with every codec (none, gzip, snappy, lz4, zstd): the broker accepts each batch
// (Kafka validates compressed batches) and the consumer gets back exactly what was sent, with keys,
// headers and offsets in order.
import { CompressionTypes, check, consumeCount, kafka, scenario, uniqueName } from "../lib.js";

const CODECS = [
  ["none", CompressionTypes.None],
  ["gzip", CompressionTypes.GZIP],
  ["snappy", CompressionTypes.Snappy],
  ["lz4", CompressionTypes.LZ4],
  ["zstd", CompressionTypes.ZSTD],
] as const;
const RECORDS = 100;

scenario(async () => {
  const client = kafka();
  const admin = client.admin();
  const producer = client.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  try {
    for (const [name, compression] of CODECS) {
      const topic = uniqueName(`codec-${name}`);
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const messages = Array.from({ length: RECORDS }, (_, i) => ({
        key: `key-${i}`,
        value: `${name} value ${i} ${"x".repeat(i)}`,
        headers: { codec: name, index: String(i) },
      }));
      // Two sends: a batch of 60 then one of 40, so offsets continue across compressed batches.
      const first = await producer.send({ topic, compression, acks: -1, messages: messages.slice(0, 60) });
      const second = await producer.send({ topic, compression, acks: -1, messages: messages.slice(60) });
      check(first[0]?.baseOffset === "0", `${name}: first baseOffset ${first[0]?.baseOffset}`);
      check(second[0]?.baseOffset === "60", `${name}: second baseOffset ${second[0]?.baseOffset}`);

      const consumer = client.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 200 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        const got = await consumeCount(consumer, RECORDS);
        check(got.length === RECORDS, `${name}: consumed ${got.length} of ${RECORDS}`);
        got.forEach((r, i) => {
          const sent = messages[i]!;
          check(r.offset === String(i), `${name}: record ${i} has offset ${r.offset}`);
          check(r.key === sent.key && r.value === sent.value, `${name}: record ${i} differs`);
          check(r.headers.codec === name && r.headers.index === String(i), `${name}: record ${i} headers`);
        });
      } finally {
        await consumer.disconnect();
      }
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});
