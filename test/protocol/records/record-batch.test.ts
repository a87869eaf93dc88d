import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { crc32c } from "../../../src/protocol/crc32c.js";
import { CRC_OFFSET, RECORDS_OFFSET } from "../../../src/protocol/records/batch-header.js";
import {
  buildRecordBatch,
  buildRecordBatchAsync,
  decodeRecordBatch,
  decodeRecordBatchAsync,
  decodeRecordBatches,
  type RecordInput,
} from "../../../src/protocol/records/record-batch.js";
import { writeVarint } from "../../../src/protocol/records/varint.js";
import { CODEC_NAMES, recordsArb } from "./helpers.js";

const LIMITS = { decompressedBytesMax: 1 << 22 };

function asBuffer(v: Buffer | string | null): Buffer | null {
  return typeof v === "string" ? Buffer.from(v) : v;
}

function expectRecordsEqual(decoded: ReturnType<typeof decodeRecordBatch>, records: RecordInput[]) {
  expect(decoded.records).toHaveLength(records.length);
  decoded.records.forEach((r, i) => {
    const input = records[i]!;
    expect(r.offsetDelta).toBe(input.offsetDelta ?? i);
    expect(r.timestamp).toBe(BigInt(input.timestamp));
    expect(r.key).toEqual(asBuffer(input.key));
    expect(r.value).toEqual(asBuffer(input.value));
    expect(r.headers).toEqual((input.headers ?? []).map((h) => ({ key: h.key, value: asBuffer(h.value) })));
  });
}

/** Rewrites the CRC so a deliberately malformed batch reaches the record decoder. */
function fixCrc(buf: Buffer): Buffer {
  buf.writeUInt32BE(crc32c(buf.subarray(21)), CRC_OFFSET);
  return buf;
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isKrillError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe("record batch build/decode", () => {
  it("round-trips records and every header field with every codec (property)", () => {
    fc.assert(
      fc.property(
        recordsArb,
        fc.constantFrom(...CODEC_NAMES),
        fc.record({
          baseOffset: fc.bigInt({ min: 0n, max: 2n ** 63n - 2n ** 32n }),
          partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          producerId: fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }),
          producerEpoch: fc.integer({ min: -1, max: 32767 }),
          baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          transactional: fc.boolean(),
        }),
        (records, compression, header) => {
          const buf = buildRecordBatch({ ...header, records, compression });
          const decoded = decodeRecordBatch(buf, LIMITS);
          expect(decoded.sizeBytes).toBe(buf.length);
          expect(decoded.compression).toBe(CODEC_NAMES.indexOf(compression));
          expect(decoded.isTransactional).toBe(header.transactional);
          expect(decoded.isControl).toBe(false);
          expect(decoded.header).toMatchObject({
            baseOffset: header.baseOffset,
            partitionLeaderEpoch: header.partitionLeaderEpoch,
            magic: 2,
            producerId: header.producerId,
            producerEpoch: header.producerEpoch,
            baseSequence: header.baseSequence,
            recordsCount: records.length,
            lastOffsetDelta: records.length - 1,
            baseTimestamp: BigInt(records[0]!.timestamp),
            maxTimestamp: records.reduce((m, r) => (BigInt(r.timestamp) > m ? BigInt(r.timestamp) : m), -1n),
          });
          expectRecordsEqual(decoded, records);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("builds asynchronously to a batch that decodes to the same records", async () => {
    const records = [
      { timestamp: 10, key: "a", value: "y".repeat(50_000), headers: [{ key: "h", value: "v" }] },
      { timestamp: 12, key: null, value: null },
    ];
    for (const compression of CODEC_NAMES) {
      const sync = buildRecordBatch({
        records,
        compression,
        producerId: 3n,
        producerEpoch: 1,
        baseSequence: 9,
      });
      const async = await buildRecordBatchAsync({
        records,
        compression,
        producerId: 3n,
        producerEpoch: 1,
        baseSequence: 9,
      });
      // Compressed bytes may differ between the sync and async encoders; header and records must not.
      const decoded = decodeRecordBatch(async, LIMITS);
      expect(decoded.header).toEqual({
        ...decodeRecordBatch(sync, LIMITS).header,
        crc: decoded.header.crc,
        batchLength: decoded.header.batchLength,
      });
      expect(decoded.records.map((r) => [r.key?.toString() ?? null, r.value?.length ?? null])).toEqual([
        ["a", 50_000],
        [null, null],
      ]);
      if (compression === "none") expect(async.equals(sync)).toBe(true);
    }
  });

  it("decodes asynchronously to the same result", async () => {
    const records = [{ timestamp: 10, key: "a", value: "x".repeat(100_000) }];
    for (const compression of CODEC_NAMES) {
      const buf = buildRecordBatch({ records, compression });
      const sync = decodeRecordBatch(buf, LIMITS);
      const async = await decodeRecordBatchAsync(buf, LIMITS);
      // Compare the large value with Buffer.equals: a deep toEqual over 100 KB is slow.
      expect(async.records[0]!.value!.equals(sync.records[0]!.value!)).toBe(true);
      expect(async.header).toEqual(sync.header);
      expect(async.records[0]!.key).toEqual(sync.records[0]!.key);
    }
  });

  it("keeps explicit offset deltas, delete horizon and LogAppendTime", () => {
    const records = [
      { timestamp: 100, key: null, value: "a", offsetDelta: 0 },
      { timestamp: 90, key: null, value: "b", offsetDelta: 4 },
    ];
    const buf = buildRecordBatch({ baseOffset: 10n, records, lastOffsetDelta: 6, deleteHorizonMs: 50n });
    const decoded = decodeRecordBatch(buf, LIMITS);
    expect(decoded.hasDeleteHorizon).toBe(true);
    expect(decoded.header.baseTimestamp).toBe(50n);
    expect(decoded.header.lastOffsetDelta).toBe(6);
    expect(decoded.records.map((r) => [r.offset, r.timestamp])).toEqual([
      [10n, 100n],
      [14n, 90n],
    ]);
    const lat = decodeRecordBatch(
      buildRecordBatch({ records, timestampType: "LogAppendTime", maxTimestamp: 999n }),
      LIMITS,
    );
    expect(lat.timestampType).toBe("LogAppendTime");
    expect(lat.records.map((r) => r.timestamp)).toEqual([999n, 999n]);
  });

  it("decodes several batches in one buffer", () => {
    const a = buildRecordBatch({ baseOffset: 0n, records: [{ timestamp: 1, key: null, value: "a" }] });
    const b = buildRecordBatch({
      baseOffset: 1n,
      compression: "zstd",
      records: [{ timestamp: 2, key: null, value: "b" }],
    });
    const decoded = decodeRecordBatches(Buffer.concat([a, b]), LIMITS);
    expect(decoded.map((d) => d.records[0]?.value?.toString())).toEqual(["a", "b"]);
  });

  it("supports an empty batch only with an explicit lastOffsetDelta", () => {
    expect(errorCode(() => buildRecordBatch({ records: [] }))).toBe("ENCODE_ERROR");
    const decoded = decodeRecordBatch(buildRecordBatch({ records: [], lastOffsetDelta: 3 }), LIMITS);
    expect(decoded.records).toEqual([]);
    expect(decoded.header.lastOffsetDelta).toBe(3);
  });
});

describe("record batch hostile input", () => {
  const base = () =>
    buildRecordBatch({
      records: [
        { timestamp: 1, key: "key", value: "value", headers: [{ key: "h", value: "v" }] },
        { timestamp: 2, key: null, value: null },
      ],
    });

  it("rejects truncation at every length with CORRUPT_RECORD", () => {
    const buf = base();
    for (let cut = 0; cut < buf.length; cut++) {
      expect(errorCode(() => decodeRecordBatch(buf.subarray(0, cut), LIMITS))).toBe("CORRUPT_RECORD");
    }
  });

  it("rejects a bad CRC unless verification is off", () => {
    const buf = base();
    buf[buf.length - 1] = 0x7f;
    expect(errorCode(() => decodeRecordBatch(buf, LIMITS))).toBe("CORRUPT_RECORD");
  });

  it("rejects record lengths, key lengths and counts that lie", () => {
    // First record's length varint claims far more than the section holds.
    const longRecord = base();
    writeVarint(longRecord, RECORDS_OFFSET, 10_000);
    expect(errorCode(() => decodeRecordBatch(fixCrc(longRecord), LIMITS))).toBe("CORRUPT_RECORD");
    // A record count far larger than the bytes can hold is refused before decoding.
    const manyRecords = base();
    manyRecords.writeInt32BE(2_000_000_000, 57);
    expect(errorCode(() => decodeRecordBatch(fixCrc(manyRecords), LIMITS))).toBe("CORRUPT_RECORD");
    // Fewer records declared than present leaves bytes over.
    const fewer = base();
    fewer.writeInt32BE(1, 57);
    expect(errorCode(() => decodeRecordBatch(fixCrc(fewer), LIMITS))).toBe("CORRUPT_RECORD");
    // A negative record count.
    const negative = base();
    negative.writeInt32BE(-1, 57);
    expect(errorCode(() => decodeRecordBatch(fixCrc(negative), LIMITS))).toBe("CORRUPT_RECORD");
    // A key length beyond the record (byte after length, attributes, ts delta, offset delta).
    const key = base();
    key[RECORDS_OFFSET + 4] = 0x7e; // zig-zag 63: longer than the record
    expect(errorCode(() => decodeRecordBatch(fixCrc(key), LIMITS))).toBe("CORRUPT_RECORD");
  });

  it("rejects a compressed section that is not valid codec data with COMPRESSION", () => {
    for (const compression of ["gzip", "snappy", "lz4", "zstd"] as const) {
      const buf = buildRecordBatch({
        compression,
        records: [{ timestamp: 1, key: null, value: "x".repeat(500) }],
      });
      buf.fill(0x41, RECORDS_OFFSET + 4, RECORDS_OFFSET + 12);
      expect(errorCode(() => decodeRecordBatch(fixCrc(buf), LIMITS))).toMatch(/COMPRESSION|CORRUPT_RECORD/);
    }
  });

  it("stops a decompression bomb at the caller's limit with COMPRESSION", async () => {
    const bigValue = Buffer.alloc(8 << 20);
    for (const compression of ["gzip", "snappy", "lz4", "zstd"] as const) {
      const buf = buildRecordBatch({ compression, records: [{ timestamp: 1, key: null, value: bigValue }] });
      expect(buf.length).toBeLessThan(1 << 20);
      expect(errorCode(() => decodeRecordBatch(buf, { decompressedBytesMax: 1 << 20 }))).toBe("COMPRESSION");
      await expect(decodeRecordBatchAsync(buf, { decompressedBytesMax: 1 << 20 })).rejects.toMatchObject({
        code: "COMPRESSION",
      });
      expect(decodeRecordBatch(buf, { decompressedBytesMax: 9 << 20 }).records[0]?.value?.length).toBe(
        8 << 20,
      );
    }
  });

  it("never throws anything but KrillError on mutated batches of every codec (fuzz)", () => {
    const bases = CODEC_NAMES.map((compression) =>
      buildRecordBatch({
        compression,
        records: [
          { timestamp: 5, key: "k", value: "hello hello hello", headers: [{ key: "a", value: "b" }] },
          { timestamp: 6, key: null, value: "x" },
        ],
      }),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: bases.length - 1 }),
        fc.array(fc.tuple(fc.nat({ max: 500 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.boolean(),
        (which, flips, repairCrc) => {
          const buf = Buffer.from(bases[which]!);
          for (const [at, byte] of flips) {
            const pos = RECORDS_OFFSET + (at % (buf.length - RECORDS_OFFSET));
            buf[pos] = byte;
          }
          if (repairCrc) fixCrc(buf);
          try {
            decodeRecordBatch(buf, { decompressedBytesMax: 1 << 16 });
          } catch (err) {
            expect(isKrillError(err)).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
