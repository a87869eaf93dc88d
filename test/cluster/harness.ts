/**
 * Krill processes for the multi-process cluster tests: each node is the CLI (`krill start`, as
 * `make run` starts one) on 127.0.0.1 with free ports, combined roles and static voters, from a
 * Kafka `server.properties` and a data directory formatted as `krill format` does. Its JSON log
 * lines are kept so tests can wait for what a node says. Every wait is bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { PropertiesFile } from "../../src/config/properties.js";
import { formatStorage } from "../../src/metadata/storage-format.js";
import { SYSTEM_RANDOM } from "../../src/random.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "src/cli.ts");

export interface Node {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly configFile: string;
  child?: ChildProcess;
  exited?: Promise<void>;
  /** Parsed JSON log lines of the current process. */
  lines: Record<string, unknown>[];
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `count` combined nodes under `base`: server.properties written (Kafka's keys, plus `extra`
 * lines) and storage formatted with `clusterId`. Not started.
 */
export async function formatNodes(
  base: string,
  count: number,
  clusterId: string,
  extra: readonly string[] = [],
): Promise<Node[]> {
  const ports = await Promise.all(Array.from({ length: 2 * count }, () => freePort()));
  const nodes: Node[] = [];
  for (let id = 1; id <= count; id++) {
    nodes.push({
      id,
      port: ports[id - 1]!,
      controllerPort: ports[count + id - 1]!,
      configFile: path.join(base, `server-${id}.properties`),
      lines: [],
    });
  }
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(",");
  for (const n of nodes) {
    writeFileSync(
      n.configFile,
      [
        "process.roles=broker,controller",
        `node.id=${n.id}`,
        `controller.quorum.voters=${voters}`,
        `listeners=PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${n.port}`,
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        `log.dirs=${path.join(base, `data-${n.id}`)}`,
        ...extra,
        "",
      ].join("\n"),
    );
    // `krill format --cluster-id ... --config server-N.properties`, in process.
    formatStorage({
      config: BrokerConfig.create(PropertiesFile.read(n.configFile)),
      clusterId,
      standalone: false,
      initialControllers: undefined,
      noInitialControllers: false,
      releaseVersion: undefined,
      ignoreFormatted: false,
      random: SYSTEM_RANDOM,
      now: new Date(),
    });
  }
  return nodes;
}

export function start(node: Node): void {
  node.lines = [];
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "start", "--config", node.configFile], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KRILL_LOG_LEVEL: "info" },
  });
  let pending = "";
  child.stdout?.on("data", (chunk) => {
    pending += String(chunk);
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const line of parts) {
      try {
        node.lines.push(JSON.parse(line));
      } catch {
        // Not a log line.
      }
    }
  });
  child.stderr?.on("data", () => {});
  node.child = child;
  node.exited = new Promise((resolve) => child.on("exit", () => resolve()));
}

/** SIGKILL (kill -9) of the node's process, if it runs; resolves once it has exited. */
export async function kill(node: Node): Promise<void> {
  if (node.child !== undefined && node.child.exitCode === null && node.child.signalCode === null) {
    node.child.kill("SIGKILL");
    await node.exited;
  }
}

export async function until<T>(what: string, timeoutMs: number, f: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Like `until` for an asynchronous check. */
export async function untilAsync<T>(
  what: string,
  timeoutMs: number,
  f: () => Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The newest "this node is the active controller" line of a running node: its epoch and time. */
export function activation(node: Node): { epoch: number; time: number } | undefined {
  for (let i = node.lines.length - 1; i >= 0; i--) {
    const l = node.lines[i]!;
    if (l.msg === "this node is the active controller")
      return {
        epoch: Number(l.epoch),
        time: typeof l.time === "number" ? l.time : Date.parse(String(l.time)),
      };
  }
  return undefined;
}

/** The node's broker has registered, been unfenced and serves. */
export const started = (node: Node) => node.lines.some((l) => l.msg === "broker started");
