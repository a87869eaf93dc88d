/**
 * Batches written by real clients (captured by tools/capture, see README.md here) must pass the
 * produce hot path, decode with every codec, and carry exactly the records the capture sent.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frameBatches, rewriteForLeader } from "../../../src/log/leader-rewrite.js";
import { COMPRESSION_NAMES } from "../../../src/protocol/compression/index.js";
import { isXerialFramed } from "../../../src/protocol/compression/snappy.js";
import { isBatchCrcValid } from "../../../src/protocol/records/batch-iterator.js";
import { parseEndTxnMarker } from "../../../src/protocol/records/control-records.js";
import {
  type ProduceValidationOptions,
  validateProducedBatches,
} from "../../../src/protocol/records/produce-validation.js";
import { type DecodedRecordBatch, decodeRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { GOLDEN_RECORDS, KCAT_HEADERS, KCAT_LINES } from "../../../tools/capture/golden-records.js";

const LIMITS = { decompressedBytesMax: 1 << 20 };
const VALIDATION: ProduceValidationOptions = {
  maxMessageBytes: 1_048_588,
  timestampType: "CreateTime",
  timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
  timestampAfterMaxMs: Number.POSITIVE_INFINITY,
  nowMs: Date.now(),
};

function golden(client: string, name: string): Buffer {
  return readFileSync(join(import.meta.dirname, client, name));
}

const text = (b: Buffer | null) => (b === null ? null : b.toString("utf8"));

function expectGoldenRecords(batch: DecodedRecordBatch) {
  expect(
    batch.records.map((r) => ({
      key: text(r.key),
      value: text(r.value),
      headers: r.headers.map((h) => [h.key, text(h.value)]),
      timestampMs: Number(r.timestamp),
    })),
  ).toEqual(GOLDEN_RECORDS);
  expect(batch.records.map((r) => r.offsetDelta)).toEqual([0, 1, 2, 3, 4]);
}

function checkHotPath(buf: Buffer) {
  const validation = validateProducedBatches(Buffer.from(buf), VALIDATION);
  expect(validation).toMatchObject({ ok: true });
  const copy = Buffer.from(buf);
  let next = 1000;
  for (const b of frameBatches(copy, true)) next = rewriteForLeader(copy, b, next, 3, 1_800_000_000_000);
  expect(isBatchCrcValid(copy, 0, copy.length)).toBe(true);
  expect(decodeRecordBatch(copy, LIMITS).records.every((r) => r.timestamp === 1_800_000_000_000n)).toBe(true);
}

describe("golden batches: Java client (kafka-clients 4.4.0 MemoryRecordsBuilder)", () => {
  for (const codec of COMPRESSION_NAMES) {
    it(`decodes ${codec}`, () => {
      const buf = golden("java", `${codec}.bin`);
      const batch = decodeRecordBatch(buf, LIMITS);
      expect(batch.sizeBytes).toBe(buf.length);
      expect(COMPRESSION_NAMES[batch.compression]).toBe(codec);
      expect(batch.header).toMatchObject({
        baseOffset: 0n,
        producerId: -1n,
        producerEpoch: -1,
        baseSequence: -1,
      });
      expect(batch.header.baseTimestamp).toBe(BigInt(GOLDEN_RECORDS[0]!.timestampMs));
      expect(batch.header.maxTimestamp).toBe(BigInt(GOLDEN_RECORDS[4]!.timestampMs));
      expectGoldenRecords(batch);
      checkHotPath(buf);
    });
  }

  it("writes snappy in xerial framing", () => {
    const buf = golden("java", "snappy.bin");
    expect(isXerialFramed(buf.subarray(61))).toBe(true);
  });

  it("decodes a transactional idempotent batch as a leader stores it", () => {
    const batch = decodeRecordBatch(golden("java", "transactional-lz4.bin"), LIMITS);
    expect(batch.isTransactional).toBe(true);
    expect(batch.header).toMatchObject({
      baseOffset: 100n,
      partitionLeaderEpoch: 5,
      producerId: 4242n,
      producerEpoch: 3,
      baseSequence: 17,
    });
    expect(batch.records.map((r) => r.offset)).toEqual([100n, 101n, 102n, 103n, 104n]);
  });

  it("decodes COMMIT and ABORT markers, and they rebuild byte for byte", async () => {
    const { buildEndTxnMarkerBatch } = await import("../../../src/protocol/records/control-records.js");
    for (const [name, commit, offset, ts] of [
      ["end-txn-commit.bin", true, 105n, 1_700_000_000_010n],
      ["end-txn-abort.bin", false, 106n, 1_700_000_000_011n],
    ] as const) {
      const buf = golden("java", name);
      const batch = decodeRecordBatch(buf, LIMITS);
      expect(batch.isControl).toBe(true);
      expect(batch.isTransactional).toBe(true);
      expect(batch.header).toMatchObject({
        baseOffset: offset,
        producerId: 4242n,
        producerEpoch: 3,
        partitionLeaderEpoch: 5,
      });
      expect(parseEndTxnMarker(batch.records[0]!)).toEqual({ commit, coordinatorEpoch: 7, version: 0 });
      const rebuilt = buildEndTxnMarkerBatch({
        baseOffset: offset,
        partitionLeaderEpoch: 5,
        producerId: 4242n,
        producerEpoch: 3,
        timestampMs: ts,
        commit,
        coordinatorEpoch: 7,
      });
      expect(rebuilt.equals(buf)).toBe(true);
    }
  });

  it("is rebuilt byte for byte by buildRecordBatch for the uncompressed batch", async () => {
    const { buildRecordBatch } = await import("../../../src/protocol/records/record-batch.js");
    const rebuilt = buildRecordBatch({
      records: GOLDEN_RECORDS.map((r) => ({
        timestamp: r.timestampMs,
        key: r.key,
        value: r.value,
        headers: r.headers.map(([key, value]) => ({ key, value })),
      })),
    });
    expect(rebuilt.equals(golden("java", "none.bin"))).toBe(true);
  });
});

describe("golden batches: librdkafka 2.0.2 (kcat 1.7.1)", () => {
  for (const codec of COMPRESSION_NAMES) {
    it(`decodes ${codec}`, () => {
      const buf = golden("kcat", `${codec}.bin`);
      const batch = decodeRecordBatch(buf, LIMITS);
      expect(COMPRESSION_NAMES[batch.compression]).toBe(codec);
      expect(batch.records.map((r) => [text(r.key), text(r.value)])).toEqual(
        // -Z sends an empty value as null.
        KCAT_LINES.map((line) => {
          const at = line.indexOf(":");
          const value = line.slice(at + 1);
          return [line.slice(0, at), value === "" ? null : value];
        }),
      );
      for (const r of batch.records) {
        expect(r.headers.map((h) => [h.key, text(h.value)])).toEqual(KCAT_HEADERS);
        expect(r.timestamp).toBeGreaterThan(0n);
      }
      checkHotPath(buf);
    });
  }

  it("writes snappy as one raw block (no xerial framing) and lz4 frames with independent blocks", () => {
    expect(isXerialFramed(golden("kcat", "snappy.bin").subarray(61))).toBe(false);
    const lz4 = golden("kcat", "lz4.bin").subarray(61);
    expect(lz4.readUInt32LE(0)).toBe(0x184d2204);
    expect(lz4[4]! & 0x20).toBe(0x20);
  });
});

describe("golden batches: kafkajs 2.2.4", () => {
  for (const codec of ["none", "gzip", "snappy"]) {
    it(`decodes ${codec}`, () => {
      const buf = golden("kafkajs", `${codec}.bin`);
      const batch = decodeRecordBatch(buf, LIMITS);
      expect(COMPRESSION_NAMES[batch.compression]).toBe(codec);
      expectGoldenRecords(batch);
      checkHotPath(buf);
    });
  }

  it("writes snappy as one raw block (kafkajs-snappy)", () => {
    expect(isXerialFramed(golden("kafkajs", "snappy.bin").subarray(61))).toBe(false);
  });
});

describe("golden batches: @platformatic/kafka 2.12.1", () => {
  for (const codec of COMPRESSION_NAMES) {
    it(`decodes ${codec}`, () => {
      const buf = golden("platformatic", `${codec}.bin`);
      const batch = decodeRecordBatch(buf, LIMITS);
      expect(COMPRESSION_NAMES[batch.compression]).toBe(codec);
      expectGoldenRecords(batch);
      checkHotPath(buf);
    });
  }

  it("writes snappy as one raw block and lz4 frames with independent 64 KiB blocks", () => {
    expect(isXerialFramed(golden("platformatic", "snappy.bin").subarray(61))).toBe(false);
    const lz4 = golden("platformatic", "lz4.bin").subarray(61);
    expect([lz4[4]! & 0x20, lz4[5]! & 0x70]).toEqual([0x20, 0x40]);
  });
});

describe("golden batches: CRC", () => {
  it("every golden batch has a valid CRC-32C", () => {
    for (const [client, names] of [
      ["java", [...COMPRESSION_NAMES.map((c) => `${c}.bin`), "transactional-lz4.bin", "end-txn-commit.bin"]],
      ["kcat", COMPRESSION_NAMES.map((c) => `${c}.bin`)],
      ["kafkajs", ["none.bin", "gzip.bin", "snappy.bin"]],
      ["platformatic", COMPRESSION_NAMES.map((c) => `${c}.bin`)],
    ] as const) {
      for (const name of names) {
        const buf = golden(client, name);
        expect(isBatchCrcValid(buf, 0, buf.length), `${client}/${name}`).toBe(true);
      }
    }
  });
});
