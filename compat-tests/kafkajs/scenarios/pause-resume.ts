// kafkajs pause/resume: with one of two topics paused, only the other one's records arrive; after
// resume the paused topic's records arrive too, none lost or repeated.
import { check, kafka, type Received, scenario, sleep, toReceived, uniqueName, waitFor } from "../lib.js";

scenario(async () => {
  const client = kafka();
  const admin = client.admin();
  const active = uniqueName("active");
  const paused = uniqueName("paused");
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: active, numPartitions: 1 },
      { topic: paused, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  const producer = client.producer();
  await producer.connect();
  const consumer = client.consumer({ groupId: `${active}-g`, maxWaitTimeInMs: 200 });
  const got: Received[] = [];
  try {
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [active, paused], fromBeginning: true });
    await consumer.run({ eachMessage: async (p) => void got.push(toReceived(p)) });
    // Pause only once the member owns its partitions, so the pause applies to a live assignment.
    check(await waitFor(() => joined), "consumer did not join the group");
    await producer.send({ topic: active, acks: -1, messages: [{ value: "warm-up" }] });
    check(await waitFor(() => got.length >= 1), "warm-up record did not arrive");

    consumer.pause([{ topic: paused }]);
    check(
      consumer.paused().some((p) => p.topic === paused),
      "paused() does not list the paused topic",
    );
    await producer.send({ topic: paused, acks: -1, messages: [1, 2, 3].map((i) => ({ value: `p${i}` })) });
    await producer.send({ topic: active, acks: -1, messages: [1, 2, 3].map((i) => ({ value: `a${i}` })) });
    check(
      await waitFor(() => got.filter((r) => r.topic === active).length >= 4),
      "active topic records missing",
    );
    await sleep(1_500);
    check(
      got.every((r) => r.topic !== paused),
      "a record of the paused topic arrived while paused",
    );

    consumer.resume([{ topic: paused }]);
    check(
      await waitFor(() => got.filter((r) => r.topic === paused).length >= 3),
      "paused topic records missing after resume",
    );
    const pausedValues = got.filter((r) => r.topic === paused).map((r) => r.value);
    check(pausedValues.join() === "p1,p2,p3", `after resume: ${pausedValues.join()}`);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
});
