import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { ABORTED_TXN_INDEX_FILE, AbortedTxnIndex } from "../../../src/server/producer-state/aborted-txns.js";
import {
  type ProducerBatch,
  ProducerStateManager,
} from "../../../src/server/producer-state/producer-state.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-txnindex-"));
  dirs.push(dir);
  return dir;
}

const entry = (producerId: bigint, firstOffset: number, lastOffset: number) => ({
  producerId,
  firstOffset,
  lastOffset,
  lastStableOffset: firstOffset,
});

describe("AbortedTxnIndex", () => {
  it("collects the aborts overlapping a fetched range, persists them and ignores duplicates", () => {
    const dir = tempDir();
    const index = new AbortedTxnIndex(dir);
    index.load(0, 100);
    index.add(entry(1n, 0, 5));
    index.add(entry(2n, 3, 9));
    index.add(entry(1n, 0, 5));
    index.add(entry(3n, 20, 30));
    expect(index.size).toBe(3);
    expect(index.collect(6, 21).map((e) => e.producerId)).toEqual([2n, 3n]);
    expect(index.collect(0, 3).map((e) => e.producerId)).toEqual([1n]);
    expect(index.collect(31, 100)).toEqual([]);
    expect(fs.statSync(path.join(dir, ABORTED_TXN_INDEX_FILE)).size).toBe(3 * 34);

    const reloaded = new AbortedTxnIndex(dir);
    reloaded.load(6, 25); // log start 6 drops the first (marker at 5); log end 25 the last
    expect(reloaded.collect(0, 100).map((e) => e.producerId)).toEqual([2n]);
    expect(fs.statSync(path.join(dir, ABORTED_TXN_INDEX_FILE)).size).toBe(34);
  });

  it("drops a torn tail and insane entries instead of failing", () => {
    const dir = tempDir();
    const index = new AbortedTxnIndex(dir);
    index.load(0, 100);
    index.add(entry(1n, 0, 5));
    const file = path.join(dir, ABORTED_TXN_INDEX_FILE);
    const bad = Buffer.alloc(34);
    bad.writeInt16BE(7, 0); // unknown version
    fs.appendFileSync(file, Buffer.concat([bad, Buffer.alloc(10)]));
    const reloaded = new AbortedTxnIndex(dir);
    reloaded.load(0, 100);
    expect(reloaded.collect(0, 100)).toEqual([entry(1n, 0, 5)]);
    expect(fs.statSync(file).size).toBe(34);
  });
});

describe("ProducerStateManager transactions", () => {
  const txnBatch = (producerId: bigint, epoch: number, seq: number): ProducerBatch => ({
    producerId,
    producerEpoch: epoch,
    baseSequence: seq,
    lastOffsetDelta: 0,
    maxTimestamp: 1n,
    isTransactional: true,
  });

  it("tracks open transactions, closes them with markers and reports aborted ranges", () => {
    const psm = new ProducerStateManager();
    const plan = psm.prepareAppend([txnBatch(5n, 0, 0)]);
    if (plan.kind !== "ok") throw new Error("expected ok");
    psm.completeAppend(plan.plan, [10], 11, 1);
    expect(psm.firstUnstableOffset()).toBe(10);
    expect(psm.entry(5n)?.currentTxnFirstOffset).toBe(10);
    expect(psm.checkTxnMarker(5n, 0, 0).kind).toBe("ok");
    expect(psm.completeTxn(5n, 0, 0, false, 11, 1)).toEqual({
      producerId: 5n,
      firstOffset: 10,
      lastOffset: 11,
    });
    expect(psm.firstUnstableOffset()).toBeUndefined();
    // A second marker for a closed transaction changes nothing a reader sees.
    expect(psm.completeTxn(5n, 0, 0, false, 12, 1)).toBeUndefined();
    expect(psm.completeTxn(5n, 0, 0, true, 13, 1)).toBeUndefined();
  });

  it("transactions v2 markers (WriteTxnMarkers v2, KIP-1228) need a newer epoch, except a retry", () => {
    const psm = new ProducerStateManager();
    const plan = psm.prepareAppend([txnBatch(7n, 3, 0)]);
    if (plan.kind !== "ok") throw new Error("expected ok");
    psm.completeAppend(plan.plan, [10], 11, 1);
    // Legacy (v1 request, or transaction version 0/1): the producer's own epoch is fine, older is not.
    expect(psm.checkTxnMarker(7n, 3, 0, 0).kind).toBe("ok");
    expect(psm.checkTxnMarker(7n, 2, 0, 1).kind).toBe("error");
    // TV2 while the transaction is open: the marker's epoch must be the bumped one.
    const same = psm.checkTxnMarker(7n, 3, 0, 2);
    expect(same.kind === "error" && same.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(psm.checkTxnMarker(7n, 4, 0, 2).kind).toBe("ok");
    psm.completeTxn(7n, 4, 0, true, 11, 1);
    // A retry of that marker (same epoch, nothing open) is written again; an older one is refused.
    expect(psm.checkTxnMarker(7n, 4, 0, 2).kind).toBe("ok");
    expect(psm.checkTxnMarker(7n, 3, 0, 2).kind).toBe("error");
  });

  it("accepts coordinator batches without a sequence (transactional offset commits), checking only the epoch", () => {
    const psm = new ProducerStateManager();
    for (let i = 0; i < 3; i++) {
      const r = psm.prepareAppend([txnBatch(9n, 2, -1)]);
      expect(r.kind).toBe("ok");
      if (r.kind === "ok") psm.completeAppend(r.plan, [i], i + 1, 1);
    }
    const stale = psm.prepareAppend([txnBatch(9n, 1, -1)]);
    expect(stale.kind === "error" && stale.errorCode).toBe(47); // INVALID_PRODUCER_EPOCH
    const bumped = psm.prepareAppend([txnBatch(9n, 3, -1)]);
    expect(bumped.kind).toBe("ok");
  });
});
