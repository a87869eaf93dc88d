// Creates the benchmark's topics in one admin round trip (a JVM start per topic would cost more than
// some of the runs), with replication 1 and the same explicit segment size on both brokers, then
// waits until Metadata shows every partition with a leader. Prints "RESULT {json}".
//
//   tsx create-topics.ts BOOTSTRAP SEGMENT_BYTES NAME:PARTITIONS [NAME:PARTITIONS ...]
import { Kafka, logLevel } from "kafkajs";

const TOPICS_MAX = 256;
const PARTITIONS_MAX = 1024;
const READY_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const [bootstrap, segmentArg, ...specs] = process.argv.slice(2);
  const segmentBytes = Number(segmentArg);
  if (!bootstrap || !Number.isInteger(segmentBytes) || specs.length === 0 || specs.length > TOPICS_MAX) {
    console.error("usage: create-topics.ts BOOTSTRAP SEGMENT_BYTES NAME:PARTITIONS...");
    process.exit(2);
  }
  const topics = specs.map((s) => {
    const m = /^([A-Za-z0-9._-]{1,249}):(\d+)$/.exec(s);
    const partitions = Number(m?.[2]);
    if (!m || partitions < 1 || partitions > PARTITIONS_MAX) {
      console.error(`create-topics: bad topic spec ${s}`);
      process.exit(2);
    }
    return {
      topic: m[1]!,
      numPartitions: partitions,
      replicationFactor: 1,
      configEntries: [{ name: "segment.bytes", value: String(segmentBytes) }],
    };
  });
  const kafka = new Kafka({ clientId: "krill-bench-admin", brokers: [bootstrap], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  let error: string | null = null;
  try {
    await admin.connect();
    await admin.createTopics({ topics, waitForLeaders: true, timeout: READY_TIMEOUT_MS });
    const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
    for (const t of topics) {
      const found = metadata.topics.find((m) => m.name === t.topic);
      const led = found?.partitions.filter((p) => p.leader >= 0).length ?? 0;
      if (led !== t.numPartitions) {
        error ??= `${t.topic}: ${led} of ${t.numPartitions} partitions have a leader`;
      }
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  console.log(`RESULT ${JSON.stringify({ created: error === null ? topics.length : 0, error })}`);
  process.exit(0);
}

await main();
