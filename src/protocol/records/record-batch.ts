/**
 * Building and parsing whole magic-2 record batches (Kafka's DefaultRecordBatch/DefaultRecord),
 * records included, for the places that need records as values: tests, golden files, control
 * records, tools. The broker's produce and fetch paths do not come here (see
 * produce-validation.ts and batch-iterator.ts).
 *
 * Record layout (inside the records section, compressed as a whole when the codec is not none):
 *   length: varint (bytes after this field)
 *   attributes: int8 (unused, 0)
 *   timestampDelta: varlong (from the batch's baseTimestamp)
 *   offsetDelta: varint (from the batch's baseOffset)
 *   key: varint length (-1 = null) + bytes
 *   value: varint length (-1 = null) + bytes
 *   headers: varint count, each [key: varint length + UTF-8][value: varint length (-1 = null) + bytes]
 *
 * Parsing is hostile-input safe: every length is checked against the bytes that remain, counts
 * are checked against the smallest size their items can take before anything is allocated, and
 * decompression is bounded by the caller's limit. Failures are KrillError "CORRUPT_RECORD" (bad
 * framing or CRC) or "COMPRESSION" (codec data or size limit).
 */
import { KrillError } from "../../errors.js";
import {
  COMPRESSION_NAMES,
  CompressionCodec,
  type CompressionName,
  compress,
  compressSync,
  decompress,
  decompressSync,
} from "../compression/index.js";
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL_MASK,
  ATTR_DELETE_HORIZON_MASK,
  ATTR_TIMESTAMP_TYPE_MASK,
  ATTR_TRANSACTIONAL_MASK,
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  readBatchHeader,
} from "./batch-header.js";
import {
  BATCH_SIZE_MAX_DEFAULT,
  isBatchCrcValid,
  iterateBatches,
  probeBatch,
  writeBatchCrc,
} from "./batch-iterator.js";
import { NO_TIMESTAMP } from "./produce-validation.js";
import { RecordCursor, varintSize, varlongSize, writeVarint, writeVarlong } from "./varint.js";

export type TimestampType = "CreateTime" | "LogAppendTime";

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record to put in a batch. Strings are encoded as UTF-8. */
export interface RecordInput {
  /** Offset relative to the batch's baseOffset. Default: the record's index. */
  offsetDelta?: number;
  timestamp: bigint | number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: { key: string; value: Buffer | string | null }[];
}

export interface BuildRecordBatchOptions {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  isControl?: boolean;
  timestampType?: TimestampType;
  compression?: CompressionCodec | CompressionName;
  records: RecordInput[];
  /** Default: the first record's timestamp (as the Java client writes it), or NO_TIMESTAMP. */
  baseTimestamp?: bigint;
  /** Default: the largest record timestamp (NO_TIMESTAMP when there are no records). */
  maxTimestamp?: bigint;
  /** Default: the largest offsetDelta. Required for an empty batch (compaction leaves those). */
  lastOffsetDelta?: number;
  /**
   * KIP-534 delete horizon: sets attribute bit 6 and stores the horizon in baseTimestamp (record
   * timestamp deltas are then relative to it), as the log cleaner does.
   */
  deleteHorizonMs?: bigint;
}

export interface DecodedRecord {
  offset: bigint;
  offsetDelta: number;
  /** The record's timestamp; for a LogAppendTime batch, the batch's maxTimestamp (as in Kafka). */
  timestamp: bigint;
  timestampDelta: bigint;
  attributes: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedRecordBatch {
  header: BatchHeader;
  sizeBytes: number;
  compression: CompressionCodec;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  records: DecodedRecord[];
}

export interface DecodeRecordBatchOptions {
  /**
   * Largest decompressed records section accepted, in bytes; beyond it decoding fails with
   * KrillError("COMPRESSION") without inflating further.
   */
  decompressedBytesMax: number;
  /** Check the CRC-32C before decoding. Default true. */
  verifyCrc?: boolean;
  /** Reject any batch larger than this. Default: the int32 limit. */
  batchSizeMax?: number;
}

/** The smallest encoded record (see RECORD_SIZE_MIN in produce-validation.ts). */
const RECORD_SIZE_MIN = 7;
/** The smallest encoded header: key length (0) and value length (-1), one byte each. */
const HEADER_SIZE_MIN = 2;

const INT32_MAX = 0x7fffffff;

function toBytes(value: Buffer | string | null): Buffer | null {
  return typeof value === "string" ? Buffer.from(value, "utf8") : value;
}

function codecId(compression: CompressionCodec | CompressionName | undefined): CompressionCodec {
  if (compression === undefined) return CompressionCodec.NONE;
  if (typeof compression === "number") return compression;
  const id = COMPRESSION_NAMES.indexOf(compression);
  if (id < 0) throw new KrillError("ENCODE_ERROR", `unknown compression ${String(compression)}`);
  return id as CompressionCodec;
}

interface PreparedRecord {
  offsetDelta: number;
  timestampDelta: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: Buffer; value: Buffer | null }[];
  bodySize: number;
}

function nullableSize(b: Buffer | null): number {
  return b === null ? varintSize(-1) : varintSize(b.length) + b.length;
}

function writeNullable(buf: Buffer, at: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, at, -1);
  at = writeVarint(buf, at, b.length);
  b.copy(buf, at);
  return at + b.length;
}

/** Encodes the records section (uncompressed). */
export function encodeRecords(records: RecordInput[], baseTimestamp: bigint): Buffer {
  const prepared: PreparedRecord[] = [];
  let total = 0;
  records.forEach((record, index) => {
    const offsetDelta = record.offsetDelta ?? index;
    const timestampDelta = BigInt(record.timestamp) - baseTimestamp;
    const key = toBytes(record.key);
    const value = toBytes(record.value);
    const headers = (record.headers ?? []).map((h) => ({
      key: Buffer.from(h.key, "utf8"),
      value: toBytes(h.value),
    }));
    let bodySize =
      1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + nullableSize(key) + nullableSize(value);
    bodySize += varintSize(headers.length);
    for (const h of headers) bodySize += varintSize(h.key.length) + h.key.length + nullableSize(h.value);
    prepared.push({ offsetDelta, timestampDelta, key, value, headers, bodySize });
    total += varintSize(bodySize) + bodySize;
  });
  if (total > INT32_MAX)
    throw new KrillError("ENCODE_ERROR", `records section of ${total} bytes is too large`);
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (const r of prepared) {
    at = writeVarint(buf, at, r.bodySize);
    buf[at++] = 0;
    at = writeVarlong(buf, at, r.timestampDelta);
    at = writeVarint(buf, at, r.offsetDelta);
    at = writeNullable(buf, at, r.key);
    at = writeNullable(buf, at, r.value);
    at = writeVarint(buf, at, r.headers.length);
    for (const h of r.headers) {
      at = writeVarint(buf, at, h.key.length);
      h.key.copy(buf, at);
      at += h.key.length;
      at = writeNullable(buf, at, h.value);
    }
  }
  return buf;
}

/** Everything about a batch but its (possibly compressed) records section. */
interface PreparedBatch {
  options: BuildRecordBatchOptions;
  codec: CompressionCodec;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  plain: Buffer;
}

function prepareBatch(options: BuildRecordBatchOptions): PreparedBatch {
  const { records } = options;
  const codec = codecId(options.compression);
  let maxDelta = -1;
  let maxRecordTimestamp = NO_TIMESTAMP;
  records.forEach((record, index) => {
    const delta = record.offsetDelta ?? index;
    if (!Number.isInteger(delta) || delta < 0 || delta > INT32_MAX) {
      throw new KrillError("ENCODE_ERROR", `invalid offsetDelta ${delta}`);
    }
    if (delta > maxDelta) maxDelta = delta;
    const ts = BigInt(record.timestamp);
    if (ts > maxRecordTimestamp) maxRecordTimestamp = ts;
  });
  const lastOffsetDelta = options.lastOffsetDelta ?? maxDelta;
  if (lastOffsetDelta < 0) {
    throw new KrillError("ENCODE_ERROR", "an empty batch needs an explicit lastOffsetDelta");
  }
  const first = records[0];
  const baseTimestamp =
    options.deleteHorizonMs ??
    options.baseTimestamp ??
    (first === undefined ? NO_TIMESTAMP : BigInt(first.timestamp));
  const maxTimestamp = options.maxTimestamp ?? maxRecordTimestamp;
  const plain = encodeRecords(records, baseTimestamp);
  return { options, codec, lastOffsetDelta, baseTimestamp, maxTimestamp, plain };
}

function assembleBatch(prepared: PreparedBatch, section: Buffer): Buffer {
  const { options, codec } = prepared;
  const sizeBytes = BATCH_HEADER_SIZE + section.length;
  if (sizeBytes > INT32_MAX) throw new KrillError("ENCODE_ERROR", `batch of ${sizeBytes} bytes is too large`);

  let attributes: number = codec;
  if (options.timestampType === "LogAppendTime") attributes |= ATTR_TIMESTAMP_TYPE_MASK;
  if (options.transactional) attributes |= ATTR_TRANSACTIONAL_MASK;
  if (options.isControl) attributes |= ATTR_CONTROL_MASK;
  if (options.deleteHorizonMs !== undefined) attributes |= ATTR_DELETE_HORIZON_MASK;

  const buf = Buffer.allocUnsafe(sizeBytes);
  buf.writeBigInt64BE(options.baseOffset ?? 0n, BASE_OFFSET_OFFSET);
  buf.writeInt32BE(sizeBytes - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
  buf.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(prepared.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  buf.writeBigInt64BE(prepared.baseTimestamp, BASE_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(prepared.maxTimestamp, MAX_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(options.producerId ?? NO_PRODUCER_ID, PRODUCER_ID_OFFSET);
  buf.writeInt16BE(options.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(options.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(options.records.length, RECORDS_COUNT_OFFSET);
  section.copy(buf, RECORDS_OFFSET);
  writeBatchCrc(buf, 0, sizeBytes);
  return buf;
}

/** Builds one magic-2 batch, compressing the records section with the chosen codec. */
export function buildRecordBatch(options: BuildRecordBatchOptions): Buffer {
  const prepared = prepareBatch(options);
  const { codec, plain } = prepared;
  return assembleBatch(prepared, codec === CompressionCodec.NONE ? plain : compressSync(codec, plain));
}

/** buildRecordBatch with the compression off the main thread (for large batches). */
export async function buildRecordBatchAsync(options: BuildRecordBatchOptions): Promise<Buffer> {
  const prepared = prepareBatch(options);
  const { codec, plain } = prepared;
  return assembleBatch(prepared, codec === CompressionCodec.NONE ? plain : await compress(codec, plain));
}

/** Checks framing and CRC of the batch at `position` and returns its size. */
function checkBatch(
  buf: Buffer,
  position: number,
  options: Omit<DecodeRecordBatchOptions, "decompressedBytesMax">,
): number {
  const probe = probeBatch(buf, position, buf.length, options.batchSizeMax ?? BATCH_SIZE_MAX_DEFAULT);
  if (probe.kind === "incomplete") {
    throw new KrillError(
      "CORRUPT_RECORD",
      `partial record batch at byte ${position}: ${probe.bytesRemaining} bytes remain`,
    );
  }
  if (probe.kind === "corrupt")
    throw new KrillError("CORRUPT_RECORD", `corrupt record batch: ${probe.reason}`);
  if (probe.magic !== CURRENT_MAGIC) {
    throw new KrillError("CORRUPT_RECORD", `unsupported record batch magic ${probe.magic}`);
  }
  if ((options.verifyCrc ?? true) && !isBatchCrcValid(buf, position, probe.sizeBytes)) {
    throw new KrillError(
      "CORRUPT_RECORD",
      `record batch at byte ${position} is corrupt (stored crc = ${buf.readUInt32BE(position + CRC_OFFSET)})`,
    );
  }
  return probe.sizeBytes;
}

/** A checked batch: its header, size, codec and (still compressed) records section. */
export interface BatchSection {
  header: BatchHeader;
  sizeBytes: number;
  codec: CompressionCodec;
  section: Buffer;
}

/**
 * Checks the framing (and, unless told not to, the CRC) of the batch at `position` and returns
 * its header and records section, without decompressing or decoding anything.
 */
export function readBatchSection(
  buf: Buffer,
  position: number,
  options: Omit<DecodeRecordBatchOptions, "decompressedBytesMax">,
): BatchSection {
  const sizeBytes = checkBatch(buf, position, options);
  const header = readBatchHeader(buf, position);
  const codec = header.attributes & ATTR_COMPRESSION_MASK;
  if (codec > CompressionCodec.ZSTD)
    throw new KrillError("CORRUPT_RECORD", `unknown compression codec ${codec}`);
  if (header.recordsCount < 0)
    throw new KrillError("CORRUPT_RECORD", `negative record count ${header.recordsCount}`);
  const section = buf.subarray(position + RECORDS_OFFSET, position + sizeBytes);
  return { header, sizeBytes, codec: codec as CompressionCodec, section };
}

function decodeFromPlain(facts: BatchSection, plain: Buffer): DecodedRecordBatch {
  const { header } = facts;
  const attributes = header.attributes;
  const isLogAppendTime = (attributes & ATTR_TIMESTAMP_TYPE_MASK) !== 0;
  if (header.recordsCount > plain.length / RECORD_SIZE_MIN) {
    throw new KrillError(
      "CORRUPT_RECORD",
      `record count ${header.recordsCount} cannot fit in ${plain.length} bytes of records`,
    );
  }
  const cursor = new RecordCursor(plain, 0, plain.length);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < header.recordsCount; i++) {
    records.push(decodeRecord(cursor, header, isLogAppendTime));
  }
  if (cursor.remaining !== 0) {
    throw new KrillError(
      "CORRUPT_RECORD",
      `${cursor.remaining} bytes remain after the ${header.recordsCount} records the batch declares`,
    );
  }
  return {
    header,
    sizeBytes: facts.sizeBytes,
    compression: facts.codec,
    timestampType: isLogAppendTime ? "LogAppendTime" : "CreateTime",
    isTransactional: (attributes & ATTR_TRANSACTIONAL_MASK) !== 0,
    isControl: (attributes & ATTR_CONTROL_MASK) !== 0,
    hasDeleteHorizon: (attributes & ATTR_DELETE_HORIZON_MASK) !== 0,
    records,
  };
}

function decodeRecord(cursor: RecordCursor, header: BatchHeader, isLogAppendTime: boolean): DecodedRecord {
  const length = cursor.varint();
  if (length < 0 || length > cursor.remaining) {
    cursor.fail(`record length ${length} exceeds the ${cursor.remaining} bytes left`);
  }
  const end = cursor.position + length;
  const body = new RecordCursor(cursor.buf, cursor.position, end);
  const attributes = body.int8();
  const timestampDelta = body.varlong();
  const offsetDelta = body.varint();
  const key = body.nullableBytes();
  const value = body.nullableBytes();
  const headerCount = body.varint();
  if (headerCount < 0) body.fail(`invalid negative header count ${headerCount}`);
  if (headerCount > body.remaining / HEADER_SIZE_MIN) {
    body.fail(`header count ${headerCount} cannot fit in the ${body.remaining} bytes left`);
  }
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const keyLength = body.varint();
    if (keyLength < 0) body.fail(`invalid negative header key length ${keyLength}`);
    const headerKey = body.bytes(keyLength).toString("utf8");
    headers.push({ key: headerKey, value: body.nullableBytes() });
  }
  if (body.remaining !== 0) {
    body.fail(`record declares ${length} bytes but its fields take ${length - body.remaining}`);
  }
  cursor.position = end;
  return {
    offset: header.baseOffset + BigInt(offsetDelta),
    offsetDelta,
    timestamp: isLogAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
    timestampDelta,
    attributes,
    key,
    value,
    headers,
  };
}

/**
 * Checks that an uncompressed records section holds exactly `recordsCount` well-formed records
 * (every length within its record, every record within the section, nothing left over) without
 * building record objects or copying keys, values or headers: the cheap structural check for code
 * that forwards the section's bytes, such as recompression. Throws KrillError("CORRUPT_RECORD").
 */
export function checkRecordsStructure(plain: Buffer, recordsCount: number): void {
  if (recordsCount < 0 || recordsCount > plain.length / RECORD_SIZE_MIN) {
    throw new KrillError(
      "CORRUPT_RECORD",
      `record count ${recordsCount} cannot fit in ${plain.length} bytes of records`,
    );
  }
  const cursor = new RecordCursor(plain, 0, plain.length);
  const body = new RecordCursor(plain, 0, 0);
  for (let i = 0; i < recordsCount; i++) {
    const length = cursor.varint();
    if (length < 0 || length > cursor.remaining) {
      cursor.fail(`record length ${length} exceeds the ${cursor.remaining} bytes left`);
    }
    const end = cursor.position + length;
    body.reset(cursor.position, end);
    body.skip(1); // attributes
    // Read (not skipped) so overlong or oversized varints fail exactly as in decodeRecordBatch.
    body.varlong(); // timestampDelta
    body.varint(); // offsetDelta
    body.skipNullableBytes(); // key
    body.skipNullableBytes(); // value
    const headerCount = body.varint();
    if (headerCount < 0 || headerCount > body.remaining / HEADER_SIZE_MIN) {
      body.fail(`invalid header count ${headerCount}`);
    }
    for (let h = 0; h < headerCount; h++) {
      const keyLength = body.varint();
      if (keyLength < 0) body.fail(`invalid negative header key length ${keyLength}`);
      body.skip(keyLength);
      body.skipNullableBytes();
    }
    if (body.remaining !== 0)
      body.fail(`record declares ${length} bytes but its fields take ${length - body.remaining}`);
    cursor.position = end;
  }
  if (cursor.remaining !== 0) {
    cursor.fail(`${cursor.remaining} bytes remain after the ${recordsCount} records the batch declares`);
  }
}

/**
 * Decodes the batch at `position` (default 0): header, then records, decompressing the records
 * section as needed. Keys, values and header values of uncompressed batches are views into `buf`.
 */
export function decodeRecordBatch(
  buf: Buffer,
  options: DecodeRecordBatchOptions & { position?: number },
): DecodedRecordBatch {
  const facts = readBatchSection(buf, options.position ?? 0, options);
  const plain =
    facts.codec === CompressionCodec.NONE
      ? facts.section
      : decompressSync(facts.codec, facts.section, { outputBytesMax: options.decompressedBytesMax });
  return decodeFromPlain(facts, plain);
}

/** decodeRecordBatch with decompression off the main thread where the codec allows it. */
export async function decodeRecordBatchAsync(
  buf: Buffer,
  options: DecodeRecordBatchOptions & { position?: number },
): Promise<DecodedRecordBatch> {
  const facts = readBatchSection(buf, options.position ?? 0, options);
  const plain =
    facts.codec === CompressionCodec.NONE
      ? facts.section
      : await decompress(facts.codec, facts.section, { outputBytesMax: options.decompressedBytesMax });
  return decodeFromPlain(facts, plain);
}

/** Decodes every batch in `buf`, which must hold whole batches only. */
export function decodeRecordBatches(buf: Buffer, options: DecodeRecordBatchOptions): DecodedRecordBatch[] {
  const out: DecodedRecordBatch[] = [];
  const iterate: { batchSizeMax?: number } = {};
  if (options.batchSizeMax !== undefined) iterate.batchSizeMax = options.batchSizeMax;
  for (const { position } of iterateBatches(buf, iterate)) {
    out.push(decodeRecordBatch(buf, { ...options, position }));
  }
  return out;
}
