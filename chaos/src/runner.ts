// One chaos run: start the cluster, create the topics, start the workload clients, apply the
// fault schedule step by step, heal everything, let the clients finish, read every partition to
// its end, stop the cluster, check the merged history and write the report.
//
// Everything the run changes is undone in `finally`: paused nodes resumed, network rules removed,
// clients and brokers killed (and, for --net netns, the namespaces deleted by run.ts, which created
// them). The result says whether the history is valid; a failure of the rig itself (a broker that
// never starts) is thrown.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { type CheckResult, check } from "./checker.js";
import { type Cluster, KafkaCluster, KrillCluster, kafkaClasspath, type Target } from "./cluster.js";
import { mergeHistories, type Op, readHistoryFile } from "./history.js";
import { type FaultRecord, Nemesis } from "./nemesis.js";
import type { Network } from "./net.js";
import { writeReport } from "./report.js";
import { readRoles } from "./roles.js";
import { type Roles, type ScenarioContext, scenarioNamed } from "./scenarios.js";
import { type Fault, type FaultKind, makeSchedule, type ScheduledFault } from "./schedule.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** A workload client: which library, and which workload. */
export type ClientKind = "py-queue" | "py-txn" | "java-queue" | "js-queue";
export const CLIENT_KINDS: readonly ClientKind[] = ["py-queue", "py-txn", "java-queue", "js-queue"];

export interface RunOptions {
  target: Target;
  seed: number;
  /** Steps of the schedule and the wall-clock length of each. */
  steps: number;
  stepMs: number;
  faults: readonly FaultKind[];
  clients: readonly ClientKind[];
  net: Network;
  /** Where the cluster's data, the client histories and the report go. */
  dir: string;
  portBase: number;
  partitions?: number;
  /** Cluster size: Kafka 3 by default, Krill 1 (several run as a KRaft combined-mode cluster). */
  nodes?: number;
  kafkaVersion?: string;
  /**
   * A named scenario (chaos/src/scenarios.ts) in place of the seed's random schedule: its script of
   * faults aimed at roles runs after the warm-up; `steps` is not used.
   */
  scenario?: string;
  /** Milliseconds after the last fault for the cluster to settle before the clients stop (default 5000). */
  settleMs?: number;
  /** Milliseconds between starting the clients and the first step (default 3000). */
  warmupMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface RunResult {
  options: Omit<RunOptions, "net" | "log"> & { net: string };
  schedule: ScheduledFault[];
  faults: FaultRecord[];
  /** Faults of the requested kinds the network cannot do (left out of the schedule). */
  unsupported: FaultKind[];
  result: CheckResult;
  history: Op[];
  clientExits: { name: string; code: number | null }[];
  durationMs: number;
  reportPath: string;
}

const QUEUE_TOPIC = "chaos-queue";
const TXN_TOPIC = "chaos-txn";

interface RunningClient {
  name: string;
  child: ChildProcess;
  exit: Promise<number | null>;
}

function spawnClient(name: string, argv: string[], dir: string): RunningClient {
  const out = openSync(join(dir, `${name}.out`), "a");
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", out, out], detached: true });
  closeSync(out);
  const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { name, child, exit };
}

function clientArgv(
  kind: ClientKind | "py-final",
  name: string,
  bootstrap: string,
  partitions: number,
  history: string,
  seed: number,
  durationMs: number,
  kafkaVersion: string,
): string[] {
  const py = join(ROOT, "chaos/clients/confluent_client.py");
  const common = ["--bootstrap", bootstrap, "--partitions", String(partitions), "--process", name];
  const tail = ["--history", history, "--seed", String(seed), "--duration-ms", String(durationMs)];
  switch (kind) {
    case "py-queue":
      return ["/usr/bin/python3", py, "queue", "--topic", QUEUE_TOPIC, ...common, ...tail];
    case "py-txn":
      return ["/usr/bin/python3", py, "txn", "--topic", TXN_TOPIC, ...common, ...tail];
    case "py-final":
      return ["/usr/bin/python3", py, "final", ...common, ...tail];
    case "js-queue":
      return [
        process.execPath,
        "--import",
        "tsx",
        join(ROOT, "chaos/clients/kafkajs-client.ts"),
        "queue",
        "--topic",
        QUEUE_TOPIC,
        ...common,
        ...tail,
      ];
    case "java-queue":
      return [
        "java",
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        kafkaClasspath(kafkaVersion),
        join(ROOT, "chaos/clients/JavaClient.java"),
        "queue",
        bootstrap,
        QUEUE_TOPIC,
        String(partitions),
        name,
        history,
        String(seed),
        String(durationMs),
      ];
  }
}

async function createTopics(cluster: Cluster, partitions: number, log: (l: string) => void): Promise<void> {
  const kafka = new Kafka({
    clientId: "chaos-runner",
    brokers: cluster.bootstrap().split(","),
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 2000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = [QUEUE_TOPIC, TXN_TOPIC]
      .filter((t) => !existing.has(t))
      .map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: cluster.replicationFactor,
        configEntries: [{ name: "min.insync.replicas", value: String(cluster.minInsyncReplicas) }],
      }));
    if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: true, timeout: 60_000 });
    // Leaders everywhere before the clients start.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const meta = await admin.fetchTopicMetadata({ topics: [QUEUE_TOPIC, TXN_TOPIC] });
      const ready = meta.topics.every(
        (t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0),
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error("topics have no leaders after 60 s");
      await new Promise((r) => setTimeout(r, 500));
    }
    log(`topics ${QUEUE_TOPIC}, ${TXN_TOPIC}: ${partitions} partitions, RF ${cluster.replicationFactor}`);
  } finally {
    await admin.disconnect();
  }
}

/** Runs a scenario's script: roles from the cluster, faults through the nemesis, every wait bounded. */
async function runScenario(
  cluster: Cluster,
  nemesis: Nemesis,
  script: (ctx: ScenarioContext) => Promise<void>,
  stepMs: number,
  log: (l: string) => void,
): Promise<void> {
  const kafka = new Kafka({
    clientId: "chaos-scenario",
    brokers: cluster.bootstrap().split(","),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  let step = 0;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const roles = (): Promise<Roles> => readRoles(admin, cluster, QUEUE_TOPIC, 0);
  const ctx: ScenarioContext = {
    nodes: cluster.nodes.map((n) => n.id),
    roles,
    async apply(fault: Fault) {
      const r = await nemesis.apply(step++, fault);
      log(`fault ${r.step}: ${r.description}${r.error ? ` FAILED: ${r.error}` : ""} (${r.tookMs} ms)`);
    },
    async applyTogether(faults) {
      const first = step;
      step += faults.length;
      const records = await Promise.all(faults.map((f, i) => nemesis.apply(first + i, f)));
      for (const r of records)
        log(`fault ${r.step}: ${r.description}${r.error ? ` FAILED: ${r.error}` : ""} (${r.tookMs} ms)`);
    },
    async until(what, ok, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        try {
          const r = await roles();
          last = `leader ${r.leader}, isr ${r.isr.join(",")}, controller ${r.controller ?? "none"}`;
          if (ok(r)) {
            log(`reached: ${what} (${last})`);
            return true;
          }
        } catch (err) {
          last = (err as Error).message.split("\n")[0] ?? "";
        }
        await sleep(250);
      }
      log(`not reached in ${timeoutMs} ms: ${what} (last: ${last})`);
      return false;
    },
    steps: (n) => sleep(n * stepMs),
    log,
  };
  try {
    await script(ctx);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function stopClients(
  clients: RunningClient[],
  graceMs: number,
): Promise<{ name: string; code: number | null }[]> {
  for (const c of clients) if (c.child.exitCode === null) c.child.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const c of clients) {
      try {
        if (c.child.exitCode === null && c.child.pid !== undefined) process.kill(-c.child.pid, "SIGKILL");
      } catch {}
    }
  }, graceMs);
  const codes = await Promise.all(clients.map((c) => c.exit));
  clearTimeout(timer);
  return clients.map((c, i) => ({ name: c.name, code: codes[i]! }));
}

export async function runChaos(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const partitions = o.partitions ?? 3;
  const kafkaVersion = o.kafkaVersion ?? "4.4.0";
  const settleMs = o.settleMs ?? 5000;
  const warmupMs = o.warmupMs ?? 3000;
  mkdirSync(o.dir, { recursive: true });
  const histories = join(o.dir, "histories");
  mkdirSync(histories, { recursive: true });

  const cluster: Cluster =
    o.target === "krill"
      ? new KrillCluster(
          { dir: join(o.dir, "cluster"), net: o.net, portBase: o.portBase, partitions },
          o.nodes ?? 1,
        )
      : new KafkaCluster(
          { dir: join(o.dir, "cluster"), net: o.net, portBase: o.portBase, partitions },
          kafkaVersion,
          o.nodes ?? 3,
        );
  const scenario = o.scenario === undefined ? undefined : scenarioNamed(o.scenario);
  if (o.scenario !== undefined && scenario === undefined) throw new Error(`no scenario ${o.scenario}`);
  if (scenario?.needsNetns && o.net.kind !== "netns")
    throw new Error(`scenario ${scenario.name} cuts the network between nodes: it needs --net netns`);
  if (scenario?.krillOnly && o.target !== "krill")
    throw new Error(`scenario ${scenario.name} needs Krill's fsync journal`);
  const unsupported = scenario !== undefined ? [] : o.faults.filter((k) => !o.net.supports(k));
  const schedule =
    scenario !== undefined
      ? []
      : makeSchedule({
          seed: o.seed,
          steps: o.steps,
          nodes: cluster.nodes.map((n) => n.id),
          faults: o.faults.filter((k) => o.net.supports(k)),
        });
  const nemesis = new Nemesis(cluster, o.net, started);
  const clients: RunningClient[] = [];
  let clientExits: { name: string; code: number | null }[] = [];
  try {
    log(`starting ${o.target} (${cluster.nodes.length} node(s), net ${o.net.kind})`);
    await cluster.start();
    await createTopics(cluster, partitions, log);
    const workloadMs = o.steps * o.stepMs + settleMs + warmupMs;
    o.clients.forEach((kind, i) => {
      const name = `${kind}-${i}`;
      const argv = clientArgv(
        kind,
        name,
        cluster.bootstrap(),
        partitions,
        join(histories, `${name}.jsonl`),
        o.seed * 100 + i,
        // A safety net only: the runner stops the clients itself.
        workloadMs + 120_000,
        kafkaVersion,
      );
      clients.push(spawnClient(name, argv, o.dir));
    });
    log(
      scenario !== undefined
        ? `clients: ${o.clients.join(", ")}; scenario ${scenario.name}, steps of ${o.stepMs} ms`
        : `clients: ${o.clients.join(", ")}; ${o.steps} steps of ${o.stepMs} ms, ${schedule.length} faults scheduled`,
    );
    // Clients connect and get going before the first fault.
    await new Promise((r) => setTimeout(r, warmupMs));
    if (scenario !== undefined) {
      log(`scenario ${scenario.name} (${scenario.origin}): ${scenario.description}`);
      await runScenario(cluster, nemesis, scenario.run, o.stepMs, log);
    }
    // Each step lasts stepMs after its faults are applied (a restart can take seconds), so a pause
    // scheduled for three steps lasts three steps however long the restart before it took.
    let next = 0;
    for (let step = 0; step <= (scenario !== undefined ? -1 : o.steps); step++) {
      while (next < schedule.length && schedule[next]!.step === step) {
        const { fault } = schedule[next++]!;
        const record = await nemesis.apply(step, fault);
        log(
          `step ${step}: ${record.description}${record.error ? ` FAILED: ${record.error}` : ""} (${record.tookMs} ms)`,
        );
      }
      if (step < o.steps) await new Promise((r) => setTimeout(r, o.stepMs));
    }
    const undone = await nemesis.healAll();
    if (undone.length > 0) log(`healed: ${undone.join(", ")}`);
    await new Promise((r) => setTimeout(r, settleMs));
    clientExits = await stopClients(clients, 45_000);
    log(`clients stopped: ${clientExits.map((c) => `${c.name}=${c.code}`).join(" ")}`);
    // Final reads: every partition of both topics, from the beginning to its end.
    for (const [topic, name] of [
      [QUEUE_TOPIC, "final-queue"],
      [TXN_TOPIC, "final-txn"],
    ] as const) {
      const argv = clientArgv(
        "py-final",
        name,
        cluster.bootstrap(),
        partitions,
        join(histories, `${name}.jsonl`),
        0,
        90_000,
        kafkaVersion,
      );
      argv.splice(argv.indexOf("final") + 1, 0, "--topic", topic);
      const reader = spawnClient(name, argv, o.dir);
      const code = await reader.exit;
      clientExits.push({ name, code });
      log(`final read of ${topic}: exit ${code}`);
    }
  } finally {
    await nemesis.healAll().catch(() => []);
    await stopClients(clients, 5000);
    await cluster.stop();
  }

  const files = existsSync(histories) ? readdirSync(histories).filter((f) => f.endsWith(".jsonl")) : [];
  const history = mergeHistories(files.sort().map((f) => readHistoryFile(join(histories, f))));
  writeFileSync(join(o.dir, "history.jsonl"), `${history.map((op) => JSON.stringify(op)).join("\n")}\n`);
  const result = check(history);
  const { net, log: _log, ...rest } = o;
  const run: RunResult = {
    options: { ...rest, net: net.kind },
    schedule,
    faults: nemesis.log,
    unsupported,
    result,
    history,
    clientExits,
    durationMs: Date.now() - started,
    reportPath: join(o.dir, "report.md"),
  };
  writeReport(run);
  return run;
}
