// kafkajs transactions: a committed and an aborted transaction (AddPartitionsToTxn, EndTxn), then
// a transaction that also commits consumer offsets (AddOffsetsToTxn, TxnOffsetCommit). A
// read_committed consumer sees only committed records; read_uncommitted sees both.
import { check, consumeCount, kafka, scenario, uniqueName } from "../lib.js";

scenario(async () => {
  const client = kafka();
  const admin = client.admin();
  const topic = uniqueName("txn");
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const producer = client.producer({
    transactionalId: `${topic}-tid`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const committed = await producer.transaction();
    await committed.send({
      topic,
      messages: [0, 1, 2, 3].map((i) => ({ partition: i % 2, value: `committed ${i}` })),
    });
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [0, 1].map((i) => ({ partition: i % 2, value: `aborted ${i}` })) });
    await aborted.abort();

    const groupId = `${topic}-offsets`;
    const withOffsets = await producer.transaction();
    await withOffsets.send({ topic, messages: [{ partition: 0, value: "committed with offsets" }] });
    await withOffsets.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition: 1, offset: "2" }] }],
    });
    await withOffsets.commit();

    const readCommitted = client.consumer({
      groupId: `${topic}-rc`,
      maxWaitTimeInMs: 200,
      readUncommitted: false,
    });
    await readCommitted.connect();
    await readCommitted.subscribe({ topic, fromBeginning: true });
    const got = await consumeCount(readCommitted, 5);
    // Let any record that should not be there arrive before judging.
    await new Promise((r) => setTimeout(r, 1_000));
    await readCommitted.disconnect();
    const values = got.map((r) => r.value).sort();
    check(
      JSON.stringify(values) ===
        JSON.stringify([
          "committed 0",
          "committed 1",
          "committed 2",
          "committed 3",
          "committed with offsets",
        ]),
      `read_committed saw ${JSON.stringify(values)}`,
    );

    const readUncommitted = client.consumer({
      groupId: `${topic}-ru`,
      maxWaitTimeInMs: 200,
      readUncommitted: true,
    });
    await readUncommitted.connect();
    await readUncommitted.subscribe({ topic, fromBeginning: true });
    const all = await consumeCount(readUncommitted, 7);
    await readUncommitted.disconnect();
    check(
      all.filter((r) => r.value?.startsWith("aborted")).length === 2,
      "read_uncommitted misses the aborted records",
    );

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const p1 = offsets[0]?.partitions.find((p) => p.partition === 1);
    check(p1?.offset === "2", `offset committed in the transaction: ${p1?.offset}`);
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});
