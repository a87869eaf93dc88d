// The structured results of one benchmark run (bench/out/results.json), from which RESULTS.md and
// the plot are generated. A figure that could not be measured is null and its run carries an
// error saying why, so a broker that fails a workload shows as a failed row.
import type { LatencyPercentiles } from "./parse.js";
import type { ConsumerWorkload, ProducerWorkload, RunSizes } from "./workloads.js";

export type BrokerKind = "kafka" | "krill";
/** What a load generator runs against: a broker, or the null sink that measures the generators' ceiling. */
export type LoadTarget = BrokerKind | "ceiling";

export interface Usage {
  /** Broker CPU seconds (user + system) per GiB of record payload moved in the run. */
  cpuSecondsPerGib: number | null;
  cpuSeconds: number | null;
  rssBytesMax: number | null;
}

export interface ProducerRun {
  workload: ProducerWorkload;
  ok: boolean;
  error: string | null;
  records: number;
  mbPerSec: number | null;
  recordsPerSec: number | null;
  latencyMsP50: number | null;
  latencyMsP99: number | null;
  latencyMsP999: number | null;
  usage: Usage;
  /** The exact command line of one producer process. */
  command: string;
  /** MB/s of every repetition, in run order; the figures above are the median repetition's. */
  samplesMbPerSec?: number[];
}

export interface ConsumerRun {
  workload: ConsumerWorkload;
  ok: boolean;
  error: string | null;
  records: number;
  expectedRecords: number;
  mbPerSec: number | null;
  rebalanceMsMax: number | null;
  usage: Usage;
  command: string;
  /** MB/s of every repetition, in run order; the figures above are the median repetition's. */
  samplesMbPerSec?: number[];
}

export interface LatencyRun {
  targetRecordsPerSec: number;
  ok: boolean;
  error: string | null;
  /** kafka-producer-perf-test --throughput TARGET: whole milliseconds, as the tool prints them. */
  perfTest: {
    ok: boolean;
    error: string | null;
    recordsPerSec: number | null;
    latencyMsP50: number | null;
    latencyMsP99: number | null;
    latencyMsP999: number | null;
    command: string;
  };
  /** bench/java/E2eLatency at the same rate: microseconds. */
  e2e: {
    ok: boolean;
    error: string | null;
    achievedRecordsPerSec: number | null;
    produceUs: LatencyPercentiles | null;
    endToEndUs: LatencyPercentiles | null;
    command: string;
  };
}

export interface KafkajsRun {
  ok: boolean;
  error: string | null;
  records: number;
  mbPerSec: number | null;
  command: string;
  /** MB/s of every repetition, in run order; the figures above are the median repetition's. */
  samplesMbPerSec?: number[];
}

/**
 * The run to report out of repetitions of one workload: the first failed one when any failed (a
 * failure is a finding, not noise to vote away), otherwise the one with the median MB/s (the
 * lower of the two middle ones for an even count: never the luckier run). Every repetition's MB/s is kept in `samplesMbPerSec`, in run order.
 */
export function medianRun<T extends { ok: boolean; mbPerSec: number | null; samplesMbPerSec?: number[] }>(
  runs: T[],
): T & { samplesMbPerSec: number[] } {
  if (runs.length === 0) throw new Error("medianRun: no runs");
  const samplesMbPerSec = runs.flatMap((r) => (r.ok && r.mbPerSec !== null ? [r.mbPerSec] : []));
  const failed = runs.find((r) => !r.ok || r.mbPerSec === null);
  if (failed) return { ...failed, samplesMbPerSec };
  const sorted = [...runs].sort((a, b) => a.mbPerSec! - b.mbPerSec!);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, samplesMbPerSec };
}

export interface BrokerResults {
  broker: BrokerKind;
  version: string;
  started: boolean;
  startError: string | null;
  /** Process start (kernel's starttime) to the first successful Metadata response. */
  startupMs: number | null;
  idleRssBytes: number | null;
  topicsError: string | null;
  producer: ProducerRun[];
  consumer: ConsumerRun[];
  /** At 50% of Kafka's measured maximum (the goal's load). */
  latency: LatencyRun | null;
  /** At 10% of Kafka's measured maximum: latency when nothing queues. */
  latencyLight: LatencyRun | null;
  kafkajsProduce: KafkajsRun | null;
  kafkajsConsume: KafkajsRun | null;
  /** System load averages (1, 5, 15 min) when the broker's phase began and ended. */
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  phaseSeconds: number;
}

export interface MachineLimits {
  diskWriteMbPerSec: number | null;
  diskReadMbPerSec: number | null;
  diskScratchBytes: number;
  tcpLoopbackMbPerSec: number | null;
  errors: string[];
  /** Set when the limits were measured separately from the brokers' runs (`--machine-only`): when and why. */
  note?: string;
  commands: string[];
}

export interface ProfileHotSpot {
  /** "file:line function" of the sampled frame. */
  frame: string;
  selfPercent: number;
  selfMs: number;
}

export interface ProfileResult {
  ok: boolean;
  error: string | null;
  workload: string;
  profilePath: string | null;
  /** Samples before this offset from the profile's start (Krill's start-up) are left out. */
  fromMs: number;
  totalMs: number;
  busyMs: number;
  top: ProfileHotSpot[];
  /** Busy time charged to the innermost Krill function on the stack. */
  byKrillCaller: ProfileHotSpot[];
  /** Self time grouped by category (GC, idle, node internals, Krill src/, dependencies). */
  categories: { name: string; selfPercent: number }[];
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  sizes: RunSizes;
  environment: {
    kernel: string;
    cpuModel: string;
    cpuCount: number;
    memoryBytes: number;
    java: string;
    node: string;
    kafkaVersion: string;
    kafkajsVersion: string;
    krillCommit: string;
    jvmToolOptions: string[];
  };
  machine: MachineLimits;
  brokers: BrokerResults[];
  /**
   * The producer workloads run against bench/src/null-broker.ts, which acknowledges without
   * storing: what the load generators can send at all, in the same rotation as the brokers.
   * Absent in results written before it existed.
   */
  ceiling?: ProducerRun[];
  profile: ProfileResult | null;
}
