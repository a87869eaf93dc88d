/**
 * Protocol answers as Kafka 4.4 gives them for requests a hostile or confused client sends
 * (issue 19 item 6): special ListOffsets timestamps below their version, unknown negative
 * timestamps and duplicate partitions; SaslHandshake and SaslAuthenticate on a listener without
 * SASL; CreateTopics asking for more partitions than one request may add; Metadata by topic id
 * below v12.
 * (A body whose array count exceeds the bytes left closes the connection: dispatcher.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import {
  CREATE_TOPICS_API,
  LIST_OFFSETS_API,
  METADATA_API,
  SASL_AUTHENTICATE_API,
  SASL_HANDSHAKE_API,
} from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { RawClient } from "./partitions/raw-client.js";

describe("protocol answers as Kafka gives them", () => {
  let broker: BrokerHandle;
  let raw: RawClient;

  beforeAll(async () => {
    broker = await startBroker({ "num.partitions": 1 });
    raw = await RawClient.connect(broker.port, broker.host);
    const created = await raw.request(CREATE_TOPICS_API, 7, {
      topics: [{ name: "t", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5_000,
      validateOnly: false,
    });
    expect(created.topics[0]!.errorCode).toBe(0);
  });

  afterAll(async () => {
    await raw?.close();
    await broker?.stop();
  });

  async function listOffsets(version: number, timestamps: bigint[], partition = 0) {
    const res = await raw.request(LIST_OFFSETS_API, version, {
      replicaId: -1,
      isolationLevel: 0,
      timeoutMs: 0,
      topics: [
        {
          name: "t",
          partitions: timestamps.map((timestamp) => ({
            partitionIndex: partition,
            currentLeaderEpoch: -1,
            timestamp,
            maxNumOffsets: 1,
          })),
        },
      ],
    });
    return res.topics[0]!.partitions;
  }

  it("ListOffsets: a special timestamp below its version, or an unknown negative one, is UNSUPPORTED_VERSION", async () => {
    for (const ts of [-3n, -4n, -5n, -6n, -7n, -100n, -(2n ** 63n)]) {
      const [p] = await listOffsets(1, [ts]);
      expect({ ts, errorCode: p!.errorCode, offset: p!.offset }).toEqual({
        ts,
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        offset: -1n,
      });
    }
    // Each special timestamp from its own version on (-6 needs v11, above what Krill serves).
    const served = broker.broker.context.registry.all().find((h) => h.apiKey === 2)!.maxVersion;
    const firstVersion: [bigint, number][] = [
      [-1n, 1],
      [-2n, 1],
      [-3n, 7],
      [-4n, 8],
      [-5n, 9],
      [-6n, 11],
    ];
    for (const [ts, from] of firstVersion) {
      if (from > 1)
        expect((await listOffsets(from - 1, [ts]))[0]!.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
      if (from <= served) expect((await listOffsets(from, [ts]))[0]!.errorCode).toBe(ErrorCode.NONE);
    }
    expect((await listOffsets(served, [-7n]))[0]!.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
  });

  it("Metadata v10-11 with a topic id or a null name: INVALID_REQUEST for every topic, as Kafka (ids are v12's)", async () => {
    const topicId = broker.broker.context.image().topicsByName.get("t")!.topicId;
    const base = {
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    };
    for (const version of [10, 11]) {
      const res = await raw.request(METADATA_API, version, {
        ...base,
        topics: [
          { name: "t", topicId: ZERO_UUID },
          { name: null, topicId },
        ],
      });
      expect(res.brokers).toEqual([]);
      expect(res.controllerId).toBe(-1);
      expect(res.clusterId).toBeNull();
      expect(res.topics).toMatchObject([
        {
          name: "t",
          topicId: ZERO_UUID,
          errorCode: ErrorCode.INVALID_REQUEST,
          isInternal: false,
          partitions: [],
        },
        { name: "", topicId, errorCode: ErrorCode.INVALID_REQUEST, isInternal: false, partitions: [] },
      ]);
      // A name with an id is refused too.
      const both = await raw.request(METADATA_API, version, { ...base, topics: [{ name: "t", topicId }] });
      expect(both.topics).toMatchObject([{ name: "t", topicId, errorCode: ErrorCode.INVALID_REQUEST }]);
    }
    // v12 looks the id up; names alone are still fine at v10-11; the connection kept serving.
    const v12 = await raw.request(METADATA_API, 12, { ...base, topics: [{ name: null, topicId }] });
    expect(v12.topics).toMatchObject([{ name: "t", topicId, errorCode: ErrorCode.NONE }]);
    const byName = await raw.request(METADATA_API, 10, {
      ...base,
      topics: [{ name: "t", topicId: ZERO_UUID }],
    });
    expect(byName.topics).toMatchObject([{ name: "t", topicId, errorCode: ErrorCode.NONE }]);
  });

  it("ListOffsets: a partition named twice is answered once, INVALID_REQUEST", async () => {
    const parts = await listOffsets(7, [-1n, -2n]);
    expect(parts.map((p) => [p.partitionIndex, p.errorCode])).toEqual([[0, ErrorCode.INVALID_REQUEST]]);
  });

  it("SaslHandshake and SaslAuthenticate on a PLAINTEXT listener: ILLEGAL_SASL_STATE, connection kept", async () => {
    for (const version of [0, 1]) {
      const res = await raw.request(SASL_HANDSHAKE_API, version, { mechanism: "PLAIN" });
      expect(res).toEqual({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] });
    }
    for (const version of [0, 1, 2]) {
      const res = await raw.request(SASL_AUTHENTICATE_API, version, { authBytes: Buffer.from("\0u\0p") });
      expect(res.errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    }
    expect(raw.closed).toBe(false);
  });

  it("CreateTopics with 100,000 partitions: POLICY_VIOLATION for every topic of the request", async () => {
    const res = await raw.request(CREATE_TOPICS_API, 7, {
      topics: [
        { name: "huge", numPartitions: 100_000, replicationFactor: 1, assignments: [], configs: [] },
        { name: "small", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 5_000,
      validateOnly: false,
    });
    expect(res.topics.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ["huge", ErrorCode.POLICY_VIOLATION, "Excessively large number of partitions per request."],
      ["small", ErrorCode.POLICY_VIOLATION, "Excessively large number of partitions per request."],
    ]);
    expect(broker.broker.context.image().topicsByName.has("small")).toBe(false);
  });
});
