/**
 * The group keys of the broker configuration as clients see them: a broker started with
 * consumer-protocol settings hands them out in ConsumerGroupHeartbeat, and one without the
 * consumer protocol refuses KIP-848 requests as Kafka does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  CONSUMER_GROUP_DESCRIBE_API,
  CONSUMER_GROUP_HEARTBEAT_API,
  CREATE_TOPICS_API,
  FIND_COORDINATOR_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { RawClient } from "../partitions/raw-client.js";
import { consumerHeartbeat } from "./helpers.js";

describe("group settings on a running broker", () => {
  let tuned: BrokerHandle;
  let classicOnly: BrokerHandle;
  beforeAll(async () => {
    tuned = await startBroker({
      "offsets.topic.num.partitions": 2,
      "group.consumer.heartbeat.interval.ms": 6_000,
      "group.consumer.assignors": "org.apache.kafka.coordinator.group.assignor.RangeAssignor",
    });
    classicOnly = await startBroker({
      "offsets.topic.num.partitions": 2,
      "group.coordinator.rebalance.protocols": "classic",
    });
  });
  afterAll(async () => {
    await tuned?.stop();
    await classicOnly?.stop();
  });

  it("gives KIP-848 members the configured heartbeat interval and default assignor", async () => {
    const raw = await RawClient.connect(tuned.port);
    try {
      await raw.request(CREATE_TOPICS_API, 5, {
        topics: [{ name: "orders", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 5_000,
        validateOnly: false,
      });
      await raw.request(FIND_COORDINATOR_API, 4, { key: "", keyType: 0, coordinatorKeys: ["tuned"] });
      const joined = await raw.request(CONSUMER_GROUP_HEARTBEAT_API, 0, consumerHeartbeat("tuned", "", 0));
      expect(joined.errorCode).toBe(ErrorCode.NONE);
      expect(joined.heartbeatIntervalMs).toBe(6_000);
      const described = await raw.request(CONSUMER_GROUP_DESCRIBE_API, 0, {
        groupIds: ["tuned"],
        includeAuthorizedOperations: false,
      });
      expect(described.groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, assignorName: "range" });
    } finally {
      await raw.close();
    }
  });

  it("refuses KIP-848 requests with UNSUPPORTED_VERSION when only classic is enabled", async () => {
    const raw = await RawClient.connect(classicOnly.port);
    try {
      const joined = await raw.request(CONSUMER_GROUP_HEARTBEAT_API, 0, consumerHeartbeat("modern", "", 0));
      expect(joined.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
      const described = await raw.request(CONSUMER_GROUP_DESCRIBE_API, 0, {
        groupIds: ["modern"],
        includeAuthorizedOperations: false,
      });
      expect(described.groups[0]!.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    } finally {
      await raw.close();
    }
  });
});
