import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { frameBatches, rewriteForLeader } from "../../src/log/leader-rewrite.js";
import { readBatchHeader } from "../../src/protocol/records/batch-header.js";
import { isBatchCrcValid, iterateBatches } from "../../src/protocol/records/batch-iterator.js";
import {
  type ProduceValidationOptions,
  validateProducedBatches,
} from "../../src/protocol/records/produce-validation.js";
import {
  type BuildRecordBatchOptions,
  buildRecordBatch,
  decodeRecordBatch,
} from "../../src/protocol/records/record-batch.js";
import { CODEC_NAMES, NOW_MS, recordsArb } from "../protocol/records/helpers.js";

const OPTIONS: ProduceValidationOptions = {
  maxMessageBytes: 1_048_588,
  timestampType: "CreateTime",
  timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
  timestampAfterMaxMs: Number.POSITIVE_INFINITY,
  nowMs: NOW_MS,
};

function build(overrides: Partial<BuildRecordBatchOptions> = {}): Buffer {
  return buildRecordBatch({
    records: [
      { timestamp: NOW_MS - 10, key: "k1", value: "v1", headers: [{ key: "h", value: "x" }] },
      { timestamp: NOW_MS - 5, key: null, value: "v2" },
      { timestamp: NOW_MS, key: "k3", value: null },
    ],
    ...overrides,
  });
}

/** What PartitionLog.append does to a leader append's bytes. */
function assign(buf: Buffer, baseOffset: number, leaderEpoch: number, logAppendTimeMs?: number) {
  const batches = frameBatches(buf, false);
  let next = baseOffset;
  for (const b of batches) next = rewriteForLeader(buf, b, next, leaderEpoch, logAppendTimeMs);
  return { lastOffset: next - 1, nextOffset: next, batchCount: batches.length };
}

describe("the leader's in-place rewrite (frameBatches + rewriteForLeader)", () => {
  it("assigns consecutive offsets and the epoch without touching the CRC", () => {
    const a = build();
    const b = build({ records: [{ timestamp: NOW_MS, key: null, value: "only" }] });
    const buf = Buffer.concat([a, b]);
    const before = Buffer.from(buf);
    expect(assign(buf, 100, 7)).toEqual({ lastOffset: 103, nextOffset: 104, batchCount: 2 });
    const headers = [...iterateBatches(buf, { verifyCrc: true })].map((s) =>
      readBatchHeader(buf, s.position),
    );
    expect(headers.map((h) => [h.baseOffset, h.partitionLeaderEpoch])).toEqual([
      [100n, 7],
      [103n, 7],
    ]);
    // Only baseOffset and partitionLeaderEpoch (the first 16 bytes of each batch) changed.
    expect(buf.subarray(16, a.length)).toEqual(before.subarray(16, a.length));
    expect(buf.subarray(a.length + 16)).toEqual(before.subarray(a.length + 16));
    const decoded = decodeRecordBatch(buf, { decompressedBytesMax: 1 << 20, position: a.length });
    expect(decoded.records[0]?.offset).toBe(103n);
  });

  it("stamps LogAppendTime and recomputes the CRC", () => {
    const buf = build({ compression: "snappy" });
    assign(buf, 0, 1, NOW_MS + 5);
    expect(isBatchCrcValid(buf, 0, buf.length)).toBe(true);
    const decoded = decodeRecordBatch(buf, { decompressedBytesMax: 1 << 20 });
    expect(decoded.timestampType).toBe("LogAppendTime");
    expect(decoded.header.maxTimestamp).toBe(BigInt(NOW_MS + 5));
    expect(decoded.header.baseTimestamp).toBe(BigInt(NOW_MS - 10));
    expect(decoded.records.map((r) => r.timestamp)).toEqual([1, 2, 3].map(() => BigInt(NOW_MS + 5)));
  });

  it("clears a client-set LogAppendTime bit when the topic is CreateTime, as Kafka does", () => {
    const buf = build({ timestampType: "LogAppendTime", maxTimestamp: BigInt(NOW_MS) });
    expect(validateProducedBatches(buf, OPTIONS).ok).toBe(true);
    assign(buf, 0, 1);
    expect(isBatchCrcValid(buf, 0, buf.length)).toBe(true);
    const decoded = decodeRecordBatch(buf, { decompressedBytesMax: 1 << 20 });
    expect(decoded.timestampType).toBe("CreateTime");
    expect(decoded.records.map((r) => r.timestamp)).toEqual([NOW_MS - 10, NOW_MS - 5, NOW_MS].map(BigInt));
  });

  it("leaves a malformed buffer untouched (framing is checked before any byte is written)", () => {
    const buf = Buffer.concat([build(), build().subarray(0, 40)]);
    const before = Buffer.from(buf);
    expect(() => assign(buf, 10, 1)).toThrow(/not a record batch/);
    expect(buf).toEqual(before);
  });

  it("keeps every codec's batch valid and decodable after the rewrite (property)", () => {
    fc.assert(
      fc.property(
        recordsArb,
        fc.constantFrom(...CODEC_NAMES),
        fc.integer({ min: 0, max: 2 ** 52 }),
        fc.boolean(),
        (records, compression, base, lat) => {
          const buf = buildRecordBatch({ records, compression });
          expect(validateProducedBatches(buf, OPTIONS).ok).toBe(true);
          assign(buf, base, 3, lat ? NOW_MS : undefined);
          expect(isBatchCrcValid(buf, 0, buf.length)).toBe(true);
          const decoded = decodeRecordBatch(buf, { decompressedBytesMax: 1 << 22 });
          expect(decoded.records.map((r) => r.offset)).toEqual(records.map((_, i) => BigInt(base + i)));
        },
      ),
      { numRuns: 150 },
    );
  });
});
