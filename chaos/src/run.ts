// The chaos command line (chaos/run.sh, `make chaos`): one run against Krill or a three-node Apache
// Kafka cluster, any length, any seed, writing a report. Exit status: 0 when the history is valid,
// 1 when the checker found an anomaly that is not allowed, 2 when the rig itself failed.
//
//   chaos/run.sh [--target krill|kafka] [--seed N] [--duration-s S | --steps N] [--step-ms MS]
//                [--faults kill,pause,partition,loss,delay] [--clients py-queue,py-txn,java-queue,js-queue]
//                [--net loopback|netns] [--partitions N] [--nodes N] [--scenario NAME] [--kafka-version V] [--out DIR]
//
// With --net netns (needs root; the default for kafka when running as root) this process creates the
// namespaces (chaos/src/net.ts), runs itself again inside the hub namespace and deletes the
// namespaces when that child exits, however it exits.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LoopbackNetwork, NetnsNetwork, type Network, removeStaleNamespaces } from "./net.js";
import { replayCommand } from "./report.js";
import { CLIENT_KINDS, type ClientKind, runChaos } from "./runner.js";
import { SCENARIOS, scenarioNamed } from "./scenarios.js";
import { ALL_FAULT_KINDS, FAULT_KINDS, type FaultKind } from "./schedule.js";

const ROOT = resolve(import.meta.dirname, "../..");
const OWNER_ENV = "KRILL_CHAOS_NETNS_OWNER";

function usage(why: string): never {
  console.error(`chaos: ${why}`);
  console.error(
    "usage: chaos/run.sh [--target krill|kafka] [--seed N] [--duration-s S | --steps N] [--step-ms MS] " +
      "[--faults kill,pause,partition,loss,delay] [--clients py-queue,py-txn,java-queue,js-queue] " +
      "[--net loopback|netns] [--partitions N] [--nodes N] [--scenario NAME] [--kafka-version V] [--out DIR]",
  );
  process.exit(2);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = createServer();
    s.once("error", () => r(false));
    s.listen(port, "127.0.0.1", () => s.close(() => r(true)));
  });
}

/** A base port with `count` free ports after it on loopback (other engineers' brokers run here too). */
async function findPortBase(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error("no free port range found");
}

const { values: a } = parseArgs({
  options: {
    target: { type: "string", default: "krill" },
    seed: { type: "string" },
    "duration-s": { type: "string" },
    steps: { type: "string" },
    "step-ms": { type: "string", default: "2000" },
    faults: { type: "string" },
    clients: { type: "string", default: CLIENT_KINDS.join(",") },
    net: { type: "string" },
    partitions: { type: "string", default: "3" },
    nodes: { type: "string" },
    scenario: { type: "string" },
    "kafka-version": { type: "string", default: "4.4.0" },
    out: { type: "string" },
  },
});
const target = a.target;
if (target !== "krill" && target !== "kafka") usage(`unknown target ${target}`);
const seed = a.seed !== undefined ? Number(a.seed) : Math.floor(Math.random() * 2 ** 31);
if (!Number.isSafeInteger(seed)) usage(`bad seed ${a.seed}`);
const stepMs = Number(a["step-ms"]);
if (!(stepMs >= 100)) usage("--step-ms must be at least 100");
const steps =
  a.steps !== undefined
    ? Number(a.steps)
    : Math.max(1, Math.ceil((Number(a["duration-s"] ?? 60) * 1000) / stepMs));
if (!Number.isSafeInteger(steps) || steps < 1) usage("bad --steps or --duration-s");
const faults = (a.faults ?? FAULT_KINDS.join(",")).split(",").filter(Boolean) as FaultKind[];
for (const f of faults) if (!ALL_FAULT_KINDS.includes(f)) usage(`unknown fault ${f}`);
if (target === "kafka" && faults.includes("lose-unflushed"))
  usage("lose-unflushed needs Krill's fsync journal; Kafka has no such hook");
const clients = a.clients.split(",").filter(Boolean) as ClientKind[];
for (const c of clients) if (!CLIENT_KINDS.includes(c)) usage(`unknown client ${c}`);
const netKind = a.net ?? (target === "kafka" && process.getuid?.() === 0 ? "netns" : "loopback");
if (netKind !== "loopback" && netKind !== "netns") usage(`unknown net ${netKind}`);
if (a.scenario !== undefined && scenarioNamed(a.scenario) === undefined)
  usage(`unknown scenario ${a.scenario}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
// Kafka runs three nodes; Krill one unless asked for a cluster (a named scenario needs three).
const size = Number(a.nodes ?? (target === "kafka" || a.scenario !== undefined ? 3 : 1));
if (!Number.isSafeInteger(size) || size < 1 || size > 5) usage("--nodes must be 1 to 5");
const nodes = Array.from({ length: size }, (_, i) => i + 1);
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const out = resolve(a.out ?? join(ROOT, "chaos/out", `${target}-${seed}-${stamp}`));

if (netKind === "netns" && process.env[OWNER_ENV] === undefined) {
  // The outer process: create the namespaces, run the real run inside the hub, always clean up.
  const stale = removeStaleNamespaces();
  if (stale.length > 0) console.error(`chaos: removed stale namespaces ${stale.join(", ")}`);
  const owner = process.pid;
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    NetnsNetwork.destroy(owner, nodes);
  };
  process.on("exit", destroy);
  try {
    NetnsNetwork.create(owner, nodes);
  } catch (err) {
    console.error(`chaos: ${(err as Error).message}`);
    process.exit(2);
  }
  const args = [...process.argv.slice(2).filter((x, i, all) => x !== "--seed" && all[i - 1] !== "--seed")];
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      NetnsNetwork.hubName(owner),
      process.execPath,
      "--import",
      "tsx",
      fileURLToPath(import.meta.url),
      ...args,
      "--seed",
      String(seed),
      "--net",
      "netns",
      "--out",
      out,
    ],
    { stdio: "inherit", cwd: ROOT, env: { ...process.env, [OWNER_ENV]: String(owner) } },
  );
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
  child.on("exit", (code) => {
    destroy();
    process.exit(code ?? 2);
  });
} else {
  let net: Network;
  if (netKind === "netns") {
    net = NetnsNetwork.attach(Number(process.env[OWNER_ENV]), nodes);
  } else {
    net = new LoopbackNetwork();
  }
  const portBase = netKind === "netns" ? 19_000 : await findPortBase(2 * nodes.length + 4);
  const log = (line: string): void =>
    console.error(`chaos ${new Date().toISOString().slice(11, 19)} ${line}`);
  log(`seed ${seed}, output ${out}`);
  try {
    const run = await runChaos({
      target,
      seed,
      steps,
      stepMs,
      faults,
      clients,
      net,
      dir: out,
      portBase,
      partitions: Number(a.partitions),
      nodes: size,
      ...(a.scenario !== undefined ? { scenario: a.scenario } : {}),
      kafkaVersion: a["kafka-version"],
      log,
    });
    const r = run.result;
    log(
      `${r.valid ? "VALID" : "INVALID"}: ${run.faults.length} faults, ${r.stats.ops} ops ` +
        `(${r.stats.sends.ok} sends ok, ${r.stats.polledRecords} records polled); anomalies ${JSON.stringify(r.counts)}`,
    );
    log(`report: ${run.reportPath}`);
    log(`replay: ${replayCommand(run)}`);
    process.exit(r.valid ? 0 : 1);
  } catch (err) {
    log(`rig failure: ${(err as Error).stack ?? err}`);
    process.exit(2);
  }
}
