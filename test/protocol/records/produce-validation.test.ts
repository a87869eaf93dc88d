import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32c } from "../../../src/protocol/crc32c.js";
import { CRC_OFFSET } from "../../../src/protocol/records/batch-header.js";
import {
  type ProduceValidationOptions,
  validateProducedBatches,
} from "../../../src/protocol/records/produce-validation.js";
import {
  type BuildRecordBatchOptions,
  buildRecordBatch,
} from "../../../src/protocol/records/record-batch.js";
import { RecordErrorCode } from "../../../src/protocol/records/wire-error-codes.js";
import { NOW_MS } from "./helpers.js";

const OPTIONS: ProduceValidationOptions = {
  maxMessageBytes: 1_048_588,
  timestampType: "CreateTime",
  timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
  timestampAfterMaxMs: 3_600_000,
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

function errorOf(buf: Buffer | null, options: Partial<ProduceValidationOptions> = {}) {
  const result = validateProducedBatches(buf, { ...OPTIONS, ...options });
  return result.ok ? undefined : result.errorCode;
}

describe("validateProducedBatches", () => {
  it("accepts a fresh batch and summarizes its header", () => {
    const buf = build({
      producerId: 42n,
      producerEpoch: 3,
      baseSequence: 7,
      transactional: true,
      compression: "lz4",
    });
    const result = validateProducedBatches(buf, OPTIONS);
    expect(result).toEqual({
      ok: true,
      recordsCount: 3,
      batches: [
        {
          position: 0,
          sizeBytes: buf.length,
          recordsCount: 3,
          lastOffsetDelta: 2,
          producerId: 42n,
          producerEpoch: 3,
          baseSequence: 7,
          baseTimestamp: BigInt(NOW_MS - 10),
          maxTimestamp: BigInt(NOW_MS),
          isTransactional: true,
          isControl: false,
          compression: 3,
          timestampType: "CreateTime",
        },
      ],
    });
  });

  it("rejects a missing or empty records field with INVALID_RECORD", () => {
    expect(errorOf(null)).toBe(RecordErrorCode.INVALID_RECORD);
    expect(errorOf(Buffer.alloc(0))).toBe(RecordErrorCode.INVALID_RECORD);
  });

  it("rejects trailing garbage and partial batches with CORRUPT_MESSAGE", () => {
    const buf = build();
    expect(errorOf(Buffer.concat([buf, Buffer.from([1, 2, 3])]))).toBe(RecordErrorCode.CORRUPT_MESSAGE);
    for (const cut of [1, 11, 12, 16, 17, 60, buf.length - 1]) {
      expect(errorOf(buf.subarray(0, cut))).toBe(RecordErrorCode.CORRUPT_MESSAGE);
    }
  });

  it("rejects a second batch per partition unless told otherwise (Produce v3+ rule)", () => {
    const two = Buffer.concat([build(), build()]);
    expect(errorOf(two)).toBe(RecordErrorCode.INVALID_RECORD);
    const result = validateProducedBatches(two, { ...OPTIONS, singleBatch: false });
    expect(result.ok && result.batches.map((b) => b.position)).toEqual([0, two.length / 2]);
  });

  it("answers old magic with INVALID_RECORD and impossible magic with CORRUPT_MESSAGE", () => {
    const magic1 = build();
    magic1.writeInt8(1, 16);
    expect(errorOf(magic1)).toBe(RecordErrorCode.INVALID_RECORD);
    const magic0 = build();
    magic0.writeInt8(0, 16);
    expect(errorOf(magic0)).toBe(RecordErrorCode.INVALID_RECORD);
    const magic3 = build();
    magic3.writeInt8(3, 16);
    expect(errorOf(magic3)).toBe(RecordErrorCode.CORRUPT_MESSAGE);
  });

  it("rejects a bad CRC with CORRUPT_MESSAGE", () => {
    const buf = build();
    buf[buf.length - 1]! ^= 1;
    expect(errorOf(buf)).toBe(RecordErrorCode.CORRUPT_MESSAGE);
    const crc = build();
    crc.writeUInt32BE(crc.readUInt32BE(CRC_OFFSET) ^ 1, CRC_OFFSET);
    expect(errorOf(crc)).toBe(RecordErrorCode.CORRUPT_MESSAGE);
  });

  it("rejects batches over max.message.bytes with MESSAGE_TOO_LARGE, before the CRC check", () => {
    const buf = build();
    expect(errorOf(buf, { maxMessageBytes: buf.length })).toBeUndefined();
    expect(errorOf(buf, { maxMessageBytes: buf.length - 1 })).toBe(RecordErrorCode.MESSAGE_TOO_LARGE);
    buf[buf.length - 1]! ^= 1;
    expect(errorOf(buf, { maxMessageBytes: buf.length - 1 })).toBe(RecordErrorCode.MESSAGE_TOO_LARGE);
  });

  it("rejects a non-zero baseOffset, inconsistent counts, control batches and missing sequences", () => {
    expect(errorOf(build({ baseOffset: 5n }))).toBe(RecordErrorCode.INVALID_RECORD);
    expect(errorOf(build({ lastOffsetDelta: 5 }))).toBe(RecordErrorCode.INVALID_RECORD);
    expect(
      errorOf(
        build({
          records: [
            { timestamp: NOW_MS, key: null, value: "a", offsetDelta: 0 },
            { timestamp: NOW_MS, key: null, value: "b", offsetDelta: 3 },
          ],
        }),
      ),
    ).toBe(RecordErrorCode.INVALID_RECORD);
    expect(errorOf(build({ isControl: true }))).toBe(RecordErrorCode.INVALID_RECORD);
    expect(errorOf(build({ producerId: 9n, producerEpoch: 0, baseSequence: -1 }))).toBe(
      RecordErrorCode.INVALID_RECORD,
    );
    expect(errorOf(build({ records: [], lastOffsetDelta: 0 }))).toBe(RecordErrorCode.INVALID_RECORD);
  });

  it("rejects a record count the uncompressed records section cannot hold", () => {
    const buf = build();
    buf.writeInt32BE(1000, 57);
    buf.writeInt32BE(999, 23);
    buf.writeUInt32BE(0, CRC_OFFSET);
    buf.writeUInt32BE(crc32c(buf.subarray(21)), CRC_OFFSET);
    expect(errorOf(buf)).toBe(RecordErrorCode.CORRUPT_MESSAGE);
  });

  it("applies KIP-937 timestamp bounds to CreateTime batches", () => {
    const future = build({ records: [{ timestamp: NOW_MS + 3_600_001, key: null, value: "x" }] });
    expect(errorOf(future)).toBe(RecordErrorCode.INVALID_TIMESTAMP);
    expect(errorOf(future, { timestampAfterMaxMs: Number.POSITIVE_INFINITY })).toBeUndefined();
    const old = build({ records: [{ timestamp: NOW_MS - 10_000, key: null, value: "x" }] });
    expect(errorOf(old, { timestampBeforeMaxMs: 9_999 })).toBe(RecordErrorCode.INVALID_TIMESTAMP);
    expect(errorOf(old, { timestampBeforeMaxMs: 10_000 })).toBeUndefined();
    const none = build({ records: [{ timestamp: -1, key: null, value: "x" }] });
    expect(errorOf(none, { timestampBeforeMaxMs: 0, timestampAfterMaxMs: 0 })).toBeUndefined();
    // The bounds do not apply to LogAppendTime topics.
    expect(errorOf(future, { timestampType: "LogAppendTime" })).toBeUndefined();
  });

  it("refuses batches that claim LogAppendTime on a LogAppendTime topic", () => {
    const buf = build({ timestampType: "LogAppendTime" });
    expect(errorOf(buf, { timestampType: "LogAppendTime" })).toBe(RecordErrorCode.INVALID_TIMESTAMP);
  });

  it("refuses zstd when the request version predates it", () => {
    const buf = build({ compression: "zstd" });
    expect(errorOf(buf)).toBeUndefined();
    expect(errorOf(buf, { allowZstd: false })).toBe(RecordErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  });

  it("rejects unknown codec ids", () => {
    const buf = build();
    buf.writeInt16BE(6, 21);
    buf.writeUInt32BE(crc32c(buf.subarray(21)), CRC_OFFSET);
    expect(errorOf(buf)).toBe(RecordErrorCode.CORRUPT_MESSAGE);
  });

  it("never throws on mutated input (fuzz)", () => {
    const base = build({ compression: "gzip", producerId: 1n, producerEpoch: 0, baseSequence: 0 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        fc.nat({ max: base.length + 8 }),
        (flips, cut) => {
          const buf = Buffer.concat([base, Buffer.alloc(8, 0xaa)]).subarray(0, cut);
          for (const [at, byte] of flips) if (at < buf.length) buf[at] = byte;
          const result = validateProducedBatches(buf, OPTIONS);
          expect(typeof result.ok).toBe("boolean");
        },
      ),
      { numRuns: 2000 },
    );
  });
});
