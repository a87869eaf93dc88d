// The benchmark orchestrator behind `make bench` / `make bench-quick` (bench/run.sh). Measures the
// machine's own limits, then runs Apache Kafka and Krill one after the other with the same
// settings and drives both with the same load generators (Kafka's perf tools, an end-to-end latency
// program, kafkajs). Writes bench/out/results.json and regenerates bench/RESULTS.md and the plot.
//
//   tsx bench/src/main.ts [--quick] [--only kafka|krill] [--skip-machine] [--no-profile]
//   tsx bench/src/main.ts --report-only      (regenerate RESULTS.md and the PNG from results.json)
//
// Every step has a time limit; a broker that fails a workload gets a failed row, not a crash.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { alive, type RunningBroker, startBroker, startNullSink, stopBroker } from "./broker.js";
import { killAllChildren, type RunResult, run } from "./exec.js";
import { measureMachine } from "./machine.js";
import {
  lastLines,
  parseConsumerPerfSummary,
  parseE2eSummary,
  parseProducerPerfProgress,
  parseProducerPerfSummary,
} from "./parse.js";
import { readProcStat, readRssBytes, UsageSampler, type UsageWindow, uptimeSeconds } from "./proc.js";
import { summariseProfile } from "./profile.js";
import { writeReport } from "./report.js";
import {
  type BenchResults,
  type BrokerKind,
  type BrokerResults,
  type ConsumerRun,
  type KafkajsRun,
  type LatencyRun,
  type LoadTarget,
  medianRun,
  type ProducerRun,
  type ProfileResult,
  type Usage,
} from "./results.js";
import {
  type ConsumerWorkload,
  consumerWorkloads,
  FULL_SIZES,
  fullProducerWorkloads,
  LINGER_MS,
  latencyBase,
  type ProducerWorkload,
  QUICK_SIZES,
  quickProducerWorkloads,
  RECORD_BYTES,
  type RunSizes,
  SEGMENT_BYTES,
  topicFor,
} from "./workloads.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = join(root, "bench/out");
const kafkaVersion = process.env.KAFKA_VERSION ?? "4.4.0";
const GIB = 1024 * 1024 * 1024;
/** After this many producer runs in a row that hit their time limit, the rest are skipped. */
const CONSECUTIVE_TIMEOUTS_MAX = 2;
const TOPIC_CREATE_TIMEOUT_MS = 60_000;
const KAFKAJS_TOPIC = "bench-kafkajs";
const LATENCY_TOPIC = "bench-latency";
const E2E_TOPIC = "bench-e2e";
/** Taken as Kafka's maximum rate when it could not be measured in this run. */
const LATENCY_FALLBACK_MAX_RECORDS_PER_SEC = 10_000;
const LATENCY_LOAD_SHARE = 0.5;
const LATENCY_LIGHT_LOAD_SHARE = 0.1;

// Load generators: the same JVM settings against both brokers; a 1 GB heap so that four producers
// with 1 MB batches never run short, G1 and the full JIT so the tools are not the bottleneck.
const JVM_TOOL_OPTIONS = [
  "-Xms256m",
  "-Xmx1g",
  "-XX:+UseG1GC",
  "-Djava.awt.headless=true",
  `-Dlog4j2.configurationFile=${join(root, "compat-tests/java/tools-log4j2.properties")}`,
  `-Dlog4j.configuration=file:${join(root, "compat-tests/java/tools-log4j.properties")}`,
];

interface Options {
  sizes: RunSizes;
  only: BrokerKind | null;
  skipMachine: boolean;
  profile: boolean;
  reportOnly: boolean;
  /** Measure only the machine's limits and put them into the existing results.json. */
  machineOnly: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sizes: FULL_SIZES,
    only: null,
    skipMachine: false,
    profile: true,
    reportOnly: false,
    machineOnly: false,
  };
  let records: number | null = null;
  let repeats: number | null = null;
  let noCeiling = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.sizes = QUICK_SIZES;
    else if (a === "--full") o.sizes = FULL_SIZES;
    else if (a === "--skip-machine") o.skipMachine = true;
    else if (a === "--no-profile") o.profile = false;
    else if (a === "--no-ceiling") noCeiling = true;
    else if (a === "--report-only") o.reportOnly = true;
    else if (a === "--machine-only") o.machineOnly = true;
    else if (a === "--records" && /^[1-9]\d{0,8}$/.test(argv[i + 1] ?? "")) records = Number(argv[++i]);
    else if (a === "--repeat" && /^[1-9]$/.test(argv[i + 1] ?? "")) repeats = Number(argv[++i]);
    else if (a === "--only" && (argv[i + 1] === "kafka" || argv[i + 1] === "krill"))
      o.only = argv[++i] as BrokerKind;
    else {
      console.error(`bench: unknown argument ${a}`);
      console.error(
        "usage: main.ts [--quick|--full] [--only kafka|krill] [--records N] [--repeat N] [--skip-machine] [--no-profile] [--no-ceiling] [--report-only] [--machine-only]",
      );
      process.exit(2);
    }
  }
  // A smaller (or larger) run of the same workloads, e.g. to check the full matrix end to end
  // quickly; RESULTS.md prints the sizes used.
  if (records !== null) {
    o.sizes = {
      ...o.sizes,
      producerRecords: records,
      kafkajsRecords: Math.min(o.sizes.kafkajsRecords, records),
    };
  }
  if (repeats !== null) o.sizes = { ...o.sizes, repeats };
  if (noCeiling) o.sizes = { ...o.sizes, ceiling: false };
  return o;
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** A short command's output (stdout, else stderr: `java -version` prints there). */
function sh(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 30_000 });
  return (r.stdout?.trim() || r.stderr?.trim() || r.error?.message) ?? "unknown";
}

// --- load generators ------------------------------------------------------------------------------

let classpath = "";

function javaArgs(mainClass: string, args: string[], extraClasspath = ""): string[] {
  return [
    ...JVM_TOOL_OPTIONS,
    "-cp",
    extraClasspath ? `${extraClasspath}:${classpath}` : classpath,
    mainClass,
    ...args,
  ];
}

/** Runs a tool and keeps its output under bench/out/logs/<broker>/<name>.{out,err}. */
async function runLogged(
  broker: LoadTarget,
  name: string,
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<RunResult> {
  const result = await run(command, args, { timeoutMs });
  const dir = join(outDir, "logs", broker);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.out`), result.stdout);
  writeFileSync(join(dir, `${name}.err`), result.stderr);
  return result;
}

function failureReason(r: RunResult, what: string): string {
  if (r.timedOut) return `${what} hit its time limit`;
  const tail = lastLines(`${r.stderr}\n${r.stdout}`);
  return `${what} exited ${r.code ?? r.signal}${tail ? `: ${tail}` : ""}`;
}

function usageOf(window: UsageWindow, bytesMoved: number): Usage {
  return {
    cpuSeconds: window.cpuSeconds,
    cpuSecondsPerGib: bytesMoved > 0 ? window.cpuSeconds / (bytesMoved / GIB) : null,
    rssBytesMax: window.rssBytesMax > 0 ? window.rssBytesMax : null,
  };
}

const noUsage: Usage = { cpuSeconds: null, cpuSecondsPerGib: null, rssBytesMax: null };

function producerArgs(
  b: RunningBroker,
  topic: string,
  records: number,
  w: ProducerWorkload,
  throughput: number,
) {
  return [
    "--bootstrap-server",
    b.bootstrap,
    "--topic",
    topic,
    "--num-records",
    String(records),
    "--record-size",
    String(RECORD_BYTES),
    "--throughput",
    String(throughput),
    "--command-property",
    `acks=${w.acks}`,
    `linger.ms=${LINGER_MS}`,
    `batch.size=${w.batchBytes}`,
    `compression.type=${w.compression}`,
  ];
}

function commandLine(tool: string, args: string[]): string {
  return [tool, ...args].join(" ");
}

async function runProducerWorkload(
  b: RunningBroker,
  w: ProducerWorkload,
  sizes: RunSizes,
  repetition: number,
): Promise<ProducerRun> {
  const perProducer = Math.floor(sizes.producerRecords / w.producers);
  const args = producerArgs(b, topicFor(w), perProducer, w, -1);
  const base: ProducerRun = {
    workload: w,
    ok: false,
    error: null,
    records: 0,
    mbPerSec: null,
    recordsPerSec: null,
    latencyMsP50: null,
    latencyMsP99: null,
    latencyMsP999: null,
    usage: noUsage,
    command: `${w.producers} x ${commandLine("kafka-producer-perf-test", args)}`,
  };
  const sampler = new UsageSampler(b.pid);
  sampler.start();
  const results = await Promise.all(
    Array.from({ length: w.producers }, (_, i) =>
      runLogged(
        b.kind,
        `produce-${w.id}-r${repetition + 1}-${i}`,
        "java",
        javaArgs("org.apache.kafka.tools.ProducerPerformance", args),
        sizes.producerTimeoutMs,
      ),
    ),
  );
  const window = sampler.stop();
  const summaries = results.map((r) => parseProducerPerfSummary(r.stdout));
  const records = summaries.reduce((n, s) => n + (s?.records ?? 0), 0);
  const failed = results.findIndex((r, i) => r.code !== 0 || summaries[i] === null);
  const errorsInOutput = results.some((r) => /Exception|ERROR/.test(r.stderr) && r.code !== 0);
  if (failed >= 0 || errorsInOutput) {
    const r = results[Math.max(0, failed)]!;
    // A run cut off by its time limit still shows its progress windows: report the partial rate.
    const windows = parseProducerPerfProgress(r.stdout).windows;
    const partial = windows.length > 0 ? ` (last progress window: ${windows.at(-1)!.mbPerSec} MB/s)` : "";
    return {
      ...base,
      error: failureReason(r, "kafka-producer-perf-test") + partial,
      usage: usageOf(window, 0),
    };
  }
  // Aggregate rate of concurrent producers: all bytes over the longest producer's send time.
  const elapsedS = Math.max(...summaries.map((s) => s!.records / s!.recordsPerSec));
  const bytes = records * RECORD_BYTES;
  return {
    ...base,
    ok: true,
    records,
    mbPerSec: bytes / (1024 * 1024) / elapsedS,
    recordsPerSec: records / elapsedS,
    latencyMsP50: Math.max(...summaries.map((s) => s!.latencyMsP50)),
    latencyMsP99: Math.max(...summaries.map((s) => s!.latencyMsP99)),
    latencyMsP999: Math.max(...summaries.map((s) => s!.latencyMsP999)),
    usage: usageOf(window, bytes),
  };
}

async function runConsumerWorkload(
  b: RunningBroker,
  w: ConsumerWorkload,
  expectedRecords: number,
  sizes: RunSizes,
  repetition: number,
): Promise<ConsumerRun> {
  const group = `bench-${w.id}-${Date.now()}`;
  const topic = `bench-${w.sourceId}`;
  // Every member asks for all records: with a group none reaches that count, so each stops after
  // --timeout ms without records, and that idle tail is taken off its end time below.
  const args = [
    "--bootstrap-server",
    b.bootstrap,
    "--topic",
    topic,
    "--num-records",
    String(expectedRecords),
    "--group",
    group,
    "--timeout",
    String(w.consumers > 1 ? sizes.consumerIdleMs : sizes.consumerTimeoutMs / 3),
  ];
  const base: ConsumerRun = {
    workload: w,
    ok: false,
    error: null,
    records: 0,
    expectedRecords,
    mbPerSec: null,
    rebalanceMsMax: null,
    usage: noUsage,
    command: `${w.consumers} x ${commandLine("kafka-consumer-perf-test", args)}`,
  };
  if (expectedRecords <= 0)
    return { ...base, error: "nothing to read: the producer run that writes this topic failed" };
  const sampler = new UsageSampler(b.pid);
  sampler.start();
  const results = await Promise.all(
    Array.from({ length: w.consumers }, (_, i) =>
      runLogged(
        b.kind,
        `consume-${w.id}-r${repetition + 1}-${i}`,
        "java",
        javaArgs("org.apache.kafka.tools.ConsumerPerformance", args),
        sizes.consumerTimeoutMs,
      ),
    ),
  );
  const window = sampler.stop();
  const summaries = results.map((r) => parseConsumerPerfSummary(r.stdout));
  const failed = results.findIndex((r, i) => r.code !== 0 || summaries[i] === null);
  if (failed >= 0) {
    return {
      ...base,
      error: failureReason(results[failed]!, "kafka-consumer-perf-test"),
      usage: usageOf(window, 0),
    };
  }
  const records = summaries.reduce((n, s) => n + s!.records, 0);
  const mb = summaries.reduce((n, s) => n + s!.mb, 0);
  const idleMs = Number(args[args.length - 1]);
  const startMs = Math.min(...summaries.map((s) => s!.startMs));
  const endMs = Math.max(...summaries.map((s) => (s!.timedOut ? s!.endMs - idleMs : s!.endMs)));
  const usage = usageOf(window, records * RECORD_BYTES);
  const rebalanceMsMax = Math.max(...summaries.map((s) => s!.rebalanceMs));
  if (records < expectedRecords) {
    return {
      ...base,
      records,
      usage,
      rebalanceMsMax,
      error: `read ${records} of ${expectedRecords} records`,
    };
  }
  return {
    ...base,
    ok: true,
    records,
    mbPerSec: mb / (Math.max(1, endMs - startMs) / 1000),
    rebalanceMsMax,
    usage,
  };
}

async function runLatency(
  b: RunningBroker,
  rate: number,
  sizes: RunSizes,
  label: string,
): Promise<LatencyRun> {
  const w = latencyBase();
  const records = rate * sizes.latencyDurationS;
  const perfArgs = producerArgs(b, LATENCY_TOPIC, records, w, rate);
  const perf = await runLogged(
    b.kind,
    `latency-${label}-perf-test`,
    "java",
    javaArgs("org.apache.kafka.tools.ProducerPerformance", perfArgs),
    sizes.producerTimeoutMs,
  );
  const perfSummary = parseProducerPerfSummary(perf.stdout);
  const perfOk = perf.code === 0 && perfSummary !== null;
  const e2eArgs = [
    b.bootstrap,
    E2E_TOPIC,
    String(rate),
    String(sizes.latencyDurationS),
    String(RECORD_BYTES),
    w.acks,
    String(LINGER_MS),
    String(w.batchBytes),
    w.compression,
  ];
  const e2e = await runLogged(
    b.kind,
    `latency-${label}-e2e`,
    "java",
    javaArgs("E2eLatency", e2eArgs, join(outDir, "classes")),
    sizes.latencyDurationS * 1000 + 90_000,
  );
  const e2eSummary = parseE2eSummary(e2e.stdout);
  let e2eError: string | null = null;
  if (e2e.code !== 0 || e2eSummary === null) e2eError = failureReason(e2e, "E2eLatency");
  else if (e2eSummary.errors > 0) e2eError = `${e2eSummary.errors} sends failed: ${e2eSummary.firstError}`;
  else if (e2eSummary.received < e2eSummary.acked)
    e2eError = `consumed ${e2eSummary.received} of ${e2eSummary.acked} acknowledged records`;
  const e2eOk = e2eError === null;
  return {
    targetRecordsPerSec: rate,
    ok: perfOk && e2eOk,
    error: perfOk ? e2eError : failureReason(perf, "kafka-producer-perf-test --throughput"),
    perfTest: {
      ok: perfOk,
      error: perfOk ? null : failureReason(perf, "kafka-producer-perf-test"),
      recordsPerSec: perfSummary?.recordsPerSec ?? null,
      latencyMsP50: perfSummary?.latencyMsP50 ?? null,
      latencyMsP99: perfSummary?.latencyMsP99 ?? null,
      latencyMsP999: perfSummary?.latencyMsP999 ?? null,
      command: commandLine("kafka-producer-perf-test", perfArgs),
    },
    e2e: {
      ok: e2eOk,
      error: e2eError,
      achievedRecordsPerSec: e2eSummary?.achievedRecordsPerSec ?? null,
      produceUs: e2eSummary?.produceUs ?? null,
      endToEndUs: e2eSummary?.endToEndUs ?? null,
      command: commandLine("java E2eLatency", e2eArgs),
    },
  };
}

async function runKafkajs(
  b: RunningBroker,
  mode: "produce" | "consume",
  sizes: RunSizes,
  records: number,
  repetition: number,
): Promise<KafkajsRun> {
  const script = join(root, "bench/src/kafkajs-perf.ts");
  const args =
    mode === "produce"
      ? [
          script,
          "produce",
          b.bootstrap,
          KAFKAJS_TOPIC,
          String(records),
          String(RECORD_BYTES),
          "1",
          "100",
          "8",
        ]
      : [
          script,
          "consume",
          b.bootstrap,
          KAFKAJS_TOPIC,
          String(records),
          `bench-kafkajs-${Date.now()}`,
          "10000",
        ];
  const command = commandLine(
    "tsx",
    args.map((a) => (a === script ? "bench/src/kafkajs-perf.ts" : a)),
  );
  if (records <= 0)
    return {
      ok: false,
      error: "nothing to read: the kafkajs produce run failed",
      records: 0,
      mbPerSec: null,
      command,
    };
  const r = await runLogged(
    b.kind,
    `kafkajs-${mode}-r${repetition + 1}`,
    "tsx",
    args,
    sizes.producerTimeoutMs,
  );
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  let parsed: { records?: number; mbPerSec?: number; error?: string | null } | null = null;
  try {
    parsed = line ? JSON.parse(line.slice(7)) : null;
  } catch {
    parsed = null;
  }
  if (r.code !== 0 || parsed === null)
    return { ok: false, error: failureReason(r, `kafkajs ${mode}`), records: 0, mbPerSec: null, command };
  if (parsed.error)
    return {
      ok: false,
      error: `kafkajs ${mode}: ${parsed.error}`,
      records: parsed.records ?? 0,
      mbPerSec: null,
      command,
    };
  return { ok: true, error: null, records: parsed.records ?? 0, mbPerSec: parsed.mbPerSec ?? null, command };
}

/**
 * Runs bench/src/topics.ts (`create` or `delete`) against a broker; returns an error message, or
 * null once done.
 */
async function manageTopics(b: RunningBroker, logName: string, args: string[]): Promise<string | null> {
  const r = await runLogged(
    b.kind,
    logName,
    "tsx",
    [join(root, "bench/src/topics.ts"), ...args],
    TOPIC_CREATE_TIMEOUT_MS,
  );
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (r.code !== 0 || !line) return failureReason(r, `topics.ts ${args[0]}`);
  return (JSON.parse(line.slice(7)) as { error: string | null }).error;
}

function createTopics(b: RunningBroker, specs: string[]): Promise<string | null> {
  return manageTopics(b, "create-topics", ["create", b.bootstrap, String(SEGMENT_BYTES), ...specs]);
}

/** Deletes topics no later run reads. */
function deleteTopics(b: RunningBroker, topics: string[]): Promise<string | null> {
  return manageTopics(b, `delete-${topics[0]}`, ["delete", b.bootstrap, ...topics]);
}

// --- one broker's phase ---------------------------------------------------------------------------

function emptyBrokerResults<K extends LoadTarget>(
  kind: K,
  version: string,
): Omit<BrokerResults, "broker"> & { broker: K } {
  return {
    broker: kind,
    version,
    started: false,
    startError: null,
    startupMs: null,
    idleRssBytes: null,
    topicsError: null,
    producer: [],
    consumer: [],
    latency: null,
    latencyLight: null,
    kafkajsProduce: null,
    kafkajsConsume: null,
    loadAverageBefore: loadavg(),
    loadAverageAfter: [],
    phaseSeconds: 0,
  };
}

/** Folders of the brokers this process has started and not yet stopped (for the signal handler). */
const activeBrokerDirs = new Set<string>();

interface Phase {
  /** The ceiling's results use only `producer`. */
  res: Omit<BrokerResults, "broker"> & { broker: LoadTarget };
  broker: RunningBroker | null;
  dir: string;
  consecutiveTimeouts: number;
}

/**
 * The brokers' phase. Each broker is started on its own while the other is not yet running
 * (start-up and idle RSS), then the throughput, latency and kafkajs runs alternate between the
 * brokers, repetition by repetition, in alternating order (Kafka first in odd repetitions, Krill
 * first in even ones): the machine drifts over minutes (page-cache and memory state of this VM,
 * other tenants), and a broker measured a quarter of an hour after the other would carry that
 * drift in its ratio. The broker not under load stays up and idle meanwhile (Kafka idles at about
 * 3% of one core, Krill at about 0%). With `sizes.ceiling`, the null sink (bench/src/null-broker.ts)
 * joins the producer runs' rotation as a third participant.
 */
async function runBrokerPhases(
  kinds: { kind: BrokerKind; version: string }[],
  sizes: RunSizes,
  producers: ProducerWorkload[],
  consumers: ConsumerWorkload[],
): Promise<{ brokers: BrokerResults[]; ceiling: ProducerRun[] }> {
  const phaseStarted = performance.now();
  const phases: Phase[] = [];
  let ceiling: Phase | null = null;
  try {
    for (const { kind, version } of kinds) {
      const res = emptyBrokerResults(kind, version);
      const dir = join(outDir, "run", kind);
      const phase: Phase = { res, broker: null, dir, consecutiveTimeouts: 0 };
      phases.push(phase);
      log(`${kind}: starting`);
      activeBrokerDirs.add(dir);
      const started = await startBroker(root, kind, dir, process.env);
      if ("error" in started) {
        res.startError = started.error;
        log(`${kind}: did not start: ${started.error}`);
        activeBrokerDirs.delete(dir);
        continue;
      }
      phase.broker = started;
      res.started = true;
      res.startupMs = started.startupMs;
      log(
        `${kind}: up at ${started.bootstrap} (pid ${started.pid}), ${started.startupMs} ms from process start to Metadata`,
      );
      await new Promise((r) => setTimeout(r, sizes.idleSettleMs));
      res.idleRssBytes = readRssBytes(started.pid);
      log(`${kind}: idle RSS ${((res.idleRssBytes ?? 0) / 1048576).toFixed(1)} MiB`);
    }
    const topicSpecs = [
      ...producers.map((w) => `${topicFor(w)}:${w.partitions}`),
      `${LATENCY_TOPIC}:1`,
      `${E2E_TOPIC}:1`,
      `${KAFKAJS_TOPIC}:8`,
    ];
    for (const p of phases) {
      if (!p.broker) continue;
      p.res.topicsError = await createTopics(p.broker, topicSpecs);
      if (p.res.topicsError) log(`${p.res.broker}: creating topics failed: ${p.res.topicsError}`);
    }
    const running = () => phases.filter((p) => p.broker !== null);
    /**
     * Runs `once` on every running broker (and on `extra`), `sizes.repeats` times, rotating the
     * order from one repetition to the next so that no participant always goes first.
     */
    const interleaved = async <T>(
      label: string,
      once: (p: Phase, b: RunningBroker, rep: number) => Promise<T | null>,
      ok: (r: T) => boolean,
      extra: Phase[] = [],
    ): Promise<Map<Phase, T[]>> => {
      const participants = [...running(), ...extra.filter((p) => p.broker !== null)];
      const runs = new Map<Phase, T[]>(participants.map((p) => [p, []]));
      for (let rep = 0; rep < sizes.repeats; rep++) {
        // With two participants this alternates (A B, B A, ...); with three it rotates.
        const order = participants.map((_, i) => participants[(i + rep) % participants.length]!);
        for (const p of order) {
          const done = runs.get(p)!;
          // A failed repetition ends that broker's runs of this workload (it is the result).
          if (done.length > 0 && !ok(done.at(-1)!)) continue;
          log(`${p.res.broker}: ${label} (run ${rep + 1} of ${sizes.repeats})`);
          const r = await once(p, p.broker!, rep);
          if (r !== null) done.push(r);
        }
      }
      return runs;
    };

    // The load generators' ceiling: the same producer runs against a sink that stores nothing,
    // in the same rotation as the brokers (bench/src/null-broker.ts).
    if (sizes.ceiling) {
      const dir = join(outDir, "run", "ceiling");
      activeBrokerDirs.add(dir);
      const sink = await startNullSink(root, dir, topicSpecs);
      if ("error" in sink) {
        log(`ceiling: the null sink did not start: ${sink.error}`);
        activeBrokerDirs.delete(dir);
      } else {
        log(`ceiling: null sink up at ${sink.bootstrap} (pid ${sink.pid})`);
        ceiling = {
          res: emptyBrokerResults("ceiling", "null sink"),
          broker: sink,
          dir,
          consecutiveTimeouts: 0,
        };
      }
    }
    for (const w of producers) {
      const runs = await interleaved<ProducerRun>(
        `produce ${w.id}`,
        async (p, b, rep) => {
          if (!alive(b.pid)) return skippedProducer(w, `${p.res.broker} is no longer running`);
          if (p.consecutiveTimeouts >= CONSECUTIVE_TIMEOUTS_MAX)
            return skippedProducer(
              w,
              `skipped after ${p.consecutiveTimeouts} runs in a row hit their time limit`,
            );
          // Repetitions write to the same topic: the consumer runs read its first records.
          const r = await runProducerWorkload(b, w, sizes, rep);
          log(
            `${p.res.broker}:   ${r.ok ? `${r.mbPerSec!.toFixed(1)} MB/s, p99 ${r.latencyMsP99} ms` : `FAILED: ${r.error}`}`,
          );
          return r;
        },
        (r) => r.ok,
        ceiling ? [ceiling] : [],
      );
      for (const [p, list] of runs) {
        const r = medianRun(list);
        p.consecutiveTimeouts = r.error?.includes("time limit") ? p.consecutiveTimeouts + 1 : 0;
        p.res.producer.push(r);
        if (p === ceiling) continue;
        // Both brokers keep their data until the end, and the full matrix writes about 47 GB to
        // each: a topic no consumer run reads goes as soon as its runs are done.
        if (!consumers.some((c) => c.sourceId === w.id) && alive(p.broker!.pid)) {
          const error = await deleteTopics(p.broker!, [topicFor(w)]);
          if (error) log(`${p.res.broker}: deleting ${topicFor(w)} failed: ${error}`);
        }
      }
    }
    for (const w of consumers) {
      const runs = await interleaved<ConsumerRun>(
        `consume ${w.id}`,
        async (p, b, rep) => {
          if (!alive(b.pid)) return skippedConsumer(w, `${p.res.broker} is no longer running`);
          const source = p.res.producer.find((x) => x.workload.id === w.sourceId);
          const r = await runConsumerWorkload(b, w, source?.ok ? source.records : 0, sizes, rep);
          log(`${p.res.broker}:   ${r.ok ? `${r.mbPerSec!.toFixed(1)} MB/s` : `FAILED: ${r.error}`}`);
          return r;
        },
        (r) => r.ok,
      );
      for (const [p, list] of runs) p.res.consumer.push(medianRun(list));
    }
    // The goal's load (50% of Kafka's maximum) and a light one (10%): on a busy machine the maximum
    // measured a minute earlier may no longer be there, and then 50% queues in both brokers.
    const kafkaBase = phases
      .find((p) => p.res.broker === "kafka")
      ?.res.producer.find((x) => x.workload.id === latencyBase().id);
    const maxRate =
      kafkaBase?.ok && kafkaBase.recordsPerSec
        ? kafkaBase.recordsPerSec
        : LATENCY_FALLBACK_MAX_RECORDS_PER_SEC;
    for (const [share, label] of [
      [LATENCY_LOAD_SHARE, "half"],
      [LATENCY_LIGHT_LOAD_SHARE, "light"],
    ] as const) {
      const rate = Math.max(1, Math.floor(maxRate * share));
      for (const p of running()) {
        const b = p.broker!;
        if (!alive(b.pid)) continue;
        log(`${p.res.broker}: latency at ${rate} records/s (${share * 100}% of Kafka's maximum)`);
        const r = await runLatency(b, rate, sizes, label);
        if (label === "half") p.res.latency = r;
        else p.res.latencyLight = r;
        const e = r.e2e;
        log(
          `${p.res.broker}:   ${r.ok ? `produce p99 ${e.produceUs?.p99} us, end-to-end p99 ${e.endToEndUs?.p99} us` : `FAILED: ${r.error}`}`,
        );
      }
    }
    const jsProduce = await interleaved<KafkajsRun>(
      "kafkajs produce",
      (_p, b, rep) =>
        alive(b.pid) ? runKafkajs(b, "produce", sizes, sizes.kafkajsRecords, rep) : Promise.resolve(null),
      (r) => r.ok,
    );
    for (const [p, list] of jsProduce) if (list.length > 0) p.res.kafkajsProduce = medianRun(list);
    const jsConsume = await interleaved<KafkajsRun>(
      "kafkajs consume",
      (p, b, rep) =>
        alive(b.pid)
          ? runKafkajs(b, "consume", sizes, p.res.kafkajsProduce?.ok ? p.res.kafkajsProduce.records : 0, rep)
          : Promise.resolve(null),
      (r) => r.ok,
    );
    for (const [p, list] of jsConsume) if (list.length > 0) p.res.kafkajsConsume = medianRun(list);
    for (const p of running()) {
      const r = p.res;
      log(
        `${r.broker}:   kafkajs produce ${r.kafkajsProduce?.mbPerSec?.toFixed(1) ?? r.kafkajsProduce?.error}, consume ${r.kafkajsConsume?.mbPerSec?.toFixed(1) ?? r.kafkajsConsume?.error}`,
      );
      if (!alive(p.broker!.pid))
        log(`${r.broker}: the broker process exited during the run (see ${p.dir}/broker.out)`);
    }
  } finally {
    for (const p of ceiling ? [...phases, ceiling] : phases) {
      if (!activeBrokerDirs.has(p.dir)) continue;
      log(`${p.res.broker}: stopping`);
      await stopBroker(root, p.dir);
      activeBrokerDirs.delete(p.dir);
      // Keep the broker's console output, drop its data: the full matrix writes tens of GB.
      rmSync(join(p.dir, "data"), { recursive: true, force: true });
    }
  }
  return {
    brokers: phases.map((p) => finishPhase(p.res as BrokerResults, phaseStarted)),
    ceiling: ceiling?.res.producer ?? [],
  };
}

function finishPhase(res: BrokerResults, phaseStarted: number): BrokerResults {
  res.loadAverageAfter = loadavg();
  res.phaseSeconds = Math.round((performance.now() - phaseStarted) / 1000);
  return res;
}

function skippedProducer(w: ProducerWorkload, error: string): ProducerRun {
  return {
    workload: w,
    ok: false,
    error,
    records: 0,
    mbPerSec: null,
    recordsPerSec: null,
    latencyMsP50: null,
    latencyMsP99: null,
    latencyMsP999: null,
    usage: noUsage,
    command: "",
  };
}

function skippedConsumer(w: ConsumerWorkload, error: string): ConsumerRun {
  return {
    workload: w,
    ok: false,
    error,
    records: 0,
    expectedRecords: 0,
    mbPerSec: null,
    rebalanceMsMax: null,
    usage: noUsage,
    command: "",
  };
}

// --- profile of Krill -------------------------------------------------------------------------------

async function profileKrill(sizes: RunSizes): Promise<ProfileResult> {
  const w = latencyBase();
  const workload = `kafka-producer-perf-test ${w.id} (${sizes.producerRecords} records) then kafka-consumer-perf-test reading them`;
  const dir = join(outDir, "run", "krill-profile");
  const profDir = join(outDir, "profile");
  rmSync(profDir, { recursive: true, force: true });
  mkdirSync(profDir, { recursive: true });
  const env = { ...process.env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}` };
  log("krill: starting under --cpu-prof");
  activeBrokerDirs.add(dir);
  const started = await startBroker(root, "krill", dir, env);
  const failed = (error: string): ProfileResult => ({ ...emptyProfile(error), workload });
  if ("error" in started) {
    activeBrokerDirs.delete(dir);
    return failed(started.error);
  }
  let fromMs = 0;
  try {
    const topicError = await createTopics(started, [`${topicFor(w)}:${w.partitions}`]);
    if (topicError) return failed(`creating the topic failed: ${topicError}`);
    // The profile begins with the process; leave out everything before the load (start-up).
    const processStart = readProcStat(started.pid)?.startSecondsSinceBoot;
    if (processStart !== undefined) fromMs = Math.max(0, (uptimeSeconds() - processStart) * 1000);
    const p = await runProducerWorkload(started, w, sizes, 0);
    if (!p.ok) log(`krill profile: producer run failed: ${p.error}`);
    const c = await runConsumerWorkload(
      started,
      { id: `${w.id}-c1`, sourceId: w.id, consumers: 1 },
      p.records,
      sizes,
      0,
    );
    if (!c.ok) log(`krill profile: consumer run failed: ${c.error}`);
  } finally {
    await stopBroker(root, dir);
    activeBrokerDirs.delete(dir);
    rmSync(join(dir, "data"), { recursive: true, force: true });
  }
  const pid = started.pid;
  const file = readdirSync(profDir).find(
    (f) => f.endsWith(".cpuprofile") && f.split(".").includes(String(pid)),
  );
  if (!file) {
    return failed(
      `Krill (pid ${pid}) wrote no CPU profile on SIGTERM: --cpu-prof writes it only when the process exits through process.exit() or an empty event loop`,
    );
  }
  return { ...summariseProfile(join(profDir, file), root, fromMs), workload };
}

function emptyProfile(error: string): ProfileResult {
  return {
    ok: false,
    error,
    workload: "",
    profilePath: null,
    fromMs: 0,
    totalMs: 0,
    busyMs: 0,
    top: [],
    byKrillCaller: [],
    categories: [],
  };
}

// --- main -----------------------------------------------------------------------------------------

function environment(): BenchResults["environment"] {
  const kafkajsVersion = (
    JSON.parse(readFileSync(join(root, "node_modules/kafkajs/package.json"), "utf8")) as { version: string }
  ).version;
  return {
    kernel: `Linux ${release()}`,
    cpuModel: cpus()[0]?.model ?? "unknown",
    cpuCount: cpus().length,
    memoryBytes: totalmem(),
    java: sh("java", ["-version"]).split("\n")[0] ?? "unknown",
    node: process.version,
    kafkaVersion,
    kafkajsVersion,
    krillCommit: sh("git", ["-C", root, "log", "-1", "--format=%h %s"]),
    jvmToolOptions: JVM_TOOL_OPTIONS.map((o) => o.replace(root, ".")),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const resultsPath = join(outDir, "results.json");
  if (options.machineOnly) {
    const results = JSON.parse(readFileSync(resultsPath, "utf8")) as BenchResults;
    log("measuring the machine's limits for the results of the last run");
    const at = new Date().toISOString();
    // The mode's current scratch size, not the one recorded by the run (which may predate a fix).
    const modeSizes = results.sizes.mode === "full" ? FULL_SIZES : QUICK_SIZES;
    results.sizes = { ...results.sizes, diskScratchBytes: modeSizes.diskScratchBytes };
    results.machine = {
      ...(await measureMachine(root, join(outDir, "scratch"), results.sizes)),
      note: `Measured at ${at.slice(0, 16)}Z with \`bench/run.sh --machine-only\`, right after the brokers' runs, on the same idle machine, and not during the run itself.`,
    };
    writeFileSync(resultsPath, JSON.stringify(results, null, 2));
    writeReport(results, root);
    return;
  }
  if (options.reportOnly) {
    const results = JSON.parse(readFileSync(resultsPath, "utf8")) as BenchResults;
    // The profile's tables come from the raw .cpuprofile when it is still there, so a change to
    // the summary (such as naming bundled frames through the source map) reaches RESULTS.md.
    const p = results.profile;
    if (p?.ok && p.profilePath && existsSync(p.profilePath)) {
      results.profile = { ...summariseProfile(p.profilePath, root, p.fromMs), workload: p.workload };
      writeFileSync(resultsPath, JSON.stringify(results, null, 2));
    }
    writeReport(results, root);
    return;
  }
  const sizes = options.sizes;
  const classpathFile = join(root, `compat-tests/.cache/kafka-${kafkaVersion}.classpath`);
  if (!existsSync(classpathFile))
    throw new Error(`no Kafka classpath at ${classpathFile}; run scripts/install-compat-deps.sh`);
  classpath = readFileSync(classpathFile, "utf8").trim();
  mkdirSync(join(outDir, "classes"), { recursive: true });
  rmSync(join(outDir, "logs"), { recursive: true, force: true });
  execFileSync("javac", [
    "-cp",
    classpath,
    "-d",
    join(outDir, "classes"),
    join(root, "bench/java/E2eLatency.java"),
  ]);

  const producers = sizes.mode === "quick" ? quickProducerWorkloads() : fullProducerWorkloads();
  const consumers = consumerWorkloads(producers, sizes.mode);
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    finishedAt: "",
    sizes,
    environment: environment(),
    machine: {
      diskWriteMbPerSec: null,
      diskReadMbPerSec: null,
      diskScratchBytes: sizes.diskScratchBytes,
      tcpLoopbackMbPerSec: null,
      errors: ["not measured (--skip-machine)"],
      commands: [],
    },
    brokers: [],
    profile: null,
  };
  log(
    `${sizes.mode} run: ${producers.length} producer and ${consumers.length} consumer workloads per broker`,
  );
  if (!options.skipMachine) {
    log("measuring the machine's limits");
    results.machine = await measureMachine(root, join(outDir, "scratch"), sizes);
    log(
      `disk write ${results.machine.diskWriteMbPerSec?.toFixed(0)} MB/s, read ${results.machine.diskReadMbPerSec?.toFixed(0)} MB/s, loopback TCP ${results.machine.tcpLoopbackMbPerSec?.toFixed(0)} MB/s`,
    );
  }
  const kinds: BrokerKind[] = options.only ? [options.only] : ["kafka", "krill"];
  const measured = await runBrokerPhases(
    kinds.map((kind) => ({
      kind,
      version: kind === "kafka" ? `Apache Kafka ${kafkaVersion}` : `Krill ${results.environment.krillCommit}`,
    })),
    sizes,
    producers,
    consumers,
  );
  results.brokers = measured.brokers;
  if (sizes.ceiling) results.ceiling = measured.ceiling;
  writeFileSync(resultsPath, JSON.stringify(results, null, 2));
  const krill = results.brokers.find((b) => b.broker === "krill");
  if (options.profile && krill?.producer.some((p) => p.ok)) {
    results.profile = await profileKrill(sizes);
    log(
      results.profile.ok
        ? `profile: ${results.profile.profilePath}`
        : `profile failed: ${results.profile.error}`,
    );
  } else if (options.profile && krill) {
    results.profile = emptyProfile("not profiled: Krill completed no producer workload");
  }
  results.finishedAt = new Date().toISOString();
  writeFileSync(resultsPath, JSON.stringify(results, null, 2));
  writeReport(results, root);
  log(`wrote ${resultsPath}, bench/RESULTS.md and bench/results.png`);
}

async function cleanUp(): Promise<void> {
  killAllChildren();
  for (const dir of activeBrokerDirs) await stopBroker(root, dir);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the broker and the load generators`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (e) {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  await cleanUp();
  process.exit(1);
}
