// Produce and end-to-end latency at fixed light loads, several runs, Krill beside Kafka (issue 21
// item 4), with where Krill's tail comes from: its event-loop delay (perf_hooks'
// monitorEventLoopDelay through the metrics endpoint, `krill_nodejs_eventloop_lag_*`) and its
// garbage-collection pauses (V8's --trace-gc-nvp on its stdout) in the same window.
//
//   tsx bench/src/latency.ts [--rates 3800,19000] [--runs 3] [--seconds 15] [--only kafka,krill]
//       [--acks 1] [--krill-root DIR] [--out FILE]
//
// Both brokers run pinned to core 0 and stay up all along; bench/java/E2eLatency.java (a paced Java
// producer and a consumer tailing the partition, one JVM, microsecond clock; the first second left
// out) runs pinned to core 1 at each rate, the brokers taking turns run by run. The default rates
// are 10% and 50% of the 38,039 records/s Kafka reached on `acks1-b64k-none-p1-x1` in the last full
// run (1 KiB records, linger.ms=5, batch.size 64 KiB, one partition). Prints per broker and rate
// every run's p50/p99/p99.9 and the median of each over the runs; for Krill the longest GC pause,
// the pauses of 5 ms or more and the event loop's p99/max delay in each run's window. Writes
// bench/out/latency.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type RunningBroker, startBroker, stopBroker } from "./broker.js";
import { run } from "./exec.js";
import { fileMark, readBetween } from "./gc-trace.js";
import { parseE2eSummary } from "./parse.js";
import { LINGER_MS, SEGMENT_BYTES } from "./workloads.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = join(root, "bench/out");
const BROKER_CORE = "0";
const CLIENT_CORE = "1";
const TOPIC = "latency-e2e";
const RECORD_BYTES = 1024;
const BATCH_BYTES = 64 * 1024;
/** A Krill GC pause at least this long is listed (ms). */
const LONG_PAUSE_MS = 5;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const rates = flag("rates", "3800,19000").split(",").map(Number);
const runs = Number(flag("runs", "3"));
const seconds = Number(flag("seconds", "15"));
const acks = flag("acks", "1");
const only = new Set(flag("only", "kafka,krill").split(","));
const krillRoot = resolve(flag("krill-root", root));
const classpath = readFileSync(join(root, "compat-tests/.cache/kafka-4.4.0.classpath"), "utf8").trim();

interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

interface LatencySample {
  rate: number;
  run: number;
  ok: boolean;
  error?: string;
  achievedRecordsPerSec?: number;
  produceMs?: Percentiles;
  endToEndMs?: Percentiles;
  /** Krill only: GC pauses in the window (count, total, longest, those >= LONG_PAUSE_MS). */
  gc?: { count: number; pauseMs: number; maxPauseMs: number; longPausesMs: number[] };
  /** Krill only: event-loop delay in the window (prom-client, 10 ms resolution). */
  eventLoopMs?: { p50: number; p99: number; max: number };
}

interface Target {
  kind: "kafka" | "krill";
  broker?: RunningBroker;
  metricsPort?: number;
  error?: string;
  samples: LatencySample[];
}

function ms(p: unknown): Percentiles {
  const o = p as Record<string, number>;
  return { p50: o.p50! / 1000, p99: o.p99! / 1000, p999: o.p999! / 1000, max: o.max! / 1000 };
}

async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(krill_nodejs_eventloop_lag_\w+)\s+([-\d.e+]+)/.exec(line);
    if (m !== null) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function gcPauses(text: string): LatencySample["gc"] {
  const pauses: number[] = [];
  for (const line of text.split("\n")) {
    const m = /\bpause=([\d.]+)\b.*?\bgc=\w+/.exec(line);
    if (m !== null) pauses.push(Number(m[1]));
  }
  return {
    count: pauses.length,
    pauseMs: pauses.reduce((a, b) => a + b, 0),
    maxPauseMs: pauses.reduce((a, b) => Math.max(a, b), 0),
    longPausesMs: pauses.filter((p) => p >= LONG_PAUSE_MS),
  };
}

async function prepare(t: Target): Promise<void> {
  const dir = join(outDir, "run", `latency-${t.kind}`);
  const metricsPort = t.kind === "krill" ? await freePort() : undefined;
  const started = await startBroker(
    t.kind === "krill" ? krillRoot : root,
    t.kind,
    dir,
    process.env,
    undefined,
    t.kind === "krill" ? { nodeArgs: ["--trace-gc-nvp"], overrides: [`metrics.port=${metricsPort}`] } : {},
  );
  if ("error" in started) {
    t.error = started.error;
    return;
  }
  t.broker = started;
  t.metricsPort = metricsPort;
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
      `${TOPIC}:1`,
    ],
    { timeoutMs: 60_000, cwd: root },
  );
  if (!created.stdout.includes('"error":null')) t.error = `topic creation failed: ${created.stdout}`;
}

async function measure(t: Target, rate: number, runIndex: number): Promise<LatencySample> {
  const b = t.broker!;
  const trace = join(b.dir, "broker.out");
  if (t.metricsPort !== undefined) await scrape(t.metricsPort); // resets the delay histogram
  const mark = fileMark(trace);
  const args = [
    b.bootstrap,
    TOPIC,
    String(rate),
    String(seconds),
    String(RECORD_BYTES),
    acks,
    String(LINGER_MS),
    String(BATCH_BYTES),
    "none",
  ];
  const r = await run(
    "taskset",
    [
      "-c",
      CLIENT_CORE,
      "java",
      "-Xms256m",
      "-Xmx1g",
      `-Dlog4j2.configurationFile=${join(root, "compat-tests/java/tools-log4j2.properties")}`,
      "-cp",
      `${join(outDir, "classes")}:${classpath}`,
      "E2eLatency",
      ...args,
    ],
    { timeoutMs: seconds * 1000 + 90_000, cwd: root },
  );
  const sample: LatencySample = { rate, run: runIndex, ok: false };
  if (t.kind === "krill") {
    sample.gc = gcPauses(readBetween(trace, mark, fileMark(trace)));
    const lag = await scrape(t.metricsPort!);
    sample.eventLoopMs = {
      p50: (lag.get("krill_nodejs_eventloop_lag_p50_seconds") ?? Number.NaN) * 1000,
      p99: (lag.get("krill_nodejs_eventloop_lag_p99_seconds") ?? Number.NaN) * 1000,
      max: (lag.get("krill_nodejs_eventloop_lag_max_seconds") ?? Number.NaN) * 1000,
    };
  }
  const summary = parseE2eSummary(r.stdout);
  if (r.code !== 0 || summary === null) {
    sample.error = `E2eLatency failed: ${r.stderr.slice(-300)}`;
    return sample;
  }
  if (summary.errors > 0) sample.error = `${summary.errors} sends failed: ${summary.firstError}`;
  sample.ok = sample.error === undefined;
  sample.achievedRecordsPerSec = summary.achievedRecordsPerSec;
  sample.produceMs = ms(summary.produceUs);
  sample.endToEndMs = ms(summary.endToEndUs);
  return sample;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
}

mkdirSync(join(outDir, "classes"), { recursive: true });
execFileSync("javac", [
  "-cp",
  classpath,
  "-d",
  join(outDir, "classes"),
  join(root, "bench/java/E2eLatency.java"),
]);
const loadBefore = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const targets: Target[] = (["kafka", "krill"] as const)
  .filter((k) => only.has(k))
  .map((kind) => ({ kind, samples: [] }));
try {
  for (const t of targets) {
    console.error(`latency: starting ${t.kind}`);
    await prepare(t);
  }
  for (const rate of rates) {
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        if (t.error !== undefined) continue;
        console.error(`latency: ${t.kind} at ${rate} records/s, run ${i + 1}`);
        t.samples.push(await measure(t, rate, i + 1));
      }
    }
  }
} finally {
  for (const t of targets) if (t.broker !== undefined) await stopBroker(root, t.broker.dir);
}
const loadAfter = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const report = {
  at: new Date().toISOString(),
  rates,
  runs,
  seconds,
  acks,
  krillRoot,
  loadBefore,
  loadAfter,
  targets,
};
writeFileSync(
  resolve(flag("out", join(outDir, "latency.json"))),
  `${JSON.stringify(report, (k, v) => (k === "broker" ? undefined : v), 2)}\n`,
);

const f = (n: number | undefined, d = 2) => (n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(d));
console.log(`load average before ${loadBefore}, after ${loadAfter}; ${seconds} s per run, acks=${acks}`);
console.log(
  "| broker | records/s | run | achieved | produce p50 / p99 / p99.9 ms | end-to-end p50 / p99 / p99.9 ms | Krill GC: count, longest ms, pauses >= 5 ms | Krill event-loop delay p99 / max ms |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const t of targets) {
  if (t.error !== undefined) console.log(`| ${t.kind} | failed: ${t.error.slice(0, 300)} |`);
  for (const s of t.samples) {
    const p = s.produceMs;
    const e = s.endToEndMs;
    const gc =
      s.gc === undefined
        ? "-"
        : `${s.gc.count}, ${f(s.gc.maxPauseMs, 1)}, [${s.gc.longPausesMs.map((x) => x.toFixed(1)).join(" ")}]`;
    const lag = s.eventLoopMs === undefined ? "-" : `${f(s.eventLoopMs.p99, 1)} / ${f(s.eventLoopMs.max, 1)}`;
    console.log(
      `| ${t.kind} | ${s.rate} | ${s.run} | ${f(s.achievedRecordsPerSec, 0)} | ${s.ok ? `${f(p?.p50)} / ${f(p?.p99)} / ${f(p?.p999)}` : `failed: ${s.error}`} | ${s.ok ? `${f(e?.p50)} / ${f(e?.p99)} / ${f(e?.p999)}` : "-"} | ${gc} | ${lag} |`,
    );
  }
}
console.log("\nMedian over the runs (produce latency, ms):\n");
console.log("| records/s | broker | p50 | p99 | p99.9 |");
console.log("| --- | --- | --- | --- | --- |");
for (const rate of rates) {
  for (const t of targets) {
    const ok = t.samples.filter((s) => s.rate === rate && s.ok && s.produceMs !== undefined);
    const pick = (k: keyof Percentiles) => median(ok.map((s) => s.produceMs![k]));
    console.log(`| ${rate} | ${t.kind} | ${f(pick("p50"))} | ${f(pick("p99"))} | ${f(pick("p999"))} |`);
  }
}
