// The cluster benchmark (issue 21 item 5): three nodes in KRaft combined mode, a topic with
// replication factor 3 and min.insync.replicas=2, acks=all, Krill against Apache Kafka 4.4 with the
// same server.properties (chaos/src/cluster.ts writes both; `plain` gives Kafka the JVM of its
// start script and Krill no chaos journal). For each broker:
//
// 1. Throughput and produce latency: kafka-producer-perf-test (1 KiB records, acks=all,
//    linger.ms=5, batch.size 64 KiB, as fast as it goes) over PARTITIONS partitions, so each node
//    leads about one; MB/s and p50/p99/p99.9 as the tool prints them, and the sum of the three
//    brokers' CPU-seconds (/proc, user + system) per GiB acknowledged.
// 2. Failover: KILLS times, the leader of partition 0 is killed with SIGKILL while a kafkajs
//    producer (acks=all, one record at a time, retries every 50 ms) writes to that partition; the
//    failover time is from the kill to the first acknowledgement after it. The node is restarted
//    and the next kill waits until every partition is back to three in-sync replicas. Median and
//    worst reported.
//
//   tsx bench/src/cluster-bench.ts [--only kafka,krill] [--records 200000] [--partitions 3]
//       [--kills 10] [--pin] [--out FILE]
//
// --pin puts the three brokers on core 0 and the load generators on core 1 (as the single-node
// scripts do); without it everything floats over both cores. Needs `make build`, the compat
// suite's Kafka jars and Java. Writes bench/out/cluster-bench.json and prints a table. Every node
// is killed at the end, whatever happens.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { type Cluster, KafkaCluster, KrillCluster } from "../../chaos/src/cluster.js";
import { LoopbackNetwork } from "../../chaos/src/net.js";
import { run } from "./exec.js";
import { parseProducerPerfSummary } from "./parse.js";
import { readProcStat } from "./proc.js";
import { LINGER_MS, SEGMENT_BYTES } from "./workloads.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = join(root, "bench/out");
const BROKER_CORE = "0";
const CLIENT_CORE = "1";
const TOPIC = "cluster-bench";
const FAILOVER_TOPIC = "cluster-failover";
const RECORD_BYTES = 1024;
const GIB = 1024 ** 3;
const STEP_TIMEOUT_MS = 300_000;
/** Bound of one failover: a kill not followed by an acknowledgement within it is reported as such. */
const FAILOVER_TIMEOUT_MS = 60_000;
const ISR_TIMEOUT_MS = 120_000;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const only = new Set(flag("only", "kafka,krill").split(","));
const records = Number(flag("records", "200000"));
const partitions = Number(flag("partitions", "3"));
const kills = Number(flag("kills", "10"));
const pin = process.argv.includes("--pin");
const classpath = readFileSync(join(root, "compat-tests/.cache/kafka-4.4.0.classpath"), "utf8").trim();

interface Throughput {
  mbPerSec: number;
  recordsPerSec: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  brokersCpuPerGiB: number;
  brokersUserPerGiB: number;
  brokersSystemPerGiB: number;
}

interface TargetResult {
  target: "krill" | "kafka";
  throughput?: Throughput;
  failoverMs: (number | null)[];
  error?: string;
}

/** A run of 2n+4 free consecutive ports on 127.0.0.1 (nodes use base + 2 id and base + 2 id + 1). */
async function findPortBase(count: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolveFree) => {
      const s = net.createServer();
      s.once("error", () => resolveFree(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolveFree(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error("no run of free ports found");
}

function pids(cluster: Cluster): number[] {
  return cluster.nodes.flatMap((n) => (n.pid() === undefined ? [] : [n.pid()!]));
}

function pinBrokers(cluster: Cluster): void {
  if (!pin) return;
  for (const pid of pids(cluster)) {
    execFileSync("taskset", ["-a", "-p", "-c", BROKER_CORE, String(pid)], { stdio: "ignore" });
  }
}

function cpuSum(pidList: number[]): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const pid of pidList) {
    const s = readProcStat(pid);
    if (s === null) throw new Error(`broker ${pid} is gone`);
    user += s.userSeconds;
    system += s.systemSeconds;
  }
  return { user, system };
}

const client = (cmd: string[]) => (pin ? ["taskset", "-c", CLIENT_CORE, ...cmd] : cmd);

async function createTopics(bootstrap: string): Promise<void> {
  const kafka = new Kafka({
    clientId: "cluster-bench-admin",
    brokers: bootstrap.split(","),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const configEntries = [
      { name: "min.insync.replicas", value: "2" },
      { name: "segment.bytes", value: String(SEGMENT_BYTES) },
    ];
    await admin.createTopics({
      waitForLeaders: true,
      timeout: 60_000,
      topics: [
        { topic: TOPIC, numPartitions: partitions, replicationFactor: 3, configEntries },
        { topic: FAILOVER_TOPIC, numPartitions: 1, replicationFactor: 3, configEntries },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

async function measureThroughput(cluster: Cluster): Promise<Throughput> {
  const brokerPids = pids(cluster);
  const before = cpuSum(brokerPids);
  const r = await run(
    client(["java", "-Xms256m", "-Xmx1g"])[0]!,
    [
      ...client(["java", "-Xms256m", "-Xmx1g"]).slice(1),
      `-Dlog4j2.configurationFile=${join(root, "compat-tests/java/tools-log4j2.properties")}`,
      "-cp",
      classpath,
      "org.apache.kafka.tools.ProducerPerformance",
      "--bootstrap-server",
      cluster.bootstrap(),
      "--topic",
      TOPIC,
      "--num-records",
      String(records),
      "--record-size",
      String(RECORD_BYTES),
      "--throughput",
      "-1",
      "--command-property",
      "acks=all",
      `linger.ms=${LINGER_MS}`,
      `batch.size=${64 * 1024}`,
    ],
    { timeoutMs: STEP_TIMEOUT_MS, cwd: root },
  );
  const after = cpuSum(brokerPids);
  const s = parseProducerPerfSummary(r.stdout);
  if (r.code !== 0 || s === null) throw new Error(`kafka-producer-perf-test failed: ${r.stderr.slice(-500)}`);
  const gib = (s.records * RECORD_BYTES) / GIB;
  return {
    mbPerSec: s.mbPerSec,
    recordsPerSec: s.recordsPerSec,
    latencyMs: { p50: s.latencyMsP50, p99: s.latencyMsP99, p999: s.latencyMsP999, max: s.latencyMsMax },
    brokersCpuPerGiB: (after.user - before.user + after.system - before.system) / gib,
    brokersUserPerGiB: (after.user - before.user) / gib,
    brokersSystemPerGiB: (after.system - before.system) / gib,
  };
}

/** Leader and in-sync replicas of each partition of `topic`, from Metadata. */
async function describe(
  kafka: Kafka,
  topic: string,
): Promise<{ partition: number; leader: number; isr: number[] }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics[0]!.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, isr: p.isr }));
  } finally {
    await admin.disconnect();
  }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // A node is down or metadata is moving: ask again.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One kill: the failover time in ms (null if no acknowledgement came within the bound). */
async function failoverOnce(cluster: Cluster, kafka: Kafka, producer: Producer): Promise<number | null> {
  const all = [TOPIC, FAILOVER_TOPIC];
  await waitFor("every partition back to 3 in-sync replicas", ISR_TIMEOUT_MS, async () => {
    for (const t of all)
      if ((await describe(kafka, t)).some((p) => p.isr.length < 3 || p.leader < 0)) return false;
    return true;
  });
  const leader = (await describe(kafka, FAILOVER_TOPIC))[0]!.leader;
  const victim = cluster.nodes.find((n) => n.id === leader);
  if (victim === undefined) throw new Error(`leader ${leader} is not a node of the cluster`);
  // Writes going before the kill, so the producer knows the leader and has a connection to it.
  let writing = true;
  let firstAckAfterKill: number | undefined;
  let killedAt = Number.POSITIVE_INFINITY;
  const writer = (async () => {
    while (writing) {
      try {
        await producer.send({ topic: FAILOVER_TOPIC, acks: -1, messages: [{ value: "x" }] });
        const now = performance.now();
        if (now > killedAt && firstAckAfterKill === undefined) firstAckAfterKill = now;
      } catch {
        // Retries exhausted while the partition moves: send again.
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 1000));
  killedAt = performance.now();
  victim.signal("SIGKILL");
  await victim.exited();
  const deadline = killedAt + FAILOVER_TIMEOUT_MS;
  while (firstAckAfterKill === undefined && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  writing = false;
  await writer;
  await victim.start();
  pinBrokers(cluster);
  return firstAckAfterKill === undefined ? null : firstAckAfterKill - killedAt;
}

async function measureTarget(target: "krill" | "kafka"): Promise<TargetResult> {
  const dir = join(outDir, "run", `cluster-${target}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const o = { dir, net: new LoopbackNetwork(), portBase: await findPortBase(10), partitions, plain: true };
  const cluster: Cluster = target === "krill" ? new KrillCluster(o, 3) : new KafkaCluster(o, "4.4.0", 3);
  const result: TargetResult = { target, failoverMs: [] };
  try {
    await cluster.start();
    pinBrokers(cluster);
    await createTopics(cluster.bootstrap());
    console.error(`cluster-bench: ${target}: throughput, ${records} records`);
    result.throughput = await measureThroughput(cluster);
    const kafka = new Kafka({
      clientId: "cluster-bench-failover",
      brokers: cluster.bootstrap().split(","),
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 50, maxRetryTime: 200, retries: 30 },
      requestTimeout: 2000,
    });
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: false,
      metadataMaxAge: 1000,
    });
    await producer.connect();
    try {
      for (let i = 0; i < kills; i++) {
        console.error(`cluster-bench: ${target}: kill ${i + 1} of ${kills}`);
        result.failoverMs.push(await failoverOnce(cluster, kafka, producer));
      }
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    await cluster.stop();
  }
  return result;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
}

mkdirSync(outDir, { recursive: true });
const loadBefore = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const results: TargetResult[] = [];
for (const target of ["kafka", "krill"] as const) {
  if (only.has(target)) results.push(await measureTarget(target));
}
const loadAfter = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
writeFileSync(
  resolve(flag("out", join(outDir, "cluster-bench.json"))),
  `${JSON.stringify({ at: new Date().toISOString(), records, partitions, kills, pin, loadBefore, loadAfter, results }, null, 2)}\n`,
);
const f = (n: number | undefined | null, d = 1) =>
  n === undefined || n === null || !Number.isFinite(n) ? "-" : n.toFixed(d);
console.log(
  `load average before ${loadBefore}, after ${loadAfter}; 3 nodes, RF=3, min.insync.replicas=2, acks=all`,
);
console.log(
  "| broker | MB/s | produce p50 / p99 / p99.9 ms | brokers' CPU-s/GiB (user + sys) | failover median / worst ms | failovers |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of results) {
  const t = r.throughput;
  const done = r.failoverMs.filter((x): x is number => x !== null);
  console.log(
    `| ${r.target} | ${f(t?.mbPerSec)} | ${t === undefined ? "-" : `${f(t.latencyMs.p50, 0)} / ${f(t.latencyMs.p99, 0)} / ${f(t.latencyMs.p999, 0)}`} | ${t === undefined ? "-" : `${f(t.brokersCpuPerGiB, 2)} (${f(t.brokersUserPerGiB, 2)} + ${f(t.brokersSystemPerGiB, 2)})`} | ${f(median(done), 0)} / ${f(done.length === 0 ? undefined : Math.max(...done), 0)} | ${r.failoverMs.map((x) => (x === null ? "none" : x.toFixed(0))).join(", ")}${r.error === undefined ? "" : `; failed: ${r.error.slice(0, 300)}`} |`,
  );
}
