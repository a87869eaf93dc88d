/**
 * OffsetFetch require_stable (KIP-447) against a broker in-process: while a transaction holds an
 * offset for the group, a stable fetch answers UNSTABLE_OFFSET_COMMIT for that partition; once it
 * commits, the offset is visible.
 */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import { FIND_COORDINATOR_API, OFFSET_FETCH_API } from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { RawClient } from "../partitions/raw-client.js";

describe("OffsetFetch require_stable", () => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    broker = await startBroker({
      "offsets.topic.num.partitions": 3,
      "transaction.state.log.num.partitions": 3,
    });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("answers UNSTABLE_OFFSET_COMMIT while a transaction holds the offset", async () => {
    const kafka = new Kafka({ clientId: "stable", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "stable", numPartitions: 1 }] });
    const raw = await RawClient.connect(broker.port);
    try {
      const found = await raw.request(FIND_COORDINATOR_API, 3, {
        key: "g-stable",
        keyType: 0,
        coordinatorKeys: [],
      });
      expect(found.errorCode).toBe(ErrorCode.NONE);
      const fetch = async (requireStable: boolean) => {
        const r = await raw.request(OFFSET_FETCH_API, 7, {
          groupId: "g-stable",
          topics: [{ name: "stable", partitionIndexes: [0] }],
          groups: [],
          requireStable,
        });
        return r.topics[0]!.partitions[0]!;
      };
      const producer = kafka.producer({
        transactionalId: "tx-stable",
        maxInFlightRequests: 1,
        idempotent: true,
      });
      await producer.connect();
      const txn = await producer.transaction();
      await txn.send({ topic: "stable", messages: [{ value: "x" }] });
      await txn.sendOffsets({
        consumerGroupId: "g-stable",
        topics: [{ topic: "stable", partitions: [{ partition: 0, offset: "5" }] }],
      });
      expect((await fetch(true)).errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
      const unstable = await fetch(false);
      expect(unstable.errorCode).toBe(ErrorCode.NONE);
      expect(unstable.committedOffset).toBe(-1n);
      await txn.commit();
      const stable = await fetch(true);
      expect(stable.errorCode).toBe(ErrorCode.NONE);
      expect(stable.committedOffset).toBe(5n);
      await producer.disconnect();
    } finally {
      await raw.close();
      await admin.disconnect();
    }
  }, 60_000);
});
