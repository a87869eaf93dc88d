// kafkajs idempotent producer (InitProducerId, sequence numbers): concurrent sends to several
// partitions land exactly once; each send's records for a partition stay in order and contiguous
// (concurrent sends may interleave with each other, but never within one batch).
import { check, consumeCount, kafka, scenario, uniqueName } from "../lib.js";

const PARTITIONS = 3;
const SENDS = 20;
const PER_SEND = 10;

scenario(async () => {
  const client = kafka();
  const admin = client.admin();
  const topic = uniqueName("idempotent");
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const sends = [];
    for (let s = 0; s < SENDS; s++) {
      const messages = Array.from({ length: PER_SEND }, (_, i) => {
        const n = s * PER_SEND + i;
        return { partition: n % PARTITIONS, key: String(n), value: `idempotent ${n}` };
      });
      sends.push(producer.send({ topic, acks: -1, messages }));
    }
    await Promise.all(sends);
    const total = SENDS * PER_SEND;
    const offsets = await admin.fetchTopicOffsets(topic);
    const high = offsets.reduce((sum, o) => sum + Number(o.high), 0);
    check(high === total, `end offsets sum to ${high}, expected ${total}`);

    const consumer = client.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const got = await consumeCount(consumer, total);
      check(got.length === total, `consumed ${got.length} of ${total}`);
      check(new Set(got.map((r) => r.key)).size === total, "duplicates among consumed records");
      for (let p = 0; p < PARTITIONS; p++) {
        const bySend = new Map<number, Array<{ key: number; offset: number }>>();
        for (const r of got.filter((r) => r.partition === p)) {
          const key = Number(r.key);
          const send = Math.floor(key / PER_SEND);
          bySend.set(send, [...(bySend.get(send) ?? []), { key, offset: Number(r.offset) }]);
        }
        for (const [send, records] of bySend) {
          const inOrder = records.every(
            (r, i) => i === 0 || (r.key > records[i - 1]!.key && r.offset === records[i - 1]!.offset + 1),
          );
          check(inOrder, `partition ${p}, send ${send}: ${JSON.stringify(records)}`);
        }
      }
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});
