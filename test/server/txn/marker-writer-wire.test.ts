/**
 * The transaction coordinator's markers to a partition led by another broker: WriteTxnMarkers
 * over the wire (ClusterMarkerWriter) to a real broker started in-process, which appends the
 * marker as that partition's leader and answers once its ISR has it. The coordinator's side is
 * a node the image does not name as the partition's leader.
 */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import type { BrokerCore } from "../../../src/server/services.js";
import { ClusterMarkerWriter } from "../../../src/server/txn/coordinator-service.js";

describe("transaction markers to another broker (WriteTxnMarkers over the wire)", () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({});
    const admin = new Kafka({
      clientId: "markers",
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 },
    }).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "marked", numPartitions: 1 }] });
    } finally {
      await admin.disconnect();
    }
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it("writes a marker at the partition's leader, and reports the leader's refusal", async () => {
    const context = broker.broker.context;
    const leader = context.image().topicsByName.get("marked")!.partitions[0]!.leader;
    expect(leader).toBe(context.nodeId);
    // The coordinator is another node: every partition of the image is remote to it.
    const coordinatorNode = {
      nodeId: context.nodeId + 1,
      config: context.config,
      image: () => context.image(),
      logger: broker.broker.logger,
    } as unknown as BrokerCore;
    const writer = new ClusterMarkerWriter(coordinatorNode, context.partitions);
    try {
      const partition = context.partitions.held("marked", 0)!;
      const before = partition.logEndOffset;
      const marker = {
        topic: "marked",
        partition: 0,
        producerId: 4242n,
        producerEpoch: 0,
        commit: false,
        transactionVersion: 0,
      };
      expect(await writer.writeMarker({ ...marker, coordinatorEpoch: 3 })).toBe(ErrorCode.NONE);
      expect(partition.logEndOffset).toBe(before + 1);
      // An older coordinator epoch is fenced by the leader's producer state.
      expect(await writer.writeMarker({ ...marker, coordinatorEpoch: 2 })).toBe(
        ErrorCode.TRANSACTION_COORDINATOR_FENCED,
      );
      expect(partition.logEndOffset).toBe(before + 1);
      // A partition the image does not know: answered at once, nothing sent.
      expect(await writer.writeMarker({ ...marker, topic: "absent", coordinatorEpoch: 3 })).toBe(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
    } finally {
      writer.close();
    }
  }, 60_000);
});
