/**
 * Compressed batches on produce, checked record by record as Kafka's LogValidator does
 * (issue 19 item 4). Before, a compressed batch was stored as sent without its records being read:
 * every case below was acknowledged.
 */
import { describe, expect, it } from "vitest";
import { CompressionCodec, compressSync } from "../../../src/protocol/compression/index.js";
import { RECORDS_COUNT_OFFSET, RECORDS_OFFSET } from "../../../src/protocol/records/batch-header.js";
import { writeBatchCrc } from "../../../src/protocol/records/batch-iterator.js";
import { validateCompressedRecords } from "../../../src/protocol/records/compressed-validation.js";
import { validateProducedBatches } from "../../../src/protocol/records/produce-validation.js";
import {
  buildRecordBatch,
  encodeRecords,
  type RecordInput,
} from "../../../src/protocol/records/record-batch.js";
import { RecordErrorCode } from "../../../src/protocol/records/wire-error-codes.js";

const NOW = 1_700_000_000_000;
const OPTIONS = {
  decompressedBytesMax: 1 << 20,
  timestampType: "CreateTime" as const,
  timestampBeforeMaxMs: 3_600_000,
  timestampAfterMaxMs: 3_600_000,
  nowMs: NOW,
  compacted: false,
  topicPartition: "t-0",
};

function records(n: number, at = NOW): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({ timestamp: at + i, key: `k${i}`, value: `v${i}` }));
}

/** A batch of `codec` whose records section is `section` (compressed as given) and whose header says `count`. */
function batchWithSection(codec: CompressionCodec, section: Buffer, count: number, at = NOW): Buffer {
  const template = buildRecordBatch({ compression: codec, records: records(count, at) });
  const buf = Buffer.concat([template.subarray(0, RECORDS_OFFSET), section]);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  writeBatchCrc(buf, 0, buf.length);
  return buf;
}

async function check(buf: Buffer, options: Partial<typeof OPTIONS> = {}) {
  const header = validateProducedBatches(buf, {
    maxMessageBytes: 1 << 20,
    timestampType: "CreateTime",
    timestampBeforeMaxMs: OPTIONS.timestampBeforeMaxMs,
    timestampAfterMaxMs: OPTIONS.timestampAfterMaxMs,
    nowMs: NOW,
  });
  if (!header.ok) throw new Error(`header check failed: ${header.errorMessage}`);
  return validateCompressedRecords(buf, header.batches[0]!, { ...OPTIONS, ...options });
}

const CODECS = [CompressionCodec.GZIP, CompressionCodec.SNAPPY, CompressionCodec.LZ4, CompressionCodec.ZSTD];

describe("compressed batches validated on produce", () => {
  it("accepts well-formed batches of every codec", async () => {
    for (const codec of CODECS) {
      const withHeaders = buildRecordBatch({
        compression: codec,
        records: records(50).map((r) => ({ ...r, headers: [{ key: "h", value: "x" }] })),
      });
      expect(await check(withHeaders)).toEqual({ ok: true });
    }
  });

  it("refuses a snappy block declaring 4 GiB of output and holding 8 bytes, without allocating it", async () => {
    // Raw snappy: the uncompressed length as a varint (2^32-1), then a literal of 7 bytes.
    const bomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 6 << 2, 1, 2, 3, 4, 5, 6, 7]);
    const before = process.memoryUsage().arrayBuffers;
    const result = await check(batchWithSection(CompressionCodec.SNAPPY, bomb, 1));
    expect(result).toMatchObject({ ok: false, errorCode: RecordErrorCode.CORRUPT_MESSAGE });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });

  it("refuses gzip and zstd bombs at the output bound", async () => {
    const zeros = Buffer.alloc(8 << 20);
    for (const codec of [CompressionCodec.GZIP, CompressionCodec.ZSTD]) {
      const result = await check(batchWithSection(codec, compressSync(codec, zeros), 1));
      expect(result).toMatchObject({ ok: false, errorCode: RecordErrorCode.CORRUPT_MESSAGE });
      expect((result as { errorMessage: string }).errorMessage).toContain(
        "Failed to decompress record stream",
      );
    }
  });

  it("refuses a count the records do not match, and bytes after the last record, with Kafka's messages", async () => {
    for (const codec of CODECS) {
      const three = encodeRecords(records(3), BigInt(NOW));
      const fewer = await check(batchWithSection(codec, compressSync(codec, three), 4));
      expect(fewer).toMatchObject({
        ok: false,
        errorCode: RecordErrorCode.INVALID_RECORD,
        errorMessage: "Incorrect declared batch size, premature EOF reached",
      });
      const more = await check(batchWithSection(codec, compressSync(codec, three), 2));
      expect(more).toMatchObject({
        ok: false,
        errorCode: RecordErrorCode.INVALID_RECORD,
        errorMessage: "Incorrect declared batch size, records still remaining in file",
      });
    }
  });

  it("refuses torn and malformed records", async () => {
    const good = encodeRecords(records(2), BigInt(NOW));
    const torn = good.subarray(0, good.length - 3);
    expect(
      await check(batchWithSection(CompressionCodec.GZIP, compressSync(CompressionCodec.GZIP, torn), 2)),
    ).toMatchObject({
      ok: false,
      errorCode: RecordErrorCode.INVALID_RECORD,
    });
    // First record's length varint grown by one: its body reads one byte past what it holds.
    const longer = Buffer.from(good);
    longer[0] = longer[0]! + 2;
    const result = await check(
      batchWithSection(CompressionCodec.LZ4, compressSync(CompressionCodec.LZ4, longer), 2),
    );
    expect(result).toMatchObject({ ok: false, errorCode: RecordErrorCode.INVALID_RECORD });
    expect((result as { errorMessage: string }).errorMessage).toMatch(
      /Invalid record size|invalid record structure/i,
    );
  });

  it("refuses offset deltas that are not the record's index", async () => {
    const skewed = encodeRecords(
      records(3).map((r, i) => ({ ...r, offsetDelta: i * 2 })),
      BigInt(NOW),
    );
    const result = await check(
      batchWithSection(CompressionCodec.ZSTD, compressSync(CompressionCodec.ZSTD, skewed), 3),
    );
    expect(result).toMatchObject({ ok: false, errorCode: RecordErrorCode.INVALID_RECORD });
  });

  it("names each record whose timestamp is out of range (INVALID_TIMESTAMP with record errors)", async () => {
    // The header's base and max timestamps are in range; record 1 lies two hours back.
    const input = records(3);
    input[1] = { ...input[1]!, timestamp: NOW - 7_200_000 };
    const section = compressSync(CompressionCodec.GZIP, encodeRecords(input, BigInt(NOW)));
    const result = await check(batchWithSection(CompressionCodec.GZIP, section, 3));
    expect(result).toEqual({
      ok: false,
      errorCode: RecordErrorCode.INVALID_TIMESTAMP,
      errorMessage: "One or more records have been rejected due to invalid timestamp",
      recordErrors: [
        {
          batchIndex: 1,
          message: `Timestamp ${NOW - 7_200_000} of message with offset 1 is out of range. The timestamp should be within [${NOW - 3_600_000}, ${NOW + 3_600_000}]`,
        },
      ],
    });
  });

  it("names each record without a key on a compacted topic (INVALID_RECORD with record errors)", async () => {
    const input = records(4).map((r, i) => (i % 2 === 1 ? { ...r, key: null } : r));
    const batch = buildRecordBatch({ compression: CompressionCodec.SNAPPY, records: input });
    const message = "Compacted topic cannot accept message without key in topic partition t-0";
    expect(await check(batch, { compacted: true })).toEqual({
      ok: false,
      errorCode: RecordErrorCode.INVALID_RECORD,
      errorMessage: `One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='${message}'), RecordError(batchIndex=3, message='${message}')]`,
      recordErrors: [
        { batchIndex: 1, message },
        { batchIndex: 3, message },
      ],
    });
    expect(await check(batch, { compacted: false })).toEqual({ ok: true });
  });
});
