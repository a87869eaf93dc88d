// Deletes benchmark topics once no later run reads them, so that two brokers' worth of the full
// matrix (3 runs x 32 workloads x 488 MiB each) never sits on the disk at once. Prints
// "RESULT {json}".
//
//   tsx delete-topics.ts BOOTSTRAP NAME [NAME ...]
import { Kafka, logLevel } from "kafkajs";

const TOPICS_MAX = 256;
const TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const [bootstrap, ...topics] = process.argv.slice(2);
  if (
    !bootstrap ||
    topics.length === 0 ||
    topics.length > TOPICS_MAX ||
    topics.some((t) => !/^[A-Za-z0-9._-]{1,249}$/.test(t))
  ) {
    console.error("usage: delete-topics.ts BOOTSTRAP NAME...");
    process.exit(2);
  }
  const kafka = new Kafka({ clientId: "krill-bench-admin", brokers: [bootstrap], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  let error: string | null = null;
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: TIMEOUT_MS });
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  console.log(`RESULT ${JSON.stringify({ deleted: error === null ? topics.length : 0, error })}`);
  process.exit(0);
}

await main();
