/**
 * Offsets for partitions that do not exist (issue 19 item 3), against a broker in-process: Kafka's
 * KafkaApis answers UNKNOWN_TOPIC_OR_PARTITION for every partition its metadata does not hold and
 * stores nothing for it, for OffsetCommit and TxnOffsetCommit alike; a request naming only such
 * partitions does not create the group. group.max.offsets bounds what one group holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  ADD_OFFSETS_TO_TXN_API,
  CREATE_TOPICS_API,
  END_TXN_API,
  FIND_COORDINATOR_API,
  INIT_PRODUCER_ID_API,
  LIST_GROUPS_API,
  OFFSET_COMMIT_API,
  OFFSET_FETCH_API,
  TXN_OFFSET_COMMIT_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import type { OffsetCommitRequestPartition } from "../../../src/protocol/generated/offset-commit-request.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { RawClient } from "../partitions/raw-client.js";

const TOPIC = "one-partition";

function partitions(count: number, offset = 7n): OffsetCommitRequestPartition[] {
  return Array.from({ length: count }, (_, partitionIndex) => ({
    partitionIndex,
    committedOffset: offset,
    committedLeaderEpoch: -1,
    committedMetadata: "",
  }));
}

describe("offsets for partitions that do not exist", () => {
  let broker: BrokerHandle;
  let raw: RawClient;

  beforeAll(async () => {
    broker = await startBroker({
      "offsets.topic.num.partitions": 3,
      "transaction.state.log.num.partitions": 3,
      "group.max.offsets": 3,
    });
    raw = await RawClient.connect(broker.port);
    const created = await raw.request(CREATE_TOPICS_API, 5, {
      topics: [
        { name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: "four", numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    for (const t of created.topics) expect(t.errorCode).toBe(ErrorCode.NONE);
  });
  afterAll(async () => {
    await raw?.close();
    await broker?.stop();
  });

  async function findCoordinator(key: string, keyType: number): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const found = await raw.request(FIND_COORDINATOR_API, 3, { key, keyType, coordinatorKeys: [] });
      if (found.errorCode === ErrorCode.NONE) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no coordinator for ${key}`);
  }

  async function committed(groupId: string) {
    const r = await raw.request(OFFSET_FETCH_API, 7, {
      groupId,
      topics: null,
      groups: [],
      requireStable: false,
    });
    expect(r.errorCode).toBe(ErrorCode.NONE);
    return r.topics.flatMap((t) =>
      t.partitions.map((p) => `${t.name}-${p.partitionIndex}=${p.committedOffset}`),
    );
  }

  it("OffsetCommit for 100,000 partitions of a one-partition topic stores only partition 0", async () => {
    await findCoordinator("g-many", 0);
    const r = await raw.request(OFFSET_COMMIT_API, 8, {
      groupId: "g-many",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        { name: TOPIC, topicId: ZERO_UUID, partitions: partitions(100_000) },
        { name: "missing", topicId: ZERO_UUID, partitions: partitions(2) },
      ],
    });
    const byCode = new Map<number, number>();
    for (const t of r.topics)
      for (const p of t.partitions) byCode.set(p.errorCode, (byCode.get(p.errorCode) ?? 0) + 1);
    expect(r.topics[0]!.partitions[0]).toEqual(expect.objectContaining({ partitionIndex: 0, errorCode: 0 }));
    expect(byCode.get(ErrorCode.NONE)).toBe(1);
    expect(byCode.get(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)).toBe(100_001);
    expect(r.topics.map((t) => t.name)).toEqual([TOPIC, "missing"]);
    expect(await committed("g-many")).toEqual([`${TOPIC}-0=7`]);
  }, 60_000);

  it("a commit naming only partitions that do not exist leaves no group behind", async () => {
    await findCoordinator("g-ghost", 0);
    const r = await raw.request(OFFSET_COMMIT_API, 8, {
      groupId: "g-ghost",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [{ name: TOPIC, topicId: ZERO_UUID, partitions: partitions(3).slice(1) }],
    });
    expect(r.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    const groups = await raw.request(LIST_GROUPS_API, 4, { statesFilter: [], typesFilter: [] });
    expect(groups.groups.map((g) => g.groupId)).not.toContain("g-ghost");
  });

  it("group.max.offsets: partitions beyond it get GROUP_MAX_SIZE_REACHED, stored ones still update", async () => {
    await findCoordinator("g-bounded", 0);
    const commit = (offset: bigint) =>
      raw.request(OFFSET_COMMIT_API, 8, {
        groupId: "g-bounded",
        generationIdOrMemberEpoch: -1,
        memberId: "",
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [{ name: "four", topicId: ZERO_UUID, partitions: partitions(4, offset) }],
      });
    const first = await commit(1n);
    expect(first.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([
      ErrorCode.NONE,
      ErrorCode.NONE,
      ErrorCode.NONE,
      ErrorCode.GROUP_MAX_SIZE_REACHED,
    ]);
    const second = await commit(2n);
    expect(second.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([
      ErrorCode.NONE,
      ErrorCode.NONE,
      ErrorCode.NONE,
      ErrorCode.GROUP_MAX_SIZE_REACHED,
    ]);
    expect(await committed("g-bounded")).toEqual(["four-0=2", "four-1=2", "four-2=2"]);
  });

  it("TxnOffsetCommit answers UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist", async () => {
    const transactionalId = "tx-offsets";
    await findCoordinator(transactionalId, 1);
    await findCoordinator("g-txn", 0);
    const init = await raw.request(INIT_PRODUCER_ID_API, 4, {
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
      enable2Pc: false,
      keepPreparedTxn: false,
    });
    expect(init.errorCode).toBe(ErrorCode.NONE);
    const { producerId, producerEpoch } = init;
    const added = await raw.request(ADD_OFFSETS_TO_TXN_API, 3, {
      transactionalId,
      producerId,
      producerEpoch,
      groupId: "g-txn",
    });
    expect(added.errorCode).toBe(ErrorCode.NONE);
    const r = await raw.request(TXN_OFFSET_COMMIT_API, 3, {
      transactionalId,
      groupId: "g-txn",
      producerId,
      producerEpoch,
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [
        { name: TOPIC, topicId: ZERO_UUID, partitions: partitions(3) },
        {
          name: "missing",
          topicId: ZERO_UUID,
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: "" },
          ],
        },
      ],
    });
    expect(r.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([
      [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    const ended = await raw.request(END_TXN_API, 3, {
      transactionalId,
      producerId,
      producerEpoch,
      committed: true,
    });
    expect(ended.errorCode).toBe(ErrorCode.NONE);
    for (let attempt = 0; attempt < 50; attempt++) {
      if ((await committed("g-txn")).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await committed("g-txn")).toEqual([`${TOPIC}-0=7`]);
  }, 60_000);
});
