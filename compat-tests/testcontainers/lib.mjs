// Helpers shared by the testcontainers scenarios: KrillContainer (the built module in
// ../../testcontainers/dist) labelled with this run's id so run.sh can remove leftovers, a kafkajs
// client (the root devDependency), checks, and the wrapper that turns any failure into one
// "FAIL: reason" line and exit code 1.
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import kafkajs from "kafkajs";
import { KrillContainer } from "../../testcontainers/dist/index.js";

export const DEADLINE_MS = 45_000;

export class ScenarioFailure extends Error {}

export function check(condition, message) {
  if (!condition) throw new ScenarioFailure(message);
}

export function uniqueName(prefix) {
  return `compat-tc-${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A KrillContainer carrying the run's label (KRILL_COMPAT_RUN, set by run.sh). */
export function krillContainer() {
  const container = new KrillContainer();
  const run = process.env.KRILL_COMPAT_RUN;
  if (run) container.withLabels({ "krill.compat.run": run });
  return container;
}

/** Starts a container and returns it with its start-up time (create, start, start-up log line). */
export async function startKrill(container = krillContainer()) {
  const startedMs = Date.now();
  const started = await container.start();
  const startupMs = Date.now() - startedMs;
  console.log(
    `container ${started.getId().slice(0, 12)} at ${started.getBootstrapServers()}: ${startupMs} ms`,
  );
  return { started, startupMs };
}

/** Asks the kernel for a free loopback port. */
export function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function kafka(bootstrap, clientId = "krill-compat-testcontainers") {
  return new kafkajs.Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: kafkajs.logLevel.ERROR,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Consumes `topic` from the beginning with a new group until `count` records or the deadline. */
export async function consumeAll(client, topic, count) {
  const consumer = client.consumer({ groupId: uniqueName("group"), sessionTimeout: 10_000 });
  const received = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          partition,
          offset: message.offset,
          key: message.key?.toString("utf8") ?? null,
          value: message.value?.toString("utf8") ?? null,
        });
      },
    });
    const deadline = Date.now() + DEADLINE_MS;
    while (received.length < count && Date.now() < deadline) await sleep(100);
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** Runs `body`; any failure prints "FAIL: message" and exits 1, success exits 0. */
export function scenario(body) {
  body().then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      console.log(`FAIL: ${err instanceof Error ? err.message : String(err)}`.split("\n")[0]);
      process.exit(1);
    },
  );
}
