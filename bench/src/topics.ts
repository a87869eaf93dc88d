// The benchmark's topic administration, one admin round trip per call (a JVM start per topic would
// cost more than some of the runs). Prints "RESULT {json}" with `error` null on success.
//
//   tsx topics.ts create BOOTSTRAP SEGMENT_BYTES NAME:PARTITIONS [NAME:PARTITIONS ...]
//       replication 1 and the same explicit segment size on both brokers; waits until Metadata
//       shows every partition with a leader.
//   tsx topics.ts delete BOOTSTRAP NAME [NAME ...]
//       topics no later run reads, so that two brokers' worth of the full matrix (3 runs x 32
//       workloads x 488 MiB each) never sits on the disk at once.
import { type Admin, Kafka, logLevel } from "kafkajs";

const TOPICS_MAX = 256;
const PARTITIONS_MAX = 1024;
const TIMEOUT_MS = 30_000;
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

function usage(): never {
  console.error(
    "usage: topics.ts create BOOTSTRAP SEGMENT_BYTES NAME:PARTITIONS... | topics.ts delete BOOTSTRAP NAME...",
  );
  process.exit(2);
}

/** Runs `work` with a connected admin client and prints its outcome as the RESULT line. */
async function withAdmin(bootstrap: string, work: (admin: Admin) => Promise<string | null>): Promise<never> {
  const kafka = new Kafka({ clientId: "krill-bench-admin", brokers: [bootstrap], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  let error: string | null = null;
  try {
    await admin.connect();
    error = await work(admin);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  console.log(`RESULT ${JSON.stringify({ error })}`);
  process.exit(0);
}

async function create(bootstrap: string, segmentArg: string | undefined, specs: string[]): Promise<never> {
  const segmentBytes = Number(segmentArg);
  if (!Number.isInteger(segmentBytes) || specs.length === 0 || specs.length > TOPICS_MAX) usage();
  const topics = specs.map((s) => {
    const m = /^([A-Za-z0-9._-]{1,249}):(\d+)$/.exec(s);
    const partitions = Number(m?.[2]);
    if (!m || partitions < 1 || partitions > PARTITIONS_MAX) {
      console.error(`topics: bad topic spec ${s}`);
      process.exit(2);
    }
    return {
      topic: m[1]!,
      numPartitions: partitions,
      replicationFactor: 1,
      configEntries: [{ name: "segment.bytes", value: String(segmentBytes) }],
    };
  });
  return withAdmin(bootstrap, async (admin) => {
    await admin.createTopics({ topics, waitForLeaders: true, timeout: TIMEOUT_MS });
    const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
    for (const t of topics) {
      const found = metadata.topics.find((m) => m.name === t.topic);
      const led = found?.partitions.filter((p) => p.leader >= 0).length ?? 0;
      if (led !== t.numPartitions) return `${t.topic}: ${led} of ${t.numPartitions} partitions have a leader`;
    }
    return null;
  });
}

async function remove(bootstrap: string, topics: string[]): Promise<never> {
  if (topics.length === 0 || topics.length > TOPICS_MAX || topics.some((t) => !TOPIC_NAME.test(t))) usage();
  return withAdmin(bootstrap, async (admin) => {
    await admin.deleteTopics({ topics, timeout: TIMEOUT_MS });
    return null;
  });
}

const [command, bootstrap, ...rest] = process.argv.slice(2);
if (!bootstrap) usage();
if (command === "create") await create(bootstrap, rest[0], rest.slice(1));
else if (command === "delete") await remove(bootstrap, rest);
else usage();
