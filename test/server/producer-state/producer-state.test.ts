import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import {
  BATCHES_RETAINED_PER_PRODUCER,
  lastSequenceOf,
  type ProducerBatch,
  ProducerStateManager,
} from "../../../src/server/producer-state/producer-state.js";
import {
  decodeSnapshot,
  encodeSnapshot,
  listSnapshotOffsets,
  readSnapshotFile,
  writeSnapshotFile,
} from "../../../src/server/producer-state/snapshot.js";

const NOW_MS = 1_760_000_000_000;

function batch(producerId: bigint, producerEpoch: number, baseSequence: number, records = 1): ProducerBatch {
  return {
    producerId,
    producerEpoch,
    baseSequence,
    lastOffsetDelta: records - 1,
    maxTimestamp: BigInt(NOW_MS),
    isTransactional: false,
  };
}

/** Runs prepare + complete as the partition does; returns the prepare result. */
function append(psm: ProducerStateManager, b: ProducerBatch, offset: { next: number }) {
  const result = psm.prepareAppend([b]);
  if (result.kind === "ok") {
    const first = offset.next;
    offset.next += b.lastOffsetDelta + 1;
    psm.completeAppend(result.plan, [first], offset.next, NOW_MS);
  }
  return result;
}

describe("ProducerStateManager", () => {
  it("accepts in-order sequences and answers a retried batch with its original offsets", () => {
    const psm = new ProducerStateManager();
    const offset = { next: 0 };
    expect(append(psm, batch(7n, 0, 0, 3), offset).kind).toBe("ok");
    expect(append(psm, batch(7n, 0, 3, 2), offset).kind).toBe("ok");
    expect(offset.next).toBe(5);
    const retry = append(psm, batch(7n, 0, 0, 3), offset);
    expect(retry).toEqual({ kind: "duplicate", firstOffset: 0, lastOffset: 2, timestampMs: NOW_MS });
    expect(offset.next).toBe(5);
  });

  it("rejects a gap with OUT_OF_ORDER_SEQUENCE_NUMBER", () => {
    const psm = new ProducerStateManager();
    const offset = { next: 0 };
    append(psm, batch(1n, 0, 0, 2), offset);
    const gap = append(psm, batch(1n, 0, 5), offset);
    expect(gap.kind).toBe("error");
    if (gap.kind === "error") {
      expect(gap.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      expect(gap.errorMessage).toContain("5 (incoming seq. number), 1 (current end sequence number)");
    }
  });

  it("fences a stale epoch with INVALID_PRODUCER_EPOCH and requires sequence 0 for a new epoch", () => {
    const psm = new ProducerStateManager();
    const offset = { next: 0 };
    append(psm, batch(1n, 3, 0), offset);
    const stale = append(psm, batch(1n, 2, 1), offset);
    expect(stale.kind === "error" && stale.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const badStart = append(psm, batch(1n, 4, 1), offset);
    expect(badStart.kind === "error" && badStart.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(append(psm, batch(1n, 4, 0), offset).kind).toBe("ok");
    // A new epoch forgets the old batches: a retry from epoch 3 is not a duplicate.
    expect(append(psm, batch(1n, 3, 0), offset).kind).toBe("error");
  });

  it("accepts any first sequence from an unknown producer (KIP-360)", () => {
    const psm = new ProducerStateManager();
    expect(append(psm, batch(9n, 0, 42), { next: 0 }).kind).toBe("ok");
  });

  it("remembers only the last 5 batches for duplicates", () => {
    const psm = new ProducerStateManager();
    const offset = { next: 0 };
    for (let seq = 0; seq < 7; seq++) expect(append(psm, batch(1n, 0, seq), offset).kind).toBe("ok");
    expect(psm.entry(1n)?.batches.length).toBe(BATCHES_RETAINED_PER_PRODUCER);
    expect(append(psm, batch(1n, 0, 2), offset).kind).toBe("duplicate");
    // Batch 1 fell out of the cache: a retry of it is out of order, as in Kafka.
    expect(append(psm, batch(1n, 0, 1), offset).kind).toBe("error");
  });

  it("wraps sequences after Int32 max", () => {
    expect(lastSequenceOf(0x7ffffffe, 3)).toBe(1);
    const psm = new ProducerStateManager();
    const offset = { next: 0 };
    append(psm, batch(1n, 0, 0x7ffffffe, 2), offset);
    expect(append(psm, batch(1n, 0, 0), offset).kind).toBe("ok");
  });

  it("leaves state untouched when an append is only prepared", () => {
    const psm = new ProducerStateManager();
    expect(psm.prepareAppend([batch(1n, 0, 0)]).kind).toBe("ok");
    expect(psm.size).toBe(0);
  });

  it("ignores batches without a producer id", () => {
    const psm = new ProducerStateManager();
    const result = psm.prepareAppend([batch(-1n, -1, -1)]);
    expect(result.kind === "ok" && result.plan.batches.length).toBe(0);
  });

  it("forgets producers whose data was deleted and idle producers", () => {
    const psm = new ProducerStateManager({ producerIdExpirationMs: 1000, producersMax: 10 });
    const offset = { next: 0 };
    append(psm, batch(1n, 0, 0), offset);
    append(psm, batch(2n, 0, 0), offset);
    psm.onLogStartOffsetIncremented(1);
    expect(psm.entry(1n)).toBeUndefined();
    expect(psm.entry(2n)).toBeDefined();
    expect(psm.removeExpiredProducers(NOW_MS + 999)).toBe(0);
    expect(psm.removeExpiredProducers(NOW_MS + 1000)).toBe(1);
    expect(psm.size).toBe(0);
  });

  it("bounds the number of producers, dropping the one idle longest", () => {
    const psm = new ProducerStateManager({ producerIdExpirationMs: 1e9, producersMax: 3 });
    const offset = { next: 0 };
    for (let id = 1n; id <= 3n; id++) append(psm, batch(id, 0, 0), offset);
    append(psm, batch(1n, 0, 1), offset); // producer 1 is now the most recent
    append(psm, batch(4n, 0, 0), offset);
    expect(psm.size).toBe(3);
    expect(psm.entry(2n)).toBeUndefined();
    expect(psm.entry(1n)).toBeDefined();
  });

  it("property: a random schedule of sends and retries never accepts a batch twice or out of order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 4 })), { maxLength: 60 }),
        (steps) => {
          const psm = new ProducerStateManager();
          const offset = { next: 0 };
          // The model: what a well-behaved client has had acknowledged.
          const acked: { seq: number; records: number; firstOffset: number }[] = [];
          let nextSeq = 0;
          for (const [action, records] of steps) {
            if (action === 0 || acked.length === 0) {
              const r = append(psm, batch(5n, 0, nextSeq, records), offset);
              expect(r.kind).toBe("ok");
              acked.push({ seq: nextSeq, records, firstOffset: offset.next - records });
              nextSeq += records;
            } else if (action === 1) {
              // Retry one of the last 5 acknowledged batches: answered with its original offset.
              const pick = acked[Math.max(0, acked.length - 1 - (records % Math.min(5, acked.length)))]!;
              const r = append(psm, batch(5n, 0, pick.seq, pick.records), offset);
              expect(r.kind === "duplicate" && r.firstOffset).toBe(pick.firstOffset);
            } else {
              const r = append(psm, batch(5n, 0, nextSeq + records), offset);
              expect(r.kind === "error" && r.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
            }
          }
          expect(offset.next).toBe(acked.reduce((n, a) => n + a.records, 0));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("producer snapshots", () => {
  it("round-trip in Kafka's format and restore duplicate detection of the last batch", () => {
    const psm = new ProducerStateManager();
    const offset = { next: 0 };
    append(psm, batch(11n, 2, 0, 3), offset);
    append(psm, batch(12n, 0, 0x7ffffffe, 4), offset);
    const buf = encodeSnapshot(psm.entries());
    expect(buf.length).toBe(6 + 4 + 2 * 46);
    expect(buf.readInt16BE(0)).toBe(1);
    const restored = new ProducerStateManager();
    restored.loadSnapshot(decodeSnapshot(buf), offset.next, NOW_MS);
    expect(restored.mapEndOffset).toBe(7);
    expect(restored.entry(12n)?.batches).toEqual(psm.entry(12n)?.batches);
    const retry = restored.prepareAppend([batch(11n, 2, 0, 3)]);
    expect(retry).toMatchObject({ kind: "duplicate", firstOffset: 0, lastOffset: 2 });
    expect(restored.prepareAppend([batch(12n, 0, 2)]).kind).toBe("ok");
  });

  it("rejects corrupt snapshots (every single-byte change and every truncation)", () => {
    const psm = new ProducerStateManager();
    append(psm, batch(11n, 2, 0, 3), { next: 0 });
    const good = encodeSnapshot(psm.entries());
    for (let i = 0; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] = bad[i]! ^ 0x5a;
      expect(() => decodeSnapshot(bad), `byte ${i}`).toThrow(/corrupt/);
      expect(() => decodeSnapshot(good.subarray(0, i)), `length ${i}`).toThrow(/corrupt/);
    }
  });

  it("writes files named by 20-digit offset and reads them back", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-psm-"));
    try {
      const psm = new ProducerStateManager();
      append(psm, batch(3n, 0, 0), { next: 0 });
      writeSnapshotFile(dir, 1, psm.entries());
      writeSnapshotFile(dir, 12, psm.entries());
      expect(fs.readdirSync(dir).sort()).toEqual([
        "00000000000000000001.snapshot",
        "00000000000000000012.snapshot",
      ]);
      expect(listSnapshotOffsets(dir)).toEqual([1, 12]);
      expect(readSnapshotFile(dir, 12)[0]?.producerId).toBe(3n);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
