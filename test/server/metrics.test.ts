/**
 * /metrics after real traffic (kafkajs produce and consume): the series docs/operations.md maps to
 * Kafka's JMX and Redpanda's metrics, and every metric docs/grafana/krill.json queries exists.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { API_VERSIONS_API } from "../../src/protocol/generated/apis.js";
import { consumerLagSeries, type PartitionStats } from "../../src/server/metrics.js";
import { client, request } from "./wire.js";

const DASHBOARD = path.resolve(import.meta.dirname, "../../docs/grafana/krill.json");

/** The value of the one series `name{labels}` in a Prometheus text exposition. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("Prometheus metrics after produce and consume", () => {
  let broker: BrokerHandle;
  let metricsPort = 0;
  let text = "";

  beforeAll(async () => {
    // metrics.port 0 disables the endpoint, so try a few random high ports.
    for (let attempt = 0; attempt < 5 && broker === undefined; attempt++) {
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      try {
        broker = await startBroker({ "metrics.port": port, "metrics.host": "127.0.0.1" });
        metricsPort = port;
      } catch {
        // Port taken: try another.
      }
    }
    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "metered", numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "metered",
      messages: Array.from({ length: 5 }, (_, i) => ({ partition: 0, key: `k${i}`, value: "x".repeat(100) })),
    });
    await producer.send({ topic: "metered", messages: [{ partition: 1, value: "y" }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: "metrics-test" });
    await consumer.connect();
    await consumer.subscribe({ topic: "metered", fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async () => {
          if (++seen === 6) resolve();
        },
      });
    });
    await consumer.disconnect();
    // A group two records behind on partition 0 (5 records) and with no offset on partition 1.
    const lagAdmin = kafka.admin();
    await lagAdmin.connect();
    await lagAdmin.setOffsets({
      groupId: "lagging",
      topic: "metered",
      partitions: [{ partition: 0, offset: "3" }],
    });
    await lagAdmin.disconnect();
    // One connection left open while scraping, on the PLAINTEXT listener.
    const c = await client(broker.port);
    c.socket.write(
      request(API_VERSIONS_API, 3, 1, {
        clientSoftwareName: "t",
        clientSoftwareVersion: "1",
        clusterId: null,
        nodeId: -1,
      }),
    );
    await c.next();
    text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    c.socket.destroy();
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
  });

  it("counts messages and bytes in and out per topic", () => {
    expect(value(text, 'krill_topic_messages_in_total{topic="metered"}')).toBe(6);
    expect(value(text, 'krill_topic_bytes_total{topic="metered",direction="in"}')).toBeGreaterThan(500);
    expect(value(text, 'krill_topic_bytes_total{topic="metered",direction="out"}')).toBeGreaterThan(500);
  });

  it("counts requests per API and version, with latency per API", () => {
    expect(text).toMatch(/krill_requests_total\{api="Produce",version="\d+",outcome="ok"\} 2/);
    expect(text).toMatch(/krill_requests_total\{api="Fetch",version="\d+",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/krill_requests_total\{api="ApiVersions",version="3",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/krill_request_latency_seconds_count\{api="Produce"\} 2/);
  });

  it("reports each partition's log end offset, high watermark, start offset and size", () => {
    expect(value(text, 'krill_partition_log_end_offset{topic="metered",partition="0"}')).toBe(5);
    expect(value(text, 'krill_partition_high_watermark{topic="metered",partition="0"}')).toBe(5);
    expect(value(text, 'krill_partition_log_end_offset{topic="metered",partition="1"}')).toBe(1);
    expect(value(text, 'krill_partition_log_start_offset{topic="metered",partition="0"}')).toBe(0);
    expect(value(text, 'krill_partition_size_bytes{topic="metered",partition="0"}')).toBeGreaterThan(500);
    expect(value(text, 'krill_log_size_bytes{topic="metered"}')).toBeGreaterThan(500);
    expect(value(text, "krill_under_replicated_partitions")).toBe(0);
    expect(value(text, "krill_offline_partitions")).toBe(0);
    expect(value(text, "krill_leader_partitions")).toBeGreaterThanOrEqual(2);
  });

  it("reports purgatories, connections per listener, disk space and the runtime", () => {
    expect(value(text, 'krill_purgatory_size{operation="Produce"}')).toBe(0);
    expect(value(text, 'krill_purgatory_size{operation="Fetch"}')).toBeGreaterThanOrEqual(0);
    expect(value(text, 'krill_connections{listener="PLAINTEXT"}')).toBeGreaterThanOrEqual(1);
    const free = text.split("\n").find((l) => l.startsWith("krill_log_dir_free_bytes{dir="));
    expect(Number(free?.split(" ")[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^krill_log_dir_total_bytes\{dir="[^"]+"\} [1-9]/m);
    expect(text).toMatch(/^krill_nodejs_eventloop_lag_p99_seconds /m);
    expect(text).toMatch(/^# TYPE krill_nodejs_gc_duration_seconds histogram/m);
  });

  it("reports consumer group committed offsets and lag per partition and per group", () => {
    expect(
      value(text, 'krill_consumer_group_committed_offset{group="lagging",topic="metered",partition="0"}'),
    ).toBe(3);
    expect(value(text, 'krill_consumer_group_lag{group="lagging",topic="metered",partition="0"}')).toBe(2);
    expect(
      value(text, 'krill_consumer_group_lag{group="lagging",topic="metered",partition="1"}'),
    ).toBeUndefined();
    expect(value(text, 'krill_consumer_group_lag_sum{group="lagging"}')).toBe(2);
    expect(value(text, 'krill_consumer_group_lag_max{group="lagging"}')).toBe(2);
    // The consumer that read everything and committed on leaving.
    expect(
      value(
        text,
        'krill_consumer_group_committed_offset{group="metrics-test",topic="metered",partition="0"}',
      ),
    ).toBe(5);
    expect(value(text, 'krill_consumer_group_lag_sum{group="metrics-test"}')).toBe(0);
    expect(value(text, "krill_consumer_groups")).toBe(2);
  });

  it("has every metric the Grafana dashboard queries", () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: { targets?: { expr: string }[] }[];
      templating: { list: { query?: unknown }[] };
    };
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => v.query).filter((q): q is string => typeof q === "string"),
    ];
    const names = new Set(queries.flatMap((q) => q.match(/krill_[a-z0-9_]+/g) ?? []));
    expect(names.size).toBeGreaterThan(15);
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].map((m) => m[1]!));
    for (const name of names) {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      expect(exported.has(name) || exported.has(base), name).toBe(true);
    }
  });
});

describe("consumer lag series", () => {
  const led = (topic: string, partition: number, highWatermark: number, isLeader = true): PartitionStats => ({
    topic,
    partition,
    logStartOffset: 0,
    logEndOffset: highWatermark,
    highWatermark,
    sizeBytes: 0,
    isLeader,
    underReplicated: false,
  });

  it("computes lag against the leader's high watermark, never below zero, and only for partitions led here", () => {
    const series = consumerLagSeries(
      [
        { group: "a", topic: "t", partition: 0, offset: 4 },
        { group: "a", topic: "t", partition: 1, offset: 12 },
        { group: "a", topic: "u", partition: 0, offset: 0 },
        { group: "b", topic: "t", partition: 0, offset: 10 },
      ],
      [led("t", 0, 10), led("t", 1, 10), led("u", 0, 7, false)],
    );
    expect(series.partitions?.map((r) => r.lag)).toEqual([6, 0, undefined, 0]);
    expect(series.groups).toEqual([
      { group: "a", lagSum: 6, lagMax: 6 },
      { group: "b", lagSum: 0, lagMax: 0 },
    ]);
    expect(series.groupCount).toBe(2);
  });

  it("bounds the series: per-partition rows up to a limit, the most lagging groups up to another", () => {
    const offsets = Array.from({ length: 30 }, (_, i) => ({
      group: `g${i % 10}`,
      topic: "t",
      partition: i,
      offset: 0,
    }));
    const partitions = Array.from({ length: 30 }, (_, i) => led("t", i, i));
    const series = consumerLagSeries(offsets, partitions, 20, 3);
    expect(series.partitions).toBeNull();
    expect(series.groupCount).toBe(10);
    // g9 holds partitions 9, 19, 29: lag 57; g8: 54; g7: 51.
    expect(series.groups).toEqual([
      { group: "g9", lagSum: 57, lagMax: 29 },
      { group: "g8", lagSum: 54, lagMax: 28 },
      { group: "g7", lagSum: 51, lagMax: 27 },
    ]);
    expect(consumerLagSeries(offsets, partitions, 30, 3).partitions).toHaveLength(30);
  });
});
