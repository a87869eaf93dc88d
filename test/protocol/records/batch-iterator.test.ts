import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { CRC_OFFSET, readBatchHeader } from "../../../src/protocol/records/batch-header.js";
import {
  type BatchSlice,
  findBatchPosition,
  isBatchCrcValid,
  iterateBatches,
  probeBatch,
  scanValidPrefix,
} from "../../../src/protocol/records/batch-iterator.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";

function batch(baseOffset: bigint, n: number): Buffer {
  return buildRecordBatch({
    baseOffset,
    records: Array.from({ length: n }, (_, i) => ({ timestamp: 1000 + i, key: null, value: `v${i}` })),
  });
}

function corruptCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isKrillError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe("iterateBatches", () => {
  it("yields every batch boundary in order", () => {
    const a = batch(0n, 3);
    const b = batch(3n, 5);
    const c = batch(8n, 1);
    const buf = Buffer.concat([a, b, c]);
    const slices = [...iterateBatches(buf, { verifyCrc: true })];
    expect(slices).toEqual([
      { position: 0, sizeBytes: a.length },
      { position: a.length, sizeBytes: b.length },
      { position: a.length + b.length, sizeBytes: c.length },
    ]);
    expect(slices.map((s) => readBatchHeader(buf, s.position).baseOffset)).toEqual([0n, 3n, 8n]);
  });

  it("throws CORRUPT_RECORD on a torn tail at every cut point", () => {
    const buf = Buffer.concat([batch(0n, 2), batch(2n, 2)]);
    const first = buf.readInt32BE(8) + 12;
    for (let cut = first + 1; cut < buf.length; cut++) {
      expect(corruptCode(() => [...iterateBatches(buf.subarray(0, cut))])).toBe("CORRUPT_RECORD");
    }
  });

  it("throws on a CRC mismatch only when asked to verify", () => {
    const buf = batch(0n, 4);
    buf[buf.length - 1]! ^= 0xff;
    expect([...iterateBatches(buf)]).toHaveLength(1);
    expect(corruptCode(() => [...iterateBatches(buf, { verifyCrc: true })])).toBe("CORRUPT_RECORD");
  });

  it("rejects impossible lengths, other magics and oversized batches", () => {
    const good = batch(0n, 1);
    const negative = Buffer.from(good);
    negative.writeInt32BE(-5, 8);
    expect(probeBatch(negative, 0).kind).toBe("corrupt");
    const short = Buffer.from(good);
    short.writeInt32BE(30, 8);
    expect(probeBatch(short, 0).kind).toBe("corrupt");
    const magic1 = Buffer.from(good);
    magic1.writeInt8(1, 16);
    expect(probeBatch(magic1, 0)).toMatchObject({ kind: "batch", magic: 1 });
    expect(corruptCode(() => [...iterateBatches(magic1)])).toBe("CORRUPT_RECORD");
    const magic9 = Buffer.from(good);
    magic9.writeInt8(9, 16);
    expect(probeBatch(magic9, 0).kind).toBe("corrupt");
    expect(corruptCode(() => [...iterateBatches(good, { batchSizeMax: good.length - 1 })])).toBe(
      "CORRUPT_RECORD",
    );
    const huge = Buffer.from(good);
    huge.writeInt32BE(0x7fffffff, 8);
    expect(probeBatch(huge, 0).kind).toBe("corrupt");
    expect(probeBatch(huge, 0, huge.length, Number.MAX_SAFE_INTEGER).kind).toBe("incomplete");
  });

  it("treats an empty range as no batches", () => {
    expect([...iterateBatches(Buffer.alloc(0))]).toEqual([]);
  });
});

describe("findBatchPosition", () => {
  it("finds the batch holding or following an offset from headers alone", () => {
    const a = batch(10n, 3); // 10..12
    const b = batch(13n, 2); // 13..14
    const c = batch(20n, 1); // 20 (a gap, as after compaction)
    const buf = Buffer.concat([a, b, c]);
    expect(findBatchPosition(buf, 0n)).toBe(0);
    expect(findBatchPosition(buf, 12n)).toBe(0);
    expect(findBatchPosition(buf, 13n)).toBe(a.length);
    expect(findBatchPosition(buf, 15n)).toBe(a.length + b.length);
    expect(findBatchPosition(buf, 20n)).toBe(a.length + b.length);
    expect(findBatchPosition(buf, 21n)).toBeUndefined();
    expect(findBatchPosition(buf, 14n, { start: a.length })).toBe(a.length);
  });
});

describe("scanValidPrefix", () => {
  it("stops at a torn tail with the valid bytes before it", () => {
    const a = batch(0n, 3);
    const b = batch(3n, 3);
    const seen: BatchSlice[] = [];
    const result = scanValidPrefix(Buffer.concat([a, b]).subarray(0, a.length + 20), {
      onBatch: (s) => seen.push(s),
    });
    expect(result).toMatchObject({ validBytes: a.length, batchCount: 1, stop: "incomplete" });
    expect(seen).toEqual([{ position: 0, sizeBytes: a.length }]);
  });

  it("stops at a batch whose CRC fails", () => {
    const a = batch(0n, 3);
    const b = batch(3n, 3);
    b.writeUInt32BE((b.readUInt32BE(CRC_OFFSET) + 1) >>> 0, CRC_OFFSET);
    expect(isBatchCrcValid(b, 0, b.length)).toBe(false);
    const result = scanValidPrefix(Buffer.concat([a, b, batch(6n, 1)]));
    expect(result).toMatchObject({ validBytes: a.length, batchCount: 1, stop: "corrupt" });
  });

  it("covers the whole buffer when every batch is valid", () => {
    const buf = Buffer.concat([batch(0n, 1), batch(1n, 2)]);
    expect(scanValidPrefix(buf)).toEqual({ validBytes: buf.length, batchCount: 2, stop: "end" });
  });

  it("never throws on random garbage and never claims more than the buffer", () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const good = Buffer.concat([batch(0n, 2), batch(2n, 2)]);
    for (let round = 0; round < 2000; round++) {
      const buf = Buffer.from(good);
      const flips = 1 + (rand() % 4);
      for (let f = 0; f < flips; f++) buf[rand() % buf.length] = rand() & 0xff;
      const result = scanValidPrefix(buf.subarray(0, rand() % (buf.length + 1)));
      expect(result.validBytes).toBeLessThanOrEqual(buf.length);
    }
  });
});
