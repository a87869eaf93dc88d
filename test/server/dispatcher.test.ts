import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { decodeApiVersionsResponse } from "../../src/protocol/generated/api-versions-response.js";
import {
  ALLOCATE_PRODUCER_IDS_API,
  API_VERSIONS_API,
  DESCRIBE_CLUSTER_API,
  FETCH_API,
  FIND_COORDINATOR_API,
  METADATA_API,
  PRODUCE_API,
} from "../../src/protocol/generated/apis.js";
import { decodeMetadataResponse } from "../../src/protocol/generated/metadata-response.js";
import { defaultProduceRequest } from "../../src/protocol/generated/produce-request.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { body, client, request } from "./wire.js";

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

describe("dispatch over the wire", () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({ "socket.request.max.bytes": 4096 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it("advertises the registry's versions and metadata.version in ApiVersions v3", async () => {
    const c = await client(broker.port);
    c.socket.write(
      request(API_VERSIONS_API, 3, 7, {
        clientSoftwareName: "krill-test",
        clientSoftwareVersion: "1.0",
        clusterId: null,
        nodeId: -1,
      }),
    );
    const frame = await c.next();
    expect(frame.readInt32BE(0)).toBe(7);
    const res = decodeApiVersionsResponse(body(frame, API_VERSIONS_API, 3), 3);
    expect(res.errorCode).toBe(0);
    // A broker listener: every API but the controller-only ones (BrokerRegistration, AllocateProducerIds).
    const registry = broker.broker.context.registry.servedOn("broker");
    expect(registry.map((h) => h.apiKey)).not.toContain(62);
    expect(registry.map((h) => h.apiKey)).not.toContain(67);
    expect(res.apiKeys).toEqual(
      registry.map((h) => ({
        apiKey: h.apiKey,
        minVersion: h.advertisedMinVersion,
        maxVersion: h.maxVersion,
      })),
    );
    // Produce from 0, as Kafka 4 advertises it (librdkafka compresses only when it sees v2).
    expect(res.apiKeys.find((k) => k.apiKey === 0)?.minVersion).toBe(0);
    expect(res.apiKeys.find((k) => k.apiKey === 3)).toMatchObject({ minVersion: 0, maxVersion: 13 });
    expect(res.finalizedFeatures).toMatchObject([
      { name: "group.version", minVersionLevel: 1, maxVersionLevel: 1 },
      { name: "kraft.version", minVersionLevel: 1, maxVersionLevel: 1 },
      { name: "metadata.version", minVersionLevel: 25, maxVersionLevel: 25 },
      { name: "transaction.version", minVersionLevel: 2, maxVersionLevel: 2 },
    ]);
    // v3: features with a 0 minimum are left out, as Kafka does (KAFKA-17011); v4 lists them.
    expect(res.supportedFeatures).toMatchObject([
      { name: "metadata.version", minVersion: 7, maxVersion: 25 },
    ]);
    c.socket.destroy();
  });

  it("answers ApiVersions at an unknown version in v0 format with UNSUPPORTED_VERSION (KIP-511)", async () => {
    const c = await client(broker.port);
    // v9 does not exist; its body is whatever a future client sends, here some bytes.
    c.socket.write(request(API_VERSIONS_API, 9, 11, Buffer.from([0, 1, 2, 3])));
    const frame = await c.next();
    expect(frame.readInt32BE(0)).toBe(11);
    const res = decodeApiVersionsResponse(new Reader(frame, 4), 0);
    expect(res.errorCode).toBe(35);
    expect(res.apiKeys.find((k) => k.apiKey === 18)).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 5 });
    c.socket.destroy();
  });

  it("rejects ApiVersions v3 with a malformed client software name", async () => {
    const c = await client(broker.port);
    c.socket.write(
      request(API_VERSIONS_API, 3, 1, {
        clientSoftwareName: "bad name",
        clientSoftwareVersion: "1",
        clusterId: null,
        nodeId: -1,
      }),
    );
    const res = decodeApiVersionsResponse(body(await c.next(), API_VERSIONS_API, 3), 3);
    expect(res.errorCode).toBe(42);
    c.socket.destroy();
  });

  it("keeps request order when a slow request precedes fast ones", async () => {
    const c = await client(broker.port);
    const metadataRequest = {
      topics: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "pipelined-auto" }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    };
    // Auto-creation appends to the metadata log (fsync), so the ApiVersions after it finish first.
    c.socket.write(
      Buffer.concat([
        request(METADATA_API, 12, 100, metadataRequest),
        request(API_VERSIONS_API, 0, 101, Buffer.alloc(0)),
        request(API_VERSIONS_API, 0, 102, Buffer.alloc(0)),
      ]),
    );
    const first = await c.next();
    expect(first.readInt32BE(0)).toBe(100);
    const metadata = decodeMetadataResponse(body(first, METADATA_API, 12), 12);
    expect(metadata.topics[0]).toMatchObject({ name: "pipelined-auto", errorCode: 0 });
    expect(metadata.topics[0]!.partitions).toHaveLength(1);
    expect((await c.next()).readInt32BE(0)).toBe(101);
    expect((await c.next()).readInt32BE(0)).toBe(102);
    c.socket.destroy();
  });

  it("ignores bytes after a request body, as Kafka does (librdkafka's all-topics Metadata v9+)", async () => {
    const c = await client(broker.port);
    const allTopics = {
      topics: null,
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    };
    // librdkafka reserves a 4-byte array count, writes a 1-byte varint and leaves 3 zero bytes.
    const frame = request(METADATA_API, 12, 21, allTopics);
    const padded = Buffer.concat([frame, Buffer.alloc(3)]);
    padded.writeInt32BE(frame.length - 4 + 3, 0);
    c.socket.write(padded);
    const answer = await c.next();
    expect(answer.readInt32BE(0)).toBe(21);
    const res = decodeMetadataResponse(body(answer, METADATA_API, 12), 12);
    expect(res.brokers).toHaveLength(1);
    // A non-flexible version too, and the connection keeps serving.
    const v1 = request(METADATA_API, 1, 22, { ...allTopics, topics: [] });
    const v1Padded = Buffer.concat([v1, Buffer.from([1, 2, 3, 4, 5])]);
    v1Padded.writeInt32BE(v1.length - 4 + 5, 0);
    c.socket.write(v1Padded);
    expect((await c.next()).readInt32BE(0)).toBe(22);
    c.socket.destroy();
  });

  it("closes a connection sending a controller-only API to a broker listener", async () => {
    const c = await client(broker.port);
    c.socket.write(request(ALLOCATE_PRODUCER_IDS_API, 0, 1, { brokerId: 1, brokerEpoch: 0n }));
    await c.closed;
    expect(c.frames).toHaveLength(0);
  });

  it("closes a connection sending an unknown API key; others keep being served", async () => {
    const bad = await client(broker.port);
    const good = await client(broker.port);
    const frame = request(API_VERSIONS_API, 0, 1, Buffer.alloc(0));
    frame.writeInt16BE(999, 4);
    bad.socket.write(frame);
    await bad.closed;
    good.socket.write(request(API_VERSIONS_API, 0, 2, Buffer.alloc(0)));
    expect((await good.next()).readInt32BE(0)).toBe(2);
    good.socket.destroy();
  });

  it("closes on a body that does not decode, as Kafka does, and keeps serving others", async () => {
    // Fetch v4 whose topics count (2^31-1) exceeds the bytes left; before, it got a response.
    // replica_id, max_wait_ms, min_bytes, max_bytes, isolation_level, then the topics count.
    const fetchV4 = Buffer.concat([int32(-1), int32(500), int32(1), int32(1 << 20), Buffer.from([0])]);
    const frames = [
      request(FETCH_API, 4, 1, Buffer.concat([fetchV4, int32(0x7fffffff)])),
      request(METADATA_API, 1, 2, Buffer.from([0, 0, 0, 5, 0])),
      request(DESCRIBE_CLUSTER_API, 0, 3, Buffer.from([7])),
      request(FIND_COORDINATOR_API, 3, 4, Buffer.from([0xff])),
      request(FIND_COORDINATOR_API, 4, 5, Buffer.from([0xff])),
    ];
    for (const frame of frames) {
      const c = await client(broker.port);
      c.socket.write(frame);
      await c.closed;
      expect(c.frames).toHaveLength(0);
    }
    const good = await client(broker.port);
    good.socket.write(request(API_VERSIONS_API, 0, 13, Buffer.alloc(0)));
    expect((await good.next()).readInt32BE(0)).toBe(13);
    good.socket.destroy();
  });

  it("closes on a frame above socket.request.max.bytes without waiting for its body", async () => {
    const c = await client(broker.port);
    const head = Buffer.alloc(4);
    head.writeInt32BE(4097);
    c.socket.write(head);
    await c.closed;
  });

  it("closes Produce v0-2, advertised but not served, as Kafka does", async () => {
    for (const version of [0, 2]) {
      const c = await client(broker.port);
      const frame = request(PRODUCE_API, 3, 5, { ...defaultProduceRequest(), acks: 1 });
      frame.writeInt16BE(version, 6);
      c.socket.write(frame);
      await c.closed;
    }
    const good = await client(broker.port);
    good.socket.write(request(API_VERSIONS_API, 0, 6, Buffer.alloc(0)));
    expect((await good.next()).readInt32BE(0)).toBe(6);
    good.socket.destroy();
  });

  it("closes a request for an API version the handler does not serve", async () => {
    const c = await client(broker.port);
    c.socket.write(request(METADATA_API, 13, 1, Buffer.alloc(0)));
    await c.closed;
  });
});

describe("max.connections", () => {
  it("refuses connections beyond the limit and accepts again once one closes", async () => {
    // A broker of its own, so connections of other tests cannot count against the limit.
    const broker = await startBroker({ "max.connections": 2 });
    try {
      const open = await Promise.all([1, 2].map(() => client(broker.port)));
      // Make sure the broker has accepted both before the third arrives.
      for (const [i, c] of open.entries()) c.socket.write(request(API_VERSIONS_API, 0, i, Buffer.alloc(0)));
      for (const c of open) await c.next();
      const extra = await client(broker.port);
      await extra.closed;
      open[0]!.socket.destroy();
      await open[0]!.closed;
      // The broker notices the close asynchronously; retry briefly.
      let served = false;
      for (let attempt = 0; attempt < 50 && !served; attempt++) {
        const again = await client(broker.port);
        again.socket.write(request(API_VERSIONS_API, 0, 9, Buffer.alloc(0)));
        served = await Promise.race([again.next().then(() => true), again.closed.then(() => false)]).catch(
          () => false,
        );
        again.socket.destroy();
        if (!served) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(served).toBe(true);
      open[1]!.socket.destroy();
    } finally {
      await broker.stop();
    }
  });
});
