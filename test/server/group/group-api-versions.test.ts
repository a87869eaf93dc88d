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
  OFFSET_COMMIT_API,
  OFFSET_FETCH_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
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
    // KIP-896: Kafka 4 serves OffsetCommit from v2 and OffsetFetch from v1.
    expect(range(OFFSET_COMMIT_API.apiKey)).toEqual([2, 10]);
    expect(range(OFFSET_FETCH_API.apiKey)).toEqual([1, 10]);
  });

  it("OffsetCommit and OffsetFetch v10 name topics by id; an unknown id is UNKNOWN_TOPIC_ID", async () => {
    const created = await raw.request(CREATE_TOPICS_API, 7, {
      topics: [{ name: "by-id", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    const topicId = created.topics[0]!.topicId;
    expect(topicId).not.toBe(ZERO_UUID);
    const unknownId = "AAAAAAAAAAAAAAAAAAAAAQ";
    const partition = (partitionIndex: number, offset: bigint) => ({
      partitionIndex,
      committedOffset: offset,
      committedLeaderEpoch: -1,
      committedMetadata: "m",
    });
    const commit = await raw.request(OFFSET_COMMIT_API, 10, {
      groupId: "g-ids",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        { name: "", topicId, partitions: [partition(0, 11n), partition(5, 1n)] },
        { name: "", topicId: unknownId, partitions: [partition(0, 1n)] },
      ],
    });
    expect(commit.topics.map((t) => [t.topicId, t.partitions.map((p) => p.errorCode)])).toEqual([
      [topicId, [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
      [unknownId, [ErrorCode.UNKNOWN_TOPIC_ID]],
    ]);
    const fetch = (topics: { name: string; topicId: string; partitionIndexes: number[] }[] | null) =>
      raw.request(OFFSET_FETCH_API, 10, {
        groupId: "",
        topics: [],
        groups: [{ groupId: "g-ids", memberId: null, memberEpoch: -1, topics }],
        requireStable: false,
      });
    const asked = (
      await fetch([
        { name: "", topicId, partitionIndexes: [0, 1] },
        { name: "", topicId: unknownId, partitionIndexes: [0] },
      ])
    ).groups[0]!;
    expect(asked.errorCode).toBe(ErrorCode.NONE);
    expect(
      asked.topics.map((t) => [t.topicId, t.partitions.map((p) => [p.committedOffset, p.errorCode])]),
    ).toEqual([
      [
        topicId,
        [
          [11n, ErrorCode.NONE],
          [-1n, ErrorCode.NONE],
        ],
      ],
      [unknownId, [[-1n, ErrorCode.UNKNOWN_TOPIC_ID]]],
    ]);
    const all = (await fetch(null)).groups[0]!;
    expect(all.topics.map((t) => [t.topicId, t.partitions.map((p) => p.committedOffset)])).toEqual([
      [topicId, [11n]],
    ]);
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
