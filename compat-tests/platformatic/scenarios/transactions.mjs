// @platformatic/kafka transactions: a committed and an aborted transaction from an idempotent
// transactional producer; a read_committed stream sees only the committed records.
import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { bootstrapBrokers, check, scenario, take, uniqueName } from "../lib.mjs";

scenario(async () => {
  const brokers = bootstrapBrokers();
  const topic = uniqueName("txn");
  const admin = new Admin({ clientId: "krill-compat-plt", bootstrapBrokers: brokers });
  const producer = new Producer({
    clientId: "krill-compat-plt",
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    transactionalId: `${topic}-tid`,
  });
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    const committed = await producer.beginTransaction();
    await committed.send({
      messages: [0, 1, 2].map((i) => ({ topic, partition: 0, value: `committed ${i}` })),
    });
    await committed.commit();
    const aborted = await producer.beginTransaction();
    await aborted.send({ messages: [0, 1].map((i) => ({ topic, partition: 0, value: `aborted ${i}` })) });
    await aborted.abort();
    const last = await producer.beginTransaction();
    await last.send({ messages: [{ topic, partition: 0, value: "committed last" }] });
    await last.commit();

    const consumer = new Consumer({
      groupId: `${topic}-g`,
      clientId: "krill-compat-plt",
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
      maxWaitTime: 200,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: false,
      });
      // Ask for one more than expected so a leaked aborted record would show.
      const got = await take(stream, 5, 8_000);
      await stream.close();
      const values = got.map((m) => m.value);
      check(
        JSON.stringify(values) ===
          JSON.stringify(["committed 0", "committed 1", "committed 2", "committed last"]),
        `read_committed saw ${JSON.stringify(values)}`,
      );
    } finally {
      await consumer.close(true);
    }
  } finally {
    await producer.close();
    await admin.close();
  }
});
