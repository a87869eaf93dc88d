import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fmt, outsideSpread, ratio, renderResults, writePlot } from "../../bench/src/report.js";
import type { BenchResults, BrokerResults, ProducerRun } from "../../bench/src/results.js";
import { QUICK_SIZES, quickProducerWorkloads } from "../../bench/src/workloads.js";

const usage = { cpuSeconds: 1, cpuSecondsPerGib: 10, rssBytesMax: 400 << 20 };

function producerRun(i: number, mbPerSec: number | null, error: string | null = null): ProducerRun {
  return {
    workload: quickProducerWorkloads()[i]!,
    ok: error === null,
    error,
    records: 1000,
    mbPerSec,
    recordsPerSec: mbPerSec === null ? null : mbPerSec * 1024,
    latencyMsP50: 1,
    latencyMsP99: 5,
    latencyMsP999: 9,
    usage,
    command: "kafka-producer-perf-test --bootstrap-server 127.0.0.1:1234 --topic t",
  };
}

function brokerResults(kind: "kafka" | "krill", over: Partial<BrokerResults>): BrokerResults {
  return {
    broker: kind,
    version: kind,
    started: true,
    startError: null,
    startupMs: 1000,
    idleRssBytes: 300 << 20,
    topicsError: null,
    producer: [],
    consumer: [],
    latency: null,
    latencyLight: null,
    kafkajsProduce: null,
    kafkajsConsume: null,
    loadAverageBefore: [1, 1, 1],
    loadAverageAfter: [2, 2, 2],
    phaseSeconds: 10,
    ...over,
  };
}

const results: BenchResults = {
  startedAt: "2026-11-22T05:00:00.000Z",
  finishedAt: "2026-11-22T05:10:00.000Z",
  sizes: QUICK_SIZES,
  environment: {
    kernel: "Linux",
    cpuModel: "cpu",
    cpuCount: 2,
    memoryBytes: 1 << 30,
    java: "openjdk 17",
    node: "v24",
    kafkaVersion: "4.3.1",
    kafkajsVersion: "2.2.4",
    krillCommit: "abc",
    jvmToolOptions: ["-Xmx1g"],
  },
  machine: {
    diskWriteMbPerSec: 300,
    diskReadMbPerSec: 1000,
    diskScratchBytes: 1 << 29,
    tcpLoopbackMbPerSec: 1000,
    errors: [],
    commands: ["dd a", "dd b", "tsx c"],
  },
  brokers: [
    brokerResults("kafka", {
      producer: [{ ...producerRun(0, 100), samplesMbPerSec: [90, 100, 130] }, producerRun(1, 50)],
      startupMs: 10_000,
    }),
    brokerResults("krill", {
      producer: [
        producerRun(0, 120),
        producerRun(1, null, "kafka-producer-perf-test hit its time limit | x"),
      ],
      startupMs: 500,
      idleRssBytes: 60 << 20,
    }),
  ],
  profile: null,
};

describe("RESULTS.md", () => {
  const md = renderResults(results, "## Notes\n\nhand-written");

  it("has a row per workload with the Krill/Kafka ratio", () => {
    expect(md).toMatch(/\| `acks1-b64k-none-p1-x1` \| 100\.0 \| 120\.0 \| 1\.20x \|/);
  });

  it("lists every repetition's MB/s and says the median run is shown", () => {
    expect(md).toMatch(/\| `acks1-b64k-none-p1-x1` \|.*\| 90\.0, 100\.0, 130\.0 \/ — \|/);
    expect(md).toContain(`Each workload runs ${QUICK_SIZES.repeats} times on each broker`);
  });

  it("shows a failed workload as a failed cell with its reason below the table, pipes escaped", () => {
    expect(md).toMatch(/\| `acksall-b1m-lz4-p8-x1` \| 50\.0 \| failed \[1\] \| — \|/);
    expect(md).toContain("[1] kafka-producer-perf-test hit its time limit \\| x");
  });

  it("judges the goals: a failed workload means the throughput goal is not met", () => {
    expect(md).toMatch(
      /Produce throughput, worst workload \(1 of 2 measured on both\).*not met \(workloads failed\)/,
    );
    expect(md).toMatch(/Start-up.*\| 10,000 \| 500 \| 0\.05x \| <= 0\.10x \| met \|/);
    expect(md).toMatch(/Idle RSS \(MiB\) \| 300 \| 60 \| 0\.20x \| <= 0\.25x \| met \|/);
  });

  it("includes the hand-written notes and each command once, with the port replaced", () => {
    expect(md).toContain("hand-written");
    expect(md.match(/kafka-producer-perf-test --bootstrap-server \$BOOTSTRAP --topic t/g)).toHaveLength(1);
  });

  it("formats missing figures as a dash", () => {
    expect(fmt(null)).toBe("—");
    expect(fmt(Number.NaN)).toBe("—");
    expect(ratio(1, 0)).toBe("—");
    expect(ratio(3, 2)).toBe("1.50x");
  });
});

describe("RESULTS.md with the load generators' ceiling", () => {
  const withCeiling: BenchResults = {
    ...results,
    ceiling: [{ ...producerRun(0, 125), samplesMbPerSec: [125, 110, 140] }, producerRun(1, 200)],
  };
  const md = renderResults(withCeiling, "");

  it("adds the ceiling and each broker's share of it to every produce row", () => {
    expect(md).toContain("| Ceiling MB/s | Kafka / Krill % of ceiling | Runs MB/s Kafka / Krill / ceiling |");
    expect(md).toMatch(
      /\| `acks1-b64k-none-p1-x1` \| 100\.0 \| 120\.0 \| 1\.20x \|.*\| 125\.0 \| 80% \/ 96% \| 90\.0, 100\.0, 130\.0 \/ — \/ 125\.0, 110\.0, 140\.0 \|/,
    );
    expect(md).toMatch(/\| `acksall-b1m-lz4-p8-x1` \|.*\| 200\.0 \| 25% \/ — \|/);
    expect(md).toContain("bench/src/null-broker.ts");
  });

  it("counts in the headline only the workloads where both brokers reach 90% of the ceiling", () => {
    // Kafka at 80% of the first workload's ceiling: not bound; Krill failed the second: not measured.
    expect(md).toMatch(
      /both brokers reach 90% of the load generators' ceiling.*\| 0 of 1 \| \(reported\) \|/,
    );
    const bound = renderResults({ ...withCeiling, ceiling: [producerRun(0, 105), producerRun(1, 200)] }, "");
    expect(bound).toMatch(
      /both brokers reach 90% of the load generators' ceiling.*\| 1 of 1 \| \(reported\) \|/,
    );
  });

  it("leaves the columns out of results written before the ceiling existed", () => {
    expect(renderResults(results, "")).not.toContain("Ceiling MB/s");
  });
});

describe("results.png data", () => {
  it("plots the ceiling as a third produce series when the run measured it", () => {
    const root = mkdtempSync(join(tmpdir(), "krill-plot-"));
    mkdirSync(join(root, "bench"), { recursive: true });
    writePlot({ ...results, ceiling: [producerRun(0, 125)] }, root);
    const dat = readFileSync(join(root, "bench/out/plot/produce.dat"), "utf8").split("\n");
    expect(dat[0]).toBe('"acks1-b64k-none-p1-x1" 100.000 120.000 125.000');
    expect(dat[1]).toBe('"acksall-b1m-lz4-p8-x1" 50.000 ? ?');
    expect(readFileSync(join(root, "bench/out/plot/plot.gp"), "utf8")).toContain("load generators' ceiling");
    rmSync(root, { recursive: true, force: true });
  });
});

describe("the headline's run-to-run spread rows", () => {
  it("counts workloads where Krill's median lies below or above every Kafka run", () => {
    const kafka = [
      { workload: { id: "a" }, mbPerSec: 100, samplesMbPerSec: [90, 100, 130] },
      { workload: { id: "b" }, mbPerSec: 100, samplesMbPerSec: [95, 100, 105] },
      { workload: { id: "c" }, mbPerSec: 100, samplesMbPerSec: [95, 100, 105] },
      { workload: { id: "d" }, mbPerSec: 100 },
    ];
    const krill = [
      { workload: { id: "a" }, mbPerSec: 85 },
      { workload: { id: "b" }, mbPerSec: 106 },
      { workload: { id: "c" }, mbPerSec: 95 },
      { workload: { id: "d" }, mbPerSec: 1 },
    ];
    // c sits on Kafka's slowest run (not below it); d has no Kafka runs to compare with.
    expect(outsideSpread(kafka, krill)).toEqual({ below: ["a"], above: ["b"] });
  });

  it("shows the counts for produce and consume", () => {
    const md = renderResults(results, "");
    // Krill's 120 lies inside Kafka's runs (90 to 130); its failed run has no figure.
    expect(md).toMatch(
      /Produce workloads where Krill's median is below \/ above every Kafka run.*\| 0 \/ 0 \| \(reported\) \|/,
    );
    expect(md).toMatch(
      /Consume workloads where Krill's median is below \/ above every Kafka run.*\| 0 \/ 0 \|/,
    );
  });
});
