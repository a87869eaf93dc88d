/**
 * A fuzz of the live broker: mutated real request frames for every API and version the broker
 * serves, sent over one connection (reopened whenever the broker closes it), while another
 * connection checks the broker still answers ApiVersions and the process's resident memory is
 * sampled. Run for a bounded count by the suite (fuzz-live.test.ts) and for a set time by
 * scripts/fuzz-live.ts.
 *
 * Seeds: for each (API, version), request bodies that decode, drawn from the spec-driven
 * arbitraries (test/protocol/generated/schema-arbitraries.ts) and encoded by the generated codecs,
 * with the fields that would make a valid request wait or grow the broker clamped first (Fetch
 * max_wait_ms, group timeouts, CreateTopics/CreatePartitions validate_only). Each input is a seed
 * with one or two mutations (fuzz-support.ts: flipped bytes, huge counts, runaway varints,
 * truncation, duplicated or deleted slices, random tails) behind a well-formed header.
 *
 * The broker may answer or close the connection; it must keep answering other clients, and its
 * memory must stay bounded. An input left unanswered past `answerTimeoutMs` (a request that
 * legitimately waits, such as a JoinGroup) is counted and its connection dropped.
 */
import net from "node:net";
import fc from "fast-check";
import type { BrokerHandle } from "../../src/index.js";
import { API_VERSIONS_API, apiDescriptor } from "../../src/protocol/generated/apis.js";
import { Writer } from "../../src/protocol/primitives/writer.js";
import { FrameDecoder } from "../../src/server/network/frame-decoder.js";
import { mutate, prng } from "../protocol/generated/fuzz-support.js";
import { ArbitraryBuilder, codecOf, messages } from "../protocol/generated/schema-arbitraries.js";

export interface LiveFuzzOptions {
  seed: number;
  /** Stop after this many inputs... */
  inputsMax: number;
  /** ...or this long, whichever comes first. */
  timeLimitMs: number;
  answerTimeoutMs?: number;
  /** Called with the resident set size in bytes, sampled every 250 ms. */
  onRss?: (bytes: number) => void;
  /**
   * Which listener is fuzzed, with the APIs it serves (default "broker": the client port); a
   * "controller" run sends to the first listener of controller.listener.names.
   */
  listener?: "broker" | "controller";
}

export interface LiveFuzzReport {
  seed: number;
  inputs: number;
  answered: number;
  closed: number;
  unanswered: number;
  /** The slowest answer or close, in ms, and the API it was for. */
  slowestMs: number;
  slowestApi: string;
  targets: number;
  rssStartBytes: number;
  rssPeakBytes: number;
  /** A liveness check that failed (the broker stopped answering ApiVersions), if any. */
  failure?: string;
}

interface Target {
  apiKey: number;
  name: string;
  version: number;
  seeds: Buffer[];
}

/**
 * Fields clamped in a seed so an unmutated request neither long-polls nor creates anything; each
 * is set only where this version can carry the value.
 */
function tame(message: Record<string, unknown>, encodes: (m: Record<string, unknown>) => boolean) {
  let m = message;
  const clamps: [string, unknown][] = [
    ["maxWaitMs", 0],
    ["rebalanceTimeoutMs", 0],
    ["sessionTimeoutMs", 0],
    ["timeoutMs", 0],
    ["validateOnly", true],
    ["allowAutoTopicCreation", false],
  ];
  for (const [key, value] of clamps) {
    if (!(key in m)) continue;
    const candidate = { ...m, [key]: value };
    if (encodes(candidate)) m = candidate;
  }
  return m;
}

function buildTargets(broker: BrokerHandle, seed: number, kind: "broker" | "controller"): Target[] {
  const models = new Map(
    messages()
      .filter((m) => m.kind === "request" && m.apiKey !== null)
      .map((m) => [m.apiKey!, m]),
  );
  const targets: Target[] = [];
  for (const handler of broker.broker.context.registry.servedOn(kind)) {
    const model = models.get(handler.apiKey);
    if (model === undefined) continue;
    const codec = codecOf(model);
    for (let version = handler.minVersion; version <= handler.maxVersion; version++) {
      const samples = fc.sample(new ArbitraryBuilder(model, version).message(), {
        numRuns: 3,
        seed: seed + handler.apiKey * 100 + version,
      });
      const encode = (m: Record<string, unknown>) => {
        const w = new Writer(64);
        codec.encode(w, m, version);
        return w.finish();
      };
      const encodes = (m: Record<string, unknown>) => {
        try {
          encode(m);
          return true;
        } catch {
          return false;
        }
      };
      const seeds = samples.map((msg) => encode(tame(msg, encodes)));
      targets.push({ apiKey: handler.apiKey, name: handler.name, version, seeds });
    }
  }
  return targets;
}

function frame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const api = apiDescriptor(apiKey)!;
  const w = new Writer(64 + body.length);
  w.writeInt32(0);
  w.writeInt16(apiKey);
  w.writeInt16(version);
  w.writeInt32(correlationId);
  w.writeNullableString("fuzz-live");
  if (api.requestHeaderVersion(version) >= 2) w.writeUnsignedVarint(0);
  w.writeRawBytes(body);
  const out = w.finish();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

class Conn {
  readonly socket: net.Socket;
  readonly #decoder = new FrameDecoder(1 << 30);
  #waiter: ((outcome: "answered" | "closed") => void) | undefined;
  closed = false;

  constructor(port: number, host: string) {
    this.socket = net.connect(port, host);
    this.socket.on("error", () => {});
    this.socket.on("data", (chunk: Buffer) => {
      this.#decoder.push(chunk);
      while (this.#decoder.next() !== undefined) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w?.("answered");
      }
    });
    this.socket.on("close", () => {
      this.closed = true;
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.("closed");
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
  }

  /** Sends one frame and resolves with how it ended, or "timeout". */
  exchange(bytes: Buffer, timeoutMs: number): Promise<"answered" | "closed" | "timeout"> {
    if (this.closed) return Promise.resolve("closed");
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve("timeout");
      }, timeoutMs);
      this.#waiter = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      this.socket.write(bytes);
    });
  }
}

export async function fuzzLiveBroker(
  broker: BrokerHandle,
  options: LiveFuzzOptions,
): Promise<LiveFuzzReport> {
  const answerTimeoutMs = options.answerTimeoutMs ?? 2_000;
  const next = prng(options.seed);
  const kind = options.listener ?? "broker";
  const targets = buildTargets(broker, options.seed, kind);
  const port = listenerPort(broker, kind);
  const rssStart = process.memoryUsage().rss;
  const report: LiveFuzzReport = {
    seed: options.seed,
    inputs: 0,
    answered: 0,
    closed: 0,
    unanswered: 0,
    slowestMs: 0,
    slowestApi: "",
    targets: targets.length,
    rssStartBytes: rssStart,
    rssPeakBytes: rssStart,
  };
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    report.rssPeakBytes = Math.max(report.rssPeakBytes, rss);
    options.onRss?.(rss);
  }, 250);
  const open = async () => {
    const c = new Conn(port, broker.host);
    await c.ready();
    return c;
  };
  let conn = await open();
  const started = performance.now();
  try {
    while (report.inputs < options.inputsMax && performance.now() - started < options.timeLimitMs) {
      const target = targets[next() % targets.length]!;
      let body = mutate(target.seeds[next() % target.seeds.length]!, next);
      if (next() % 3 === 0) body = mutate(body, next);
      if (conn.closed) conn = await open();
      const sentAt = performance.now();
      const outcome = await conn.exchange(
        frame(target.apiKey, target.version, report.inputs, body),
        answerTimeoutMs,
      );
      const tookMs = performance.now() - sentAt;
      report.inputs++;
      if (outcome === "timeout") {
        report.unanswered++;
        conn.socket.destroy();
        conn = await open();
      } else {
        if (outcome === "answered") report.answered++;
        else report.closed++;
        if (tookMs > report.slowestMs) {
          report.slowestMs = tookMs;
          report.slowestApi = `${target.name} v${target.version}`;
        }
      }
      if (report.inputs % 500 === 0) {
        const failure = await stillAnswers(broker.host, port);
        if (failure !== undefined) {
          report.failure = `after ${report.inputs} inputs: ${failure}`;
          break;
        }
      }
    }
    report.failure ??= await stillAnswers(broker.host, port);
  } finally {
    clearInterval(sampler);
    conn.socket.destroy();
  }
  report.rssPeakBytes = Math.max(report.rssPeakBytes, process.memoryUsage().rss);
  return report;
}

function listenerPort(broker: BrokerHandle, kind: "broker" | "controller"): number {
  if (kind === "broker") return broker.port;
  const names = broker.broker.context.config.controllerListenerNames;
  const bound = broker.broker.boundListeners.find((l) => names.has(l.spec.name));
  if (bound === undefined) throw new Error("the broker has no controller listener");
  return bound.port;
}

/** undefined when ApiVersions is answered within 5 s on a fresh connection. */
async function stillAnswers(host: string, port: number): Promise<string | undefined> {
  const c = new Conn(port, host);
  try {
    await c.ready();
    // ApiVersions v0 has an empty body.
    const outcome = await c.exchange(frame(API_VERSIONS_API.apiKey, 0, 1, Buffer.alloc(0)), 5_000);
    return outcome === "answered" ? undefined : `ApiVersions ${outcome}`;
  } catch (err) {
    return `cannot connect: ${(err as Error).message}`;
  } finally {
    c.socket.destroy();
  }
}
