/**
 * Transactions v2 (KIP-890 part 2) on the wire, with requests as a transactions-v2 client sends
 * them (the Java 4.x producer once transaction.version 2 is finalized): no AddPartitionsToTxn or
 * AddOffsetsToTxn, Produce v12 and TxnOffsetCommit v5 join the transaction, EndTxn v5 returns the
 * bumped epoch the next transaction uses. Checks the hanging-transaction cases KIP-890 closes: a
 * delayed produce and a delayed EndTxn of an earlier transaction never land in the next one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  API_VERSIONS_API,
  CREATE_TOPICS_API,
  DESCRIBE_PRODUCERS_API,
  END_TXN_API,
  FETCH_API,
  FIND_COORDINATOR_API,
  INIT_PRODUCER_ID_API,
  OFFSET_FETCH_API,
  PRODUCE_API,
  TXN_OFFSET_COMMIT_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { defaultFetchRequest } from "../../../src/protocol/generated/fetch-request.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { buildRecordBatch, decodeRecordBatches } from "../../../src/protocol/records/record-batch.js";
import { TxnState } from "../../../src/server/txn/txn-metadata.js";
import { RawClient } from "../partitions/raw-client.js";

let broker: BrokerHandle;
let raw: RawClient;
const TOPIC = "tv2";
const TID = "tv2-tid";

beforeAll(async () => {
  broker = await startBroker({
    "num.partitions": 1,
    "transaction.state.log.num.partitions": 1,
    "offsets.topic.num.partitions": 1,
  });
  raw = await RawClient.connect(broker.port, broker.host);
  const created = await raw.request(CREATE_TOPICS_API, 7, {
    topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5_000,
    validateOnly: false,
  });
  expect(created.topics[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  await raw?.close();
  await broker?.stop();
});

async function produce(producerId: bigint, producerEpoch: number, baseSequence: number, value: string) {
  const records = buildRecordBatch({
    producerId,
    producerEpoch,
    baseSequence,
    transactional: true,
    records: [{ timestamp: Date.now(), key: null, value }],
  });
  const res = await raw.request(PRODUCE_API, 12, {
    transactionalId: TID,
    acks: -1,
    timeoutMs: 5_000,
    topicData: [{ name: TOPIC, topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
  });
  return res.responses[0]!.partitionResponses[0]!.errorCode;
}

const endTxn = (producerId: bigint, producerEpoch: number, committed: boolean) =>
  raw.request(END_TXN_API, 5, { transactionalId: TID, producerId, producerEpoch, committed });

async function readCommitted(): Promise<string[]> {
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
  const p = res.responses[0]!.partitions[0]!;
  // A producer's batches from an aborted transaction's first offset on are aborted (one open
  // transaction per producer at a time; the next one starts after its marker).
  const abortedFrom = (b: { header: { producerId: bigint; baseOffset: bigint } }) =>
    (p.abortedTransactions ?? []).some(
      (a) => a.producerId === b.header.producerId && b.header.baseOffset >= a.firstOffset,
    );
  return decodeRecordBatches(p.records!, { decompressedBytesMax: 1 << 20 })
    .filter((b) => !b.isControl && !(b.isTransactional && abortedFrom(b)))
    .flatMap((b) => b.records.map((r) => r.value!.toString()));
}

describe("transactions v2 on the wire", () => {
  it("advertises transaction.version 2 finalized and EndTxn v5 / TxnOffsetCommit v6", async () => {
    const res = await raw.request(API_VERSIONS_API, 4, {
      clientSoftwareName: "t",
      clientSoftwareVersion: "1",
      clusterId: null,
      nodeId: -1,
    });
    expect(res.finalizedFeatures.find((f) => f.name === "transaction.version")?.maxVersionLevel).toBe(2);
    expect(res.apiKeys.find((k) => k.apiKey === 26)?.maxVersion).toBe(5);
    expect(res.apiKeys.find((k) => k.apiKey === 28)?.maxVersion).toBe(6);
  });

  it("runs transactions without AddPartitions/AddOffsets and fences what is late from an earlier one", async () => {
    const init = await raw.request(INIT_PRODUCER_ID_API, 5, {
      transactionalId: TID,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
      enable2Pc: false,
      keepPreparedTxn: false,
    });
    expect(init.errorCode).toBe(0);
    const { producerId } = init;
    const epoch0 = init.producerEpoch;
    const coordinator = broker.broker.context.transactions.coordinator;

    // Transaction 1: a produce and an offset commit join it by themselves.
    expect(await produce(producerId, epoch0, 0, "one")).toBe(ErrorCode.NONE);
    expect(coordinator.metadata(TID)?.state).toBe(TxnState.Ongoing);
    // As a client does first: find the group's coordinator (creates and loads __consumer_offsets).
    const found = await raw.request(FIND_COORDINATOR_API, 4, {
      key: "",
      keyType: 0,
      coordinatorKeys: ["tv2-group"],
    });
    expect(found.coordinators[0]!.errorCode).toBe(0);
    await broker.broker.context.groups.ready();
    const committed = await raw.request(TXN_OFFSET_COMMIT_API, 5, {
      transactionalId: TID,
      groupId: "tv2-group",
      producerId,
      producerEpoch: epoch0,
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [
        {
          name: TOPIC,
          topicId: ZERO_UUID,
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: "" },
          ],
        },
      ],
    });
    expect(committed.topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect([...(coordinator.metadata(TID)?.partitions.keys() ?? [])].sort()).toEqual([
      "__consumer_offsets",
      TOPIC,
    ]);
    const ended = await endTxn(producerId, epoch0, true);
    expect(ended).toMatchObject({ errorCode: 0, producerId, producerEpoch: epoch0 + 1 });
    expect(await readCommitted()).toEqual(["one"]);
    const offsets = await raw.request(OFFSET_FETCH_API, 7, {
      groupId: "tv2-group",
      topics: [{ name: TOPIC, partitionIndexes: [0] }],
      groups: [],
      requireStable: true,
    });
    expect(offsets.topics[0]!.partitions[0]!.committedOffset).toBe(1n);

    // A produce of transaction 1 delayed until now: its epoch is fenced, it does not open a
    // transaction (a hanging one) in the partition.
    expect(await produce(producerId, epoch0, 1, "late")).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // Transaction 2 with the epoch EndTxn returned.
    const epoch1 = ended.producerEpoch;
    expect(await produce(producerId, epoch1, 0, "two")).toBe(ErrorCode.NONE);
    // A delayed EndTxn of transaction 1 (commit or abort) does not end transaction 2.
    expect((await endTxn(producerId, epoch0, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await endTxn(producerId, epoch0, false)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(coordinator.metadata(TID)?.state).toBe(TxnState.Ongoing);
    const aborted = await endTxn(producerId, epoch1, false);
    expect(aborted).toMatchObject({ errorCode: 0, producerId, producerEpoch: epoch1 + 1 });
    expect(await readCommitted()).toEqual(["one"]);
    // The partition's producer state holds the markers' epoch.
    const producers = await raw.request(DESCRIBE_PRODUCERS_API, 0, {
      topics: [{ name: TOPIC, partitionIndexes: [0] }],
    });
    const state = producers.topics[0]!.partitions[0]!.activeProducers.find(
      (p) => p.producerId === producerId,
    );
    expect(state?.producerEpoch).toBe(epoch1 + 1);
    // An abort the client is unsure about (nothing joined): bumped, no markers needed.
    const again = await endTxn(producerId, epoch1 + 1, false);
    expect(again).toMatchObject({ errorCode: 0, producerEpoch: epoch1 + 2 });
  });
});
