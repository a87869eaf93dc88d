import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  type ApiDescriptor,
  CREATE_TOPICS_API,
  DELETE_TOPICS_API,
  DESCRIBE_CLUSTER_API,
  METADATA_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { body, type Client, client, request } from "../wire.js";

let broker: BrokerHandle;
let c: Client;
let correlationId = 0;

async function call<Req, Res>(api: ApiDescriptor<Req, Res>, version: number, req: Req): Promise<Res> {
  const id = ++correlationId;
  c.socket.write(request(api as ApiDescriptor<Req, unknown>, version, id, req));
  const frame = await c.next();
  expect(frame.readInt32BE(0)).toBe(id);
  return api.decodeResponse(body(frame, api as ApiDescriptor<unknown, unknown>, version), version);
}

const metadataRequest = (topics: { name: string | null; topicId?: string }[] | null, extra = {}) => ({
  topics: topics?.map((t) => ({ name: t.name, topicId: t.topicId ?? ZERO_UUID })) ?? null,
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
  ...extra,
});

beforeAll(async () => {
  broker = await startBroker({ "num.partitions": 2, "offsets.topic.num.partitions": 3 });
  c = await client(broker.port);
});

afterAll(async () => {
  c?.socket.destroy();
  await broker?.stop();
});

describe("CreateTopics and DeleteTopics on the wire", () => {
  it("v7 returns the topic id, counts and effective configs; v2 the error only", async () => {
    const res = await call(CREATE_TOPICS_API, 7, {
      topics: [
        {
          name: "wire-a",
          numPartitions: 3,
          replicationFactor: -1,
          assignments: [],
          configs: [{ name: "retention.ms", value: "60000" }],
        },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const t = res.topics[0]!;
    expect(t).toMatchObject({ name: "wire-a", errorCode: 0, numPartitions: 3, replicationFactor: 1 });
    expect(t.topicId).not.toBe(ZERO_UUID);
    expect(t.configs?.find((e) => e.name === "retention.ms")).toMatchObject({
      value: "60000",
      configSource: 1,
    });
    expect(t.configs?.find((e) => e.name === "segment.bytes")).toMatchObject({
      value: "1073741824",
      configSource: 5,
    });
    const again = await call(CREATE_TOPICS_API, 2, {
      topics: [{ name: "wire-a", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(again.topics[0]).toMatchObject({
      errorCode: ErrorCode.TOPIC_ALREADY_EXISTS,
      errorMessage: "Topic 'wire-a' already exists.",
    });
  });

  it("v6 deletes by id, refuses name and id together, and reports unknown ids", async () => {
    const created = await call(CREATE_TOPICS_API, 7, {
      topics: [{ name: "wire-del", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const id = created.topics[0]!.topicId;
    const res = await call(DELETE_TOPICS_API, 6, {
      topics: [
        { name: null, topicId: id },
        { name: "x", topicId: id },
        { name: null, topicId: "AAAAAAAAAAAAAAAAAAAAAg" },
      ],
      topicNames: [],
      timeoutMs: 1000,
    });
    expect(res.responses.map((r) => [r.name, r.errorCode])).toEqual([
      ["wire-del", 0],
      [null, ErrorCode.UNKNOWN_TOPIC_ID],
      ["x", ErrorCode.INVALID_REQUEST],
    ]);
    const gone = await call(METADATA_API, 12, metadataRequest([{ name: null, topicId: id }]));
    expect(gone.topics[0]).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null });
  });
});

describe("Metadata on the wire", () => {
  it("looks topics up by id (v10+) and by name, with leader epochs and no auth ops unless asked", async () => {
    const byName = await call(METADATA_API, 12, metadataRequest([{ name: "wire-a" }]));
    const t = byName.topics[0]!;
    expect(t.errorCode).toBe(0);
    expect(t.partitions.map((p) => [p.partitionIndex, p.leaderId, p.leaderEpoch])).toEqual([
      [0, 1, 0],
      [1, 1, 0],
      [2, 1, 0],
    ]);
    expect(t.topicAuthorizedOperations).toBe(-2147483648);
    const byId = await call(
      METADATA_API,
      12,
      metadataRequest([{ name: null, topicId: t.topicId }], { includeTopicAuthorizedOperations: true }),
    );
    expect(byId.topics[0]!.name).toBe("wire-a");
    expect(byId.topics[0]!.topicAuthorizedOperations).toBeGreaterThan(0);
    expect(byId.clusterId).toBe(broker.broker.context.clusterId);
    expect(byId.brokers).toEqual([{ nodeId: 1, host: broker.host, port: broker.port, rack: null }]);
  });

  it("v0 treats an empty list as all topics; v1+ null as all and empty as none", async () => {
    const v0 = await call(METADATA_API, 0, metadataRequest([], { allowAutoTopicCreation: true }));
    expect(v0.topics.map((t) => t.name)).toContain("wire-a");
    const none = await call(METADATA_API, 1, metadataRequest([], { allowAutoTopicCreation: true }));
    expect(none.topics).toEqual([]);
    const all = await call(METADATA_API, 1, metadataRequest(null, { allowAutoTopicCreation: true }));
    expect(all.topics.map((t) => t.name)).toContain("wire-a");
  });

  it("auto-creates only when allowed, flags bad names, and creates internal topics with Kafka's settings", async () => {
    const notAllowed = await call(METADATA_API, 12, metadataRequest([{ name: "auto-no" }]));
    expect(notAllowed.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const allowed = await call(
      METADATA_API,
      12,
      metadataRequest([{ name: "auto-yes" }, { name: "bad name" }], { allowAutoTopicCreation: true }),
    );
    expect(allowed.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([
      ["auto-yes", 0, 2],
      ["bad name", ErrorCode.INVALID_TOPIC_EXCEPTION, 0],
    ]);
    // v3 and older always allow auto-creation (the field, default true, only exists from v4).
    const old = await call(
      METADATA_API,
      3,
      metadataRequest([{ name: "auto-v3" }], { allowAutoTopicCreation: true }),
    );
    expect(old.topics[0]!.errorCode).toBe(0);
    const internal = await call(
      METADATA_API,
      12,
      metadataRequest([{ name: "__consumer_offsets" }], { allowAutoTopicCreation: true }),
    );
    expect(internal.topics[0]).toMatchObject({ errorCode: 0, isInternal: true });
    expect(internal.topics[0]!.partitions).toHaveLength(3);
    expect(broker.broker.context.image().topicConfigs("__consumer_offsets").get("cleanup.policy")).toBe(
      "compact",
    );
  });

  it("DescribeCluster v1 refuses the controllers endpoint type on a broker listener, as Kafka 4.4", async () => {
    const res = await call(DESCRIBE_CLUSTER_API, 1, {
      includeClusterAuthorizedOperations: false,
      endpointType: 2,
      includeFencedBrokers: false,
    });
    expect(res).toMatchObject({
      errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE,
      errorMessage:
        "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
    });
    const unknown = await call(DESCRIBE_CLUSTER_API, 1, {
      includeClusterAuthorizedOperations: false,
      endpointType: 3,
      includeFencedBrokers: false,
    });
    expect(unknown.errorCode).toBe(ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
    const ok = await call(DESCRIBE_CLUSTER_API, 1, {
      includeClusterAuthorizedOperations: true,
      endpointType: 1,
      includeFencedBrokers: false,
    });
    expect(ok.errorCode).toBe(0);
    expect(ok.brokers).toHaveLength(1);
    // A random live broker, as Kafka names the controller to clients in KRaft: here the only one.
    expect(ok.controllerId).toBe(ok.brokers[0]!.brokerId);
    expect(ok.clusterAuthorizedOperations).toBeGreaterThan(0);
  });
});
