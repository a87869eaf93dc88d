/**
 * A freshly started broker has no __consumer_offsets: group reads answer at once, as Kafka's do
 * (empty lists, -1 offsets), without creating the topic; FindCoordinator creates it.
 */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  DESCRIBE_GROUPS_API,
  FIND_COORDINATOR_API,
  HEARTBEAT_API,
  LIST_GROUPS_API,
  OFFSET_FETCH_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { RawClient } from "../partitions/raw-client.js";

describe("group requests on a fresh broker", () => {
  let broker: BrokerHandle;
  let raw: RawClient;
  beforeAll(async () => {
    broker = await startBroker({ "offsets.topic.num.partitions": 4 });
    raw = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    await raw?.close();
    await broker?.stop();
  });

  it("answers ListGroups, DescribeGroups and OffsetFetch at once, and FindCoordinator creates the topic", async () => {
    const hasTopic = () => broker.broker.context.image().topicsByName.has("__consumer_offsets");
    const list = await raw.request(LIST_GROUPS_API, 2, { statesFilter: [], typesFilter: [] });
    expect(list).toMatchObject({ errorCode: ErrorCode.NONE, groups: [] });
    const described = await raw.request(DESCRIBE_GROUPS_API, 2, {
      groups: ["g"],
      includeAuthorizedOperations: false,
    });
    expect(described.groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, groupState: "Dead" });
    const fetched = await raw.request(OFFSET_FETCH_API, 5, {
      groupId: "g",
      topics: [{ name: "t", partitionIndexes: [0] }],
      groups: [],
      requireStable: false,
    });
    expect(fetched.errorCode).toBe(ErrorCode.NONE);
    expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe(-1n);
    expect(
      (
        await raw.request(HEARTBEAT_API, 1, {
          groupId: "g",
          generationId: 1,
          memberId: "m",
          groupInstanceId: null,
        })
      ).errorCode,
    ).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(hasTopic()).toBe(false);

    const found = await raw.request(FIND_COORDINATOR_API, 4, {
      key: "",
      keyType: 0,
      coordinatorKeys: ["g", "h"],
    });
    expect(found.coordinators.map((c) => [c.key, c.errorCode, c.nodeId, c.port])).toEqual([
      ["g", 0, broker.broker.context.nodeId, broker.port],
      ["h", 0, broker.broker.context.nodeId, broker.port],
    ]);
    expect(hasTopic()).toBe(true);
    expect(broker.broker.context.image().topicsByName.get("__consumer_offsets")!.partitions).toHaveLength(4);
    const shareKey = await raw.request(FIND_COORDINATOR_API, 6, {
      key: "",
      keyType: 2,
      coordinatorKeys: ["s"],
    });
    expect(shareKey.coordinators[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  }, 60_000);

  it("deleting a topic deletes the groups' offsets for it", async () => {
    const kafka = new Kafka({ clientId: "fresh", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "doomed", numPartitions: 2 }] });
      await admin.setOffsets({
        groupId: "keeper",
        topic: "doomed",
        partitions: [{ partition: 1, offset: "7" }],
      });
      const before = await admin.fetchOffsets({ groupId: "keeper" });
      expect(before.map((t) => t.topic)).toEqual(["doomed"]);
      await admin.deleteTopics({ topics: ["doomed"] });
      const deadline = Date.now() + 10_000;
      let after = await admin.fetchOffsets({ groupId: "keeper" });
      while (after.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        after = await admin.fetchOffsets({ groupId: "keeper" });
      }
      expect(after).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  }, 60_000);
});
