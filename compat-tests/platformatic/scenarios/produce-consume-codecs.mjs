// @platformatic/kafka producer with every codec (none, gzip, snappy, lz4, zstd), keys and headers,
// then a consumer stream from the earliest offset reads back exactly what was sent.
import {
  Admin,
  CompressionAlgorithms,
  Consumer,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { bootstrapBrokers, check, scenario, take, uniqueName } from "../lib.mjs";

const RECORDS = 100;

scenario(async () => {
  const brokers = bootstrapBrokers();
  const admin = new Admin({ clientId: "krill-compat-plt", bootstrapBrokers: brokers });
  const producer = new Producer({
    clientId: "krill-compat-plt",
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
  });
  try {
    for (const codec of Object.values(CompressionAlgorithms)) {
      const topic = uniqueName(`codec-${codec}`);
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      const messages = Array.from({ length: RECORDS }, (_, i) => ({
        topic,
        partition: 0,
        key: `key-${i}`,
        value: `${codec} value ${i} ${"z".repeat(i)}`,
        headers: { codec, index: String(i) },
      }));
      const result = await producer.send({ messages, compression: codec, acks: ProduceAcks.ALL });
      check(
        result.offsets?.[0]?.offset === 0n,
        `${codec}: produce offsets ${JSON.stringify(result.offsets, (_, v) => (typeof v === "bigint" ? String(v) : v))}`,
      );

      const consumer = new Consumer({
        groupId: `${topic}-g`,
        clientId: "krill-compat-plt",
        bootstrapBrokers: brokers,
        deserializers: stringDeserializers,
        maxWaitTime: 200,
      });
      try {
        const stream = await consumer.consume({
          topics: [topic],
          mode: MessagesStreamModes.EARLIEST,
          autocommit: false,
        });
        const got = await take(stream, RECORDS);
        await stream.close();
        check(got.length === RECORDS, `${codec}: consumed ${got.length} of ${RECORDS}`);
        got.forEach((m, i) => {
          check(m.offset === BigInt(i), `${codec}: record ${i} offset ${m.offset}`);
          check(m.key === messages[i].key && m.value === messages[i].value, `${codec}: record ${i} differs`);
          check(
            m.headers.get("codec") === codec && m.headers.get("index") === String(i),
            `${codec}: record ${i} headers`,
          );
        });
      } finally {
        await consumer.close(true);
      }
    }
  } finally {
    await producer.close();
    await admin.close();
  }
});
