// Generates bench/RESULTS.md and bench/results.png from the structured results of a run. Nothing
// in RESULTS.md is typed by hand except bench/notes.md (profiling findings and what each
// optimisation changed), which is included verbatim so it survives regeneration.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults, BrokerResults, ConsumerRun, ProducerRun } from "./results.js";
import { LINGER_MS, RECORD_BYTES, SEGMENT_BYTES } from "./workloads.js";

const MIB = 1024 * 1024;

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Krill/Kafka, or "—" when either side is missing. */
export function ratio(krill: number | null | undefined, kafka: number | null | undefined): string {
  if (krill == null || kafka == null || !Number.isFinite(krill) || !Number.isFinite(kafka) || kafka === 0)
    return "—";
  return `${(krill / kafka).toFixed(2)}x`;
}

function ratioValue(krill: number | null | undefined, kafka: number | null | undefined): number | null {
  if (krill == null || kafka == null || kafka === 0) return null;
  return krill / kafka;
}

/** Collects failure reasons as numbered notes under a table, so cells stay short. */
class Notes {
  private readonly items: string[] = [];

  cell(value: string, ok: boolean, error: string | null | undefined): string {
    if (ok) return value;
    this.items.push(error ?? "failed");
    return `failed [${this.items.length}]`;
  }

  render(): string {
    if (this.items.length === 0) return "";
    return `\n${this.items.map((e, i) => `[${i + 1}] ${e.replaceAll("|", "\\|").replaceAll("\n", " ")}`).join("<br>\n")}\n`;
  }
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function broker(results: BenchResults, kind: "kafka" | "krill"): BrokerResults | undefined {
  return results.brokers.find((b) => b.broker === kind);
}

function mib(bytes: number | null | undefined): string {
  return bytes == null ? "—" : fmt(bytes / MIB, 0);
}

/** Every repetition's MB/s ("61.2, 58.0, 63.4"), or "—" for results from before repetitions. */
function samples(r: { samplesMbPerSec?: number[] } | null | undefined): string {
  return r?.samplesMbPerSec?.length ? r.samplesMbPerSec.map((v) => fmt(v)).join(", ") : "—";
}

/** How the runs were repeated, for the text above a throughput table. */
function repeatsText(s: BenchResults["sizes"]): string {
  const n = s.repeats ?? 1;
  return n > 1
    ? ` Each workload runs ${n} times on each broker, the brokers taking turns run by run (Kafka then Krill, then Krill then Kafka, and so on), so that both meet the machine in the same state; the table shows each broker's median run (MB/s and the columns after it) and lists every run's MB/s in run order.`
    : "";
}

/** A broker at or above this share of the load generators' ceiling is bound by the generators. */
export const CEILING_BOUND_SHARE = 0.9;

function shareOf(value: number | null | undefined, ceiling: ProducerRun | undefined): number | null {
  return ceiling?.ok && ceiling.mbPerSec && value != null ? value / ceiling.mbPerSec : null;
}

function percent(share: number | null): string {
  return share === null ? "—" : `${Math.round(share * 100)}%`;
}

/** Workloads where both brokers reach CEILING_BOUND_SHARE of the ceiling: they cannot tell the two apart. */
export function ceilingBound(results: BenchResults): { bound: string[]; measured: number } {
  const kafka = broker(results, "kafka");
  const krill = broker(results, "krill");
  const bound: string[] = [];
  let measured = 0;
  for (const c of results.ceiling ?? []) {
    const k = shareOf(kafka?.producer.find((p) => p.workload.id === c.workload.id)?.mbPerSec, c);
    const r = shareOf(krill?.producer.find((p) => p.workload.id === c.workload.id)?.mbPerSec, c);
    if (k === null || r === null) continue;
    measured++;
    if (k >= CEILING_BOUND_SHARE && r >= CEILING_BOUND_SHARE) bound.push(c.workload.id);
  }
  return { bound, measured };
}

/**
 * Workloads where Krill's median run lies below every one of Kafka's runs, and where it lies above
 * every one: a difference larger than Kafka's own run-to-run spread, in either direction.
 */
export function outsideSpread(
  kafka: { workload: { id: string }; mbPerSec: number | null; samplesMbPerSec?: number[] }[],
  krill: { workload: { id: string }; mbPerSec: number | null }[],
): { below: string[]; above: string[] } {
  const below: string[] = [];
  const above: string[] = [];
  for (const k of kafka) {
    const r = krill.find((x) => x.workload.id === k.workload.id)?.mbPerSec;
    const runs = k.samplesMbPerSec ?? [];
    if (r == null || runs.length === 0) continue;
    if (r < Math.min(...runs)) below.push(k.workload.id);
    if (r > Math.max(...runs)) above.push(k.workload.id);
  }
  return { below, above };
}

function producerRow(
  id: string,
  kafka: ProducerRun | undefined,
  krill: ProducerRun | undefined,
  ceiling: ProducerRun | undefined | null,
  notes: Notes,
): string[] {
  const side = (r: ProducerRun | undefined, f: (r: ProducerRun) => string) =>
    r ? notes.cell(f(r), r.ok, r.error) : "not run";
  const ceilingCells =
    ceiling === null
      ? []
      : [
          ceiling ? notes.cell(fmt(ceiling.mbPerSec), ceiling.ok, ceiling.error) : "not run",
          `${percent(shareOf(kafka?.mbPerSec, ceiling))} / ${percent(shareOf(krill?.mbPerSec, ceiling))}`,
        ];
  return [
    `\`${id}\``,
    side(kafka, (r) => fmt(r.mbPerSec)),
    side(krill, (r) => fmt(r.mbPerSec)),
    ratio(krill?.mbPerSec, kafka?.mbPerSec),
    `${kafka?.latencyMsP99 ?? "—"} / ${krill?.latencyMsP99 ?? "—"}`,
    `${fmt(kafka?.usage.cpuSecondsPerGib)} / ${fmt(krill?.usage.cpuSecondsPerGib)}`,
    `${mib(kafka?.usage.rssBytesMax)} / ${mib(krill?.usage.rssBytesMax)}`,
    ...ceilingCells,
    ceiling === null
      ? `${samples(kafka)} / ${samples(krill)}`
      : `${samples(kafka)} / ${samples(krill)} / ${samples(ceiling)}`,
  ];
}

function consumerRow(
  id: string,
  kafka: ConsumerRun | undefined,
  krill: ConsumerRun | undefined,
  notes: Notes,
): string[] {
  const side = (r: ConsumerRun | undefined) => (r ? notes.cell(fmt(r.mbPerSec), r.ok, r.error) : "not run");
  return [
    `\`${id}\``,
    side(kafka),
    side(krill),
    ratio(krill?.mbPerSec, kafka?.mbPerSec),
    `${fmt(kafka?.usage.cpuSecondsPerGib)} / ${fmt(krill?.usage.cpuSecondsPerGib)}`,
    `${mib(kafka?.usage.rssBytesMax)} / ${mib(krill?.usage.rssBytesMax)}`,
    `${samples(kafka)} / ${samples(krill)}`,
  ];
}

function worstRatio(pairs: [number | null | undefined, number | null | undefined][]): {
  worst: number | null;
  count: number;
} {
  const ratios = pairs
    .map(([krill, kafka]) => ratioValue(krill, kafka))
    .filter((r): r is number => r !== null);
  return { worst: ratios.length ? Math.min(...ratios) : null, count: ratios.length };
}

function goalCell(value: number | null, goal: (v: number) => boolean): string {
  if (value === null) return "not measured";
  return goal(value) ? "met" : "not met";
}

function headline(results: BenchResults): string {
  const kafka = broker(results, "kafka");
  const krill = broker(results, "krill");
  const prodPairs = (kafka?.producer ?? []).map(
    (k) =>
      [krill?.producer.find((p) => p.workload.id === k.workload.id)?.mbPerSec, k.mbPerSec] as [
        number | null | undefined,
        number | null | undefined,
      ],
  );
  const consPairs = (kafka?.consumer ?? []).map(
    (k) =>
      [krill?.consumer.find((c) => c.workload.id === k.workload.id)?.mbPerSec, k.mbPerSec] as [
        number | null | undefined,
        number | null | undefined,
      ],
  );
  const prod = worstRatio(prodPairs);
  const cons = worstRatio(consPairs);
  const kLat = kafka?.latency?.e2e.ok ? kafka.latency.e2e : null;
  const rLat = krill?.latency?.e2e.ok ? krill.latency.e2e : null;
  const p99Ratio = ratioValue(rLat?.produceUs?.p99, kLat?.produceUs?.p99);
  const e2eRatio = ratioValue(rLat?.endToEndUs?.p99, kLat?.endToEndUs?.p99);
  const startRatio = ratioValue(krill?.startupMs, kafka?.startupMs);
  const rssRatio = ratioValue(krill?.idleRssBytes, kafka?.idleRssBytes);
  const bound = results.ceiling ? ceilingBound(results) : null;
  const spreadRow = (kind: "producer" | "consumer") => {
    const o = outsideSpread(kafka?.[kind] ?? [], krill?.[kind] ?? []);
    return [
      `${kind === "producer" ? "Produce" : "Consume"} workloads where Krill's median is below / above every Kafka run`,
      "see table",
      "see table",
      `${o.below.length} / ${o.above.length}`,
      "(reported)",
      "—",
    ];
  };
  const nProd = kafka?.producer.length ?? 0;
  const nCons = kafka?.consumer.length ?? 0;
  const rows = [
    [
      `Produce throughput, worst workload (${prod.count} of ${nProd} measured on both)`,
      "see table",
      "see table",
      prod.worst === null ? "—" : `${prod.worst.toFixed(2)}x`,
      ">= 1.0x on every workload",
      prod.count < nProd ? "not met (workloads failed)" : goalCell(prod.worst, (v) => v >= 1),
    ],
    spreadRow("producer"),
    ...(bound
      ? [
          [
            `Produce workloads where both brokers reach ${CEILING_BOUND_SHARE * 100}% of the load generators' ceiling (null sink)`,
            "see table",
            "see table",
            `${bound.bound.length} of ${bound.measured}`,
            "(reported)",
            "—",
          ],
        ]
      : []),
    [
      `Consume throughput, worst workload (${cons.count} of ${nCons} measured on both)`,
      "see table",
      "see table",
      cons.worst === null ? "—" : `${cons.worst.toFixed(2)}x`,
      ">= 1.0x on every workload",
      cons.count < nCons ? "not met (workloads failed)" : goalCell(cons.worst, (v) => v >= 1),
    ],
    spreadRow("consumer"),
    [
      "p99 produce latency at 50% of Kafka's max (ms)",
      fmt((kLat?.produceUs?.p99 ?? Number.NaN) / 1000, 2),
      fmt((rLat?.produceUs?.p99 ?? Number.NaN) / 1000, 2),
      p99Ratio === null ? "—" : `${p99Ratio.toFixed(2)}x`,
      "<= 1.0x",
      goalCell(p99Ratio, (v) => v <= 1),
    ],
    [
      "p99 end-to-end latency at the same load (ms)",
      fmt((kLat?.endToEndUs?.p99 ?? Number.NaN) / 1000, 2),
      fmt((rLat?.endToEndUs?.p99 ?? Number.NaN) / 1000, 2),
      e2eRatio === null ? "—" : `${e2eRatio.toFixed(2)}x`,
      "(reported)",
      "—",
    ],
    [
      "Start-up: process start to first Metadata response (ms)",
      fmt(kafka?.startupMs, 0),
      fmt(krill?.startupMs, 0),
      startRatio === null ? "—" : `${startRatio.toFixed(2)}x`,
      "<= 0.10x",
      goalCell(startRatio, (v) => v <= 0.1),
    ],
    [
      "Idle RSS (MiB)",
      mib(kafka?.idleRssBytes),
      mib(krill?.idleRssBytes),
      rssRatio === null ? "—" : `${rssRatio.toFixed(2)}x`,
      "<= 0.25x",
      goalCell(rssRatio, (v) => v <= 0.25),
    ],
  ];
  return table(["Figure", "Kafka", "Krill", "Krill/Kafka", "Goal", "Status"], rows);
}

type Latency = BrokerResults["latency"];

function latencyTable(title: string, kl: Latency | undefined, rl: Latency | undefined): string {
  const notes = new Notes();
  const us = (v: number | undefined | null) => (v == null || v < 0 ? "—" : fmt(v / 1000, 2));
  const kp = kl?.perfTest;
  const rp = rl?.perfTest;
  const ke = kl?.e2e;
  const re = rl?.e2e;
  const pcell = (p: typeof kp, v: number | null | undefined) =>
    p ? notes.cell(String(v ?? "—"), p.ok, p.error) : "not run";
  const ecell = (e: typeof ke, v: number | null | undefined) =>
    e ? notes.cell(us(v), e.ok, e.error) : "not run";
  type Perf = NonNullable<typeof kp>;
  type E2e = NonNullable<typeof ke>;
  const perfRow = (label: string, f: (p: Perf) => number | null) => [
    `perf-test produce ${label}`,
    pcell(kp, kp ? f(kp) : null),
    pcell(rp, rp ? f(rp) : null),
    ratio(rp ? f(rp) : null, kp ? f(kp) : null),
  ];
  const e2eRow = (label: string, f: (e: E2e) => number | null | undefined) => [
    label,
    ecell(ke, ke ? f(ke) : null),
    ecell(re, re ? f(re) : null),
    ratio(re ? f(re) : null, ke ? f(ke) : null),
  ];
  const rate = kl?.targetRecordsPerSec ?? rl?.targetRecordsPerSec;
  const achieved = (e: E2e | undefined) => fmt(e?.achievedRecordsPerSec, 0);
  return [
    `### ${title}: ${rate ?? "—"} records/s`,
    "",
    table(
      ["Latency (ms)", "Kafka", "Krill", "Krill/Kafka"],
      [
        perfRow("p50", (p) => p.latencyMsP50),
        perfRow("p99", (p) => p.latencyMsP99),
        perfRow("p99.9", (p) => p.latencyMsP999),
        e2eRow("produce p50", (e) => e.produceUs?.p50),
        e2eRow("produce p99", (e) => e.produceUs?.p99),
        e2eRow("produce p99.9", (e) => e.produceUs?.p999),
        e2eRow("end-to-end p50", (e) => e.endToEndUs?.p50),
        e2eRow("end-to-end p99", (e) => e.endToEndUs?.p99),
        e2eRow("end-to-end p99.9", (e) => e.endToEndUs?.p999),
        [
          "E2eLatency send rate achieved (records/s)",
          achieved(ke),
          achieved(re),
          ratio(re?.achievedRecordsPerSec, ke?.achievedRecordsPerSec),
        ],
      ],
    ),
    notes.render(),
  ].join("\n");
}

function brokerStatus(b: BrokerResults | undefined, kind: string): string {
  if (!b) return `- ${kind}: not run in this run.`;
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  const state = b.started ? "started" : `did not start: ${b.startError}`;
  const topics = b.topicsError ? `; creating topics failed: ${b.topicsError}` : "";
  return `- ${b.version}: ${state}${topics}; phase took ${b.phaseSeconds} s; load average (1, 5, 15 min) ${load(b.loadAverageBefore)} before, ${load(b.loadAverageAfter)} after.`;
}

export function renderResults(results: BenchResults, notesMarkdown: string): string {
  const kafka = broker(results, "kafka");
  const krill = broker(results, "krill");
  const s = results.sizes;
  const env = results.environment;
  const m = results.machine;
  const out: string[] = [];
  out.push("# Krill vs Apache Kafka: benchmark results");
  out.push("");
  out.push(
    `Generated by \`bench/run.sh${s.mode === "quick" ? " --quick" : ""}\` (\`make bench${s.mode === "quick" ? "-quick" : ""}\`) from \`bench/out/results.json\`; run ${results.startedAt} to ${results.finishedAt}. Method and how to read the figures: [docs/bench.md](../docs/bench.md). Do not edit by hand: the hand-written part is [bench/notes.md](notes.md).`,
  );
  out.push("");
  out.push(
    `**This is a ${s.mode} run** on a ${env.cpuCount}-core machine shared with other work (see the load averages below): treat differences under ~20% as noise.`,
  );
  out.push("");
  out.push("## Headline");
  out.push("");
  out.push(headline(results));
  out.push("");
  out.push("![Throughput and latency per workload](results.png)");
  out.push("");
  out.push("## Brokers in this run");
  out.push("");
  out.push(brokerStatus(kafka, "Apache Kafka"));
  out.push(brokerStatus(krill, "Krill"));
  out.push("");
  out.push(m.note ? "## Machine limits" : "## Machine limits (same run)");
  out.push("");
  out.push(
    table(
      ["Limit", "MB/s (MiB/s)", "How"],
      [
        [
          `Sequential disk write, ${fmt(m.diskScratchBytes / MIB, 0)} MiB scratch file`,
          fmt(m.diskWriteMbPerSec, 0),
          `\`${m.commands[0] ?? "—"}\``,
        ],
        [
          "Sequential disk read (O_DIRECT, no page cache)",
          fmt(m.diskReadMbPerSec, 0),
          `\`${m.commands[1] ?? "—"}\``,
        ],
        [
          "Loopback TCP, one connection, two processes",
          fmt(m.tcpLoopbackMbPerSec, 0),
          `\`${m.commands[2] ?? "—"}\``,
        ],
      ],
    ),
  );
  if (m.errors.length) out.push(`\nNot measured: ${m.errors.join("; ")}`);
  if (m.note) out.push(`\n${m.note}`);
  out.push("");

  const prodNotes = new Notes();
  out.push("## Produce throughput (kafka-producer-perf-test)");
  out.push("");
  out.push(
    `${RECORD_BYTES}-byte records, \`--throughput -1\`, linger.ms=${LINGER_MS}; workload id = acks, batch.size, compression, partitions (p), concurrent producer processes (x). Each run sends ${s.producerRecords.toLocaleString("en-US")} records in total (${fmt((s.producerRecords * RECORD_BYTES) / MIB, 0)} MiB), split evenly over the producers. MB/s is MiB/s of record payload: all producers' records over the longest producer's send time. p99 is the tool's whole-millisecond produce latency (the worst producer's). CPU-s/GiB is the broker process's user+system CPU seconds per GiB written; RSS max is the broker's peak resident memory during the run.${repeatsText(s)}${results.ceiling ? ` Ceiling is the same producer run against \`bench/src/null-broker.ts\`, a Kafka-protocol endpoint built from Krill's own socket server, dispatcher and codecs that acknowledges every produce request without checking or storing it: what the load generators can send on this machine at all, which no broker can exceed. It takes its turn in the same rotation (Kafka, Krill, ceiling; then Krill, ceiling, Kafka; ...). % of ceiling is each broker's median over the ceiling's median; where both are at ${CEILING_BOUND_SHARE * 100}% or more, the workload is bound by the load generators and its Krill/Kafka ratio is run-to-run noise rather than a difference between the brokers.` : ""}`,
  );
  out.push("");
  const ids = [
    ...new Set([...(kafka?.producer ?? []), ...(krill?.producer ?? [])].map((p) => p.workload.id)),
  ];
  out.push(
    table(
      [
        "Workload",
        "Kafka MB/s",
        "Krill MB/s",
        "Krill/Kafka",
        "p99 ms Kafka / Krill",
        "CPU-s/GiB Kafka / Krill",
        "RSS max MiB Kafka / Krill",
        ...(results.ceiling ? ["Ceiling MB/s", "Kafka / Krill % of ceiling"] : []),
        results.ceiling ? "Runs MB/s Kafka / Krill / ceiling" : "Runs MB/s Kafka / Krill",
      ],
      ids.map((id) =>
        producerRow(
          id,
          kafka?.producer.find((p) => p.workload.id === id),
          krill?.producer.find((p) => p.workload.id === id),
          results.ceiling ? results.ceiling.find((p) => p.workload.id === id) : null,
          prodNotes,
        ),
      ),
    ),
  );
  out.push(prodNotes.render());

  const consNotes = new Notes();
  out.push("## Consume throughput (kafka-consumer-perf-test)");
  out.push("");
  out.push(
    `Reads back what a producer workload wrote, from the beginning, with a fresh consumer group of 1 or 4 (c1, c4) \`kafka-consumer-perf-test\` processes. MB/s is MiB of record payload over the time from the first member's start to the last record (group join included; each member of a group of 4 stops after ${s.consumerIdleMs} ms without records, and that idle tail is taken off).${repeatsText(s)}`,
  );
  out.push("");
  const cids = [
    ...new Set([...(kafka?.consumer ?? []), ...(krill?.consumer ?? [])].map((c) => c.workload.id)),
  ];
  out.push(
    table(
      [
        "Workload",
        "Kafka MB/s",
        "Krill MB/s",
        "Krill/Kafka",
        "CPU-s/GiB Kafka / Krill",
        "RSS max MiB Kafka / Krill",
        "Runs MB/s Kafka / Krill",
      ],
      cids.map((id) =>
        consumerRow(
          id,
          kafka?.consumer.find((c) => c.workload.id === id),
          krill?.consumer.find((c) => c.workload.id === id),
          consNotes,
        ),
      ),
    ),
  );
  out.push(consNotes.render());

  out.push("## Latency at a fixed load");
  out.push("");
  out.push(
    `acks=1, linger.ms=${LINGER_MS}, batch.size 64 KiB, ${RECORD_BYTES}-byte records, 1 partition, ${s.latencyDurationS} s per measurement, at 50% of Kafka's rate on \`acks1-b64k-none-p1-x1\` in this run (the goal's load) and at 10% (a light load where nothing should queue). Two measurements each, one after the other: \`kafka-producer-perf-test --throughput\` (produce latency in whole ms, as the tool prints it) and \`bench/java/E2eLatency.java\` (produce latency = send() to acknowledgement, end-to-end = send() to the record arriving at a consumer tailing the partition in the same JVM; microsecond clock; first second left out). When the figures are in seconds, the load was above what the machine gave that broker at that moment and records queued in the producer.`,
  );
  out.push("");
  out.push(latencyTable("50% of Kafka's maximum", kafka?.latency, krill?.latency));
  out.push(latencyTable("10% of Kafka's maximum", kafka?.latencyLight, krill?.latencyLight));

  const jsNotes = new Notes();
  out.push("## kafkajs as the load generator");
  out.push("");
  out.push(
    `kafkajs ${env.kafkajsVersion} in its own Node process: ${s.kafkajsRecords.toLocaleString("en-US")} records of ${RECORD_BYTES} bytes to an 8-partition topic, acks=1, \`producer.send()\` calls of 100 records with 8 in flight, no compression; then one group member reads them back from the beginning (time includes the group join).${repeatsText(s)}`,
  );
  out.push("");
  const js = (r: BrokerResults["kafkajsProduce"] | undefined) =>
    r ? jsNotes.cell(fmt(r.mbPerSec), r.ok, r.error) : "not run";
  out.push(
    table(
      ["kafkajs", "Kafka MB/s", "Krill MB/s", "Krill/Kafka", "Runs MB/s Kafka / Krill"],
      [
        [
          "produce",
          js(kafka?.kafkajsProduce),
          js(krill?.kafkajsProduce),
          ratio(krill?.kafkajsProduce?.mbPerSec, kafka?.kafkajsProduce?.mbPerSec),
          `${samples(kafka?.kafkajsProduce)} / ${samples(krill?.kafkajsProduce)}`,
        ],
        [
          "consume",
          js(kafka?.kafkajsConsume),
          js(krill?.kafkajsConsume),
          ratio(krill?.kafkajsConsume?.mbPerSec, kafka?.kafkajsConsume?.mbPerSec),
          `${samples(kafka?.kafkajsConsume)} / ${samples(krill?.kafkajsConsume)}`,
        ],
      ],
    ),
  );
  out.push(jsNotes.render());

  out.push("## Footprint");
  out.push("");
  out.push(
    table(
      ["Figure", "Kafka", "Krill", "Krill/Kafka"],
      [
        [
          "Start-up: process start (kernel starttime) to first Metadata response, ms",
          fmt(kafka?.startupMs, 0),
          fmt(krill?.startupMs, 0),
          ratio(krill?.startupMs, kafka?.startupMs),
        ],
        [
          `Idle RSS ${s.idleSettleMs / 1000} s after start-up, MiB`,
          mib(kafka?.idleRssBytes),
          mib(krill?.idleRssBytes),
          ratio(krill?.idleRssBytes, kafka?.idleRssBytes),
        ],
      ],
    ),
  );
  out.push("");
  out.push("RSS and CPU-seconds per GiB under load are in the produce and consume tables.");
  out.push("");

  out.push("## CPU profile of Krill under load");
  out.push("");
  const p = results.profile;
  if (!p) out.push("Not profiled in this run.");
  else if (!p.ok) out.push(`Not available: ${p.error}`);
  else {
    out.push(
      `\`node --cpu-prof\` on the Krill process during: ${p.workload}. The first ${fmt(p.fromMs / 1000, 1)} s (start-up and topic creation) are left out; ${fmt(p.totalMs / 1000, 1)} s sampled after that, ${fmt(p.busyMs / 1000, 1)} s of it busy; percentages are of busy (non-idle) time; frames of the one-file bundle Krill runs (\`dist/krill.mjs\`) are named by the source file and line they came from, through the bundle's source map. Profile: \`${p.profilePath?.replace(/^.*\/bench\//, "bench/")}\` (open in Chrome DevTools or speedscope; \`tsx bench/src/profile.ts FILE . ${Math.round(p.fromMs)}\` prints these tables).`,
    );
    out.push("");
    out.push(
      table(
        ["Category", "Self %"],
        p.categories.map((c) => [c.name, fmt(c.selfPercent)]),
      ),
    );
    out.push("");
    out.push("Self time by function (the leaf frame of each sample):");
    out.push("");
    out.push(
      table(
        ["Function (file:line name)", "Self %", "Self ms"],
        p.top.map((t) => [`\`${t.frame}\``, fmt(t.selfPercent), fmt(t.selfMs, 0)]),
      ),
    );
    out.push("");
    out.push(
      "The same busy time charged to the innermost Krill function on the stack (its own work plus the Node and native work it called, such as a socket write or an fsync it started; GC is charged to whatever was running):",
    );
    out.push("");
    out.push(
      table(
        ["Krill function (file:line name)", "%", "ms"],
        (p.byKrillCaller ?? []).map((t) => [`\`${t.frame}\``, fmt(t.selfPercent), fmt(t.selfMs, 0)]),
      ),
    );
  }
  out.push("");
  if (notesMarkdown.trim()) {
    out.push(notesMarkdown.trim());
    out.push("");
  }

  out.push("## Versions and settings");
  out.push("");
  out.push(
    `- Machine: ${env.cpuModel}, ${env.cpuCount} cores, ${fmt(env.memoryBytes / MIB / 1024, 1)} GiB RAM, ${env.kernel}`,
  );
  out.push(
    `- Apache Kafka ${env.kafkaVersion} (Maven Central jars, KRaft combined mode, one node), ${env.java}`,
  );
  out.push(`- Krill at ${env.krillCommit}, Node ${env.node}`);
  out.push(`- kafkajs ${env.kafkajsVersion}`);
  out.push(
    "- Both brokers are started by `compat-tests/broker.sh start kafka|krill` (Kafka: `-Xms256m -Xmx1g -XX:+UseG1GC`, data under `bench/out/run/<broker>/data` on the same disk), one after the other, then both kept running while the load generators take turns between them (the broker not under load idles: Kafka at about 3% of one core, Krill at about 0%); no fsync per message on either (Kafka's default `log.flush.interval.messages`), replication factor 1.",
  );
  out.push(
    `- Every topic is created with replication factor 1 and \`segment.bytes=${SEGMENT_BYTES}\` (Kafka's default) through the admin API (\`bench/src/topics.ts create\`).`,
  );
  out.push(
    `- Load generator JVMs: \`java ${env.jvmToolOptions.join(" ")} -cp <Kafka ${env.kafkaVersion} classpath> <main class>\``,
  );
  out.push(
    `- Run sizes (${s.mode}): ${s.producerRecords.toLocaleString("en-US")} records per producer workload (time limit ${s.producerTimeoutMs / 1000} s), latency runs ${s.latencyDurationS} s, kafkajs ${s.kafkajsRecords.toLocaleString("en-US")} records, disk scratch ${fmt(s.diskScratchBytes / MIB, 0)} MiB, loopback TCP ${s.tcpDurationS} s; ${s.repeats ?? 1} run(s) of each throughput workload per broker.`,
  );
  out.push("");
  out.push("### Exact commands");
  out.push("");
  out.push("```");
  const cmds = new Set<string>();
  for (const b of results.brokers) {
    for (const r of b.producer) if (r.command) cmds.add(r.command);
    for (const r of b.consumer) if (r.command) cmds.add(r.command);
    if (b.latency) {
      cmds.add(b.latency.perfTest.command);
      cmds.add(b.latency.e2e.command);
    }
    if (b.kafkajsProduce) cmds.add(b.kafkajsProduce.command);
    if (b.kafkajsConsume?.command) cmds.add(b.kafkajsConsume.command);
  }
  // Bootstrap ports differ between the two brokers; show each command once with a placeholder.
  const generic = new Set(
    [...cmds].map((c) =>
      c.replace(/127\.0\.0\.1:\d+/g, "$BOOTSTRAP").replace(/bench-kafkajs-\d+/, "bench-kafkajs-<ts>"),
    ),
  );
  for (const c of generic) out.push(c.replace(/--group bench-(\S+)-\d+/, "--group bench-$1-<ts>"));
  out.push("```");
  out.push("");
  return out.join("\n");
}

// --- plot ---------------------------------------------------------------------------------------

function datFile(rows: [string, ...(number | null | undefined)[]][]): string {
  const v = (n: number | null | undefined) => (n == null || !Number.isFinite(n) ? "?" : n.toFixed(3));
  return `${rows.map(([label, ...values]) => `"${label}" ${values.map(v).join(" ")}`).join("\n")}\n`;
}

export function writePlot(results: BenchResults, root: string): string | null {
  const dir = join(root, "bench/out/plot");
  mkdirSync(dir, { recursive: true });
  const kafka = broker(results, "kafka");
  const krill = broker(results, "krill");
  const ids = (kafka?.producer ?? krill?.producer ?? []).map((p) => p.workload.id);
  writeFileSync(
    join(dir, "produce.dat"),
    datFile(
      ids.map((id) => [
        id,
        kafka?.producer.find((p) => p.workload.id === id)?.mbPerSec,
        krill?.producer.find((p) => p.workload.id === id)?.mbPerSec,
        ...(results.ceiling ? [results.ceiling.find((p) => p.workload.id === id)?.mbPerSec] : []),
      ]),
    ),
  );
  const cids = (kafka?.consumer ?? krill?.consumer ?? []).map((c) => c.workload.id);
  writeFileSync(
    join(dir, "consume.dat"),
    datFile(
      cids.map((id) => [
        id,
        kafka?.consumer.find((c) => c.workload.id === id)?.mbPerSec,
        krill?.consumer.find((c) => c.workload.id === id)?.mbPerSec,
      ]),
    ),
  );
  const ms = (v: number | undefined) => (v == null || v < 0 ? null : v / 1000);
  const latencyRows = (
    tag: string,
    k: Latency | undefined,
    r: Latency | undefined,
  ): [string, number | null | undefined, number | null | undefined][] => [
    [`${tag} produce p50`, ms(k?.e2e.produceUs?.p50), ms(r?.e2e.produceUs?.p50)],
    [`${tag} produce p99`, ms(k?.e2e.produceUs?.p99), ms(r?.e2e.produceUs?.p99)],
    [`${tag} e2e p50`, ms(k?.e2e.endToEndUs?.p50), ms(r?.e2e.endToEndUs?.p50)],
    [`${tag} e2e p99`, ms(k?.e2e.endToEndUs?.p99), ms(r?.e2e.endToEndUs?.p99)],
  ];
  writeFileSync(
    join(dir, "latency.dat"),
    datFile([
      ...latencyRows("50%", kafka?.latency, krill?.latency),
      ...latencyRows("10%", kafka?.latencyLight, krill?.latencyLight),
    ]),
  );
  writeFileSync(
    join(dir, "kafkajs.dat"),
    datFile([
      ["kafkajs produce", kafka?.kafkajsProduce?.mbPerSec, krill?.kafkajsProduce?.mbPerSec],
      ["kafkajs consume", kafka?.kafkajsConsume?.mbPerSec, krill?.kafkajsConsume?.mbPerSec],
    ]),
  );
  const png = join(root, "bench/results.png");
  const histogram = (file: string, title: string, ylabel: string, rotate: boolean, ceiling = false) =>
    [
      `set title "${title}"`,
      `set ylabel "${ylabel}"`,
      rotate ? "set xtics rotate by -35 font ',8'" : "set xtics norotate font ',9'",
      `plot "${join(dir, file)}" using 2:xtic(1) title "Apache Kafka" lc rgb "#4c72b0", '' using 3 title "Krill" lc rgb "#dd8452"${ceiling ? `, '' using 4 title "load generators' ceiling (null sink)" lc rgb "#b0b0b0"` : ""}`,
    ].join("\n");
  const script = [
    `set terminal pngcairo size 1600,1200 font "sans,10"`,
    `set output "${png}"`,
    "set datafile missing '?'",
    "set style data histograms",
    "set style histogram clustered gap 1",
    "set style fill solid 0.9 border -1",
    "set boxwidth 0.9",
    "set key top right",
    "set grid ytics",
    "set yrange [0:*]",
    `set multiplot layout 2,2 title "Krill vs Apache Kafka ${results.environment.kafkaVersion} (${results.sizes.mode} run, ${results.startedAt.slice(0, 16)}Z; missing bar = failed)"`,
    "set bmargin 7",
    histogram(
      "produce.dat",
      "Produce throughput (kafka-producer-perf-test)",
      "MiB/s",
      true,
      results.ceiling !== undefined,
    ),
    histogram("consume.dat", "Consume throughput (kafka-consumer-perf-test)", "MiB/s", true),
    "set logscale y",
    "set yrange [*:*]",
    histogram(
      "latency.dat",
      "Latency at 50% and 10% of Kafka's max load (E2eLatency, log scale)",
      "ms",
      true,
    ),
    "unset logscale y",
    "set yrange [0:*]",
    histogram("kafkajs.dat", "kafkajs load generator", "MiB/s", false),
    "unset multiplot",
  ].join("\n");
  writeFileSync(join(dir, "plot.gp"), script);
  try {
    execFileSync("gnuplot", [join(dir, "plot.gp")], { stdio: ["ignore", "ignore", "pipe"] });
    return png;
  } catch (e) {
    process.stderr.write(
      `bench: no plot (gnuplot failed or is missing: ${(e as Error).message.split("\n")[0]})\n`,
    );
    return null;
  }
}

export function writeReport(results: BenchResults, root: string): void {
  const notesPath = join(root, "bench/notes.md");
  const notes = existsSync(notesPath) ? readFileSync(notesPath, "utf8") : "";
  writePlot(results, root);
  writeFileSync(join(root, "bench/RESULTS.md"), renderResults(results, notes));
}
