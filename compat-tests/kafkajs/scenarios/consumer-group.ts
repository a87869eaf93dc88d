// kafkajs consumer group (JoinGroup/SyncGroup/Heartbeat/OffsetCommit): two members split four
// partitions, consume every record once, commit; the committed offsets equal the end offsets; a
// new member of the same group resumes from them; admin describes and deletes the group.
import { check, kafka, type Received, scenario, toReceived, uniqueName, waitFor } from "../lib.js";

const PARTITIONS = 4;
const RECORDS = 80;

scenario(async () => {
  const client = kafka();
  const admin = client.admin();
  const topic = uniqueName("group");
  const groupId = `${topic}-g`;
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  const producer = client.producer();
  await producer.connect();
  const received: Array<Received & { member: number }> = [];
  const members = [0, 1].map(() =>
    client.consumer({ groupId, maxWaitTimeInMs: 200, heartbeatInterval: 500 }),
  );
  try {
    const assigned = new Map<number, number>();
    for (const [member, consumer] of members.entries()) {
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        assigned.set(member, Object.values(e.payload.memberAssignment).flat().length);
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async (payload) => {
          received.push({ ...toReceived(payload), member });
        },
      });
    }
    check(
      await waitFor(
        () =>
          assigned.get(0) !== undefined &&
          assigned.get(1) !== undefined &&
          (assigned.get(0) ?? 0) + (assigned.get(1) ?? 0) === PARTITIONS,
      ),
      `partitions not split between the two members: ${JSON.stringify([...assigned])}`,
    );
    check(
      (assigned.get(0) ?? 0) > 0 && (assigned.get(1) ?? 0) > 0,
      `assignment ${JSON.stringify([...assigned])}`,
    );
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: String(i) })),
    });
    check(await waitFor(() => received.length >= RECORDS), `consumed ${received.length} of ${RECORDS}`);
    check(new Set(received.map((r) => r.value)).size === RECORDS, "a record was consumed twice");
    check(new Set(received.map((r) => r.member)).size === 2, "only one member received records");

    const description = await admin.describeGroups([groupId]);
    const group = description.groups[0];
    check(group?.state === "Stable", `group state ${group?.state}`);
    check(group?.members.length === 2, `group members ${group?.members.length}`);
    check(group?.protocolType === "consumer", `protocolType ${group?.protocolType}`);

    for (const consumer of members) await consumer.disconnect();
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const end of ends) {
      const c = committed[0]?.partitions.find((p) => p.partition === end.partition);
      check(c?.offset === end.high, `partition ${end.partition}: committed ${c?.offset}, end ${end.high}`);
    }
    check(
      (await admin.listGroups()).groups.some((g) => g.groupId === groupId),
      "listGroups misses the group",
    );

    // A new member of the same group starts from the committed offsets: it sees only new records.
    const late = client.consumer({ groupId, maxWaitTimeInMs: 200 });
    const lateReceived: Received[] = [];
    await late.connect();
    await late.subscribe({ topic, fromBeginning: true });
    await late.run({ eachMessage: async (p) => void lateReceived.push(toReceived(p)) });
    await producer.send({ topic, acks: -1, messages: [{ key: "late", value: "after-commit" }] });
    check(await waitFor(() => lateReceived.length >= 1), "the resumed member received nothing");
    await late.disconnect();
    check(
      lateReceived.length === 1 && lateReceived[0]?.value === "after-commit",
      `resumed member got ${lateReceived.map((r) => r.value).join(",")}`,
    );

    await admin.deleteGroups([groupId]);
    check(
      !(await admin.listGroups()).groups.some((g) => g.groupId === groupId),
      "group listed after deleteGroups",
    );
  } finally {
    for (const consumer of members) await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
});
