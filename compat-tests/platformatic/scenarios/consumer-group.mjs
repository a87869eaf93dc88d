// @platformatic/kafka consumer group: consume, commit each message, committed offsets equal the end
// offsets (consumer and admin agree); a new stream of the same group in "committed" mode sees only
// records produced after the commit.
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { bootstrapBrokers, check, scenario, take, uniqueName } from "../lib.mjs";

const PARTITIONS = 2;
const RECORDS = 40;

scenario(async () => {
  const brokers = bootstrapBrokers();
  const topic = uniqueName("group");
  const groupId = `${topic}-g`;
  const admin = new Admin({ clientId: "krill-compat-plt", bootstrapBrokers: brokers });
  const producer = new Producer({
    clientId: "krill-compat-plt",
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
  });
  const newConsumer = () =>
    new Consumer({
      groupId,
      clientId: "krill-compat-plt",
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
      maxWaitTime: 200,
    });
  try {
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
    await producer.send({
      messages: Array.from({ length: RECORDS }, (_, i) => ({
        topic,
        partition: i % PARTITIONS,
        key: `k${i}`,
        value: String(i),
      })),
      acks: ProduceAcks.ALL,
    });

    const first = newConsumer();
    try {
      const stream = await first.consume({
        topics: [topic],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: false,
      });
      const got = await take(stream, RECORDS);
      check(got.length === RECORDS, `consumed ${got.length} of ${RECORDS}`);
      check(new Set(got.map((m) => m.value)).size === RECORDS, "a record was consumed twice");
      for (const m of got) await m.commit();
      const committed = await first.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1] }] });
      const ends = await first.listOffsets({ topics: [topic] });
      for (let p = 0; p < PARTITIONS; p++) {
        const c = committed.get(topic)?.[p];
        const e = ends.get(topic)?.[p];
        check(c === e && e === BigInt(RECORDS / PARTITIONS), `partition ${p}: committed ${c}, end ${e}`);
      }
      await stream.close();
    } finally {
      await first.close(true);
    }

    const [offsets] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const total = (offsets?.topics ?? [])
      .flatMap((t) => t.partitions)
      .reduce((sum, p) => sum + p.committedOffset, 0n);
    check(total === BigInt(RECORDS), `admin sees committed offsets summing to ${total}`);
    check((await admin.listGroups()).has(groupId), "listGroups misses the group");

    await producer.send({
      messages: [{ topic, partition: 1, key: "late", value: "late" }],
      acks: ProduceAcks.ALL,
    });
    const second = newConsumer();
    try {
      const stream = await second.consume({
        topics: [topic],
        mode: MessagesStreamModes.COMMITTED,
        autocommit: false,
      });
      const got = await take(stream, 2, 8_000);
      await stream.close();
      check(
        got.length === 1 && got[0].value === "late",
        `resumed stream got ${got.map((m) => m.value).join(",")}`,
      );
    } finally {
      await second.close(true);
    }
  } finally {
    await producer.close();
    await admin.close();
  }
});
