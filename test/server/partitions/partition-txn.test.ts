/**
 * Transactions at the partition level: the last stable offset follows open transactions, markers
 * close them, aborts land in the aborted-transaction index, and all of it is rebuilt after a
 * restart (from snapshot + replay, from the index file, and with the index file lost).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_LOG_CONFIG } from "../../../src/log/config.js";
import { FilePool } from "../../../src/log/file-pool.js";
import { PartitionLog } from "../../../src/log/partition-log.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { Partition, type PartitionEvents } from "../../../src/server/partitions/partition.js";
import { ABORTED_TXN_INDEX_FILE } from "../../../src/server/producer-state/aborted-txns.js";
import { DEFAULT_PRODUCER_STATE_OPTIONS } from "../../../src/server/producer-state/producer-state.js";
import { validatedBatches } from "../validated-batches.js";

const NOW = Date.now();
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "krill-partition-txn-"));
  dirs.push(root);
  const pool = new FilePool(64);
  const sink: PartitionEvents = { onAppend: () => {}, onChange: () => {}, warn: () => {} };
  let log: PartitionLog | undefined;
  const open = () => {
    log = PartitionLog.open({
      dir: path.join(root, "t-0"),
      topicPartition: { topic: "t", partition: 0 },
      config: DEFAULT_LOG_CONFIG,
      pool,
      hadCleanShutdown: true,
    });
    return new Partition("t", 0, log, 0, sink, DEFAULT_PRODUCER_STATE_OPTIONS);
  };
  const close = async () => {
    await log?.close();
  };
  return { open, close, dir: path.join(root, "t-0") };
}

function append(
  p: Partition,
  producerId: bigint,
  baseSequence: number,
  count: number,
  transactional: boolean,
  epoch = 0,
) {
  const records = buildRecordBatch({
    producerId,
    producerEpoch: epoch,
    baseSequence,
    transactional,
    records: Array.from({ length: count }, (_, i) => ({ timestamp: NOW, key: null, value: `v${i}` })),
  });
  return p.appendAsLeader(records, validatedBatches(records, NOW), false, NOW);
}

describe("partition transactions", () => {
  it("holds the last stable offset at the oldest open transaction and indexes aborts", () => {
    const { open } = setup();
    const p = open();
    expect(append(p, 1n, 0, 2, false).kind).toBe("appended"); // 0-1 idempotent, not transactional
    expect(append(p, 7n, 0, 3, true).kind).toBe("appended"); // 2-4 txn of producer 7
    expect(append(p, 8n, 0, 1, true).kind).toBe("appended"); // 5 txn of producer 8
    expect(p.highWatermark).toBe(6);
    expect(p.lastStableOffset).toBe(2);
    expect(p.log.firstUnstableOffset).toBe(2); // the cleaner stops there
    // A read_committed read stops at the LSO.
    const read = p.read(0, 1 << 20, true, true);
    expect(read.nextOffset).toBe(2);

    expect(p.appendTxnMarker(7n, 0, 0, false, NOW).kind).toBe("appended"); // 6 ABORT for 7
    expect(p.lastStableOffset).toBe(5);
    expect(p.appendTxnMarker(8n, 0, 0, true, NOW).kind).toBe("appended"); // 7 COMMIT for 8
    expect(p.lastStableOffset).toBe(8);
    expect(p.log.firstUnstableOffset).toBeUndefined();
    expect(p.abortedTransactions(0, 8)).toEqual([
      { producerId: 7n, firstOffset: 2, lastOffset: 6, lastStableOffset: 2 },
    ]);
    expect(p.abortedTransactions(7, 8)).toEqual([]);
    expect(p.abortedTransactions(0, 2)).toEqual([]);
  });

  it("refuses a non-transactional batch while the producer's transaction is open, and stale markers", () => {
    const { open } = setup();
    const p = open();
    append(p, 7n, 0, 1, true, 3);
    const plain = append(p, 7n, 1, 1, false, 3);
    expect(plain.kind === "error" && plain.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    const stale = p.appendTxnMarker(7n, 2, 0, true, NOW);
    expect(stale.kind === "error" && stale.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // A fencing abort with a bumped epoch closes it; the zombie's epoch is then refused.
    expect(p.appendTxnMarker(7n, 4, 1, false, NOW).kind).toBe("appended");
    const zombie = append(p, 7n, 1, 1, true, 3);
    expect(zombie.kind === "error" && zombie.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const oldCoordinator = p.appendTxnMarker(7n, 4, 0, false, NOW);
    expect(oldCoordinator.kind === "error" && oldCoordinator.errorCode).toBe(
      ErrorCode.TRANSACTION_COORDINATOR_FENCED,
    );
  });

  it("rebuilds open transactions and aborts after a restart, with or without the index file and snapshot", async () => {
    const { open, close, dir } = setup();
    let p = open();
    append(p, 7n, 0, 2, true); // 0-1
    p.appendTxnMarker(7n, 0, 0, false, NOW); // 2 ABORT
    await p.takeSnapshot(); // snapshot at 3
    append(p, 9n, 0, 1, true); // 3, open
    append(p, 7n, 2, 1, true); // 4
    p.appendTxnMarker(7n, 0, 0, false, NOW); // 5 ABORT
    const expected = [
      { producerId: 7n, firstOffset: 0, lastOffset: 2, lastStableOffset: 0 },
      { producerId: 7n, firstOffset: 4, lastOffset: 5, lastStableOffset: 3 },
    ];
    expect(p.abortedTransactions(0, 6)).toEqual(expected);
    await close();

    p = open();
    expect(p.lastStableOffset).toBe(3);
    expect(p.abortedTransactions(0, 6)).toEqual(expected);
    await close();

    // The index file lost (crash before it was written): the replay after the snapshot finds
    // the second abort again; the first one, before the snapshot, is gone with the file.
    fs.rmSync(path.join(dir, ABORTED_TXN_INDEX_FILE));
    p = open();
    expect(p.lastStableOffset).toBe(3);
    expect(p.abortedTransactions(0, 6)).toEqual([expected[1]!]);
    await close();

    // No snapshot either: the full replay rebuilds everything (offsets only, LSO as of the log).
    fs.rmSync(path.join(dir, ABORTED_TXN_INDEX_FILE));
    for (const f of fs.readdirSync(dir)) if (f.endsWith(".snapshot")) fs.rmSync(path.join(dir, f));
    p = open();
    expect(p.lastStableOffset).toBe(3);
    expect(p.abortedTransactions(0, 6).map((t) => [t.producerId, t.firstOffset, t.lastOffset])).toEqual([
      [7n, 0, 2],
      [7n, 4, 5],
    ]);
    await close();
  });

  it("drops index entries below a new log start", () => {
    const { open } = setup();
    const p = open();
    append(p, 7n, 0, 2, true); // 0-1
    p.appendTxnMarker(7n, 0, 0, false, NOW); // 2
    append(p, 7n, 2, 1, true); // 3
    p.appendTxnMarker(7n, 0, 0, false, NOW); // 4
    p.deleteRecordsBefore(3);
    expect(p.abortedTransactions(0, 5).map((t) => t.lastOffset)).toEqual([4]);
  });
});
