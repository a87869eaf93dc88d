/**
 * Transactional produce to a partition led by another node than the transaction's coordinator,
 * across three Krill processes (harness.ts): the partition leader verifies the batch with the
 * coordinator over the inter-broker listener (AddPartitionsToTxn v4+, KIP-890), as Kafka 4.4's
 * AddPartitionsToTxnManager does, and the coordinator's markers reach the leader with
 * WriteTxnMarkers.
 *
 * - transactions v1 (Produce v10-11): a partition not added to the transaction is
 *   TRANSACTION_ABORTABLE for v11, INVALID_TXN_STATE for v10 (verify_only); once added with AddPartitionsToTxn it is taken; a fenced epoch is
 *   INVALID_PRODUCER_EPOCH; the commit's marker makes it visible to read_committed.
 * - transactions v2 (Produce v12): the leader has the coordinator add the partition itself (no
 *   AddPartitionsToTxn from the client), and EndTxn v5 commits it.
 * Requests are raw (test/server/partitions/raw-client.ts) so each field is the test's.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADD_PARTITIONS_TO_TXN_API,
  CREATE_TOPICS_API,
  END_TXN_API,
  FETCH_API,
  FIND_COORDINATOR_API,
  INIT_PRODUCER_ID_API,
  METADATA_API,
  PRODUCE_API,
} from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { defaultFetchRequest } from "../../src/protocol/generated/fetch-request.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { buildRecordBatch, decodeRecordBatches } from "../../src/protocol/records/record-batch.js";
import { RawClient } from "../server/partitions/raw-client.js";
import { formatNodes, kill, type Node, start, started, until, untilAsync } from "./harness.js";

const CLUSTER_ID = "VHhuQWNyb3NzTm9kZXMxMQ";
const TOPIC = "txn-data";
const START_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 60_000;
/** Answers the client retries: the coordinator or a partition is still moving into place. */
const RETRIABLE = new Set<number>([
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.CONCURRENT_TRANSACTIONS,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
]);

let base: string | undefined;
let nodes: Node[] = [];
const clients = new Map<number, RawClient>();

async function client(nodeId: number): Promise<RawClient> {
  let c = clients.get(nodeId);
  if (c === undefined || c.closed) {
    c = await RawClient.connect(nodes.find((n) => n.id === nodeId)!.port);
    clients.set(nodeId, c);
  }
  return c;
}

/** Repeats `f` while it answers a retriable error code (bounded). */
async function retrying<T>(
  what: string,
  f: () => Promise<{ code: number; value: T }>,
): Promise<{ code: number; value: T }> {
  let last: { code: number; value: T } | undefined;
  await untilAsync(what, STEP_TIMEOUT_MS, async () => {
    last = await f();
    return !RETRIABLE.has(last.code);
  });
  return last!;
}

beforeAll(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), "krill-txn-nodes-"));
  nodes = await formatNodes(base, 3, CLUSTER_ID, [
    "transaction.state.log.num.partitions=1",
    "transaction.state.log.replication.factor=3",
    "transaction.state.log.min.isr=2",
    "offsets.topic.num.partitions=1",
    "offsets.topic.replication.factor=3",
  ]);
  for (const n of nodes) start(n);
  for (const n of nodes) await until(`node ${n.id} started`, START_TIMEOUT_MS, () => started(n));
}, 4 * START_TIMEOUT_MS);

afterAll(async () => {
  if (process.env.TXN_DEBUG) {
    for (const n of nodes)
      writeFileSync(`/tmp/txn-node-${n.id}.log`, n.lines.map((l) => JSON.stringify(l)).join("\n"));
  }
  for (const c of clients.values()) await c.close();
  clients.clear();
  for (const n of nodes) await kill(n);
  if (base !== undefined) rmSync(base, { recursive: true, force: true });
});

/** The node coordinating `transactionalId` (FindCoordinator creates __transaction_state). */
async function coordinatorOf(transactionalId: string): Promise<number> {
  const raw = await client(nodes[0]!.id);
  const found = await retrying(`the coordinator of ${transactionalId}`, async () => {
    const res = await raw.request(FIND_COORDINATOR_API, 4, {
      key: "",
      keyType: 1,
      coordinatorKeys: [transactionalId],
    });
    const c = res.coordinators[0]!;
    return { code: c.errorCode, value: c.nodeId };
  });
  expect(found.code).toBe(ErrorCode.NONE);
  return found.value;
}

async function initProducerId(coordinator: number, transactionalId: string) {
  const raw = await client(coordinator);
  const r = await retrying(`InitProducerId ${transactionalId}`, async () => {
    const res = await raw.request(INIT_PRODUCER_ID_API, 5, {
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
      enable2Pc: false,
      keepPreparedTxn: false,
    });
    return { code: res.errorCode, value: { producerId: res.producerId, producerEpoch: res.producerEpoch } };
  });
  expect(r.code).toBe(ErrorCode.NONE);
  return r.value;
}

/** One transactional record to `partition` through its leader; the partition's error code. */
async function produce(
  leader: number,
  version: number,
  transactionalId: string,
  producer: { producerId: bigint; producerEpoch: number },
  partition: number,
  baseSequence: number,
  value: string,
): Promise<number> {
  const raw = await client(leader);
  const records = buildRecordBatch({
    producerId: producer.producerId,
    producerEpoch: producer.producerEpoch,
    baseSequence,
    transactional: true,
    records: [{ timestamp: Date.now(), key: null, value }],
  });
  const res = await raw.request(PRODUCE_API, version, {
    transactionalId,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: TOPIC, topicId: ZERO_UUID, partitionData: [{ index: partition, records }] }],
  });
  return res.responses[0]!.partitionResponses[0]!.errorCode;
}

async function readCommitted(leader: number, partition: number): Promise<string[]> {
  const raw = await client(leader);
  const res = await raw.request(FETCH_API, 12, {
    ...defaultFetchRequest(),
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 1,
    topics: [
      {
        topic: TOPIC,
        topicId: ZERO_UUID,
        partitions: [
          {
            partition,
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
  const p = res.responses[0]!.partitions[0]!;
  if (p.errorCode !== ErrorCode.NONE || p.records === null) return [];
  return decodeRecordBatches(p.records, { decompressedBytesMax: 1 << 20 })
    .filter((b) => !b.isControl)
    .flatMap((b) => b.records.map((r) => r.value!.toString()));
}

describe("transactional produce to a partition led by another node than the coordinator", () => {
  it("is verified with the coordinator (v1: verify_only; v2: the coordinator adds the partition) and committed by its markers", async () => {
    // One partition led by each node.
    const raw = await client(nodes[0]!.id);
    const created = await raw.request(CREATE_TOPICS_API, 7, {
      topics: [
        {
          name: TOPIC,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [0, 1, 2].map((i) => ({
            partitionIndex: i,
            brokerIds: [0, 1, 2].map((k) => nodes[(i + k) % 3]!.id),
          })),
          configs: [],
        },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    const leaders = await untilAsync(
      "every partition led by its first replica",
      STEP_TIMEOUT_MS,
      async () => {
        const md = await raw.request(METADATA_API, 12, {
          topics: [{ name: TOPIC, topicId: ZERO_UUID }],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        });
        const parts = md.topics[0]?.partitions ?? [];
        if (parts.length !== 3 || parts.some((p) => p.leaderId !== nodes[p.partitionIndex]!.id))
          return undefined;
        return new Map(parts.map((p) => [p.partitionIndex, p.leaderId]));
      },
    );

    // Transactions v1.
    const v1 = "txn-v1";
    const coordinator = await coordinatorOf(v1);
    const partition = [...leaders].find(([, leader]) => leader !== coordinator)![0];
    const leader = leaders.get(partition)!;
    const p1 = await initProducerId(coordinator, v1);
    // Not added to the transaction: the leader asks the coordinator (verify_only) and refuses it.
    const refused = await retrying("the unverifiable produce", async () => ({
      code: await produce(leader, 11, v1, p1, partition, 0, "not-added"),
      value: null,
    }));
    // Produce v11 knows TRANSACTION_ABORTABLE (Kafka's genericError); below v11 INVALID_TXN_STATE.
    expect(refused.code).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(await produce(leader, 10, v1, p1, partition, 0, "not-added")).toBe(ErrorCode.INVALID_TXN_STATE);
    const added = await (await client(coordinator)).request(ADD_PARTITIONS_TO_TXN_API, 3, {
      transactions: [],
      v3AndBelowTransactionalId: v1,
      v3AndBelowProducerId: p1.producerId,
      v3AndBelowProducerEpoch: p1.producerEpoch,
      v3AndBelowTopics: [{ name: TOPIC, partitions: [partition] }],
    });
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(ErrorCode.NONE);
    const taken = await retrying("the verified produce", async () => ({
      code: await produce(leader, 11, v1, p1, partition, 0, "v1-committed"),
      value: null,
    }));
    expect(taken.code).toBe(ErrorCode.NONE);
    expect(await readCommitted(leader, partition)).toEqual([]);
    const ended = await (await client(coordinator)).request(END_TXN_API, 4, {
      transactionalId: v1,
      producerId: p1.producerId,
      producerEpoch: p1.producerEpoch,
      committed: true,
    });
    expect(ended.errorCode).toBe(ErrorCode.NONE);
    await untilAsync("the v1 commit visible on the leader", STEP_TIMEOUT_MS, async () =>
      (await readCommitted(leader, partition)).includes("v1-committed"),
    );
    // A newer instance fences this one: its next transaction's first batch is refused.
    const p1b = await initProducerId(coordinator, v1);
    expect(p1b.producerEpoch).toBeGreaterThan(p1.producerEpoch);
    const fenced = await retrying("the fenced produce", async () => ({
      code: await produce(leader, 11, v1, p1, partition, 1, "fenced"),
      value: null,
    }));
    expect(fenced.code).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);

    // Transactions v2: no AddPartitionsToTxn; the leader has the coordinator add the partition.
    const v2 = "txn-v2";
    const coordinator2 = await coordinatorOf(v2);
    const partition2 = [...leaders].find(([, l]) => l !== coordinator2)![0];
    const leader2 = leaders.get(partition2)!;
    const p2 = await initProducerId(coordinator2, v2);
    const implicit = await retrying("the implicitly added produce", async () => ({
      code: await produce(leader2, 12, v2, p2, partition2, 0, "v2-committed"),
      value: null,
    }));
    expect(implicit.code).toBe(ErrorCode.NONE);
    const ended2 = await (await client(coordinator2)).request(END_TXN_API, 5, {
      transactionalId: v2,
      producerId: p2.producerId,
      producerEpoch: p2.producerEpoch,
      committed: true,
    });
    expect(ended2.errorCode).toBe(ErrorCode.NONE);
    await untilAsync("the v2 commit visible on the leader", STEP_TIMEOUT_MS, async () =>
      (await readCommitted(leader2, partition2)).includes("v2-committed"),
    );
    // The partition joined the transaction on the coordinator's node, not only on the leader.
    expect(await readCommitted(leader2, partition2)).toEqual(
      partition2 === partition ? ["v1-committed", "v2-committed"] : ["v2-committed"],
    );
  }, 300_000);
});
