/**
 * Transaction verification across nodes (TxnVerification, Kafka's AddPartitionsToTxnManager):
 * node 2 verifies against the coordinator on node 1, whose AddPartitionsToTxn v4+ handling is
 * the real TransactionCoordinator's (verifyPartitions / addPartitions, as handler 024 calls them)
 * behind a fake transport: verify_only for transactions v1, the implicit add for v2, Kafka's
 * error translation, batching per coordinator node, and failures.
 */
import { describe, expect, it } from "vitest";
import { KrillError } from "../../../src/errors.js";
import type { MetadataImage } from "../../../src/metadata/image.js";
import type { AddPartitionsToTxnRequest } from "../../../src/protocol/generated/add-partitions-to-txn-request.js";
import type { AddPartitionsToTxnResponse } from "../../../src/protocol/generated/add-partitions-to-txn-response.js";
import { ADD_PARTITIONS_TO_TXN_API } from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import { TransactionCoordinator, type TxnStateLog } from "../../../src/server/txn/txn-coordinator.js";
import { TV_2, TxnState } from "../../../src/server/txn/txn-metadata.js";
import { produceErrorOfVerification, TxnVerification } from "../../../src/server/txn/txn-verification.js";

const PARTITIONS = 3;

class MemoryLog implements TxnStateLog {
  readonly records = new Map<number, { key: Buffer; value: Buffer | null }[]>();
  async append(partition: number, key: Buffer, value: Buffer | null): Promise<void> {
    const list = this.records.get(partition) ?? [];
    list.push({ key, value });
    this.records.set(partition, list);
  }
  async replay(partition: number, onRecord: (key: Buffer, value: Buffer | null) => void): Promise<void> {
    for (const r of this.records.get(partition) ?? []) onRecord(r.key, r.value);
  }
}

function coordinator(): TransactionCoordinator {
  let nextId = 1000n;
  return new TransactionCoordinator({
    config: {
      stateLogPartitions: PARTITIONS,
      maxTimeoutMs: 60_000,
      transactionalIdExpirationMs: 3_600_000,
      transactionalIdsMax: 100,
    },
    log: new MemoryLog(),
    markers: { writeMarker: async () => ErrorCode.NONE },
    nextProducerId: async () => nextId++,
    clock: { nowMs: () => 1_000_000 },
    partitionExists: (topic, partition) => topic.startsWith("t") && partition >= 0 && partition < 4,
    onTransactionCompleted: () => {},
    transactionVersion: () => 2,
  });
}

/** Node 1 coordinates every transactional id; node 2 leads the data partitions and verifies. */
async function cluster(options: { leader?: number; fenced?: boolean } = {}) {
  const remote = coordinator();
  const local = coordinator();
  for (let p = 0; p < PARTITIONS; p++) {
    await remote.loadPartition(p, 5);
    local.unloadPartition(p);
  }
  const image = {
    topicsByName: new Map([
      [
        "__transaction_state",
        {
          partitions: Array.from({ length: PARTITIONS }, () => ({ leader: options.leader ?? 1 })),
        },
      ],
    ]),
    brokers: new Map([[1, { fenced: options.fenced ?? false }]]),
  } as unknown as MetadataImage;
  const requests: AddPartitionsToTxnRequest[] = [];
  let failWith: Error | undefined;
  let hold: Promise<void> | undefined;
  const send = async (brokerId: number, request: AddPartitionsToTxnRequest) => {
    expect(brokerId).toBe(1);
    // What goes on the wire must encode at the versions a broker sends (v4, v5).
    for (const version of [4, 5]) ADD_PARTITIONS_TO_TXN_API.encodeRequest(new Writer(256), request, version);
    requests.push(request);
    if (hold !== undefined) await hold;
    if (failWith !== undefined) throw failWith;
    // What handler 024 does with a broker's v4+ request.
    const resultsByTransaction = await Promise.all(
      request.transactions.map(async (t) => {
        const topics = t.topics.map((x) => ({ name: x.name, partitions: x.partitions }));
        const results = t.verifyOnly
          ? remote.verifyPartitions(t.transactionalId, t.producerId, t.producerEpoch, topics)
          : await remote.addPartitions(t.transactionalId, t.producerId, t.producerEpoch, topics, TV_2);
        return {
          transactionalId: t.transactionalId,
          topicResults: results.map((r) => ({
            name: r.name,
            resultsByPartition: r.results.map((x) => ({
              partitionIndex: x.partitionIndex,
              partitionErrorCode: x.errorCode,
            })),
          })),
        };
      }),
    );
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      resultsByTransaction,
      resultsByTopicV3AndBelow: [],
    } satisfies AddPartitionsToTxnResponse;
  };
  const verification = new TxnVerification({ coordinator: local, nodeId: 2, image: () => image, send });
  const init = async (id: string) => {
    const r = await remote.initProducerId(id, 60_000, null);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    return { producerId: r.producerId, producerEpoch: r.producerEpoch };
  };
  return {
    remote,
    verification,
    requests,
    init,
    fail: (err: Error | undefined) => {
      failWith = err;
    },
    holdRequests: () => {
      let release!: () => void;
      hold = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

describe("transaction verification with the coordinator on another node", () => {
  it("transactions v1: verify_only; a partition not added is INVALID_TXN_STATE, a fenced epoch INVALID_PRODUCER_EPOCH", async () => {
    const c = await cluster();
    const { producerId, producerEpoch } = await c.init("tx-a");
    const verify = (epoch: number, partition: number, abortable = false) =>
      c.verification.verifyTransactionalProduce("tx-a", producerId, epoch, "t1", partition, abortable);
    expect(await verify(producerEpoch, 0)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(c.requests[0]?.transactions[0]).toMatchObject({ transactionalId: "tx-a", verifyOnly: true });
    const [added] = await c.remote.addPartitions("tx-a", producerId, producerEpoch, [
      { name: "t1", partitions: [0] },
    ]);
    expect(added?.results[0]?.errorCode).toBe(ErrorCode.NONE);
    expect(await verify(producerEpoch, 0)).toBe(ErrorCode.NONE);
    expect(await verify(producerEpoch, 1)).toBe(ErrorCode.INVALID_TXN_STATE);
    // A client that knows TRANSACTION_ABORTABLE (Produce v11+) gets it instead (genericError).
    expect(await verify(producerEpoch, 1, true)).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    // A newer instance bumped the epoch: the coordinator's PRODUCER_FENCED reaches the producer as
    // INVALID_PRODUCER_EPOCH.
    await c.remote.initProducerId("tx-a", 60_000, null);
    expect(await verify(producerEpoch, 0)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // Unknown to the coordinator.
    expect(await c.verification.verifyTransactionalProduce("tx-none", 77n, 0, "t1", 0, false)).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
  });

  it("transactions v2: the coordinator adds the partition (no verify_only)", async () => {
    const c = await cluster();
    const { producerId, producerEpoch } = await c.init("tx-b");
    expect(await c.verification.addPartitionImplicitly("tx-b", producerId, producerEpoch, "t2", 3)).toBe(
      ErrorCode.NONE,
    );
    expect(c.requests[0]?.transactions[0]).toMatchObject({ transactionalId: "tx-b", verifyOnly: false });
    const txn = c.remote.metadata("tx-b");
    expect(txn?.state).toBe(TxnState.Ongoing);
    expect([...(txn?.partitions.get("t2") ?? [])]).toEqual([3]);
    expect(await c.verification.addPartitionImplicitly("tx-b", producerId, producerEpoch - 1, "t2", 3)).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
  });

  it("batches per coordinator node: one request in flight, what arrives meanwhile goes in the next", async () => {
    const c = await cluster();
    const a = await c.init("tx-c");
    const b = await c.init("tx-d");
    const release = c.holdRequests();
    const first = c.verification.addPartitionImplicitly("tx-c", a.producerId, a.producerEpoch, "t1", 0);
    await Promise.resolve();
    const second = [
      c.verification.addPartitionImplicitly("tx-c", a.producerId, a.producerEpoch, "t1", 1),
      c.verification.addPartitionImplicitly("tx-c", a.producerId, a.producerEpoch, "t2", 1),
      c.verification.addPartitionImplicitly("tx-d", b.producerId, b.producerEpoch, "t1", 2),
    ];
    expect(c.requests.length).toBe(1);
    release();
    expect(await first).toBe(ErrorCode.NONE);
    expect(await Promise.all(second)).toEqual([ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE]);
    expect(c.requests.length).toBe(2);
    expect(c.requests[1]?.transactions.map((t) => t.transactionalId)).toEqual(["tx-c", "tx-d"]);
    expect(c.requests[1]?.transactions[0]?.topics).toEqual([
      { name: "t1", partitions: [1] },
      { name: "t2", partitions: [1] },
    ]);
  });

  it("a newer epoch waiting for the same id fences the older one", async () => {
    const c = await cluster();
    const a = await c.init("tx-e");
    const release = c.holdRequests();
    const inFlight = c.verification.addPartitionImplicitly("tx-e", a.producerId, a.producerEpoch, "t1", 0);
    await Promise.resolve();
    const older = c.verification.addPartitionImplicitly("tx-e", a.producerId, a.producerEpoch, "t1", 1);
    const newer = c.verification.addPartitionImplicitly("tx-e", a.producerId, a.producerEpoch + 1, "t1", 2);
    expect(await older).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const stale = c.verification.addPartitionImplicitly("tx-e", a.producerId, a.producerEpoch, "t1", 3);
    expect(await stale).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    release();
    expect(await inFlight).toBe(ErrorCode.NONE);
    // The newer epoch is not the coordinator's: PRODUCER_FENCED there is not what it says for a
    // higher epoch; the coordinator answers it as fenced all the same.
    expect(await newer).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it("failures: network errors are retriable for the producer, a coordinator without v4 is not asked, no leader is COORDINATOR_NOT_AVAILABLE", async () => {
    const c = await cluster();
    const a = await c.init("tx-f");
    c.fail(new KrillError("NETWORK_EXCEPTION", "connection refused"));
    const down = await c.verification.verifyTransactionalProduce(
      "tx-f",
      a.producerId,
      a.producerEpoch,
      "t1",
      0,
      false,
    );
    expect(down).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(
      produceErrorOfVerification(
        await c.verification.addPartitionImplicitly("tx-f", a.producerId, a.producerEpoch, "t1", 0),
      ),
    ).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    c.fail(new KrillError("UNSUPPORTED_VERSION", "AddPartitionsToTxn v4 is not served"));
    expect(
      await c.verification.verifyTransactionalProduce("tx-f", a.producerId, a.producerEpoch, "t1", 0, false),
    ).toBe(ErrorCode.NONE);
    for (const options of [{ leader: -1 }, { fenced: true }]) {
      const d = await cluster(options);
      expect(await d.verification.verifyTransactionalProduce("tx-g", 5n, 0, "t1", 0, false)).toBe(
        ErrorCode.NOT_ENOUGH_REPLICAS,
      );
      expect(await d.verification.addPartitionImplicitly("tx-g", 5n, 0, "t1", 0)).toBe(
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
      );
      expect(d.requests.length).toBe(0);
    }
  });
});
