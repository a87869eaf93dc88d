/**
 * 1,000 partitions through kafkajs: create, produce to every partition in one send, list offsets
 * for all, and read them all back in one Fetch (with a session, then an empty incremental fetch).
 */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { FETCH_API } from "../../src/protocol/generated/apis.js";
import { defaultFetchRequest } from "../../src/protocol/generated/fetch-request.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { decodeRecordBatches } from "../../src/protocol/records/record-batch.js";
import { RawClient } from "./partitions/raw-client.js";

const PARTITIONS = 1000;

describe("data path at 1,000 partitions", () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    // Small index preallocation keeps 1,000 partitions' files light.
    broker = await startBroker({ "log.index.size.max.bytes": 65536 });
  });

  // Stopping writes 1,000 producer snapshots and closes 1,000 logs (fsyncs): allow for a slow disk.
  afterAll(async () => {
    await broker?.stop();
  }, 180_000);

  it("produces to, lists and fetches every partition", async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "wide", numPartitions: PARTITIONS }] });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: "wide",
      messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: `p${partition}` })),
    });
    await producer.disconnect();
    const offsets = await admin.fetchTopicOffsets("wide");
    expect(offsets).toHaveLength(PARTITIONS);
    expect(offsets.every((o) => o.high === "1" && o.low === "0")).toBe(true);
    await admin.disconnect();

    const raw = await RawClient.connect(broker.port, broker.host);
    const request = {
      ...defaultFetchRequest(),
      maxBytes: 50 * 1024 * 1024,
      sessionId: 0,
      sessionEpoch: 0,
      topics: [
        {
          topic: "wide",
          topicId: ZERO_UUID,
          partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 1024 * 1024,
            replicaDirectoryId: ZERO_UUID,
            highWatermark: -1n,
          })),
        },
      ],
    };
    const res = await raw.request(FETCH_API, 11, request);
    const parts = res.responses.flatMap((t) => t.partitions);
    expect(parts).toHaveLength(PARTITIONS);
    for (const p of parts) {
      const values = decodeRecordBatches(p.records!, { decompressedBytesMax: 1 << 20 }).flatMap((b) =>
        b.records.map((r) => r.value?.toString()),
      );
      expect(values).toEqual([`p${p.partitionIndex}`]);
    }
    const incremental = await raw.request(FETCH_API, 11, {
      ...defaultFetchRequest(),
      sessionId: res.sessionId,
      sessionEpoch: 1,
      topics: [
        {
          topic: "wide",
          topicId: ZERO_UUID,
          partitions: request.topics[0]!.partitions.map((p) => ({ ...p, fetchOffset: 1n })),
        },
      ],
    });
    expect(incremental.errorCode).toBe(0);
    expect(incremental.responses).toEqual([]);
    await raw.close();
  }, 240_000);
});
