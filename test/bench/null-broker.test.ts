import { Kafka, logLevel } from "kafkajs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordCount, sinkRegistry } from "../../bench/src/null-broker.js";
import { Dispatcher } from "../../src/server/dispatcher.js";
import { SocketServer } from "../../src/server/network/socket-server.js";
import type { BrokerContext } from "../../src/server/services.js";

// The null sink is the benchmark's ceiling: a real client must see a working cluster (metadata,
// acknowledged produce requests with growing offsets) while nothing is stored.
describe("bench null sink", () => {
  let server: SocketServer;
  let port = 0;

  beforeAll(async () => {
    const topics = new Map([["sink-a", { id: "AAAAAAAAAAAAAAAAAAAAAg", nextOffset: [0n, 0n] }]]);
    const registry = sinkRegistry(topics, () => port);
    const logger = pino({ level: "silent" });
    server = new SocketServer({
      listeners: [{ name: "PLAINTEXT", securityProtocol: "PLAINTEXT", host: "127.0.0.1", port: 0 }],
      limits: {
        frameBytesMax: 1 << 20,
        inFlightRequestsMax: 10,
        queuedResponseBytesMax: 1 << 20,
        idleMs: -1,
      },
      connectionsMax: () => 10,
      processor: new Dispatcher(registry, { registry } as unknown as BrokerContext),
      logger,
    });
    port = (await server.start())[0]!.port;
  });

  afterAll(async () => {
    await server.stop(1000);
  });

  it("acknowledges a kafkajs producer with offsets that grow by the records sent, per partition", async () => {
    const kafka = new Kafka({
      clientId: "sink-test",
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const send = (partition: number, n: number) =>
        producer.send({
          topic: "sink-a",
          acks: 1,
          messages: Array.from({ length: n }, (_, i) => ({ partition, value: `v${i}` })),
        });
      expect((await send(0, 3))[0]).toMatchObject({ partition: 0, errorCode: 0, baseOffset: "0" });
      expect((await send(0, 2))[0]).toMatchObject({ partition: 0, errorCode: 0, baseOffset: "3" });
      expect((await send(1, 1))[0]).toMatchObject({ partition: 1, errorCode: 0, baseOffset: "0" });
      // An idempotent producer (acks=all) gets a producer id from InitProducerId.
      const idempotent = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
      await idempotent.connect();
      const [r] = await idempotent.send({ topic: "sink-a", messages: [{ partition: 1, value: "x" }] });
      expect(r).toMatchObject({ partition: 1, errorCode: 0, baseOffset: "1" });
      await idempotent.disconnect();
    } finally {
      await producer.disconnect();
    }
  });

  it("answers an unknown topic as unknown, so a client fails instead of waiting", async () => {
    const kafka = new Kafka({
      clientId: "sink-test",
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await expect(admin.fetchTopicMetadata({ topics: ["nope"] })).rejects.toThrow(
        /does not host this topic-partition/,
      );
      const meta = await admin.fetchTopicMetadata({ topics: ["sink-a"] });
      expect(meta.topics[0]!.partitions.map((p) => p.leader)).toEqual([1, 1]);
    } finally {
      await admin.disconnect();
    }
  });

  it("counts records from batch headers without decoding them", () => {
    const batch = (lastOffsetDelta: number, bodyBytes: number) => {
      const b = Buffer.alloc(61 + bodyBytes);
      b.writeInt32BE(49 + bodyBytes, 8);
      b.writeInt32BE(lastOffsetDelta, 23);
      return b;
    };
    expect(recordCount(Buffer.concat([batch(4, 10), batch(0, 3)]))).toBe(6);
    expect(recordCount(null)).toBe(0);
    expect(recordCount(Buffer.alloc(10))).toBe(0);
  });
});
