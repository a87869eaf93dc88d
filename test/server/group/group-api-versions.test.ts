/**
 * Group APIs at Kafka 4.4.0's versions, on the wire against a broker in-process: ApiVersions
 * advertises them, and each new version answers as Kafka 4.4 does (DescribeGroups v6's
 * GROUP_ID_NOT_FOUND, DeleteGroups v3's error message, ConsumerGroupDescribe v1's member type).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  API_VERSIONS_API,
  CONSUMER_GROUP_DESCRIBE_API,
  CONSUMER_GROUP_HEARTBEAT_API,
  CREATE_TOPICS_API,
  DELETE_GROUPS_API,
  DESCRIBE_GROUPS_API,
  FIND_COORDINATOR_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { RawClient } from "../partitions/raw-client.js";

describe("group APIs at Kafka 4.4.0's versions", () => {
  let broker: BrokerHandle;
  let raw: RawClient;

  beforeAll(async () => {
    broker = await startBroker({ "offsets.topic.num.partitions": 2 });
    raw = await RawClient.connect(broker.port);
    for (let attempt = 0; attempt < 50; attempt++) {
      const found = await raw.request(FIND_COORDINATOR_API, 3, { key: "g", keyType: 0, coordinatorKeys: [] });
      if (found.errorCode === ErrorCode.NONE) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("no group coordinator");
  });
  afterAll(async () => {
    await raw?.close();
    await broker?.stop();
  });

  it("ApiVersions advertises DescribeGroups 0-6, DeleteGroups 0-3, ConsumerGroupDescribe 0-1", async () => {
    const r = await raw.request(API_VERSIONS_API, 3, {
      clientSoftwareName: "test",
      clientSoftwareVersion: "1",
      clusterId: null,
      nodeId: -1,
    });
    const range = (apiKey: number) => {
      const a = r.apiKeys.find((k) => k.apiKey === apiKey);
      return a === undefined ? undefined : [a.minVersion, a.maxVersion];
    };
    expect(range(DESCRIBE_GROUPS_API.apiKey)).toEqual([0, 6]);
    expect(range(DELETE_GROUPS_API.apiKey)).toEqual([0, 3]);
    expect(range(CONSUMER_GROUP_DESCRIBE_API.apiKey)).toEqual([0, 1]);
  });

  it("DescribeGroups v6 answers a missing group GROUP_ID_NOT_FOUND; v5 describes it Dead", async () => {
    const describe = (version: number) =>
      raw.request(DESCRIBE_GROUPS_API, version, { groups: ["missing"], includeAuthorizedOperations: false });
    const v6 = (await describe(6)).groups[0]!;
    expect(v6.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect(v6.errorMessage).toBe("Group missing not found.");
    expect(v6.groupState).toBe("Dead");
    const v5 = (await describe(5)).groups[0]!;
    expect(v5.errorCode).toBe(ErrorCode.NONE);
    expect(v5.groupState).toBe("Dead");
  });

  it("DeleteGroups v3 answers per group with a null error message", async () => {
    const r = await raw.request(DELETE_GROUPS_API, 3, { groupsNames: ["missing"] });
    expect(r.results).toEqual([
      expect.objectContaining({
        groupId: "missing",
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: null,
      }),
    ]);
  });

  it("ConsumerGroupDescribe v1 gives each member of a consumer group member type 1", async () => {
    const created = await raw.request(CREATE_TOPICS_API, 5, {
      topics: [{ name: "described", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    const joined = await raw.request(CONSUMER_GROUP_HEARTBEAT_API, 0, {
      groupId: "kip848",
      memberId: "",
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: ["described"],
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [],
    });
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    const r = await raw.request(CONSUMER_GROUP_DESCRIBE_API, 1, {
      groupIds: ["kip848"],
      includeAuthorizedOperations: false,
    });
    const group = r.groups[0]!;
    expect(group.errorCode).toBe(ErrorCode.NONE);
    expect(group.members.map((m) => [m.memberId, m.memberType])).toEqual([[joined.memberId, 1]]);
  });
});
