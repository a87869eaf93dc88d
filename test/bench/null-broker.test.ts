import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenNullSink, recordCount, sinkTopics } from "../../bench/src/null-broker.js";
import { METADATA_API, PRODUCE_API } from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import type { SocketServer } from "../../src/server/network/socket-server.js";
import { body, client, request } from "../server/wire.js";

// The null sink is the benchmark's ceiling: a real client must see a working cluster (metadata,
// acknowledged produce requests with growing offsets) while nothing is stored.
describe("bench null sink", () => {
  let server: SocketServer;
  let port = 0;

  beforeAll(async () => {
    ({ server, port } = await listenNullSink(sinkTopics(["sink-a:2"])!, 0));
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
      b.writeInt8(2, 16);
      b.writeInt32BE(lastOffsetDelta, 23);
      return b;
    };
    expect(recordCount(Buffer.concat([batch(4, 10), batch(0, 3)]))).toBe(6);
  });

  it("refuses bad framing with the reason instead of acknowledging or looping on it", () => {
    const batch = Buffer.alloc(61);
    batch.writeInt32BE(49, 8);
    batch.writeInt8(2, 16);
    expect(recordCount(null)).toBe("no record batches");
    expect(recordCount(Buffer.alloc(10))).toBe("10 trailing bytes are not a record batch");
    // A batchLength of -12 would advance by 0 bytes: the framing check stops it.
    const stuck = Buffer.from(batch);
    stuck.writeInt32BE(-12, 8);
    expect(recordCount(stuck)).toMatch(/batchLength -12 is below the minimum/);
    const long = Buffer.from(batch);
    long.writeInt32BE(2_000_000_000, 8);
    expect(recordCount(long)).toMatch(/runs past the end/);
    const negative = Buffer.from(batch);
    negative.writeInt32BE(-5, 23);
    expect(recordCount(negative)).toMatch(/negative lastOffsetDelta/);
    expect(recordCount(Buffer.concat([batch, Buffer.alloc(3)]))).toBe(
      "3 trailing bytes are not a record batch",
    );
  });

  it("answers a corrupt batch with CORRUPT_MESSAGE and keeps serving the connection", async () => {
    const bad = Buffer.alloc(61);
    bad.writeInt32BE(-12, 8);
    const produce = (records: Buffer, correlationId: number) =>
      request(PRODUCE_API, 8, correlationId, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: "sink-a", topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
      });
    const c = await client(port);
    try {
      c.socket.write(produce(bad, 7));
      const refused = PRODUCE_API.decodeResponse(body(await c.next(), PRODUCE_API, 8), 8);
      expect(refused.responses[0]!.partitionResponses[0]).toMatchObject({
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        baseOffset: -1n,
        errorMessage: expect.stringMatching(/batchLength -12 is below the minimum/),
      });
      // The same connection still gets answers.
      c.socket.write(
        request(METADATA_API, 4, 8, {
          topics: [{ topicId: ZERO_UUID, name: "sink-a" }],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        }),
      );
      const meta = METADATA_API.decodeResponse(body(await c.next(), METADATA_API, 4), 4);
      expect(meta.topics[0]!.partitions).toHaveLength(2);
    } finally {
      c.socket.destroy();
    }
  });
});
