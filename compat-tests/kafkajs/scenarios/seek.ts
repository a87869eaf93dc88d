// kafkajs seek: while running, seek back to offset 3, then forward past the records, then to the
// beginning again; the consumer restarts exactly at each position.
import { check, kafka, type Received, scenario, toReceived, uniqueName, waitFor } from "../lib.js";

scenario(async () => {
  const client = kafka();
  const admin = client.admin();
  const topic = uniqueName("seek");
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = client.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i) })),
  });
  const consumer = client.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 200 });
  const got: Received[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async (p) => void got.push(toReceived(p)) });
    check(await waitFor(() => got.length >= 10), `first pass consumed ${got.length} of 10`);
    check(
      got.map((r) => r.value).join() === "0,1,2,3,4,5,6,7,8,9",
      `first pass ${got.map((r) => r.value).join()}`,
    );

    got.length = 0;
    consumer.seek({ topic, partition: 0, offset: "3" });
    check(await waitFor(() => got.length >= 7), `after seek(3) consumed ${got.length} of 7`);
    check(
      got.map((r) => r.offset).join() === "3,4,5,6,7,8,9",
      `after seek(3): ${got.map((r) => r.offset).join()}`,
    );

    got.length = 0;
    consumer.seek({ topic, partition: 0, offset: "0" });
    check(await waitFor(() => got.length >= 10), `after seek(0) consumed ${got.length}`);
    check(got[0]?.offset === "0", `after seek(0) first offset ${got[0]?.offset}`);

    got.length = 0;
    await producer.send({ topic, acks: -1, messages: [{ value: "10" }, { value: "11" }] });
    check(await waitFor(() => got.length >= 2), "records produced after the seeks did not arrive");
    check(got.map((r) => r.offset).join() === "10,11", `new records ${got.map((r) => r.offset).join()}`);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
});
