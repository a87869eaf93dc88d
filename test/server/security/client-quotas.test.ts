import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  ALTER_CLIENT_QUOTAS_API,
  CREATE_TOPICS_API,
  DESCRIBE_CLIENT_QUOTAS_API,
  FETCH_API,
  PRODUCE_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { defaultFetchRequest } from "../../../src/protocol/generated/fetch-request.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { RawClient } from "../partitions/raw-client.js";

const CLIENT_ID = "raw-client"; // RawClient's client id

function entry(entity: Record<string, string | null>, ops: Record<string, number | null>) {
  return {
    entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
    ops: Object.entries(ops).map(([key, value]) => ({ key, value: value ?? 0, remove: value === null })),
  };
}

const dirs: string[] = [];
const brokers: BrokerHandle[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const b of brokers.splice(0)) await b.stop();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<{ broker: BrokerHandle; raw: RawClient }> {
  const broker = await startBroker({ "log.dirs": dataDir, listeners: "PLAINTEXT://127.0.0.1:0" });
  brokers.push(broker);
  const raw = await RawClient.connect(broker.port, broker.host);
  clients.push(raw);
  return { broker, raw };
}

describe("client quotas", () => {
  it("stores quotas with Kafka's validation, describes them by filter, and keeps them across a restart", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-quotas-"));
    dirs.push(dataDir);
    const { raw } = await start(dataDir);
    const altered = await raw.request(ALTER_CLIENT_QUOTAS_API, 1, {
      entries: [
        entry({ user: "alice" }, { producer_byte_rate: 1048576, request_percentage: 50.5 }),
        entry({ user: "alice", "client-id": null }, { consumer_byte_rate: 2048 }),
        entry({ "client-id": null }, { controller_mutation_rate: 10 }),
        entry({ user: "bob" }, { producer_byte_rate: 1.5 }),
        entry({ user: "carol" }, { producer_byte_rate: 0 }),
        entry({ user: "dave" }, { "not.a.quota": 1 }),
        entry({ user: "erin" }, { producer_byte_rate: 1, consumer_byte_rate: 1, producer_byte_rate_: 1 }),
        entry({ ip: "10.0.0.1" }, { connection_creation_rate: 5 }),
        entry({ group: "g" }, { producer_byte_rate: 1 }),
        entry({ user: "" }, { producer_byte_rate: 1 }),
      ],
      validateOnly: false,
    });
    const byEntity = new Map(
      altered.entries.map((e) => [e.entity.map((c) => `${c.entityType}=${c.entityName}`).join(","), e]),
    );
    expect(byEntity.get("user=alice")?.errorCode).toBe(ErrorCode.NONE);
    expect(byEntity.get("user=alice,client-id=null")?.errorCode).toBe(ErrorCode.NONE);
    expect(byEntity.get("client-id=null")?.errorCode).toBe(ErrorCode.NONE);
    expect(byEntity.get("user=bob")?.errorMessage).toBe("producer_byte_rate cannot be a fractional value.");
    expect(byEntity.get("user=carol")?.errorMessage).toBe("Quota producer_byte_rate must be greater than 0");
    expect(byEntity.get("user=dave")?.errorMessage).toBe("Invalid configuration key not.a.quota");
    expect(byEntity.get("user=erin")?.errorMessage).toBe("Invalid configuration key producer_byte_rate_");
    expect(byEntity.get("ip=10.0.0.1")?.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(byEntity.get("ip=10.0.0.1")?.errorMessage).toContain("does not enforce IP quotas");
    expect(byEntity.get("group=g")?.errorMessage).toBe("Unhandled client quota entity type: group");
    expect(byEntity.get("user=")?.errorMessage).toBe("Empty user not supported");

    const validateOnly = await raw.request(ALTER_CLIENT_QUOTAS_API, 1, {
      entries: [entry({ user: "frank" }, { producer_byte_rate: 100 })],
      validateOnly: true,
    });
    expect(validateOnly.entries[0]!.errorCode).toBe(ErrorCode.NONE);

    const describe = (
      components: { entityType: string; matchType: number; match: string | null }[],
      strict = false,
    ) => raw.request(DESCRIBE_CLIENT_QUOTAS_API, 1, { components, strict });
    const users = await describe([{ entityType: "user", matchType: 2, match: null }]);
    expect(users.errorCode).toBe(ErrorCode.NONE);
    expect(users.entries).toHaveLength(2); // alice, and alice with the default client id; not frank
    const aliceOnly = await describe([{ entityType: "user", matchType: 0, match: "alice" }], true);
    expect(aliceOnly.entries).toHaveLength(1);
    expect(new Map(aliceOnly.entries![0]!.values.map((v) => [v.key, v.value]))).toEqual(
      new Map([
        ["producer_byte_rate", 1048576],
        ["request_percentage", 50.5],
      ]),
    );
    const defaultClient = await describe([{ entityType: "client-id", matchType: 1, match: null }], true);
    expect(defaultClient.entries).toHaveLength(1);
    expect(defaultClient.entries![0]!.values).toEqual([{ key: "controller_mutation_rate", value: 10 }]);
    const bad = await describe([{ entityType: "user", matchType: 0, match: null }]);
    expect(bad.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(bad.errorMessage).toBe("Request specified MATCH_TYPE_EXACT, but set match string to null.");
    const mixed = await describe([
      { entityType: "ip", matchType: 2, match: null },
      { entityType: "user", matchType: 2, match: null },
    ]);
    expect(mixed.errorCode).toBe(ErrorCode.INVALID_REQUEST);

    // Removing a key writes a removal; the entity disappears with its last key.
    const removed = await raw.request(ALTER_CLIENT_QUOTAS_API, 1, {
      entries: [entry({ "client-id": null }, { controller_mutation_rate: null })],
      validateOnly: false,
    });
    expect(removed.entries[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(
      (await describe([{ entityType: "client-id", matchType: 1, match: null }], true)).entries,
    ).toHaveLength(0);
    // Not strict: also the entities that have the default client id beside a user.
    expect((await describe([{ entityType: "client-id", matchType: 1, match: null }])).entries).toHaveLength(
      1,
    );

    // The quotas are metadata records: a restart replays them.
    await clients.pop()!.close();
    await brokers.pop()!.stop();
    const again = await start(dataDir);
    const afterRestart = await again.raw.request(DESCRIBE_CLIENT_QUOTAS_API, 1, {
      components: [],
      strict: false,
    });
    expect(afterRestart.entries).toHaveLength(2);
  }, 60_000);

  it("throttles a producer over producer_byte_rate and a consumer over consumer_byte_rate (throttle_time_ms)", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-quotas-"));
    dirs.push(dataDir);
    const { broker, raw } = await start(dataDir);
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "throttled", numPartitions: 1 }] });
    await admin.disconnect();
    const set = await raw.request(ALTER_CLIENT_QUOTAS_API, 1, {
      entries: [entry({ "client-id": CLIENT_ID }, { producer_byte_rate: 1000, consumer_byte_rate: 1000 })],
      validateOnly: false,
    });
    expect(set.entries[0]!.errorCode).toBe(ErrorCode.NONE);

    // 1000 bytes/s over Kafka's 11 one-second windows lets about 10,000 bytes through at first.
    const records = buildRecordBatch({
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      records: [{ timestamp: Date.now(), key: null, value: Buffer.alloc(20_000, 1) }],
    });
    const produced = await raw.request(PRODUCE_API, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 30_000,
      topicData: [{ name: "throttled", topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
    });
    // Appended, then throttled: ~20,000 bytes over a 10 s window is twice the quota.
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(produced.throttleTimeMs).toBeGreaterThan(5_000);
    expect(produced.throttleTimeMs).toBeLessThanOrEqual(11_000);

    const consumer = await RawClient.connect(broker.port, broker.host);
    clients.push(consumer);
    const fetched = await consumer.request(FETCH_API, 12, {
      ...defaultFetchRequest(),
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      topics: [
        {
          topic: "throttled",
          topicId: ZERO_UUID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 0n,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1 << 20,
              replicaDirectoryId: ZERO_UUID,
              highWatermark: -1n,
            },
          ],
        },
      ],
    });
    // Over the quota: an empty response with the throttle time, as Kafka answers.
    expect(fetched.errorCode).toBe(ErrorCode.NONE);
    expect(fetched.throttleTimeMs).toBeGreaterThan(5_000);
    expect(fetched.responses).toHaveLength(0);
  }, 60_000);

  it("refuses topic creation over controller_mutation_rate with THROTTLING_QUOTA_EXCEEDED (v6+)", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-quotas-"));
    dirs.push(dataDir);
    const { broker, raw } = await start(dataDir);
    await raw.request(ALTER_CLIENT_QUOTAS_API, 1, {
      entries: [entry({ "client-id": null }, { controller_mutation_rate: 1 })],
      validateOnly: false,
    });
    const create = (c: RawClient, name: string, numPartitions: number) =>
      c.request(CREATE_TOPICS_API, 7, {
        topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 30_000,
        validateOnly: false,
      });
    // The bucket holds 11 tokens (11 windows of 1 s at 1/s): 20 partitions take it below zero.
    const first = await create(raw, "mutations-a", 20);
    expect(first.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    const other = await RawClient.connect(broker.port, broker.host);
    clients.push(other);
    const second = await create(other, "mutations-b", 1);
    expect(second.topics[0]!.errorCode).toBe(ErrorCode.THROTTLING_QUOTA_EXCEEDED);
    expect(second.topics[0]!.errorMessage).toBe("The throttling quota has been exceeded.");
    // About 9 s until the bucket is back at zero.
    expect(second.throttleTimeMs).toBeGreaterThan(5_000);
    expect(second.throttleTimeMs).toBeLessThanOrEqual(9_000);
  }, 60_000);
});
