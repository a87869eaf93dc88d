import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { buildRecordBatch, decodeRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { recompressIfNeeded, targetCodec } from "../../../src/server/produce/recompress.js";
import { validatedBatches } from "../validated-batches.js";

const NOW = 1_760_000_000_000;
const DECODE = { decompressedBytesMax: 1 << 24 };

function produced(
  compression: "none" | "gzip" | "snappy",
  timestampType: "CreateTime" | "LogAppendTime" = "CreateTime",
) {
  const records = buildRecordBatch({
    timestampType,
    producerId: 42n,
    producerEpoch: 3,
    baseSequence: 17,
    compression,
    records: [
      { timestamp: NOW, key: "k", value: "v".repeat(500), headers: [{ key: "h", value: "x" }] },
      { timestamp: NOW + 5, key: null, value: null },
    ],
  });
  return { records, batches: validatedBatches(records, NOW) };
}

describe("recompression for topic compression.type", () => {
  it("maps topic values to codecs, producer to none", () => {
    expect(targetCodec("producer")).toBeUndefined();
    expect(targetCodec("uncompressed")).toBe(0);
    expect(targetCodec("zstd")).toBe(4);
  });

  it("keeps a batch already in the target codec byte for byte", () => {
    const { records, batches } = produced("gzip");
    const r = recompressIfNeeded(records, batches, 1, 1 << 20);
    expect(r.ok && r.records).toBe(records);
  });

  it("rebuilds other codecs keeping producer fields, offsets, timestamps, keys, values and headers", () => {
    for (const [from, to] of [
      ["gzip", 3],
      ["none", 4],
      ["snappy", 0],
    ] as const) {
      const { records, batches } = produced(from);
      const r = recompressIfNeeded(records, batches, to, 1 << 20);
      if (!r.ok) throw new Error(r.errorMessage);
      const before = decodeRecordBatch(records, DECODE);
      const after = decodeRecordBatch(r.records, DECODE);
      expect(after.compression).toBe(to);
      expect(r.batches[0]).toMatchObject({ compression: to, sizeBytes: r.records.length, producerId: 42n });
      expect(after.header).toMatchObject({
        producerId: 42n,
        producerEpoch: 3,
        baseSequence: 17,
        lastOffsetDelta: 1,
        baseTimestamp: before.header.baseTimestamp,
        maxTimestamp: before.header.maxTimestamp,
      });
      expect(after.records).toEqual(before.records);
    }
  });

  it("keeps every record byte of a batch flagged LogAppendTime (timestamp deltas not rewritten)", () => {
    const { records, batches } = produced("gzip", "LogAppendTime");
    const r = recompressIfNeeded(records, batches, 0, 1 << 20);
    if (!r.ok) throw new Error(r.errorMessage);
    // The same records built uncompressed are the exact bytes expected, header and CRC included.
    expect(r.records.equals(produced("none", "LogAppendTime").records)).toBe(true);
  });

  it("refuses a rebuilt batch larger than max.message.bytes", () => {
    const { records, batches } = produced("gzip");
    const r = recompressIfNeeded(records, batches, 0, 200);
    expect(!r.ok && r.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });
});
