// kafkajs as a second load generator, so Node users see the same comparison as Java users. Runs in
// its own process (one event loop, like a real Node service) and prints one "RESULT {json}" line.
//
//   tsx kafkajs-perf.ts produce BOOTSTRAP TOPIC RECORDS RECORD_BYTES ACKS BATCH_RECORDS IN_FLIGHT
//   tsx kafkajs-perf.ts consume BOOTSTRAP TOPIC RECORDS GROUP TIMEOUT_MS
//
// produce: RECORDS records of RECORD_BYTES random bytes, sent as producer.send() calls of
// BATCH_RECORDS records with at most IN_FLIGHT calls outstanding; latency is per send() call.
// consume: a group member reading the topic from the beginning until RECORDS records arrived or
// TIMEOUT_MS passed without progress; the time includes joining the group, as a real consumer's does.
import { randomBytes } from "node:crypto";
import { Kafka, logLevel, Partitioners } from "kafkajs";

const ARG_RECORDS_MAX = 50_000_000;

function intArg(value: string | undefined, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`kafkajs-perf: ${name} must be an integer in [${min}, ${max}], got ${value}`);
    process.exit(2);
  }
  return n;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return -1;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i]!;
}

async function produce(argv: string[]): Promise<object> {
  const [bootstrap, topic, recordsArg, bytesArg, acksArg, batchArg, inFlightArg] = argv;
  const records = intArg(recordsArg, "RECORDS", 1, ARG_RECORDS_MAX);
  const recordBytes = intArg(bytesArg, "RECORD_BYTES", 0, 1 << 20);
  const acks = intArg(acksArg, "ACKS", -1, 1);
  const batchRecords = intArg(batchArg, "BATCH_RECORDS", 1, 100_000);
  const inFlight = intArg(inFlightArg, "IN_FLIGHT", 1, 1000);
  const kafka = new Kafka({
    clientId: "krill-bench-kafkajs",
    brokers: [bootstrap!],
    logLevel: logLevel.ERROR,
    retry: { retries: 2 },
  });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const value = randomBytes(recordBytes);
  const messages = Array.from({ length: batchRecords }, () => ({ value }));
  const latenciesMs: number[] = [];
  let sent = 0;
  let failed: string | null = null;
  const started = performance.now();
  const sendOne = async (): Promise<void> => {
    while (sent < records && failed === null) {
      const n = Math.min(batchRecords, records - sent);
      sent += n;
      const t0 = performance.now();
      try {
        await producer.send({
          topic: topic!,
          acks,
          messages: n === batchRecords ? messages : messages.slice(0, n),
        });
        latenciesMs.push(performance.now() - t0);
      } catch (e) {
        failed ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, sendOne));
  const elapsedMs = performance.now() - started;
  await producer.disconnect();
  latenciesMs.sort((a, b) => a - b);
  return {
    records: failed === null ? records : 0,
    elapsedMs,
    recordsPerSec: failed === null ? records / (elapsedMs / 1000) : 0,
    mbPerSec: failed === null ? (records * recordBytes) / (1024 * 1024) / (elapsedMs / 1000) : 0,
    sendLatencyMsP50: percentile(latenciesMs, 0.5),
    sendLatencyMsP99: percentile(latenciesMs, 0.99),
    error: failed,
  };
}

async function consume(argv: string[]): Promise<object> {
  const [bootstrap, topic, recordsArg, group, timeoutArg] = argv;
  const records = intArg(recordsArg, "RECORDS", 1, ARG_RECORDS_MAX);
  const idleTimeoutMs = intArg(timeoutArg, "TIMEOUT_MS", 100, 600_000);
  const kafka = new Kafka({
    clientId: "krill-bench-kafkajs",
    brokers: [bootstrap!],
    logLevel: logLevel.ERROR,
    retry: { retries: 2 },
  });
  const consumer = kafka.consumer({ groupId: group!, maxBytes: 64 << 20, maxBytesPerPartition: 8 << 20 });
  const started = performance.now();
  let received = 0;
  let bytes = 0;
  let lastProgress = performance.now();
  let lastRecordAt = started;
  let crashed: string | null = null;
  consumer.on(consumer.events.CRASH, (e) => {
    crashed = String(e.payload.error?.message ?? e.payload.error);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: topic!, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) bytes += m.value?.length ?? 0;
      received += batch.messages.length;
      lastProgress = performance.now();
      lastRecordAt = lastProgress;
    },
  });
  while (received < records && crashed === null && performance.now() - lastProgress < idleTimeoutMs) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsedMs = lastRecordAt - started;
  await consumer.disconnect();
  const complete = received >= records;
  return {
    records: received,
    elapsedMs,
    recordsPerSec: received / (elapsedMs / 1000),
    mbPerSec: bytes / (1024 * 1024) / (elapsedMs / 1000),
    error:
      crashed ??
      (complete ? null : `consumed ${received} of ${records} records before ${idleTimeoutMs} ms idle`),
  };
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  let result: object;
  if (mode === "produce") result = await produce(rest);
  else if (mode === "consume") result = await consume(rest);
  else {
    console.error("usage: kafkajs-perf.ts produce|consume ...");
    process.exit(2);
  }
  console.log(`RESULT ${JSON.stringify(result)}`);
  // kafkajs may leave timers behind after a failure; the result is out, so leave promptly.
  process.exit(0);
}

await main();
