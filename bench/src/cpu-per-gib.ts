// CPU per GiB at a fixed rate, against the machine's floor (issue 21 items 1-3), with pinned cores:
// the broker (Apache Kafka, Krill, or the floor program) runs on core 0, the load generator
// (bench/src/loadgen.ts, which costs almost nothing per byte) on core 1. For each broker:
//   produce: the generator sends acks=1 produce requests at RATE MiB/s for SECONDS;
//   consume: the generator fetches everything produced back, as fast as the broker serves it;
// and the broker's user and system CPU-seconds (from /proc) per GiB moved are reported, beside the
// floor: bench/floor/floor.c doing the same byte movement with no protocol at all (recv+write into
// a file, sendfile out of it). Krill/Kafka and Krill/floor are the ratios the issue asks for.
//
//   tsx bench/src/cpu-per-gib.ts [--rate-mibps 50] [--seconds 20] [--warmup-seconds 10]
//       [--only floor,krill,kafka] [--compression none|gzip|snappy|lz4|zstd] [--tls] [--no-trace-gc]
//       [--krill-root DIR] [--out FILE]
// With --compression the producer sends compressed batches of text-like values; produce is counted
// in record-value bytes and consume in the batch bytes fetched (loadgen.ts).
// With --tls both brokers serve the load over their TLS listener (compat-tests/broker.sh
// --security tls: the same certificates, TLS 1.3, the JVM's or OpenSSL's defaults); the floor then
// does not run (it has no TLS), so only Krill/Kafka is reported (issue 18).
//
// Needs `make build` (Krill from dist/), the compat suite's Kafka (scripts/install-compat-deps.sh),
// taskset, a C compiler and two cores. Writes bench/out/cpu-per-gib.json and prints a table.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type RunningBroker, startBroker, stopBroker } from "./broker.js";
import { run } from "./exec.js";
import { fileMark, type GcSummary, perGiB, readBetween, summarizeGcTrace } from "./gc-trace.js";
import { readProcStat } from "./proc.js";
import { SEGMENT_BYTES } from "./workloads.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = join(root, "bench/out");
const BROKER_CORE = "0";
const GENERATOR_CORE = "1";
const GIB = 1024 ** 3;
const TOPIC = "cpu-per-gib";
const PARTITIONS = 8;
const STEP_TIMEOUT_MS = 300_000;

interface Cpu {
  userS: number;
  systemS: number;
}

interface Direction {
  bytes: number;
  seconds: number;
  mibPerS: number;
  broker: Cpu & { perGiB: number; userPerGiB: number; systemPerGiB: number };
  generatorPerGiB: number;
  /** Krill only (--trace-gc-nvp): allocation on the JavaScript heap and collections, per GiB. */
  gcPerGiB?: GcSummary;
}

interface TargetResult {
  target: "floor" | "krill" | "kafka";
  produce?: Direction;
  consume?: Direction;
  error?: string;
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const rateMiBps = Number(flag("rate-mibps", "50"));
const compression = flag("compression", "none");
const seconds = Number(flag("seconds", "20"));
/** Load before the measured window, so the JIT (Kafka's and Krill's) is warm when it starts. */
const warmupSeconds = Number(flag("warmup-seconds", "10"));
const useTls = process.argv.includes("--tls");
const only = new Set(flag("only", useTls ? "krill,kafka" : "floor,krill,kafka").split(","));
if (useTls) only.delete("floor");
/**
 * --krill-root DIR: the Krill checkout whose build (DIR/bin/krill, DIR/dist) is measured, with this
 * checkout's scripts and load generator: how an older broker is compared with the same bench
 * (for example a `git worktree` of an earlier commit, built with `make build`).
 */
const krillRoot = resolve(flag("krill-root", root));
/** --no-trace-gc: run Krill without V8's GC trace (the trace costs a line per collection). */
const traceGc = !process.argv.includes("--no-trace-gc");

/** utime and stime of every thread of `pid` (the process total in /proc/PID/stat). */
function cpuOf(pid: number): Cpu {
  const stat = readProcStat(pid);
  if (stat === null) throw new Error(`broker process ${pid} is gone`);
  return { userS: stat.userSeconds, systemS: stat.systemSeconds };
}

function direction(bytes: number, secs: number, before: Cpu, after: Cpu, generatorPerGiB: number): Direction {
  const gib = bytes / GIB;
  const userS = after.userS - before.userS;
  const systemS = after.systemS - before.systemS;
  return {
    bytes,
    seconds: secs,
    mibPerS: bytes / 1024 ** 2 / secs,
    broker: {
      userS,
      systemS,
      perGiB: (userS + systemS) / gib,
      userPerGiB: userS / gib,
      systemPerGiB: systemS / gib,
    },
    generatorPerGiB,
  };
}

interface LoadgenReport {
  bytes: number;
  wireBytes?: number;
  seconds: number;
  errors: number;
  cpu: { perGiB: number };
}

/** Runs the load generator pinned to the generator core; its JSON report. */
async function loadgen(args: string[]): Promise<LoadgenReport> {
  const r = await run(
    "taskset",
    ["-c", GENERATOR_CORE, process.execPath, "--import", "tsx", join(root, "bench/src/loadgen.ts"), ...args],
    { timeoutMs: STEP_TIMEOUT_MS, cwd: root },
  );
  const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
  if (r.code !== 0 || line === undefined)
    throw new Error(`loadgen ${args[0]} failed: ${r.stderr.slice(-500)}`);
  const report = JSON.parse(line) as LoadgenReport;
  if (report.errors > 0)
    throw new Error(`loadgen ${args[0]}: ${report.errors} requests answered with errors`);
  return report;
}

/** Starts the floor program pinned to the broker core; resolves once it listens, with its exit. */
async function startFloor(args: string[]): Promise<{ done: Promise<string> }> {
  const child = spawn("taskset", ["-c", BROKER_CORE, join(outDir, "floor"), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  const done = new Promise<string>((resolveDone) => child.on("exit", () => resolveDone(out)));
  const deadline = Date.now() + 10_000;
  while (!out.includes("READY")) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`floor ${args[0]} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { done };
}

async function measureFloor(): Promise<TargetResult> {
  execFileSync("cc", ["-O2", "-o", join(outDir, "floor"), join(root, "bench/floor/floor.c")]);
  const file = join(outDir, "floor.bin");
  const sinkPort = await freePort();
  const sink = await startFloor(["sink", String(sinkPort), file]);
  const sent = await loadgen([
    "raw-send",
    "--bootstrap",
    `127.0.0.1:${sinkPort}`,
    "--seconds",
    String(seconds),
    "--rate-mibps",
    String(rateMiBps),
  ]);
  const sinkReport = JSON.parse((await sink.done).split("\n").find((l) => l.startsWith("{"))!);
  const sourcePort = await freePort();
  const source = await startFloor(["source", file, String(sourcePort), String(sent.bytes)]);
  const received = await loadgen([
    "raw-recv",
    "--bootstrap",
    `127.0.0.1:${sourcePort}`,
    "--seconds",
    "120",
    "--until-bytes",
    String(sent.bytes),
  ]);
  const sourceReport = JSON.parse((await source.done).split("\n").find((l) => l.startsWith("{"))!);
  rmSync(file, { force: true });
  const zero = { userS: 0, systemS: 0 };
  return {
    target: "floor",
    produce: direction(sinkReport.bytes, sent.seconds, zero, sinkReport.cpu, sent.cpu.perGiB),
    consume: direction(sourceReport.bytes, received.seconds, zero, sourceReport.cpu, received.cpu.perGiB),
  };
}

async function measureBroker(kind: "krill" | "kafka"): Promise<TargetResult> {
  const dir = join(outDir, "run", `cpu-per-gib-${kind}`);
  // Krill runs with V8's GC trace on its stdout (DIR/broker.out): allocation and collections per
  // GiB come from the lines each direction added (gc-trace.ts). It costs a line per collection.
  const started = await startBroker(
    kind === "krill" ? krillRoot : root,
    kind,
    dir,
    process.env,
    useTls ? "tls" : undefined,
    kind === "krill" && traceGc && !useTls ? { nodeArgs: ["--trace-gc-nvp"] } : {},
  );
  const trace = join(dir, "broker.out");
  if ("error" in started) return { target: kind, error: started.error };
  const broker: RunningBroker = started;
  try {
    // Every thread of the broker (a JVM has many) on the broker core; threads started later inherit it.
    execFileSync("taskset", ["-a", "-p", "-c", BROKER_CORE, String(broker.pid)], { stdio: "ignore" });
    const created = await run(
      process.execPath,
      [
        "--import",
        "tsx",
        join(root, "bench/src/topics.ts"),
        "create",
        broker.bootstrap,
        String(SEGMENT_BYTES),
        `${TOPIC}:${PARTITIONS}`,
      ],
      { timeoutMs: 60_000, cwd: root },
    );
    if (!created.stdout.includes('"error":null'))
      return { target: kind, error: `topic creation failed: ${created.stdout}${created.stderr}` };
    // Topics are created over PLAINTEXT; the measured load goes to the TLS listener with --tls.
    const load = useTls ? readFileSync(join(dir, "ssl-bootstrap"), "utf8").trim() : broker.bootstrap;
    const tlsArgs = useTls ? ["--tls-ca", join(dir, "certs/ca.pem")] : [];
    const common = ["--bootstrap", load, "--topic", TOPIC, "--partitions", String(PARTITIONS), ...tlsArgs];
    if (warmupSeconds > 0) {
      await loadgen([
        "produce",
        ...common,
        "--acks",
        "1",
        "--compression",
        compression,
        "--seconds",
        String(warmupSeconds),
        "--rate-mibps",
        String(rateMiBps),
      ]);
      await loadgen(["consume", ...common, "--seconds", String(warmupSeconds)]);
    }
    const mark0 = fileMark(trace);
    const cpu0 = cpuOf(broker.pid);
    const produced = await loadgen([
      "produce",
      ...common,
      "--acks",
      "1",
      "--compression",
      compression,
      "--seconds",
      String(seconds),
      "--rate-mibps",
      String(rateMiBps),
    ]);
    const cpu1 = cpuOf(broker.pid);
    const mark1 = fileMark(trace);
    const consumed = await loadgen([
      "consume",
      ...common,
      "--seconds",
      "300",
      "--until-bytes",
      String(compression === "none" ? produced.bytes : (produced.wireBytes ?? produced.bytes)),
    ]);
    const cpu2 = cpuOf(broker.pid);
    const mark2 = fileMark(trace);
    const produce = direction(produced.bytes, produced.seconds, cpu0, cpu1, produced.cpu.perGiB);
    const consume = direction(consumed.bytes, consumed.seconds, cpu1, cpu2, consumed.cpu.perGiB);
    if (kind === "krill" && traceGc && !useTls) {
      produce.gcPerGiB = perGiB(summarizeGcTrace(readBetween(trace, mark0, mark1)), produce.bytes);
      consume.gcPerGiB = perGiB(summarizeGcTrace(readBetween(trace, mark1, mark2)), consume.bytes);
    }
    return { target: kind, produce, consume };
  } finally {
    await stopBroker(root, dir);
  }
}

function table(results: TargetResult[]): string {
  const by = new Map(results.map((r) => [r.target, r]));
  const fmt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(2));
  const rows = [
    "| broker | direction | MiB/s | CPU-s/GiB (user + system) | generator CPU-s/GiB | vs Kafka | vs floor |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    if (r.error !== undefined) {
      rows.push(`| ${r.target} | - | - | failed: ${r.error.slice(0, 200)} | - | - | - |`);
      continue;
    }
    for (const d of ["produce", "consume"] as const) {
      const x = r[d]!;
      const kafka = by.get("kafka")?.[d]?.broker.perGiB;
      const floor = by.get("floor")?.[d]?.broker.perGiB;
      rows.push(
        `| ${r.target} | ${d} | ${fmt(x.mibPerS)} | ${fmt(x.broker.perGiB)} (${fmt(x.broker.userPerGiB)} + ${fmt(x.broker.systemPerGiB)}) | ${fmt(x.generatorPerGiB)} | ${r.target === "kafka" || kafka === undefined ? "-" : `${fmt(x.broker.perGiB / kafka)}x`} | ${r.target === "floor" || floor === undefined ? "-" : `${fmt(x.broker.perGiB / floor)}x`} |`,
      );
    }
  }
  const gcRows = results.flatMap((r) =>
    (["produce", "consume"] as const).flatMap((d) => {
      const g = r[d]?.gcPerGiB;
      if (g === undefined) return [];
      return [
        `| ${r.target} | ${d} | ${fmt(g.heapAllocatedBytes / 1024 ** 2)} | ${fmt(g.scavenges)} | ${fmt(g.markCompacts)} | ${fmt(g.pauseMs)} | ${fmt(g.markCompactPauseMs)} |`,
      ];
    }),
  );
  if (gcRows.length > 0) {
    rows.push(
      "",
      "| broker | direction | JS heap allocated MiB/GiB | scavenges/GiB | mark-compacts/GiB | GC pause ms/GiB | of which mark-compact |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      ...gcRows,
    );
  }
  return rows.join("\n");
}

if (cpus().length < 2) {
  console.error("cpu-per-gib: needs two cores (broker on one, load generator on the other)");
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
if (only.has("krill") && !existsSync(join(krillRoot, "dist/src/cli.js"))) {
  console.error("cpu-per-gib: Krill is not built (make build)");
  process.exit(1);
}
const results: TargetResult[] = [];
for (const target of ["floor", "kafka", "krill"] as const) {
  if (!only.has(target)) continue;
  console.error(`cpu-per-gib: ${target} at ${rateMiBps} MiB/s for ${seconds} s`);
  try {
    results.push(target === "floor" ? await measureFloor() : await measureBroker(target));
  } catch (err) {
    results.push({ target, error: err instanceof Error ? err.message : String(err) });
  }
}
const report = {
  at: new Date().toISOString(),
  rateMiBps,
  seconds,
  compression,
  krillRoot,
  load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  tls: useTls,
  cores: { broker: BROKER_CORE, generator: GENERATOR_CORE },
  results,
};
writeFileSync(resolve(flag("out", join(outDir, "cpu-per-gib.json"))), `${JSON.stringify(report, null, 2)}\n`);
console.log(table(results));
