/**
 * Issue 15 item 6: three Krill processes (the CLI, as `make run` starts one) on 127.0.0.1 with
 * free ports, combined roles, static voters, each from a Kafka `server.properties` and a data
 * directory formatted as `krill format` does. The test waits for an active controller, creates a
 * topic, reads the quorum with Kafka's kafka-metadata-quorum, kills the leader's process with
 * SIGKILL, measures how long the others take to elect a new active controller (Kafka's default
 * timeouts), checks that nothing committed is lost and that topic creation goes on, and restarts
 * the killed node, which must come back as a follower. Every wait is bounded; processes and
 * directories are removed at the end.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { PropertiesFile } from "../../src/config/properties.js";
import { formatStorage } from "../../src/metadata/storage-format.js";
import { SYSTEM_RANDOM } from "../../src/random.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "src/cli.ts");
/** Kafka 4.4's tools, as the compat suite resolves them (`make deps`); the tool check needs them. */
const KAFKA_CLASSPATH_FILE = path.join(ROOT, "compat-tests/.cache/kafka-4.4.0.classpath");
const CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qg";
/** Bounds of the waits (a loaded 2-core machine starts a tsx process slowly). */
const START_TIMEOUT_MS = 90_000;
const ELECTION_TIMEOUT_MS = 30_000;

interface Node {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly configFile: string;
  child?: ChildProcess;
  exited?: Promise<void>;
  /** Parsed JSON log lines of the current process. */
  lines: Record<string, unknown>[];
}

const nodes: Node[] = [];
let base: string | undefined;

afterAll(async () => {
  for (const n of nodes) await kill(n);
  if (base !== undefined) rmSync(base, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(node: Node): void {
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

async function kill(node: Node): Promise<void> {
  if (node.child !== undefined && node.child.exitCode === null && node.child.signalCode === null) {
    node.child.kill("SIGKILL");
    await node.exited;
  }
}

async function until<T>(what: string, timeoutMs: number, f: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The newest "this node is the active controller" line of a running node: its epoch and time. */
function activation(node: Node): { epoch: number; time: number } | undefined {
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

const started = (node: Node) => node.lines.some((l) => l.msg === "broker started");

function admin(node: Node) {
  return new Kafka({
    clientId: "quorum-failover",
    brokers: [`127.0.0.1:${node.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
  }).admin();
}

async function listTopics(node: Node): Promise<string[]> {
  const a = admin(node);
  await a.connect();
  try {
    return await a.listTopics();
  } finally {
    await a.disconnect();
  }
}

async function createTopic(node: Node, topic: string): Promise<void> {
  const a = admin(node);
  await a.connect();
  try {
    await a.createTopics({
      // Replicated on every node: a partition only on the killed node would have no leader once
      // its broker is fenced (at once since the fast failover), and kafkajs fails a Metadata
      // answer with LEADER_NOT_AVAILABLE in it.
      topics: [{ topic, numPartitions: 3, replicationFactor: 3 }],
      waitForLeaders: false,
    });
  } finally {
    await a.disconnect();
  }
}

/** Kafka's `kafka-metadata-quorum` (MetadataQuorumCommand) against a node's broker listener. */
function metadataQuorum(node: Node, what: "--status" | "--replication"): Promise<string> {
  const classpath = readFileSync(KAFKA_CLASSPATH_FILE, "utf8").trim();
  const args = ["-cp", classpath, "org.apache.kafka.tools.MetadataQuorumCommand"];
  args.push("--bootstrap-server", `127.0.0.1:${node.port}`, "describe", what);
  return new Promise((resolve, reject) =>
    execFile("java", args, { timeout: 60_000, encoding: "utf8" }, (err, stdout, stderr) =>
      err ? reject(new Error(`kafka-metadata-quorum ${what}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

/**
 * Retries `f` on connection errors for a bounded while. Until dead brokers are fenced (issue 16's
 * controller side, not on main yet), Metadata still lists the killed node, and kafkajs may pick it
 * (as the controller for CreateTopics, or for a metadata refresh) and get ECONNREFUSED.
 */
async function despiteDeadBroker<T>(f: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await f();
    } catch (err) {
      const connection = /ECONNREFUSED|Connection error|KafkaJSConnectionError/.test(String(err));
      if (!connection || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Polls a node's topic list (a Metadata request) until it holds `names`. */
async function eventually(what: string, node: Node, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const topics = await despiteDeadBroker(() => listTopics(node));
    if (names.every((t) => topics.includes(t))) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${topics.join(",")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a three-process KRaft quorum", () => {
  it("elects a leader, loses nothing when the leader is killed, and takes it back as a follower", async () => {
    base = mkdtempSync(path.join(os.tmpdir(), "krill-cluster-"));
    const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    for (const id of [1, 2, 3]) {
      nodes.push({
        id,
        port: ports[id - 1]!,
        controllerPort: ports[id + 2]!,
        configFile: path.join(base, `server-${id}.properties`),
        lines: [],
      });
    }
    const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(",");
    for (const n of nodes) {
      // Kafka's server.properties for a combined node of a static quorum.
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
          "num.partitions=1",
          "",
        ].join("\n"),
      );
      // `krill format --cluster-id ... --config server-N.properties`, in process.
      formatStorage({
        config: BrokerConfig.create(PropertiesFile.read(n.configFile)),
        clusterId: CLUSTER_ID,
        standalone: false,
        initialControllers: undefined,
        noInitialControllers: false,
        releaseVersion: undefined,
        ignoreFormatted: false,
        random: SYSTEM_RANDOM,
        now: new Date(),
      });
    }
    for (const n of nodes) start(n);
    const leader = await until("an active controller", START_TIMEOUT_MS, () =>
      nodes.find((n) => activation(n) !== undefined),
    );
    // Every broker registered: the topics are replicated on all three.
    for (const n of nodes) await until(`node ${n.id}'s broker started`, START_TIMEOUT_MS, () => started(n));
    const firstEpoch = activation(leader)!.epoch;
    await createTopic(leader, "before-failover");
    await eventually("before-failover on the leader", leader, ["before-failover"]);

    // Kafka's own tool reads the quorum (DescribeQuorum through a broker listener). The quorum may
    // have elected again under load since, so the leader it names is any voter, in this epoch or later.
    if (existsSync(KAFKA_CLASSPATH_FILE)) {
      const status = await metadataQuorum(leader, "--status");
      const named = nodes.find((n) => new RegExp(`LeaderId:\\s+${n.id}\\b`).test(status));
      expect(named, status).toBeDefined();
      expect(Number(/LeaderEpoch:\s+(\d+)/.exec(status)?.[1])).toBeGreaterThanOrEqual(firstEpoch);
      for (const n of nodes) expect(status).toContain(`CONTROLLER://127.0.0.1:${n.controllerPort}`);
      const replication = await metadataQuorum(leader, "--replication");
      expect(replication.split("\n").filter((l) => /\b(Leader|Follower)\s*$/.test(l))).toHaveLength(3);
    } else {
      console.log(`kafka-metadata-quorum not run: ${KAFKA_CLASSPATH_FILE} is missing (make deps)`);
    }

    // kill -9 the leader.
    const killedAt = Date.now();
    await kill(leader);
    const survivors = nodes.filter((n) => n !== leader);
    const next = await until("a new active controller", ELECTION_TIMEOUT_MS, () =>
      survivors.find((n) => (activation(n)?.epoch ?? -1) > firstEpoch),
    );
    const failoverMs = activation(next)!.time - killedAt;
    console.log(`failover: node ${next.id} active ${failoverMs} ms after SIGKILL of node ${leader.id}`);
    expect(failoverMs).toBeGreaterThan(0);

    // The new active controller registers its broker with itself and serves: nothing committed
    // is lost, and topic creation goes on.
    await until("the new leader's broker started", START_TIMEOUT_MS, () => started(next));
    await eventually("before-failover on the new leader", next, ["before-failover"]);
    await despiteDeadBroker(() => createTopic(next, "after-failover"));
    await eventually("both topics on the new leader", next, ["before-failover", "after-failover"]);

    // The killed node restarts on its files and follows a leader: the new one, or whichever node
    // leads if the quorum elected again meanwhile. It comes back Resigned in the epoch it led, so
    // it can never lead that epoch again.
    start(leader);
    await until("the killed node to follow another node", START_TIMEOUT_MS, () =>
      leader.lines.some(
        (l) =>
          l.msg === "metadata quorum leader changed" &&
          l.leaderId !== leader.id &&
          Number(l.epoch) > firstEpoch,
      ),
    );
    const reactivated = activation(leader);
    if (reactivated !== undefined) expect(reactivated.epoch).toBeGreaterThan(activation(next)!.epoch);
  }, 240_000);
});
