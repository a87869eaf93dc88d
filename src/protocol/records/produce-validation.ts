/**
 * Broker hot path for Produce: checks a partition's `records` bytes the way Kafka's
 * ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords and
 * LogValidator.validateBatch do, and assigns offsets in place, all from the fixed-offset batch
 * headers. Records are never decoded or decompressed: the bytes the client sent are the bytes
 * stored.
 *
 * Failures are Kafka wire error codes returned as values (with Kafka's message text), never
 * thrown, because they go into the Produce response of that partition.
 *
 * Deliberate differences from Kafka, which decodes every record on the leader:
 * - Timestamp bounds (KIP-937) are checked on the header's baseTimestamp and maxTimestamp, not on
 *   each record. maxTimestamp is the largest record timestamp, so the "after" bound is exact; the
 *   "before" bound sees baseTimestamp, which is the first record's timestamp as the Java client,
 *   librdkafka and kafkajs write it (the smallest one whenever timestamps do not go backwards).
 * - A torn tail or trailing bytes are rejected (CORRUPT_MESSAGE); Kafka silently trims them.
 * - An unknown compression codec (5..7) is CORRUPT_MESSAGE; Kafka fails with an unexpected
 *   IllegalArgumentException (UNKNOWN_SERVER_ERROR).
 */
import { CompressionCodec } from "../compression/index.js";
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL_MASK,
  ATTR_TIMESTAMP_TYPE_MASK,
  ATTR_TRANSACTIONAL_MASK,
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
} from "./batch-header.js";
import { isBatchCrcValid, probeBatch } from "./batch-iterator.js";
import { RecordErrorCode } from "./wire-error-codes.js";

export { CompressionCodec };

/** Kafka's NO_TIMESTAMP: a record (or batch) without a timestamp. */
export const NO_TIMESTAMP = -1n;

/**
 * The smallest encoded record: length varint, attributes, timestampDelta, offsetDelta, key
 * length, value length and header count, one byte each.
 */
const RECORD_SIZE_MIN = 7;

export interface ProduceValidationOptions {
  /** The topic's max.message.bytes: the largest batch accepted. */
  maxMessageBytes: number;
  /** The topic's message.timestamp.type. */
  timestampType: "CreateTime" | "LogAppendTime";
  /** message.timestamp.before.max.ms (KIP-937). Infinity for no bound. */
  timestampBeforeMaxMs: number;
  /** message.timestamp.after.max.ms (KIP-937). Infinity for no bound. */
  timestampAfterMaxMs: number;
  /** The broker clock, injected so tests and simulations control it. */
  nowMs: number;
  /** Produce v7 introduced zstd; older requests must not use it. Default true. */
  allowZstd?: boolean;
  /**
   * Produce v3+ carries exactly one batch per partition (Kafka rejects more with INVALID_RECORD).
   * Default true; false accepts any number of batches (for appends that are not client produce).
   */
  singleBatch?: boolean;
}

/** What the broker needs from each accepted batch (idempotence, transactions, LogAppendTime). */
export interface ProducedBatchSummary {
  position: number;
  sizeBytes: number;
  recordsCount: number;
  lastOffsetDelta: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  isTransactional: boolean;
  isControl: boolean;
  compression: CompressionCodec;
  timestampType: "CreateTime" | "LogAppendTime";
}

export type ProduceValidationResult =
  | { ok: true; batches: ProducedBatchSummary[]; recordsCount: number }
  | { ok: false; errorCode: RecordErrorCode; errorMessage: string };

function reject(errorCode: RecordErrorCode, errorMessage: string): ProduceValidationResult {
  return { ok: false, errorCode, errorMessage };
}

/**
 * Validates the `records` of one partition of a Produce request. `buf` is exactly that field's
 * bytes. On success returns one summary per batch; otherwise the Kafka error code and message for
 * the partition's response.
 */
export function validateProducedBatches(
  buf: Buffer | null,
  options: ProduceValidationOptions,
): ProduceValidationResult {
  if (buf === null || buf.length === 0) {
    return reject(
      RecordErrorCode.INVALID_RECORD,
      "Produce requests must have at least one record batch per partition",
    );
  }
  const singleBatch = options.singleBatch ?? true;
  const allowZstd = options.allowZstd ?? true;
  const batches: ProducedBatchSummary[] = [];
  let recordsCount = 0;
  let position = 0;
  while (position < buf.length) {
    const probe = probeBatch(buf, position, buf.length);
    if (probe.kind === "corrupt") {
      return reject(RecordErrorCode.CORRUPT_MESSAGE, `Record batch at byte ${position}: ${probe.reason}`);
    }
    if (probe.kind === "incomplete") {
      return reject(
        RecordErrorCode.CORRUPT_MESSAGE,
        `Partial record batch at byte ${position}: ${probe.bytesRemaining} bytes remain` +
          (probe.sizeBytes === undefined ? "" : ` of a ${probe.sizeBytes}-byte batch`),
      );
    }
    if (probe.magic !== CURRENT_MAGIC) {
      return reject(
        RecordErrorCode.INVALID_RECORD,
        "Produce requests are only allowed to contain record batches with magic version 2",
      );
    }
    if (singleBatch && batches.length === 1) {
      return reject(
        RecordErrorCode.INVALID_RECORD,
        "Produce requests are only allowed to contain exactly one record batch per partition",
      );
    }
    const result = validateBatch(buf, position, probe.sizeBytes, options, allowZstd);
    if (!result.ok) return result;
    batches.push(result.summary);
    recordsCount += result.summary.recordsCount;
    position += probe.sizeBytes;
  }
  return { ok: true, batches, recordsCount };
}

function validateBatch(
  buf: Buffer,
  position: number,
  sizeBytes: number,
  options: ProduceValidationOptions,
  allowZstd: boolean,
):
  | { ok: true; summary: ProducedBatchSummary }
  | { ok: false; errorCode: RecordErrorCode; errorMessage: string } {
  const attributes = buf.readInt16BE(position + ATTRIBUTES_OFFSET);
  const codec = attributes & ATTR_COMPRESSION_MASK;
  if (codec > CompressionCodec.ZSTD) {
    return {
      ok: false,
      errorCode: RecordErrorCode.CORRUPT_MESSAGE,
      errorMessage: `Unknown compression type id: ${codec}`,
    };
  }
  if (codec === CompressionCodec.ZSTD && !allowZstd) {
    return {
      ok: false,
      errorCode: RecordErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      errorMessage: "Produce requests with version < 7 are not allowed to use ZStandard compression",
    };
  }
  // Kafka's order (UnifiedLog.analyzeAndValidateRecords): baseOffset, size, then CRC.
  // Two int32 reads instead of a BigInt: this runs for every produced batch.
  if (
    buf.readInt32BE(position + BASE_OFFSET_OFFSET) !== 0 ||
    buf.readInt32BE(position + BASE_OFFSET_OFFSET + 4) !== 0
  ) {
    const baseOffset = buf.readBigInt64BE(position + BASE_OFFSET_OFFSET);
    return {
      ok: false,
      errorCode: RecordErrorCode.INVALID_RECORD,
      errorMessage: `The baseOffset of the record batch in the append should be 0, but it is ${baseOffset}`,
    };
  }
  if (sizeBytes > options.maxMessageBytes) {
    return {
      ok: false,
      errorCode: RecordErrorCode.MESSAGE_TOO_LARGE,
      errorMessage: `The record batch size in the append is ${sizeBytes} bytes which exceeds the maximum configured value of ${options.maxMessageBytes}.`,
    };
  }
  if (!isBatchCrcValid(buf, position, sizeBytes)) {
    return {
      ok: false,
      errorCode: RecordErrorCode.CORRUPT_MESSAGE,
      errorMessage: `Record is corrupt (stored crc = ${buf.readUInt32BE(position + CRC_OFFSET)})`,
    };
  }
  // LogValidator.validateBatch for a client append.
  const lastOffsetDelta = buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
  const recordsCount = buf.readInt32BE(position + RECORDS_COUNT_OFFSET);
  const invalid = (errorMessage: string) =>
    ({ ok: false, errorCode: RecordErrorCode.INVALID_RECORD, errorMessage }) as const;
  if (lastOffsetDelta < 0) {
    return invalid(`Batch has an invalid offset range: [0, ${lastOffsetDelta}]`);
  }
  if (recordsCount <= 0) return invalid(`Invalid reported count for record batch: ${recordsCount}`);
  if (lastOffsetDelta + 1 !== recordsCount) {
    return invalid(
      `Inconsistent batch offset range [0, ${lastOffsetDelta}] and count of records ${recordsCount}`,
    );
  }
  const isControl = (attributes & ATTR_CONTROL_MASK) !== 0;
  if (isControl) return invalid("Clients are not allowed to write control records");
  const producerId = buf.readBigInt64BE(position + PRODUCER_ID_OFFSET);
  const baseSequence = buf.readInt32BE(position + BASE_SEQUENCE_OFFSET);
  if (producerId >= 0n && baseSequence < 0) {
    return invalid(`Invalid sequence number ${baseSequence} in record batch with producerId ${producerId}`);
  }
  // Every record takes at least RECORD_SIZE_MIN bytes; a count the records section cannot hold
  // would fail Kafka's record decoding. Compressed sections can hold any count.
  if (codec === CompressionCodec.NONE && recordsCount > (sizeBytes - RECORDS_OFFSET) / RECORD_SIZE_MIN) {
    return {
      ok: false,
      errorCode: RecordErrorCode.CORRUPT_MESSAGE,
      errorMessage: `Record count ${recordsCount} does not fit in ${sizeBytes - RECORDS_OFFSET} bytes of records`,
    };
  }
  const baseTimestamp = buf.readBigInt64BE(position + BASE_TIMESTAMP_OFFSET);
  const maxTimestamp = buf.readBigInt64BE(position + MAX_TIMESTAMP_OFFSET);
  const batchIsLogAppendTime = (attributes & ATTR_TIMESTAMP_TYPE_MASK) !== 0;
  const timestampError = checkTimestamps(baseTimestamp, maxTimestamp, batchIsLogAppendTime, options);
  if (timestampError !== undefined) {
    return { ok: false, errorCode: RecordErrorCode.INVALID_TIMESTAMP, errorMessage: timestampError };
  }
  return {
    ok: true,
    summary: {
      position,
      sizeBytes,
      recordsCount,
      lastOffsetDelta,
      producerId,
      producerEpoch: buf.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
      baseSequence,
      baseTimestamp,
      maxTimestamp,
      isTransactional: (attributes & ATTR_TRANSACTIONAL_MASK) !== 0,
      isControl,
      compression: codec as CompressionCodec,
      timestampType: batchIsLogAppendTime ? "LogAppendTime" : "CreateTime",
    },
  };
}

/**
 * LogValidator.validateTimestamp on the header: with a CreateTime topic each present timestamp
 * must lie in [now - before, now + after]; a batch that claims LogAppendTime is refused unless
 * the topic's CreateTime check already applies to it (Kafka reads a LogAppendTime batch's record
 * timestamps as its maxTimestamp).
 */
function checkTimestamps(
  baseTimestamp: bigint,
  maxTimestamp: bigint,
  batchIsLogAppendTime: boolean,
  options: ProduceValidationOptions,
): string | undefined {
  const logAppendTimeMessage =
    "Invalid timestamp type in message. Producer should not set timestamp type to LogAppendTime.";
  if (options.timestampType === "CreateTime") {
    if (batchIsLogAppendTime && maxTimestamp === NO_TIMESTAMP) return logAppendTimeMessage;
    const stamps = batchIsLogAppendTime ? [maxTimestamp] : [baseTimestamp, maxTimestamp];
    for (const stamp of stamps) {
      if (stamp === NO_TIMESTAMP) continue;
      const diffMs = options.nowMs - Number(stamp);
      if (diffMs > options.timestampBeforeMaxMs || -diffMs > options.timestampAfterMaxMs) {
        return (
          `Timestamp ${stamp} of message is out of range. The timestamp should be within ` +
          `[${options.nowMs - options.timestampBeforeMaxMs}, ${options.nowMs + options.timestampAfterMaxMs}]`
        );
      }
    }
    return undefined;
  }
  if (batchIsLogAppendTime) return logAppendTimeMessage;
  return undefined;
}
