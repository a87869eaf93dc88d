/**
 * The transaction coordinator alone, over an in-memory __transaction_state and a recording marker
 * writer, with an injected clock: InitProducerId (new ids, epoch bumps, fencing an open
 * transaction, KIP-360 resume and retry, epoch exhaustion, timeouts), AddPartitions, EndTxn
 * (markers, retries, wrong outcomes), timeouts, marker failures retried, a restart in the middle
 * of a commit, expiry, and a property test that every state written follows the legal
 * transitions whatever the clients do.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import {
  TransactionCoordinator,
  type TxnMarkerWriter,
  type TxnStateLog,
} from "../../../src/server/txn/txn-coordinator.js";
import {
  decodeTxnRecord,
  encodeTxnKey,
  encodeTxnValue,
  isValidTransition,
  PRODUCER_EPOCH_MAX,
  TV_2,
  TxnState,
} from "../../../src/server/txn/txn-metadata.js";

class MemoryLog implements TxnStateLog {
  readonly partitions = new Map<number, { key: Buffer; value: Buffer | null }[]>();
  failing = false;

  async append(partition: number, key: Buffer, value: Buffer | null): Promise<void> {
    if (this.failing) throw new Error("disk full");
    let list = this.partitions.get(partition);
    if (list === undefined) {
      list = [];
      this.partitions.set(partition, list);
    }
    list.push({ key, value });
  }

  async replay(partition: number, onRecord: (key: Buffer, value: Buffer | null) => void): Promise<void> {
    for (const r of this.partitions.get(partition) ?? []) onRecord(r.key, r.value);
  }

  /** Every record in write order per transactional id. */
  history(transactionalId: string): (TxnState | null)[] {
    const out: (TxnState | null)[] = [];
    for (const list of this.partitions.values()) {
      for (const r of list) {
        const d = decodeTxnRecord(r.key, r.value);
        if (d.transactionalId === transactionalId) out.push(d.value?.state ?? null);
      }
    }
    return out;
  }
}

interface Marker {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
}

class Markers implements TxnMarkerWriter {
  readonly written: Marker[] = [];
  errorCode = ErrorCode.NONE as number;

  async writeMarker(m: Marker & { coordinatorEpoch: number }): Promise<number> {
    if (this.errorCode !== ErrorCode.NONE) return this.errorCode;
    this.written.push({
      topic: m.topic,
      partition: m.partition,
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      commit: m.commit,
    });
    return ErrorCode.NONE;
  }
}

function setup(log = new MemoryLog(), markers = new Markers(), transactionVersion = 0) {
  const clock = { nowMs: 1_000_000 };
  let nextId = 1000n;
  const completed: [bigint, boolean][] = [];
  const coordinator = new TransactionCoordinator({
    config: {
      stateLogPartitions: 3,
      maxTimeoutMs: 60_000,
      transactionalIdExpirationMs: 3_600_000,
      transactionalIdsMax: 100,
    },
    log,
    markers,
    nextProducerId: async () => nextId++,
    clock: { nowMs: () => clock.nowMs },
    partitionExists: (topic, partition) => topic.startsWith("t") && partition >= 0 && partition < 4,
    onTransactionCompleted: (producerId, commit) => completed.push([producerId, commit]),
    transactionVersion: () => transactionVersion,
  });
  return { coordinator, log, markers, clock, completed };
}

const T = [{ name: "t1", partitions: [0, 1] }];

describe("TransactionCoordinator across a cluster (leadership of __transaction_state)", () => {
  it("serves the loaded partitions only; a new leader completes a commit with its own epoch", async () => {
    const log = new MemoryLog();
    const stuck = new Markers();
    stuck.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    const a = setup(log, stuck).coordinator;
    const epochs: number[] = [];
    const next = new Markers();
    const recording: TxnMarkerWriter = {
      writeMarker: (m) => {
        epochs.push(m.coordinatorEpoch);
        return next.writeMarker(m);
      },
    };
    const b = setup(log, recording as Markers).coordinator;
    const p = a.partitionFor("tx");
    const other = (p + 1) % 3;
    expect((await a.initProducerId("tx", 1000, null)).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    await a.loadPartition(p, 4);
    await b.loadPartition(other, 1);
    expect((await b.initProducerId("tx", 1000, null)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(b.gate("tx")).toBe(ErrorCode.NOT_COORDINATOR);
    const { producerId } = await a.initProducerId("tx", 1000, null);
    await a.addPartitions("tx", producerId, 0, T);
    // The markers cannot be written (their leader moved): the commit stays PrepareCommit.
    expect((await a.endTxn("tx", producerId, 0, true)).errorCode).toBe(ErrorCode.NONE);
    expect(a.metadata("tx")?.state).toBe(TxnState.PrepareCommit);
    // Leadership of the partition moves to b, one leader epoch later.
    a.unloadPartition(p);
    expect(a.metadata("tx")).toBeUndefined();
    expect(a.gate("tx")).toBe(ErrorCode.NOT_COORDINATOR);
    await a.tick();
    expect(log.history("tx").at(-1)).toBe(TxnState.PrepareCommit);
    await b.loadPartition(p, 5);
    expect(b.metadata("tx")?.state).toBe(TxnState.CompleteCommit);
    expect(next.written.map((m) => [m.topic, m.partition, m.commit])).toEqual([
      ["t1", 0, true],
      ["t1", 1, true],
    ]);
    expect(epochs).toEqual([5, 5]);
    expect(log.history("tx").at(-1)).toBe(TxnState.CompleteCommit);
    a.close();
    b.close();
  });
});

describe("TransactionCoordinator", () => {
  it("answers load in progress until loaded, then gives new ids epoch 0 and bumps on every init", async () => {
    const { coordinator } = setup();
    expect((await coordinator.initProducerId("a", 1000, null)).errorCode).toBe(
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    await coordinator.load();
    expect(await coordinator.initProducerId("a", 1000, null)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 0,
    });
    expect(await coordinator.initProducerId("a", 1000, null)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 1,
    });
    expect((await coordinator.initProducerId("b", 1000, null)).producerId).toBe(1001n);
    expect((await coordinator.initProducerId("a", 60_001, null)).errorCode).toBe(
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    );
    expect((await coordinator.initProducerId("a", 0, null)).errorCode).toBe(
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    );
    expect((await coordinator.initProducerId("", 1000, null)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it("adds partitions, commits with a marker per partition, and answers retries as Kafka", async () => {
    const { coordinator, markers, log, completed } = setup();
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null);
    expect((await coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    const added = await coordinator.addPartitions("a", producerId, 0, T);
    expect(added.flatMap((t) => t.results.map((r) => r.errorCode))).toEqual([0, 0]);
    expect(coordinator.metadata("a")?.state).toBe(TxnState.Ongoing);
    expect((await coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(ErrorCode.NONE);
    expect(markers.written).toEqual([
      { topic: "t1", partition: 0, producerId, producerEpoch: 0, commit: true },
      { topic: "t1", partition: 1, producerId, producerEpoch: 0, commit: true },
    ]);
    expect(coordinator.metadata("a")?.state).toBe(TxnState.CompleteCommit);
    expect(completed).toEqual([[producerId, true]]);
    expect((await coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(ErrorCode.NONE);
    expect((await coordinator.endTxn("a", producerId, 0, false)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(log.history("a")).toEqual([
      TxnState.Empty,
      TxnState.Ongoing,
      TxnState.PrepareCommit,
      TxnState.CompleteCommit,
    ]);
    // The next transaction starts from CompleteCommit.
    await coordinator.addPartitions("a", producerId, 0, [{ name: "t2", partitions: [3] }]);
    expect((await coordinator.endTxn("a", producerId, 0, false)).errorCode).toBe(ErrorCode.NONE);
    expect(markers.written.at(-1)).toEqual({
      topic: "t2",
      partition: 3,
      producerId,
      producerEpoch: 0,
      commit: false,
    });
  });

  it("rejects unknown partitions, wrong ids and stale epochs", async () => {
    const { coordinator } = setup();
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null);
    const unknown = await coordinator.addPartitions("a", producerId, 0, [
      { name: "t1", partitions: [0] },
      { name: "nope", partitions: [0] },
    ]);
    expect(unknown.map((t) => t.results[0]?.errorCode)).toEqual([
      ErrorCode.OPERATION_NOT_ATTEMPTED,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    expect((await coordinator.addPartitions("a", producerId + 1n, 0, T))[0]?.results[0]?.errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    expect((await coordinator.addPartitions("zz", producerId, 0, T))[0]?.results[0]?.errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    await coordinator.initProducerId("a", 1000, null); // epoch 1
    expect((await coordinator.addPartitions("a", producerId, 0, T))[0]?.results[0]?.errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect((await coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it("fences an open transaction: abort with a bumped epoch, CONCURRENT_TRANSACTIONS, then a fresh epoch", async () => {
    const { coordinator, markers, completed } = setup();
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null);
    await coordinator.addPartitions("a", producerId, 0, T);
    expect((await coordinator.initProducerId("a", 1000, null)).errorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    expect(markers.written.map((m) => [m.commit, m.producerEpoch])).toEqual([
      [false, 1],
      [false, 1],
    ]);
    expect(completed).toEqual([[producerId, false]]);
    expect(coordinator.metadata("a")?.state).toBe(TxnState.CompleteAbort);
    expect(await coordinator.initProducerId("a", 1000, null)).toEqual({
      errorCode: 0,
      producerId,
      producerEpoch: 2,
    });
    expect((await coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it("KIP-360: resumes with the current epoch, repeats a retried bump, fences a stale one", async () => {
    const { coordinator } = setup();
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null); // epoch 0
    const bumped = await coordinator.initProducerId("a", 1000, { producerId, producerEpoch: 0 });
    expect(bumped).toEqual({ errorCode: 0, producerId, producerEpoch: 1 });
    // The answer was lost; the client retries with its old epoch.
    expect(await coordinator.initProducerId("a", 1000, { producerId, producerEpoch: 0 })).toEqual(bumped);
    expect((await coordinator.initProducerId("a", 1000, { producerId, producerEpoch: 5 })).errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect(
      (await coordinator.initProducerId("a", 1000, { producerId: 42n, producerEpoch: 1 })).errorCode,
    ).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it("rotates the producer id when the epoch is exhausted", async () => {
    const log = new MemoryLog();
    const first = setup(log);
    await first.coordinator.load();
    await first.coordinator.initProducerId("a", 1000, null);
    // Bring the epoch to the limit by bumping, then restart to reload it from the log.
    for (let i = 0; i < PRODUCER_EPOCH_MAX; i++) await first.coordinator.initProducerId("a", 1000, null);
    expect(first.coordinator.metadata("a")?.producerEpoch).toBe(PRODUCER_EPOCH_MAX);
    const next = await first.coordinator.initProducerId("a", 1000, null);
    expect(next).toEqual({ errorCode: 0, producerId: 1001n, producerEpoch: 0 });
    expect(first.coordinator.metadata("a")?.previousProducerId).toBe(1000n);
  }, 30_000);

  it("aborts a transaction after its timeout, fencing its producer", async () => {
    const { coordinator, markers, clock } = setup();
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 5000, null);
    await coordinator.addPartitions("a", producerId, 0, T);
    clock.nowMs += 5000;
    await coordinator.tick();
    expect(coordinator.metadata("a")?.state).toBe(TxnState.Ongoing);
    clock.nowMs += 1;
    await coordinator.tick();
    expect(coordinator.metadata("a")?.state).toBe(TxnState.CompleteAbort);
    expect(coordinator.metadata("a")?.producerEpoch).toBe(1);
    expect(markers.written.every((m) => !m.commit && m.producerEpoch === 1)).toBe(true);
    expect((await coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it("keeps a transaction pending while markers fail, retries them on tick", async () => {
    const { coordinator, markers } = setup();
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null);
    await coordinator.addPartitions("a", producerId, 0, T);
    markers.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
    // The decision is durable: the client is told it committed.
    expect((await coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(ErrorCode.NONE);
    expect(coordinator.metadata("a")?.state).toBe(TxnState.PrepareCommit);
    expect((await coordinator.addPartitions("a", producerId, 0, T))[0]?.results[0]?.errorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    expect((await coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    markers.errorCode = ErrorCode.NONE;
    await coordinator.tick();
    expect(coordinator.metadata("a")?.state).toBe(TxnState.CompleteCommit);
    expect(markers.written.length).toBe(2);
  });

  it("completes a commit prepared before a restart", async () => {
    const log = new MemoryLog();
    const failing = new Markers();
    failing.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
    const before = setup(log, failing);
    await before.coordinator.load();
    const { producerId } = await before.coordinator.initProducerId("a", 1000, null);
    await before.coordinator.addPartitions("a", producerId, 0, T);
    await before.coordinator.endTxn("a", producerId, 0, true);
    before.coordinator.close();
    expect(log.history("a").at(-1)).toBe(TxnState.PrepareCommit);

    const after = setup(log);
    await after.coordinator.load();
    expect(after.markers.written.map((m) => [m.topic, m.partition, m.commit])).toEqual([
      ["t1", 0, true],
      ["t1", 1, true],
    ]);
    expect(after.coordinator.metadata("a")?.state).toBe(TxnState.CompleteCommit);
    expect(after.completed).toEqual([[producerId, true]]);
    expect((await after.coordinator.endTxn("a", producerId, 0, true)).errorCode).toBe(ErrorCode.NONE);
    // State written before the restart is all there.
    expect(after.coordinator.metadata("a")?.txnTimeoutMs).toBe(1000);
  });

  it("answers NOT_COORDINATOR when the state cannot be written, changing nothing", async () => {
    const { coordinator, log } = setup();
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null);
    log.failing = true;
    expect((await coordinator.addPartitions("a", producerId, 0, T))[0]?.results[0]?.errorCode).toBe(
      ErrorCode.NOT_COORDINATOR,
    );
    expect(coordinator.metadata("a")?.state).toBe(TxnState.Empty);
    log.failing = false;
    expect((await coordinator.addPartitions("a", producerId, 0, T))[0]?.results[0]?.errorCode).toBe(
      ErrorCode.NONE,
    );
  });

  it("forgets idle transactional ids with a tombstone, and bounds how many it holds", async () => {
    const { coordinator, log, clock } = setup();
    await coordinator.load();
    await coordinator.initProducerId("old", 1000, null);
    clock.nowMs += 3_600_001;
    await coordinator.tick();
    expect(coordinator.metadata("old")).toBeUndefined();
    expect(log.history("old").at(-1)).toBeNull();
    for (let i = 0; i < 100; i++) await coordinator.initProducerId(`id-${i}`, 1000, null);
    expect((await coordinator.initProducerId("one-too-many", 1000, null)).errorCode).toBe(
      ErrorCode.POLICY_VIOLATION,
    );
  });

  it("verifies transactional produce and verify-only adds (KIP-890 part 1)", async () => {
    const { coordinator } = setup();
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null);
    expect(coordinator.verifyTransactionalProduce("a", producerId, 0, "t1", 0, false)).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
    expect(coordinator.verifyTransactionalProduce("a", producerId, 0, "t1", 0, true)).toBe(
      ErrorCode.TRANSACTION_ABORTABLE,
    );
    await coordinator.addPartitions("a", producerId, 0, [{ name: "t1", partitions: [0] }]);
    expect(coordinator.verifyTransactionalProduce("a", producerId, 0, "t1", 0, true)).toBe(ErrorCode.NONE);
    expect(coordinator.verifyTransactionalProduce("a", producerId, 0, "t1", 1, false)).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
    expect(coordinator.verifyTransactionalProduce("a", producerId, 0, "t1", 1, true)).toBe(
      ErrorCode.TRANSACTION_ABORTABLE,
    );
    expect(coordinator.verifyTransactionalProduce(null, producerId, 0, "t1", 0, true)).toBe(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    const verified = coordinator.verifyPartitions("a", producerId, 0, T);
    expect(verified[0]?.results.map((r) => r.errorCode)).toEqual([
      ErrorCode.NONE,
      ErrorCode.INVALID_TXN_STATE,
    ]);
  });

  it("writes only legal transitions whatever the clients do (property)", async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("init" as const), resume: fc.boolean() }),
      fc.record({
        kind: fc.constant("add" as const),
        partition: fc.integer({ min: 0, max: 5 }),
        staleEpoch: fc.boolean(),
        v2: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant("end" as const),
        commit: fc.boolean(),
        staleEpoch: fc.boolean(),
        v2: fc.boolean(),
      }),
      fc.record({ kind: fc.constant("tick" as const), advanceMs: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ kind: fc.constant("markers" as const), fail: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), fc.constantFrom(0, 2), async (ops, serverTv) => {
        const { coordinator, log, markers, clock } = setup(new MemoryLog(), new Markers(), serverTv);
        await coordinator.load();
        let current = { producerId: -1n, producerEpoch: -1 };
        for (const o of ops) {
          if (o.kind === "init") {
            const r = await coordinator.initProducerId(
              "p",
              2000,
              o.resume && current.producerId >= 0n ? current : null,
            );
            if (r.errorCode === 0) current = { producerId: r.producerId, producerEpoch: r.producerEpoch };
          } else if (o.kind === "add") {
            const epoch = o.staleEpoch ? current.producerEpoch - 1 : current.producerEpoch;
            if (o.v2) {
              await coordinator.addPartitionImplicitly("p", current.producerId, epoch, "t1", o.partition % 4);
            } else {
              await coordinator.addPartitions("p", current.producerId, epoch, [
                { name: "t1", partitions: [o.partition % 4] },
              ]);
            }
          } else if (o.kind === "end") {
            const epoch = o.staleEpoch ? current.producerEpoch - 1 : current.producerEpoch;
            const r = await coordinator.endTxn("p", current.producerId, epoch, o.commit, o.v2 ? TV_2 : 0);
            if (o.v2 && r.errorCode === 0)
              current = { producerId: r.producerId, producerEpoch: r.producerEpoch };
          } else if (o.kind === "tick") {
            clock.nowMs += o.advanceMs;
            await coordinator.tick();
          } else {
            markers.errorCode = o.fail ? ErrorCode.KAFKA_STORAGE_ERROR : ErrorCode.NONE;
          }
        }
        const states = log.history("p");
        for (let i = 1; i < states.length; i++) {
          const from = states[i - 1];
          const to = states[i];
          if (from === null || from === undefined || to === null || to === undefined) continue;
          if (!isValidTransition(from, to))
            throw new Error(`illegal ${from} -> ${to} in ${states.join(",")}`);
        }
        // A reload reaches the same state as memory.
        const reloaded = setup(log, new Markers());
        reloaded.markers.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
        await reloaded.coordinator.load();
        const mem = coordinator.metadata("p");
        const disk = reloaded.coordinator.metadata("p");
        expect(disk?.state).toBe(mem?.state);
        expect(disk?.producerEpoch).toBe(mem?.producerEpoch);
        expect(disk?.clientTransactionVersion).toBe(mem?.clientTransactionVersion);
      }),
      { numRuns: 150 },
    );
  });
});

describe("TransactionCoordinator, transactions v2 (KIP-890 part 2)", () => {
  const end = (c: TransactionCoordinator, pid: bigint, epoch: number, commit: boolean) =>
    c.endTxn("a", pid, epoch, commit, TV_2);

  it("bumps the epoch at every end, writes markers with it, and returns it", async () => {
    const { coordinator, markers, log } = setup(new MemoryLog(), new Markers(), 2);
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null);
    // A produce adds its partition itself; no AddPartitionsToTxn.
    expect(await coordinator.addPartitionImplicitly("a", producerId, 0, "t1", 0)).toBe(ErrorCode.NONE);
    expect(coordinator.metadata("a")?.clientTransactionVersion).toBe(2);
    expect(await end(coordinator, producerId, 0, true)).toEqual({
      errorCode: 0,
      producerId,
      producerEpoch: 1,
    });
    expect(markers.written).toEqual([
      { topic: "t1", partition: 0, producerId, producerEpoch: 1, commit: true },
    ]);
    expect(coordinator.metadata("a")).toMatchObject({ state: TxnState.CompleteCommit, producerEpoch: 1 });
    // A retry of that commit (the answer was lost) is recognized by the epoch it bumped.
    expect(await end(coordinator, producerId, 0, true)).toEqual({
      errorCode: 0,
      producerId,
      producerEpoch: 1,
    });
    expect(markers.written).toHaveLength(1);
    // The next transaction runs at epoch 1; a delayed produce of the previous one (epoch 0) is fenced.
    expect(await coordinator.addPartitionImplicitly("a", producerId, 0, "t1", 1)).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect(await coordinator.addPartitionImplicitly("a", producerId, 1, "t1", 1)).toBe(ErrorCode.NONE);
    // A delayed EndTxn of the previous transaction cannot end this one.
    expect((await end(coordinator, producerId, 0, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await end(coordinator, producerId, 0, false)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(coordinator.metadata("a")?.state).toBe(TxnState.Ongoing);
    expect(await end(coordinator, producerId, 1, false)).toEqual({
      errorCode: 0,
      producerId,
      producerEpoch: 2,
    });
    expect(markers.written.at(-1)).toEqual({
      topic: "t1",
      partition: 1,
      producerId,
      producerEpoch: 2,
      commit: false,
    });
    // The records carry the client's transaction version and reload with it.
    const reloaded = setup(log, new Markers(), 2);
    await reloaded.coordinator.load();
    expect(reloaded.coordinator.metadata("a")).toMatchObject({
      state: TxnState.CompleteAbort,
      producerEpoch: 2,
      clientTransactionVersion: 2,
    });
  });

  it("answers Empty / CompleteAbort / CompleteCommit as Kafka's table: an unsure abort bumps without markers", async () => {
    const { coordinator, markers, log } = setup(new MemoryLog(), new Markers(), 2);
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null); // epoch 0, Empty
    expect((await end(coordinator, producerId, 0, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    // Abort with the current epoch in Empty: the client could not tell whether a partition joined.
    expect(await end(coordinator, producerId, 0, false)).toEqual({
      errorCode: 0,
      producerId,
      producerEpoch: 1,
    });
    expect(markers.written).toEqual([]);
    expect(log.history("a")).toEqual([TxnState.Empty, TxnState.PrepareAbort, TxnState.CompleteAbort]);
    // CompleteAbort: retry (epoch 0) NONE, current (1) bumps, commit INVALID_TXN_STATE.
    expect(await end(coordinator, producerId, 0, false)).toEqual({
      errorCode: 0,
      producerId,
      producerEpoch: 1,
    });
    expect((await end(coordinator, producerId, 1, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await end(coordinator, producerId, 1, false)).producerEpoch).toBe(2);
    // CompleteCommit: commit retry NONE, abort retry INVALID_TXN_STATE, commit current INVALID_TXN_STATE.
    await coordinator.addPartitionImplicitly("a", producerId, 2, "t1", 0);
    expect((await end(coordinator, producerId, 2, true)).producerEpoch).toBe(3);
    expect((await end(coordinator, producerId, 2, true)).errorCode).toBe(ErrorCode.NONE);
    expect((await end(coordinator, producerId, 2, false)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await end(coordinator, producerId, 3, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await end(coordinator, producerId, 4, false)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await end(coordinator, producerId + 1n, 3, false)).errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
  });

  it("rotates an exhausted producer id at completion and recognizes the retry across the rotation", async () => {
    const log = new MemoryLog();
    // A transactional id one transaction away from the last epoch, as the log holds it.
    await log.append(
      0,
      encodeTxnKey("a"),
      encodeTxnValue({
        producerId: 500n,
        previousProducerId: -1n,
        nextProducerId: -1n,
        producerEpoch: PRODUCER_EPOCH_MAX,
        txnTimeoutMs: 1000,
        state: TxnState.Ongoing,
        partitions: new Map([["t1", new Set([0])]]),
        txnStartTimestampMs: 999_000,
        txnLastUpdateTimestampMs: 999_000,
        clientTransactionVersion: 2,
      }),
    );
    const { coordinator, markers } = setup(log, new Markers(), 2);
    await coordinator.load();
    expect(await end(coordinator, 500n, PRODUCER_EPOCH_MAX, true)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 0,
    });
    expect(markers.written[0]).toMatchObject({ producerId: 500n, producerEpoch: PRODUCER_EPOCH_MAX + 1 });
    expect(coordinator.metadata("a")).toMatchObject({
      producerId: 1000n,
      previousProducerId: 500n,
      nextProducerId: -1n,
      producerEpoch: 0,
      state: TxnState.CompleteCommit,
    });
    expect(await end(coordinator, 500n, PRODUCER_EPOCH_MAX, true)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 0,
    });
    expect(await coordinator.addPartitionImplicitly("a", 1000n, 0, "t1", 0)).toBe(ErrorCode.NONE);
  });

  it("aborts a timed-out transaction one epoch past the fencing epoch, as Kafka's server-side abort", async () => {
    const { coordinator, markers, clock } = setup(new MemoryLog(), new Markers(), 2);
    await coordinator.load();
    const { producerId } = await coordinator.initProducerId("a", 1000, null);
    await coordinator.addPartitionImplicitly("a", producerId, 0, "t1", 0);
    clock.nowMs += 1001;
    await coordinator.tick();
    expect(markers.written).toEqual([
      { topic: "t1", partition: 0, producerId, producerEpoch: 2, commit: false },
    ]);
    expect(coordinator.metadata("a")).toMatchObject({ state: TxnState.CompleteAbort, producerEpoch: 2 });
    expect((await end(coordinator, producerId, 0, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });
});
