// The brokers of a chaos run, as processes the nemesis can kill, pause and restart: Krill (one node,
// or several in KRaft combined mode with the settings Kafka gets below) and Apache Kafka in KRaft combined mode (three nodes, a static
// three-voter controller quorum, RF=3, min.insync.replicas=2), from the jars on the compat
// classpath.
//
// Every node runs in its own process group (detached), its output appended to DIR/node-<id>/out,
// its data in DIR/node-<id>/data, which survives kill -9 and restart.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { waitForMetadata } from "../../bench/src/metadata-probe.js";
import type { Network } from "./net.js";
import { loseUnflushed, type Truncation } from "./unflushed.js";

export type Target = "krill" | "kafka";

const ROOT = resolve(import.meta.dirname, "../..");
const START_TIMEOUT_MS = 180_000;

/** A node that was started and runs, but has not answered Metadata within the wait. */
export class NotAnsweringError extends Error {}
/** A partition directory of the workloads' topics (chaos/src/runner.ts), in Kafka's log layout. */
const WORKLOAD_PARTITION = /^chaos-(queue|txn)-\d+$/;

export interface ClusterNode {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  /** The running process, or undefined while the node is down. */
  pid(): number | undefined;
  /**
   * Starts the process and waits up to `waitMs` (default 180 s) for it to answer Metadata; throws
   * `NotAnsweringError` when it runs but has not answered by then (it is left running).
   */
  start(waitMs?: number): Promise<void>;
  /** Sends a signal to the node's process group (SIGKILL, SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  /** Waits for the process to exit after a SIGKILL. */
  exited(): Promise<void>;
  /**
   * While the node is down: cuts its segments back to what fsync made durable (chaos/src/unflushed.ts).
   * Throws for a node without the fsync journal (Kafka).
   */
  loseUnflushed(): Truncation[];
  /** While the node is down: deletes its replicas of the workload topics; returns their names. */
  wipeWorkloadData(): string[];
}

export interface Cluster {
  readonly target: Target;
  readonly nodes: ClusterNode[];
  /** Replication factor and min.insync.replicas the workloads' topics get. */
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  bootstrap(): string;
  start(): Promise<void>;
  /** Kills every node (SIGCONT first, so a paused one dies too). */
  stop(): Promise<void>;
}

class ProcessNode implements ClusterNode {
  private child: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly host: string,
    readonly port: number,
    private readonly dir: string,
    private readonly argv: () => string[],
    private readonly env: NodeJS.ProcessEnv,
    /** Krill nodes: the data directory and the fsync journal its process writes. */
    private readonly durability?: { readonly dataDir: string; readonly journal: string },
  ) {}

  loseUnflushed(): Truncation[] {
    if (this.pid() !== undefined) throw new Error(`node ${this.id} is running`);
    if (this.durability === undefined) throw new Error(`node ${this.id} has no fsync journal`);
    return loseUnflushed(this.durability.dataDir, this.durability.journal);
  }

  wipeWorkloadData(): string[] {
    if (this.pid() !== undefined) throw new Error(`node ${this.id} is running`);
    const data = join(this.dir, "data");
    const gone = readdirSync(data).filter((name) => WORKLOAD_PARTITION.test(name));
    for (const name of gone) rmSync(join(data, name), { recursive: true, force: true });
    return gone;
  }

  pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  async start(waitMs = START_TIMEOUT_MS): Promise<void> {
    if (this.pid() !== undefined) throw new Error(`node ${this.id} is already running`);
    const out = openSync(join(this.dir, "out"), "a");
    const [cmd, ...args] = this.argv();
    const child = spawn(cmd!, args, { detached: true, stdio: ["ignore", out, out], env: this.env });
    closeSync(out);
    this.child = child;
    this.exit = new Promise((r) => child.once("exit", () => r()));
    const reason = await waitForMetadata(this.host, this.port, waitMs, () => this.pid() === undefined);
    if (reason !== null) {
      if (this.pid() !== undefined)
        throw new NotAnsweringError(`node ${this.id} runs but did not answer Metadata within ${waitMs} ms`);
      const tail = readFileSync(join(this.dir, "out"), "utf8").split("\n").slice(-15).join("\n");
      throw new Error(
        `node ${this.id} did not answer Metadata on ${this.host}:${this.port}: ${reason}\n${tail}`,
      );
    }
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.pid();
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }

  exited(): Promise<void> {
    return this.exit;
  }
}

async function stopAll(nodes: ClusterNode[]): Promise<void> {
  for (const n of nodes) {
    n.signal("SIGCONT");
    n.signal("SIGKILL");
  }
  await Promise.all(nodes.map((n) => n.exited()));
}

/** How Krill is started: the built bundle when there is one, else the sources through tsx. */
function krillArgv(): string[] {
  const bundle = join(ROOT, "dist/krill.mjs");
  if (existsSync(bundle)) return [process.execPath, bundle];
  return [process.execPath, "--import", "tsx", join(ROOT, "src/cli.ts")];
}

export interface ClusterOptions {
  dir: string;
  net: Network;
  /** Port base: node i listens on base + 2i (clients) and base + 2i + 1 (controllers). */
  portBase: number;
  /** Partitions of auto-created topics and of the workloads' topics. */
  partitions: number;
  /**
   * Benchmarks (bench/src/cluster-bench.ts): Kafka with the JVM settings of its own start script
   * (1 GiB heap, G1, the full JIT) instead of the chaos runs' small fast-starting JVM, and Krill
   * without the fsync journal the chaos checker reads.
   */
  plain?: boolean;
}

/** A cluster id as Kafka's tools make one: 16 random bytes, URL-safe base64 without padding, not starting with '-'. */
function randomClusterId(): string {
  // StorageTool's argument parser would take an id starting with '-' for an option.
  let clusterId = "-";
  while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url");
  return clusterId;
}

/** Where node `id` listens: clients on base + 2 id, controllers on base + 2 id + 1. */
function nodeAddress(o: ClusterOptions, id: number): { host: string; port: number; controllerPort: number } {
  return { host: o.net.address(id), port: o.portBase + 2 * id, controllerPort: o.portBase + 2 * id + 1 };
}

/**
 * server.properties of node `id` in a KRaft combined-mode cluster of `size` nodes, the same for
 * Krill and Kafka: static voters, RF min(3, size), min.insync.replicas min(2, RF), unclean election
 * off, and faster failure detection than the defaults, so a killed node's partitions move in
 * seconds rather than tens of seconds (short runs on a shared machine).
 */
function combinedModeProperties(
  o: ClusterOptions,
  size: number,
  id: number,
  dataDir: string,
  what: string,
): string {
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const voters = ids
    .map((v) => `${v}@${nodeAddress(o, v).host}:${nodeAddress(o, v).controllerPort}`)
    .join(",");
  const { host, port, controllerPort } = nodeAddress(o, id);
  const rf = Math.min(3, size);
  return [
    `# Generated by chaos/src/cluster.ts: one node of a ${what} KRaft combined-mode cluster.`,
    "process.roles=broker,controller",
    `node.id=${id}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    `log.dirs=${dataDir}`,
    `num.partitions=${o.partitions}`,
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${Math.min(2, rf)}`,
    `offsets.topic.replication.factor=${rf}`,
    "offsets.topic.num.partitions=10",
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${Math.min(2, rf)}`,
    "transaction.state.log.num.partitions=10",
    "unclean.leader.election.enable=false",
    "group.initial.rebalance.delay.ms=0",
    "broker.session.timeout.ms=6000",
    "broker.heartbeat.interval.ms=1000",
    "replica.lag.time.max.ms=10000",
    "",
  ].join("\n");
}

/**
 * Krill nodes. One node runs alone (RF=1). Several run as a KRaft combined-mode cluster with the
 * same server.properties the Kafka cluster below gets (static voters, RF=3, min.insync.replicas=2,
 * the same failure-detection settings), each data directory formatted by `krill format`.
 */
export class KrillCluster implements Cluster {
  readonly target = "krill";
  readonly nodes: ClusterNode[];
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;

  constructor(o: ClusterOptions, size = 1) {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const rf = Math.min(3, size);
    this.replicationFactor = rf;
    this.minInsyncReplicas = Math.min(2, rf);
    const clusterId = randomClusterId();
    this.nodes = ids.map((id) => {
      const { host, port } = nodeAddress(o, id);
      const dir = join(o.dir, `node-${id}`);
      mkdirSync(join(dir, "data"), { recursive: true });
      const props = join(dir, "server.properties");
      writeFileSync(
        props,
        size > 1
          ? combinedModeProperties(o, size, id, join(dir, "data"), "Krill")
          : [
              "# Generated by chaos/src/cluster.ts: one Krill node.",
              `node.id=${id}`,
              `listeners=PLAINTEXT://${host}:${port}`,
              `advertised.listeners=PLAINTEXT://${host}:${port}`,
              `log.dirs=${join(dir, "data")}`,
              `num.partitions=${o.partitions}`,
              "offsets.topic.replication.factor=1",
              "transaction.state.log.replication.factor=1",
              "transaction.state.log.min.isr=1",
              "group.initial.rebalance.delay.ms=0",
              "",
            ].join("\n"),
      );
      if (size > 1 && !existsSync(join(dir, "data/meta.properties"))) {
        execFileSync(
          krillArgv()[0]!,
          [...krillArgv().slice(1), "format", "--cluster-id", clusterId, "--config", props],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
      }
      const argv = (): string[] => o.net.wrap(id, [...krillArgv(), "start", "--config", props]);
      const journal = join(dir, "fsync-journal");
      if (o.plain === true)
        return new ProcessNode(id, host, port, dir, argv, { ...process.env, KRILL_LOG_LEVEL: "warn" });
      return new ProcessNode(
        id,
        host,
        port,
        dir,
        argv,
        { ...process.env, KRILL_LOG_LEVEL: "warn", KRILL_TEST_FSYNC_JOURNAL: journal },
        { dataDir: join(dir, "data"), journal },
      );
    });
  }

  bootstrap(): string {
    return this.nodes.map((n) => `${n.host}:${n.port}`).join(",");
  }

  async start(): Promise<void> {
    // All at once when there is a quorum: each node waits for a quorum of controllers.
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  stop(): Promise<void> {
    return stopAll(this.nodes);
  }
}

/** The classpath of the Kafka broker jars (written by chaos/deps.sh). */
export function kafkaClasspath(version: string): string {
  const candidates = [
    join(ROOT, `chaos/.cache/kafka-${version}.classpath`),
    join(ROOT, `compat-tests/.cache/kafka-${version}.classpath`),
  ];
  for (const file of candidates) if (existsSync(file)) return readFileSync(file, "utf8").trim();
  throw new Error(
    `no classpath for Kafka ${version} (looked for ${candidates.join(", ")}); run chaos/deps.sh`,
  );
}

export class KafkaCluster implements Cluster {
  readonly target = "kafka";
  readonly nodes: ClusterNode[];
  readonly replicationFactor = 3;
  readonly minInsyncReplicas = 2;

  constructor(o: ClusterOptions, version: string, size = 3) {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const classpath = kafkaClasspath(version);
    const clusterId = randomClusterId();
    this.nodes = ids.map((id) => {
      const { host, port } = nodeAddress(o, id);
      const dir = join(o.dir, `node-${id}`);
      mkdirSync(join(dir, "data"), { recursive: true });
      mkdirSync(join(dir, "logs"), { recursive: true });
      const props = join(dir, "server.properties");
      writeFileSync(props, combinedModeProperties(o, size, id, join(dir, "data"), "Kafka"));
      writeFileSync(
        join(dir, "log4j2.properties"),
        [
          "status = warn",
          "appender.file.type = File",
          "appender.file.name = FILE",
          `appender.file.fileName = ${join(dir, "logs/server.log")}`,
          "appender.file.layout.type = PatternLayout",
          "appender.file.layout.pattern = [%d] %p %m (%c)%n",
          "rootLogger.level = info",
          "rootLogger.appenderRef.file.ref = FILE",
          "",
        ].join("\n"),
      );
      const jvm = [
        "java",
        // kafka-server-start.sh's heap and collector for the benchmark; small and quick to start otherwise.
        ...(o.plain === true
          ? ["-Xms1g", "-Xmx1g", "-XX:+UseG1GC"]
          : ["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]),
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${join(dir, "log4j2.properties")}`,
        `-Dkafka.logs.dir=${join(dir, "logs")}`,
        "-cp",
        classpath,
      ];
      if (!existsSync(join(dir, "data/meta.properties"))) {
        execFileSync(
          jvm[0]!,
          [...jvm.slice(1), "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props],
          {
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
      }
      return new ProcessNode(
        id,
        host,
        port,
        dir,
        () => o.net.wrap(id, [...jvm, "kafka.Kafka", props]),
        process.env,
      );
    });
  }

  bootstrap(): string {
    return this.nodes.map((n) => `${n.host}:${n.port}`).join(",");
  }

  async start(): Promise<void> {
    // All at once: each node waits for a quorum of controllers before it answers.
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  stop(): Promise<void> {
    return stopAll(this.nodes);
  }
}
