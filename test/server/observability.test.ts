import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { API_VERSIONS_API, DESCRIBE_LOG_DIRS_API } from "../../src/protocol/generated/apis.js";
import { decodeDescribeLogDirsResponse } from "../../src/protocol/generated/describe-log-dirs-response.js";
import { body, client, request } from "./wire.js";

describe("metrics endpoint and DescribeLogDirs", () => {
  let broker: BrokerHandle;
  let metricsPort = 0;

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
    await broker.broker.context.controller.createTopics(
      [{ name: "sized", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      false,
    );
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it("serves Prometheus metrics with per-API request counts, connections and partitions", async () => {
    const c = await client(broker.port);
    c.socket.write(request(API_VERSIONS_API, 0, 1, Buffer.alloc(0)));
    await c.next();
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toMatch(/krill_requests_total\{api="ApiVersions",version="0",outcome="ok"\} 1/);
    expect(text).toMatch(/krill_request_latency_seconds_bucket\{le="[^"]+",api="ApiVersions"\}/);
    expect(text).toMatch(/krill_connections\{listener="PLAINTEXT"\} 1/);
    expect(text).toMatch(/krill_partitions 2/);
    expect(text).toMatch(/krill_log_size_bytes\{topic="sized"\} \d+/);
    expect(text).not.toContain("__cluster_metadata");
    expect((await fetch(`http://127.0.0.1:${metricsPort}/nope`)).status).toBe(404);
    c.socket.destroy();
  });

  it("lists partitions per log directory", async () => {
    const c = await client(broker.port);
    c.socket.write(request(DESCRIBE_LOG_DIRS_API, 4, 3, { topics: null }));
    const res = decodeDescribeLogDirsResponse(body(await c.next(), DESCRIBE_LOG_DIRS_API, 4), 4);
    expect(res.results).toHaveLength(1);
    const dir = res.results[0]!;
    expect(dir.errorCode).toBe(0);
    expect(dir.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex).sort()])).toEqual([
      ["sized", [0, 1]],
    ]);
    expect(dir.totalBytes).toBeGreaterThan(0n);
    c.socket.write(request(DESCRIBE_LOG_DIRS_API, 1, 4, { topics: [{ topic: "sized", partitions: [1] }] }));
    const only = decodeDescribeLogDirsResponse(body(await c.next(), DESCRIBE_LOG_DIRS_API, 1), 1);
    expect(only.results[0]!.topics).toEqual([
      {
        name: "sized",
        partitions: [
          { partitionIndex: 1, partitionSize: expect.any(BigInt), offsetLag: 0n, isFutureKey: false },
        ],
      },
    ]);
    c.socket.destroy();
  });
});
