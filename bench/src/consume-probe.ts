// Consume throughput when the broker is not busy (issue 21 item 6): the broker pinned to core 0,
// one Java consumer (kafka-consumer-perf-test) pinned to core 1, reading back RECORDS x 1 KiB
// records that bench/src/loadgen.ts produced into one partition. Besides the tool's MB/s (which
// depends on the machine's load), it reports figures that do not: the consumer's own fetch
// metrics (average response size, records per request, fetch requests), the broker's and the
// consumer's CPU-seconds per GiB (from /proc), and so where the consumer's time goes.
//
//   tsx bench/src/consume-probe.ts [--only krill,kafka] [--records 400000] [--rounds 2]
//       [--max-poll-records 500] [--partitions 1] [--batch-bytes 16384] [--consumer-property K=V]...
//
// Needs `make build`, the compat suite's Kafka jars (scripts/install-compat-deps.sh) and taskset.
// Prints a table and writes bench/out/consume-probe.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningBroker, startBroker, stopBroker } from "./broker.js";
import { run } from "./exec.js";
import { parseConsumerPerfSummary } from "./parse.js";
import { readProcStat } from "./proc.js";
import { SEGMENT_BYTES } from "./workloads.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = join(root, "bench/out");
const BROKER_CORE = "0";
const CLIENT_CORE = "1";
const GIB = 1024 ** 3;
const RECORD_BYTES = 1024;
const TOPIC = "consume-probe";
const STEP_TIMEOUT_MS = 300_000;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const records = Number(flag("records", "400000"));
const rounds = Number(flag("rounds", "2"));
const partitions = Number(flag("partitions", "1"));
/** Bytes per produced batch (the Java producer's default batch.size is 16 KiB). */
const batchBytes = flag("batch-bytes", "16384");
const maxPollRecords = flag("max-poll-records", "");
/** --consumer-property k=v (repeatable): passed to the consumer. */
const consumerProperties = process.argv.flatMap((a, i) =>
  a === "--consumer-property" && process.argv[i + 1] !== undefined ? [process.argv[i + 1]!] : [],
);
const only = new Set(flag("only", "kafka,krill").split(","));

const classpath = readFileSync(join(root, "compat-tests/.cache/kafka-4.4.0.classpath"), "utf8").trim();
const JVM = [
  "-Xms256m",
  "-Xmx1g",
  "-XX:+UseG1GC",
  "-Djava.awt.headless=true",
  `-Dlog4j2.configurationFile=${join(root, "compat-tests/java/tools-log4j2.properties")}`,
];

interface Round {
  /** The tool's MB.sec: from its start, so the group join counts. */
  mbPerS: number | null;
  /** MB over the fetch time alone (the tool's fetch.MB.sec, recomputed to more digits). */
  fetchMbPerS: number | null;
  rebalanceMs: number | null;
  fetchMs: number | null;
  brokerCpuPerGiB: number;
  brokerUserPerGiB: number;
  brokerSystemPerGiB: number;
  /** The consumer JVM's CPU (start-up included) per GiB read. */
  consumerCpuPerGiB: number | null;
  consumerUserPerGiB: number | null;
  consumerSystemPerGiB: number | null;
  cores: { userPerGiB: number; systemPerGiB: number; softirqPerGiB: number; idleS: number }[];
  metrics: Record<string, number>;
}

/** Consumer metrics from --print-metrics worth keeping: fetch sizes, counts, latencies. */
const KEPT_METRICS = [
  "consumer-fetch-manager-metrics:fetch-size-avg",
  "consumer-fetch-manager-metrics:fetch-size-max",
  "consumer-fetch-manager-metrics:records-per-request-avg",
  "consumer-fetch-manager-metrics:fetch-total",
  "consumer-fetch-manager-metrics:fetch-latency-avg",
  "consumer-fetch-manager-metrics:fetch-latency-max",
  "consumer-fetch-manager-metrics:bytes-consumed-total",
  "consumer-fetch-manager-metrics:records-consumed-total",
  "consumer-metrics:io-wait-ratio",
  "consumer-metrics:io-ratio",
  "consumer-metrics:io-wait-time-ns-total",
  "consumer-metrics:io-time-ns-total",
  "consumer-metrics:network-io-total",
  "consumer-metrics:incoming-byte-total",
  "consumer-metrics:request-total",
];

function parseMetrics(stdout: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of stdout.split("\n")) {
    // "consumer-fetch-manager-metrics:fetch-size-avg:{client-id=perf-consumer-1}  : 1048000.000"
    const m = /^([\w-]+:[\w-]+):\{([^}]*)\}\s*:\s*([-\d.E]+)/.exec(line.trim());
    if (m === null || m[2]!.includes("topic=") || m[2]!.includes("node-id=")) continue;
    if (KEPT_METRICS.includes(m[1]!)) out[m[1]!] = Number(m[3]);
  }
  return out;
}

/** Per-core jiffies from /proc/stat: user+nice, system, softirq, idle+iowait, for cores 0 and 1. */
interface CoreTimes {
  user: number;
  system: number;
  softirq: number;
  idle: number;
}

function coreTimes(): CoreTimes[] {
  const lines = readFileSync("/proc/stat", "utf8").split("\n");
  return [BROKER_CORE, CLIENT_CORE].map((core) => {
    const f = lines
      .find((l) => l.startsWith(`cpu${core} `))!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { user: f[0]! + f[1]!, system: f[2]!, softirq: f[6]!, idle: f[3]! + f[4]! };
  });
}

function cpuSeconds(pid: number): { user: number; system: number } {
  const s = readProcStat(pid);
  if (s === null) throw new Error(`process ${pid} is gone`);
  return { user: s.userSeconds, system: s.systemSeconds };
}

async function consumeRound(broker: RunningBroker, round: number): Promise<Round> {
  const args = [
    "--bootstrap-server",
    broker.bootstrap,
    "--topic",
    TOPIC,
    "--num-records",
    String(records),
    "--group",
    `probe-${round}-${Date.now()}`,
    "--timeout",
    "60000",
    "--print-metrics",
  ];
  if (maxPollRecords !== "") args.push("--command-property", `max.poll.records=${maxPollRecords}`);
  for (const p of consumerProperties) args.push("--command-property", p);
  const before = cpuSeconds(broker.pid);
  const coresBefore = coreTimes();
  // `bash -c 'exec …'` gives the JVM's pid to /proc/$$/stat readers: the consumer's CPU comes from
  // the `time`-like wrapper below (its children's CPU), measured by /usr/bin/time's format.
  const r = await run(
    "/usr/bin/env",
    [
      "bash",
      "-c",
      'taskset -c "$0" java "$@"; rc=$?; cat /proc/$$/stat >&2; exit $rc',
      CLIENT_CORE,
      ...JVM,
      "-cp",
      classpath,
      "org.apache.kafka.tools.ConsumerPerformance",
      ...args,
    ],
    { timeoutMs: STEP_TIMEOUT_MS, cwd: root },
  );
  const after = cpuSeconds(broker.pid);
  const coresAfter = coreTimes();
  if (r.code !== 0) throw new Error(`consumer failed: ${r.stderr.slice(-800)}`);
  const metrics = parseMetrics(r.stdout);
  const bytes = metrics["consumer-fetch-manager-metrics:bytes-consumed-total"] ?? records * RECORD_BYTES;
  const gib = bytes / GIB;
  // bash's own /proc stat: fields 16 and 17 (cutime, cstime) hold the waited-for JVM's CPU.
  const statLine = r.stderr
    .split("\n")
    .reverse()
    .find((l) => /^\d+ \(bash\)/.test(l));
  let consumerCpuPerGiB: number | null = null;
  let consumerUserPerGiB: number | null = null;
  let consumerSystemPerGiB: number | null = null;
  if (statLine !== undefined) {
    const fields = statLine.slice(statLine.lastIndexOf(")") + 2).split(" ");
    const tick = 100;
    consumerUserPerGiB = Number(fields[13]) / tick / gib;
    consumerSystemPerGiB = Number(fields[14]) / tick / gib;
    consumerCpuPerGiB = consumerUserPerGiB + consumerSystemPerGiB;
  }
  const summary = parseConsumerPerfSummary(r.stdout);
  const user = after.user - before.user;
  const system = after.system - before.system;
  return {
    mbPerS: summary?.mbPerSec ?? null,
    fetchMbPerS: summary === null || summary.fetchMs <= 0 ? null : summary.mb / (summary.fetchMs / 1000),
    rebalanceMs: summary?.rebalanceMs ?? null,
    fetchMs: summary?.fetchMs ?? null,
    brokerCpuPerGiB: (user + system) / gib,
    brokerUserPerGiB: user / gib,
    brokerSystemPerGiB: system / gib,
    consumerCpuPerGiB,
    consumerUserPerGiB,
    consumerSystemPerGiB,
    // Where the kernel's work landed (the whole machine's, so other work on these cores counts too).
    cores: coresAfter.map((a, i) => {
      const b = coresBefore[i]!;
      return {
        userPerGiB: (a.user - b.user) / 100 / gib,
        systemPerGiB: (a.system - b.system) / 100 / gib,
        softirqPerGiB: (a.softirq - b.softirq) / 100 / gib,
        idleS: (a.idle - b.idle) / 100,
      };
    }),
    metrics,
  };
}

/** Starts a broker pinned to the broker core with the topic filled; the running broker or an error. */
async function prepare(kind: "krill" | "kafka"): Promise<RunningBroker | { error: string }> {
  const dir = join(outDir, "run", `consume-probe-${kind}`);
  const started = await startBroker(root, kind, dir, process.env);
  if ("error" in started) return started;
  execFileSync("taskset", ["-a", "-p", "-c", BROKER_CORE, String(started.pid)], { stdio: "ignore" });
  const created = await run(
    process.execPath,
    [
      "--import",
      "tsx",
      join(root, "bench/src/topics.ts"),
      "create",
      started.bootstrap,
      String(SEGMENT_BYTES),
      `${TOPIC}:${partitions}`,
    ],
    { timeoutMs: 60_000, cwd: root },
  );
  if (!created.stdout.includes('"error":null')) return { error: `topic creation failed: ${created.stdout}` };
  const produced = await run(
    "taskset",
    [
      "-c",
      CLIENT_CORE,
      process.execPath,
      "--import",
      "tsx",
      join(root, "bench/src/loadgen.ts"),
      "produce",
      "--bootstrap",
      started.bootstrap,
      "--topic",
      TOPIC,
      "--partitions",
      String(partitions),
      "--connections",
      "1",
      "--batch-bytes",
      batchBytes,
      "--seconds",
      "240",
      "--until-bytes",
      String(records * RECORD_BYTES),
    ],
    { timeoutMs: STEP_TIMEOUT_MS, cwd: root },
  );
  const line = produced.stdout.split("\n").find((l) => l.startsWith("{"));
  if (line === undefined) return { error: `produce failed: ${produced.stderr.slice(-500)}` };
  const report = JSON.parse(line) as { bytes: number };
  if (report.bytes < records * RECORD_BYTES)
    return { error: `produced only ${report.bytes} bytes, fewer than ${records} records` };
  return started;
}

const fmt = (n: number | null | undefined, d = 2) => (n === null || n === undefined ? "-" : n.toFixed(d));
mkdirSync(outDir, { recursive: true });
const loadBefore = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const kinds = (["kafka", "krill"] as const).filter((k) => only.has(k));
const brokers = new Map<string, RunningBroker>();
const results = kinds.map((kind) => ({
  kind,
  rounds: [] as Round[],
  error: undefined as string | undefined,
}));
try {
  // Both brokers up all along (the idle one costs little), rounds taking turns so that a change
  // in the machine's load hits both alike.
  for (const r of results) {
    console.error(`consume-probe: ${r.kind}: producing ${records} records`);
    const b = await prepare(r.kind);
    if ("error" in b) r.error = b.error;
    else brokers.set(r.kind, b);
  }
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? results : [...results].reverse();
    for (const r of order) {
      const b = brokers.get(r.kind);
      if (b === undefined || r.error !== undefined) continue;
      console.error(`consume-probe: ${r.kind} round ${i + 1}`);
      try {
        r.rounds.push(await consumeRound(b, i));
      } catch (err) {
        r.error = err instanceof Error ? err.message : String(err);
      }
    }
  }
} finally {
  for (const b of brokers.values()) await stopBroker(root, b.dir);
}
const loadAfter = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
writeFileSync(
  join(outDir, "consume-probe.json"),
  `${JSON.stringify({ at: new Date().toISOString(), records, loadBefore, loadAfter, results }, null, 2)}\n`,
);
console.log(`load average before ${loadBefore}, after ${loadAfter}`);
console.log(
  "| broker | round | MB/s | fetch MB/s | join ms | fetches | avg fetch size KiB | records/fetch | fetch latency avg ms | consumer io-wait ratio | broker CPU-s/GiB (user + sys) | consumer CPU-s/GiB | softirq s/GiB core 0 / 1 |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of results) {
  if (r.error !== undefined) console.log(`| ${r.kind} | failed: ${r.error.slice(0, 300)} |`);
  r.rounds.forEach((x, i) => {
    const m = x.metrics;
    console.log(
      `| ${r.kind} | ${i + 1} | ${fmt(x.mbPerS)} | ${fmt(x.fetchMbPerS)} | ${fmt(x.rebalanceMs, 0)} | ${fmt(m["consumer-fetch-manager-metrics:fetch-total"], 0)} | ${fmt((m["consumer-fetch-manager-metrics:fetch-size-avg"] ?? 0) / 1024, 0)} | ${fmt(m["consumer-fetch-manager-metrics:records-per-request-avg"], 0)} | ${fmt(m["consumer-fetch-manager-metrics:fetch-latency-avg"])} | ${fmt(m["consumer-metrics:io-wait-ratio"])} | ${fmt(x.brokerCpuPerGiB)} (${fmt(x.brokerUserPerGiB)} + ${fmt(x.brokerSystemPerGiB)}) | ${fmt(x.consumerCpuPerGiB)} (${fmt(x.consumerUserPerGiB)} + ${fmt(x.consumerSystemPerGiB)}) | ${fmt(x.cores[0]?.softirqPerGiB)} / ${fmt(x.cores[1]?.softirqPerGiB)} |`,
    );
  });
}
