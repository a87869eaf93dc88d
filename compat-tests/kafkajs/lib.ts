// Helpers shared by the kafkajs scenarios: the client for BOOTSTRAP, unique names, bounded waits,
// and the scenario wrapper that turns any failure into one "FAIL: reason" line and exit code 1.
import { randomBytes } from "node:crypto";
import type { Consumer, EachMessagePayload, Kafka } from "kafkajs";
import kafkajs from "kafkajs";
import { registerCodecs } from "./codecs.js";

// kafkajs is CommonJS and Node's ESM loader detects only some of its named exports, so values come
// from the default export.
export const { CompressionTypes, ConfigResourceTypes } = kafkajs;

export const DEADLINE_MS = 45_000;

export class ScenarioFailure extends Error {}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ScenarioFailure(message);
}

export function uniqueName(prefix: string): string {
  return `compat-kafkajs-${prefix}-${randomBytes(4).toString("hex")}`;
}

export function kafka(clientId = "krill-compat-kafkajs"): Kafka {
  const bootstrap = process.env.BOOTSTRAP;
  if (!bootstrap) throw new ScenarioFailure("BOOTSTRAP is not set");
  registerCodecs();
  return new kafkajs.Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: kafkajs.logLevel.ERROR,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `condition` holds or the deadline passes; returns whether it held. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = DEADLINE_MS,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return condition();
}

export interface Received {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export function toReceived({ topic, partition, message }: EachMessagePayload): Received {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    headers[name] = Array.isArray(value) ? value.map(String).join(",") : String(value);
  }
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString("utf8") ?? null,
    value: message.value?.toString("utf8") ?? null,
    headers,
  };
}

/** Runs `consumer` (already subscribed) until `count` records arrived or the deadline passed. */
export async function consumeCount(
  consumer: Consumer,
  count: number,
  timeoutMs = DEADLINE_MS,
): Promise<Received[]> {
  const received: Received[] = [];
  await consumer.run({
    eachMessage: async (payload) => {
      received.push(toReceived(payload));
    },
  });
  await waitFor(() => received.length >= count, timeoutMs);
  return received;
}

/** Wraps a scenario: bounded by a timer, failures reported as one line, always exits. */
export function scenario(body: () => Promise<void>, timeoutMs = 100_000): void {
  const timer = setTimeout(() => {
    console.error(`FAIL: scenario did not finish within ${timeoutMs} ms`);
    process.exit(1);
  }, timeoutMs);
  body().then(
    () => {
      clearTimeout(timer);
      process.exit(0);
    },
    (err: unknown) => {
      clearTimeout(timer);
      const reason = err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
      console.error(`FAIL: ${reason.replace(/\s+/g, " ")}`);
      process.exit(1);
    },
  );
}
