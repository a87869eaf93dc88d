// Parsers for what the load generators print. Each returns structured figures or null, never
// throws on odd output: a broker that fails a workload must show up as a failed row in the
// results, not crash the harness.

export interface ProducerPerfSummary {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  latencyMsAvg: number;
  latencyMsMax: number;
  latencyMsP50: number;
  latencyMsP95: number;
  latencyMsP99: number;
  latencyMsP999: number;
}

export interface ProducerPerfProgress {
  /** Records sent in the last reporting window, throughput of that window. */
  windows: { records: number; recordsPerSec: number; mbPerSec: number; latencyMsAvg: number }[];
}

const NUM = "([0-9]+(?:\\.[0-9]+)?)";

// kafka-producer-perf-test's closing line, e.g. "300000 records sent, 23225.207091 records/sec
// (22.68 MB/sec), 896.46 ms avg latency, 1855.00 ms max latency, 888 ms 50th, 1509 ms 95th, 1582 ms
// 99th, 1848 ms 99.9th."
const PRODUCER_SUMMARY = new RegExp(
  `^${NUM} records sent, ${NUM} records/sec \\(${NUM} MB/sec\\), ${NUM} ms avg latency, ${NUM} ms max latency, ${NUM} ms 50th, ${NUM} ms 95th, ${NUM} ms 99th, ${NUM} ms 99\\.9th\\.?$`,
);
// Its periodic progress line (every reporting interval): no percentiles.
const PRODUCER_PROGRESS = new RegExp(
  `^${NUM} records sent, ${NUM} records/sec \\(${NUM} MB/sec\\), ${NUM} ms avg latency, ${NUM} ms max latency\\.?$`,
);

/** The closing summary of kafka-producer-perf-test (the first one: the whole run, not steady state). */
export function parseProducerPerfSummary(stdout: string): ProducerPerfSummary | null {
  for (const line of stdout.split("\n")) {
    const m = PRODUCER_SUMMARY.exec(line.trim());
    if (!m) continue;
    const n = m.slice(1).map(Number);
    return {
      records: n[0]!,
      recordsPerSec: n[1]!,
      mbPerSec: n[2]!,
      latencyMsAvg: n[3]!,
      latencyMsMax: n[4]!,
      latencyMsP50: n[5]!,
      latencyMsP95: n[6]!,
      latencyMsP99: n[7]!,
      latencyMsP999: n[8]!,
    };
  }
  return null;
}

/** The progress windows, used to report a partial rate when a run is cut off by its time limit. */
export function parseProducerPerfProgress(stdout: string): ProducerPerfProgress {
  const windows: ProducerPerfProgress["windows"] = [];
  for (const line of stdout.split("\n")) {
    const m = PRODUCER_PROGRESS.exec(line.trim());
    if (!m) continue;
    windows.push({
      records: Number(m[1]),
      recordsPerSec: Number(m[2]),
      mbPerSec: Number(m[3]),
      latencyMsAvg: Number(m[4]),
    });
  }
  return { windows };
}

export interface ConsumerPerfSummary {
  /** Epoch milliseconds, read as UTC (only differences between runs on one machine are used). */
  startMs: number;
  endMs: number;
  mb: number;
  mbPerSec: number;
  records: number;
  recordsPerSec: number;
  rebalanceMs: number;
  fetchMs: number;
  /** True when the tool gave up (no records for --timeout ms) before reaching --messages. */
  timedOut: boolean;
}

// kafka-consumer-perf-test's default date format is "yyyy-MM-dd HH:mm:ss:SSS".
const PERF_DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}):(\d{3})$/;

export function parsePerfDate(text: string): number | null {
  const m = PERF_DATE.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number);
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!);
}

/**
 * The summary line of kafka-consumer-perf-test: start.time, end.time, data.consumed.in.MB, MB.sec,
 * data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec.
 */
export function parseConsumerPerfSummary(stdout: string): ConsumerPerfSummary | null {
  const timedOut = stdout.includes("Exiting before consuming the expected number of messages");
  for (const line of stdout.split("\n")) {
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length !== 10) continue;
    const startMs = parsePerfDate(cells[0]!);
    const endMs = parsePerfDate(cells[1]!);
    if (startMs === null || endMs === null) continue;
    const n = cells.slice(2).map(Number);
    if (n.some((v) => Number.isNaN(v))) continue;
    return {
      startMs,
      endMs,
      mb: n[0]!,
      mbPerSec: n[1]!,
      records: n[2]!,
      recordsPerSec: n[3]!,
      rebalanceMs: n[4]!,
      fetchMs: n[5]!,
      timedOut,
    };
  }
  return null;
}

export interface LatencyPercentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface E2eSummary {
  sent: number;
  acked: number;
  received: number;
  targetRecordsPerSec: number;
  achievedRecordsPerSec: number;
  produceUs: LatencyPercentiles;
  endToEndUs: LatencyPercentiles;
  errors: number;
  firstError: string | null;
}

function isPercentiles(v: unknown): v is LatencyPercentiles {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return ["p50", "p99", "p999", "max"].every((k) => typeof o[k] === "number");
}

/** The one JSON line bench/java/E2eLatency.java prints last, prefixed "RESULT ". */
export function parseE2eSummary(stdout: string): E2eSummary | null {
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("RESULT "));
  if (!line) return null;
  let value: unknown;
  try {
    value = JSON.parse(line.slice("RESULT ".length));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const o = value as Record<string, unknown>;
  const numbers = ["sent", "acked", "received", "targetRecordsPerSec", "achievedRecordsPerSec", "errors"];
  if (!numbers.every((k) => typeof o[k] === "number")) return null;
  if (!isPercentiles(o.produceUs) || !isPercentiles(o.endToEndUs)) return null;
  return {
    sent: o.sent as number,
    acked: o.acked as number,
    received: o.received as number,
    targetRecordsPerSec: o.targetRecordsPerSec as number,
    achievedRecordsPerSec: o.achievedRecordsPerSec as number,
    produceUs: o.produceUs,
    endToEndUs: o.endToEndUs,
    errors: o.errors as number,
    firstError: typeof o.firstError === "string" ? o.firstError : null,
  };
}

/** Last non-empty lines of a tool's output, for the "why it failed" cell of a results table. */
export function lastLines(text: string, count = 3, charsMax = 300): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("at "));
  const tail = lines.slice(-count).join(" | ");
  return tail.length > charsMax ? `${tail.slice(0, charsMax)}…` : tail;
}
