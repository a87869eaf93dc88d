/**
 * DescribeTopicPartitions (75) on the wire: name order, the partition limit and the cursor, and
 * the errors, each case as Apache Kafka 4.4.0 answered it (captured by hand against a broker
 * started by compat-tests/broker.sh: topics dtp-a with 2 partitions and dtp-b with 3).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import { CREATE_TOPICS_API, DESCRIBE_TOPIC_PARTITIONS_API } from "../../../src/protocol/generated/apis.js";
import type { DescribeTopicPartitionsRequest } from "../../../src/protocol/generated/describe-topic-partitions-request.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { TOPIC_OPERATIONS_ALL } from "../../../src/server/handlers/003-metadata.js";
import { RawClient } from "../partitions/raw-client.js";

let broker: BrokerHandle;
let raw: RawClient;

beforeAll(async () => {
  broker = await startBroker({ "num.partitions": 1, "max.request.partition.size.limit": 4 });
  raw = await RawClient.connect(broker.port, broker.host);
  const created = await raw.request(CREATE_TOPICS_API, 7, {
    topics: [
      { name: "dtp-b", numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
      { name: "dtp-a", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] },
    ],
    timeoutMs: 5_000,
    validateOnly: false,
  });
  expect(created.topics.map((t) => t.errorCode)).toEqual([0, 0]);
});

afterAll(async () => {
  await raw?.close();
  await broker?.stop();
});

const describeTopics = (
  names: string[],
  limit: number,
  cursor: DescribeTopicPartitionsRequest["cursor"] = null,
) =>
  raw.request(DESCRIBE_TOPIC_PARTITIONS_API, 0, {
    topics: names.map((name) => ({ name })),
    responsePartitionLimit: limit,
    cursor,
  });

/** Topic name, error and partition indexes of a response, and its next cursor. */
async function page(names: string[], limit: number, cursor: DescribeTopicPartitionsRequest["cursor"] = null) {
  const res = await describeTopics(names, limit, cursor);
  return {
    topics: res.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
    next: res.nextCursor,
  };
}

describe("DescribeTopicPartitions", () => {
  it("lists named topics in name order, up to the limit, with a cursor to the first partition left out", async () => {
    expect(await page(["dtp-b", "dtp-a", "nope", "bad name"], 4)).toEqual({
      topics: [
        ["bad name", ErrorCode.INVALID_TOPIC_EXCEPTION, []],
        ["dtp-a", 0, [0, 1]],
        ["dtp-b", 0, [0, 1]],
      ],
      next: { topicName: "dtp-b", partitionIndex: 2 },
    });
    expect(await page(["dtp-b", "dtp-a"], 4, { topicName: "dtp-b", partitionIndex: 2 })).toEqual({
      topics: [["dtp-b", 0, [2]]],
      next: null,
    });
    expect(await page(["nope"], 4)).toEqual({
      topics: [["nope", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []]],
      next: null,
    });
  });

  it("with no names, lists the existing topics; a page that fills exactly points at the next topic", async () => {
    expect(await page([], 2)).toEqual({
      topics: [["dtp-a", 0, [0, 1]]],
      next: { topicName: "dtp-b", partitionIndex: 0 },
    });
    expect(await page([], 1000, { topicName: "dtp-b", partitionIndex: 1 })).toEqual({
      // The broker's max.request.partition.size.limit (4 here) caps the request's limit.
      topics: [["dtp-b", 0, [1, 2]]],
      next: null,
    });
    // A limit below 1 still describes one partition.
    expect(await page([], 0)).toEqual({
      topics: [["dtp-a", 0, [0]]],
      next: { topicName: "dtp-a", partitionIndex: 1 },
    });
  });

  it("describes each partition as Kafka does: leader, epoch, replicas, ISR, empty ELR lists, operations", async () => {
    const res = await describeTopics(["dtp-a"], 10);
    const nodeId = broker.broker.context.nodeId;
    const topic = res.topics[0]!;
    expect(topic).toMatchObject({
      errorCode: 0,
      topicId: broker.broker.context.image().topicsByName.get("dtp-a")!.topicId,
      isInternal: false,
      topicAuthorizedOperations: TOPIC_OPERATIONS_ALL,
    });
    expect(TOPIC_OPERATIONS_ALL).toBe(3576); // Kafka 4.4's value without an authorizer
    expect(topic.partitions[0]).toEqual({
      errorCode: 0,
      partitionIndex: 0,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: [],
    });
    const missing = await describeTopics(["nope"], 10);
    expect(missing.topics[0]).toMatchObject({
      topicId: ZERO_UUID,
      topicAuthorizedOperations: TOPIC_OPERATIONS_ALL,
    });
  });

  it("INVALID_REQUEST for each named topic when the cursor's topic is not named or its partition is negative", async () => {
    for (const [names, cursor] of [
      [["dtp-a"], { topicName: "dtp-b", partitionIndex: 2 }],
      [["dtp-a"], { topicName: "dtp-a", partitionIndex: -1 }],
    ] as const) {
      const res = await describeTopics([...names], 4, cursor);
      expect(res.topics).toEqual([
        {
          errorCode: ErrorCode.INVALID_REQUEST,
          name: "dtp-a",
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: -2147483648,
        },
      ]);
      expect(res.nextCursor).toBeNull();
    }
    expect(raw.closed).toBe(false);
  });
});
