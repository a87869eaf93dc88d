import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import {
  ATTR_TIMESTAMP_TYPE_MASK,
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  readBatchHeader,
} from "../../../src/protocol/records/batch-header.js";
import {
  isBatchCrcValid,
  iterateBatches,
  probeBatch,
  writeBatchCrc,
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

describe("batch CRC helpers", () => {
  it("check the CRC over attributes..end, as Kafka computes it", () => {
    const b = batch(3n, 3);
    expect(isBatchCrcValid(b, 0, b.length)).toBe(true);
    b.writeUInt32BE((b.readUInt32BE(CRC_OFFSET) + 1) >>> 0, CRC_OFFSET);
    expect(isBatchCrcValid(b, 0, b.length)).toBe(false);
    // The CRC does not cover baseOffset or partitionLeaderEpoch, which the broker rewrites.
    const rewritten = batch(3n, 3);
    rewritten.writeBigInt64BE(1000n, 0);
    rewritten.writeInt32BE(7, 12);
    expect(isBatchCrcValid(rewritten, 0, rewritten.length)).toBe(true);
  });

  it("writeBatchCrc repairs the CRC after a covered field changes", () => {
    const b = batch(0n, 2);
    b.writeInt16BE(b.readInt16BE(ATTRIBUTES_OFFSET) | ATTR_TIMESTAMP_TYPE_MASK, ATTRIBUTES_OFFSET);
    expect(isBatchCrcValid(b, 0, b.length)).toBe(false);
    writeBatchCrc(b, 0, b.length);
    expect(isBatchCrcValid(b, 0, b.length)).toBe(true);
    expect([...iterateBatches(b, { verifyCrc: true })]).toEqual([{ position: 0, sizeBytes: b.length }]);
  });
});
