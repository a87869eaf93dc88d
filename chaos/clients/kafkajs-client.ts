// A chaos workload client on kafkajs, writing the history the checker reads (chaos/src/history.ts).
//
//   tsx chaos/clients/kafkajs-client.ts queue --bootstrap B --topic T --partitions N --process NAME
//       --history FILE [--seed S] [--duration-ms MS]
//
// queue: an idempotent acks=all producer (process NAME-p) sending one value at a time to random
// partitions, and a consumer in group chaos-queue (process NAME-c, read_committed) committing the
// offsets of each batch it logs. kafkajs runs the consumer as a callback loop beside the producer,
// so the two halves are two processes in the history; each is sequential on its own.
// Rebalances are logged as assign ops: [] when the group starts rebalancing, the consumer crashes
// or it joins (kafkajs then starts from the committed offsets), then the new assignment.
// SIGTERM ends the run after the current operation.
import { appendFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { prng } from "../src/schedule.js";

const { positionals, values: opts } = parseArgs({
  allowPositionals: true,
  options: {
    bootstrap: { type: "string" },
    topic: { type: "string" },
    partitions: { type: "string" },
    process: { type: "string" },
    history: { type: "string" },
    seed: { type: "string", default: "0" },
    "duration-ms": { type: "string", default: "60000" },
  },
});
if (
  positionals[0] !== "queue" ||
  !opts.bootstrap ||
  !opts.topic ||
  !opts.partitions ||
  !opts.process ||
  !opts.history
) {
  console.error(
    "usage: kafkajs-client.ts queue --bootstrap B --topic T --partitions N --process NAME --history FILE",
  );
  process.exit(2);
}
const topic = opts.topic;
const partitions = Number(opts.partitions);
const historyFile = opts.history;
const name = opts.process;
const deadline = Date.now() + Number(opts["duration-ms"]);
const rnd = prng(Number(opts.seed));
let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
});
process.on("SIGINT", () => {
  stopping = true;
});

function log(op: Record<string, unknown>): void {
  appendFileSync(historyFile, `${JSON.stringify({ ...op, end: Date.now() })}\n`);
}
const key = (partition: number): string => `${topic}/${partition}`;

const kafka = new Kafka({
  clientId: name,
  brokers: opts.bootstrap.split(","),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 3000,
  requestTimeout: 10_000,
  retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
});

async function produce(): Promise<void> {
  let incarnation = 0;
  let counter = 0;
  while (!stopping && Date.now() < deadline) {
    const process = incarnation === 0 ? `${name}-p` : `${name}-p.${incarnation}`;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await producer.connect();
    } catch {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    let restart = false;
    while (!stopping && Date.now() < deadline && !restart) {
      const partition = Math.floor(rnd() * partitions);
      const value = `${process}:${++counter}`;
      const started = Date.now();
      try {
        const [meta] = await producer.send({
          topic,
          acks: -1,
          timeout: 10_000,
          messages: [{ partition, value }],
        });
        log({
          process,
          type: "ok",
          f: "send",
          value: [["send", key(partition), [Number(meta!.baseOffset), value]]],
          time: started,
        });
      } catch (err) {
        // It may have reached the log: unknown. The producer's sequence state is suspect now, so
        // start over with a new producer id, as a new process.
        log({
          process,
          type: "info",
          f: "send",
          value: [["send", key(partition), [null, value]]],
          time: started,
          error: String((err as Error).message).slice(0, 300),
        });
        restart = true;
      }
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * 20)));
    }
    await producer.disconnect().catch(() => {});
    incarnation++;
  }
}

async function consume(): Promise<void> {
  const process = `${name}-c`;
  const assign = (keys: string[]): void => {
    log({ process, type: "ok", f: "assign", value: keys.sort(), time: Date.now() });
  };
  // A consumer that crashes for good (kafkajs gives up after its retries, or cannot connect) is
  // replaced; the assign [] logged first says it starts again from the group's committed offsets.
  while (!stopping && Date.now() < deadline) {
    const consumer = kafka.consumer({
      groupId: "chaos-queue-kafkajs",
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      readUncommitted: false,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    let crashed = false;
    consumer.on(consumer.events.REBALANCING, () => assign([]));
    consumer.on(consumer.events.CRASH, (e) => {
      assign([]);
      if (!e.payload.restart) crashed = true;
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // kafkajs starts every partition it is given from the group's committed offset after each
      // join (a new offset manager per join), so a join forgets the old positions even for
      // partitions it keeps; a member that was kicked out (UNKNOWN_MEMBER_ID) rejoins without a
      // REBALANCING event first.
      assign([]);
      const mine = (e.payload.memberAssignment[topic] ?? []) as number[];
      assign(mine.map(key));
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          if (batch.messages.length === 0) return;
          const started = Date.now();
          const pairs = batch.messages.map((m) => [Number(m.offset), m.value?.toString() ?? ""]);
          const last = batch.messages[batch.messages.length - 1]!;
          let error: string | undefined;
          try {
            await consumer.commitOffsets([
              { topic, partition: batch.partition, offset: String(Number(last.offset) + 1) },
            ]);
          } catch (err) {
            error = `commit: ${(err as Error).message}`.slice(0, 300);
          }
          log({
            process,
            type: "ok",
            f: "poll",
            value: [["poll", { [key(batch.partition)]: pairs }]],
            time: started,
            ...(error && { error }),
          });
          await heartbeat().catch(() => {});
        },
      });
    } catch {
      assign([]);
      crashed = true;
    }
    while (!stopping && Date.now() < deadline && !crashed) await new Promise((r) => setTimeout(r, 200));
    await consumer.disconnect().catch(() => {});
    if (crashed) await new Promise((r) => setTimeout(r, 500));
  }
}

// kafkajs rejects some internal promises nobody awaits when a broker dies; they must not end the run.
process.on("unhandledRejection", (err) => {
  console.error(`unhandled rejection: ${(err as Error)?.message ?? err}`);
});

await Promise.all([produce(), consume()]);
process.exit(0);
