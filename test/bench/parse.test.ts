import { describe, expect, it } from "vitest";
import {
  lastLines,
  parseConsumerPerfSummary,
  parseE2eSummary,
  parsePerfDate,
  parseProducerPerfProgress,
  parseProducerPerfSummary,
} from "../../bench/src/parse.js";

// Output captured from kafka-producer-perf-test / kafka-consumer-perf-test 4.3.1 against a broker.
const PRODUCER_OUTPUT = `23563 records sent, 4654.9 records/sec (4.55 MB/sec), 811.6 ms avg latency, 1481.0 ms max latency.
138663 records sent, 27732.6 records/sec (27.08 MB/sec), 1099.9 ms avg latency, 1855.0 ms max latency.
300000 records sent, 23225.207091 records/sec (22.68 MB/sec), 896.46 ms avg latency, 1855.00 ms max latency, 888 ms 50th, 1509 ms 95th, 1582 ms 99th, 1848 ms 99.9th.
`;

const CONSUMER_OUTPUT = `Warning: --messages is deprecated. Use --num-records instead.
start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-11-22 05:44:05:912, 2026-11-22 05:44:11:032, 146.4844, 28.6102, 150000, 29296.8750, 3011, 2109, 69.4568, 71123.7553
`;

describe("kafka-producer-perf-test output", () => {
  it("reads the closing summary with its percentiles", () => {
    expect(parseProducerPerfSummary(PRODUCER_OUTPUT)).toEqual({
      records: 300000,
      recordsPerSec: 23225.207091,
      mbPerSec: 22.68,
      latencyMsAvg: 896.46,
      latencyMsMax: 1855,
      latencyMsP50: 888,
      latencyMsP95: 1509,
      latencyMsP99: 1582,
      latencyMsP999: 1848,
    });
  });

  it("returns null when the run never finished, but keeps the progress windows", () => {
    const cut = PRODUCER_OUTPUT.split("\n").slice(0, 2).join("\n");
    expect(parseProducerPerfSummary(cut)).toBeNull();
    expect(parseProducerPerfProgress(cut).windows.map((w) => w.mbPerSec)).toEqual([4.55, 27.08]);
  });

  it("does not mistake a progress line for the summary", () => {
    expect(parseProducerPerfProgress(PRODUCER_OUTPUT).windows).toHaveLength(2);
    expect(parseProducerPerfSummary("garbage\n\n")).toBeNull();
  });
});

describe("kafka-consumer-perf-test output", () => {
  it("reads the summary line", () => {
    const s = parseConsumerPerfSummary(CONSUMER_OUTPUT);
    expect(s).toMatchObject({
      mb: 146.4844,
      mbPerSec: 28.6102,
      records: 150000,
      rebalanceMs: 3011,
      fetchMs: 2109,
      timedOut: false,
    });
    expect(s!.endMs - s!.startMs).toBe(5120);
  });

  it("flags a run that gave up before reading everything", () => {
    const out = `${CONSUMER_OUTPUT}WARNING: Exiting before consuming the expected number of messages: timeout (3000 ms) exceeded.\n`;
    expect(parseConsumerPerfSummary(out)?.timedOut).toBe(true);
  });

  it("rejects the header and malformed dates", () => {
    expect(parseConsumerPerfSummary(CONSUMER_OUTPUT.split("\n").slice(0, 2).join("\n"))).toBeNull();
    expect(parsePerfDate("2026-11-22 05:44:05.912")).toBeNull();
    expect(parsePerfDate("2026-11-22 05:44:05:912")).toBe(Date.UTC(2026, 10, 22, 5, 44, 5, 912));
  });
});

describe("E2eLatency output", () => {
  const result = {
    sent: 25000,
    acked: 25000,
    received: 25000,
    targetRecordsPerSec: 5000,
    achievedRecordsPerSec: 4999.1,
    produceUs: { p50: 900.5, p99: 2100, p999: 4000, max: 9000, count: 20000 },
    endToEndUs: { p50: 1200, p99: 3000, p999: 5000, max: 11000, count: 20000 },
    errors: 0,
    firstError: null,
  };

  it("reads the last RESULT line", () => {
    const out = `1 s: sent 5000\nRESULT {"sent":1}\nRESULT ${JSON.stringify(result)}\n`;
    expect(parseE2eSummary(out)).toMatchObject({ sent: 25000, produceUs: { p99: 2100 }, firstError: null });
  });

  it("returns null for a truncated or incomplete result", () => {
    expect(parseE2eSummary('RESULT {"sent":')).toBeNull();
    expect(parseE2eSummary(`RESULT ${JSON.stringify({ ...result, endToEndUs: { p50: 1 } })}`)).toBeNull();
    expect(parseE2eSummary("no result at all")).toBeNull();
  });
});

describe("lastLines", () => {
  it("keeps the last lines without stack frames, bounded in length", () => {
    const text = "first\nsecond\n\tat org.Foo.bar(Foo.java:1)\nthird\n";
    expect(lastLines(text, 2)).toBe("second | third");
    expect(lastLines("x".repeat(1000), 1, 10)).toBe(`${"x".repeat(10)}…`);
  });
});
