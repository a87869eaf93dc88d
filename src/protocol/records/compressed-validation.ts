/**
 * The record-level checks Kafka's LogValidator runs on a compressed batch a client produces
 * (validateMessagesAndAssignOffsetsCompressed): the records section is decompressed and every
 * record walked as DefaultRecord.readFrom / DefaultRecordBatch's iterator do, so a batch whose
 * header promises records its compressed bytes do not hold (a snappy block declaring 4 GiB of
 * output and holding 8 bytes, a count that does not match, a torn record) is refused instead of
 * being stored for consumers to fail on. Per record: the framing (length, attributes,
 * timestamp and offset deltas, key, value, headers, and that the body is exactly the declared
 * length), the offset delta (its index), the timestamp against message.timestamp.before/after.max.ms
 * on a CreateTime topic, and a key on a compacted topic. After the declared count, no bytes may
 * remain.
 *
 * Answers, as Kafka gives them: a framing error is INVALID_RECORD with DefaultRecord's message
 * for the whole partition; an output past the bound or a stream the codec cannot read is
 * CORRUPT_MESSAGE; per-record errors are collected (KIP-467 record errors, at most
 * RECORD_ERRORS_MAX listed) and answered as LogValidator.processRecordErrors does:
 * INVALID_TIMESTAMP when any is a timestamp error, else INVALID_RECORD with the first three.
 *
 * Memory: decompression stops at `decompressedBytesMax` (the codecs enforce it as they go), so a
 * bomb costs at most that much, never its declared size. Kafka streams the records through a
 * 16 KiB buffer instead; Krill's codecs (native snappy and lz4 blocks, zlib) return whole
 * outputs, so the bound is on the output.
 *
 * Difference from Kafka: a record whose offset delta is not its index is refused (INVALID_RECORD);
 * Kafka rebuilds such a batch with fresh offsets (for old clients' magic v1 habits), which no
 * magic v2 client needs.
 */
import { isKrillError } from "../../errors.js";
import { type CompressionCodec, decompress, decompressSync } from "../compression/index.js";
import { RECORDS_OFFSET } from "./batch-header.js";
import type { ProducedBatchSummary } from "./produce-validation.js";
import { RecordCursor } from "./varint.js";
import { RecordErrorCode } from "./wire-error-codes.js";

/** Compressed sections up to this size are decompressed on the event loop. */
const SYNC_DECOMPRESS_BYTES_MAX = 64 * 1024;

/** Record errors listed in one partition's answer. */
export const RECORD_ERRORS_MAX = 100;

export interface CompressedRecordsOptions {
  /** The largest decompressed records section accepted. */
  decompressedBytesMax: number;
  /** The topic's message.timestamp.type. */
  timestampType: "CreateTime" | "LogAppendTime";
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  nowMs: number;
  /** cleanup.policy includes compact: every record needs a key. */
  compacted: boolean;
  /** For the compacted-topic message, as Kafka names the partition. */
  topicPartition: string;
}

export interface RecordError {
  batchIndex: number;
  message: string;
}

export type CompressedRecordsResult =
  | { ok: true }
  | { ok: false; errorCode: RecordErrorCode; errorMessage: string; recordErrors: RecordError[] };

/** Decompresses one produced batch's records and checks them; `buf` holds the batch at `batch.position`. */
export async function validateCompressedRecords(
  buf: Buffer,
  batch: ProducedBatchSummary,
  options: CompressedRecordsOptions,
): Promise<CompressedRecordsResult> {
  const section = buf.subarray(batch.position + RECORDS_OFFSET, batch.position + batch.sizeBytes);
  let records: Buffer;
  try {
    const codec = batch.compression as CompressionCodec;
    const limits = { outputBytesMax: options.decompressedBytesMax };
    // A small batch decompresses faster than a round trip to the thread pool takes.
    records =
      section.length <= SYNC_DECOMPRESS_BYTES_MAX
        ? decompressSync(codec, section, limits)
        : await decompress(codec, section, limits);
  } catch (err) {
    if (!isKrillError(err)) throw err;
    return fail(RecordErrorCode.CORRUPT_MESSAGE, `Failed to decompress record stream: ${err.message}`);
  }
  return checkRecords(records, batch, options);
}

/** Walks decompressed records (exported for tests and the fuzz loop). */
export function checkRecords(
  records: Buffer,
  batch: Pick<ProducedBatchSummary, "recordsCount" | "baseTimestamp" | "timestampType">,
  options: Omit<CompressedRecordsOptions, "decompressedBytesMax">,
): CompressedRecordsResult {
  const cursor = new RecordCursor(records, 0, records.length);
  const body = new RecordCursor(records, 0, 0);
  const recordErrors: RecordError[] = [];
  let timestampErrors = 0;
  let errorCount = 0;
  const addError = (batchIndex: number, message: string) => {
    errorCount++;
    if (recordErrors.length < RECORD_ERRORS_MAX) recordErrors.push({ batchIndex, message });
  };
  const checkTimestamp = options.timestampType === "CreateTime" && batch.timestampType === "CreateTime";
  const lowestMs = options.nowMs - options.timestampBeforeMaxMs;
  const highestMs = options.nowMs + options.timestampAfterMaxMs;
  for (let index = 0; index < batch.recordsCount; index++) {
    if (cursor.remaining === 0) {
      return fail(RecordErrorCode.INVALID_RECORD, "Incorrect declared batch size, premature EOF reached");
    }
    let bodyBytes: number;
    try {
      bodyBytes = cursor.varint();
    } catch {
      return fail(RecordErrorCode.INVALID_RECORD, "Found invalid record structure");
    }
    if (bodyBytes < 0 || bodyBytes > cursor.remaining) {
      return fail(
        RecordErrorCode.INVALID_RECORD,
        `Invalid record size: expected ${bodyBytes} bytes in record payload, but the record payload reached EOF.`,
      );
    }
    const start = cursor.position;
    const end = start + bodyBytes;
    body.reset(start, end);
    let timestampDelta: bigint;
    let offsetDelta: number;
    let hasKey: boolean;
    try {
      body.int8(); // attributes
      timestampDelta = body.varlong();
      offsetDelta = body.varint();
      const keyBytes = body.varint();
      if (keyBytes < -1) throw new Error("negative key length");
      hasKey = keyBytes >= 0;
      if (keyBytes > 0) body.skip(keyBytes);
      body.skipNullableBytes(); // value
      const headers = body.varint();
      if (headers < 0) {
        return fail(RecordErrorCode.INVALID_RECORD, `Found invalid number of record headers ${headers}`);
      }
      if (headers > body.remaining) {
        return fail(
          RecordErrorCode.INVALID_RECORD,
          `Found invalid number of record headers. ${headers} is larger than the remaining size of the buffer`,
        );
      }
      for (let h = 0; h < headers; h++) {
        const headerKeyBytes = body.varint();
        if (headerKeyBytes < 0) {
          return fail(RecordErrorCode.INVALID_RECORD, `Invalid negative header key size ${headerKeyBytes}`);
        }
        body.skip(headerKeyBytes);
        body.skipNullableBytes(); // header value
      }
    } catch {
      return fail(RecordErrorCode.INVALID_RECORD, "Found invalid record structure");
    }
    if (body.position !== end) {
      return fail(
        RecordErrorCode.INVALID_RECORD,
        `Invalid record size: expected to read ${bodyBytes} bytes in record payload, but instead read ${body.position - start}`,
      );
    }
    cursor.position = end;
    if (offsetDelta !== index) {
      return fail(
        RecordErrorCode.INVALID_RECORD,
        `Record ${index} of the batch has offset delta ${offsetDelta}; a batch's records must have offset deltas 0, 1, 2, ...`,
      );
    }
    if (options.compacted && !hasKey) {
      addError(
        index,
        `Compacted topic cannot accept message without key in topic partition ${options.topicPartition}`,
      );
      continue;
    }
    if (checkTimestamp && batch.baseTimestamp !== -1n) {
      const timestamp = batch.baseTimestamp + timestampDelta;
      // Milliseconds fit a double exactly; the bounds may be Infinity (no bound).
      const timestampMs = Number(timestamp);
      if (timestamp !== -1n && (timestampMs < lowestMs || timestampMs > highestMs)) {
        timestampErrors++;
        addError(
          index,
          `Timestamp ${timestamp} of message with offset ${offsetDelta} is out of range. The timestamp should be within [${lowestMs}, ${highestMs}]`,
        );
      }
    }
  }
  if (cursor.remaining > 0) {
    return fail(
      RecordErrorCode.INVALID_RECORD,
      "Incorrect declared batch size, records still remaining in file",
    );
  }
  if (errorCount === 0) return { ok: true };
  if (timestampErrors > 0) {
    return {
      ok: false,
      errorCode: RecordErrorCode.INVALID_TIMESTAMP,
      errorMessage: "One or more records have been rejected due to invalid timestamp",
      recordErrors,
    };
  }
  const shown = recordErrors
    .slice(0, 3)
    .map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.message}')`)
    .join(", ");
  return {
    ok: false,
    errorCode: RecordErrorCode.INVALID_RECORD,
    errorMessage: `One or more records have been rejected due to ${errorCount} record errors in total, and only showing the first three errors at most: [${shown}]`,
    recordErrors,
  };
}

function fail(errorCode: RecordErrorCode, errorMessage: string): CompressedRecordsResult {
  return { ok: false, errorCode, errorMessage, recordErrors: [] };
}
