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
 * Streaming, as Kafka's compressed iterator reads through a small buffer: the section is
 * decompressed piece by piece (a zlib chunk, a snappy or lz4 block; compression/index.ts
 * `decompressChunks`) and `RecordStreamChecker` walks the records across the pieces, holding no
 * record: keys, values and headers are skipped, only the few varints of a record's framing are
 * read, and a varint cut by a piece boundary is carried in a 10-byte scratch. So memory is one
 * piece whatever the compression ratio or the record sizes, and the walk stops at the first
 * framing error or once the declared records are read (one byte more is "records still
 * remaining"), so a bomb is decompressed no further than its first bad record. The total output
 * is still bounded by `decompressedBytesMax`: not for memory any more but for the work one batch
 * may cost (Kafka has no such bound; past it the batch is CORRUPT_MESSAGE). Small sections are
 * decompressed on the event loop under a small output bound, and the rest (or anything that
 * passes that bound) as a stream on the thread pool.
 *
 * Difference from Kafka: a record whose offset delta is not its index is refused (INVALID_RECORD);
 * Kafka rebuilds such a batch with fresh offsets (for old clients' magic v1 habits), which no
 * magic v2 client needs.
 */
import { isKrillError } from "../../errors.js";
import {
  type CompressionCodec,
  decompressChunks,
  decompressChunksSync,
  isOutputTooLarge,
} from "../compression/index.js";
import { RECORDS_OFFSET } from "./batch-header.js";
import type { ProducedBatchSummary } from "./produce-validation.js";
import { RecordCursor } from "./varint.js";
import { RecordErrorCode } from "./wire-error-codes.js";

/** Compressed sections up to this size are first decompressed on the event loop... */
const SYNC_SECTION_BYTES_MAX = 64 * 1024;
/** ...as long as their output stays within this; past it they are streamed on the thread pool. */
const SYNC_OUTPUT_BYTES_MAX = 1024 * 1024;

/** Record errors listed in one partition's answer. */
export const RECORD_ERRORS_MAX = 100;

export interface CompressedRecordsOptions {
  /** The most decompressed bytes one batch may cost (a bound on work; memory is one piece). */
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

export type RecordCheckOptions = Omit<CompressedRecordsOptions, "decompressedBytesMax">;
type BatchFields = Pick<ProducedBatchSummary, "recordsCount" | "baseTimestamp" | "timestampType">;

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
  const codec = batch.compression as CompressionCodec;
  if (section.length <= SYNC_SECTION_BYTES_MAX) {
    // A small batch decompresses faster than a round trip to the thread pool takes.
    const checker = new RecordStreamChecker(batch, options);
    try {
      const limits = { outputBytesMax: Math.min(SYNC_OUTPUT_BYTES_MAX, options.decompressedBytesMax) };
      for (const piece of decompressChunksSync(codec, section, limits)) {
        if (!checker.push(piece)) break;
      }
      return checker.end();
    } catch (err) {
      if (!isKrillError(err)) throw err;
      if (!isOutputTooLarge(err) || options.decompressedBytesMax <= SYNC_OUTPUT_BYTES_MAX) {
        return decompressionFailed(err.message);
      }
      // A small section with a large output: streamed below from the start.
    }
  }
  const checker = new RecordStreamChecker(batch, options);
  try {
    for await (const piece of decompressChunks(codec, section, {
      outputBytesMax: options.decompressedBytesMax,
    })) {
      if (!checker.push(piece)) break;
    }
  } catch (err) {
    if (!isKrillError(err)) throw err;
    return decompressionFailed(err.message);
  }
  return checker.end();
}

function decompressionFailed(message: string): CompressedRecordsResult {
  return fail(RecordErrorCode.CORRUPT_MESSAGE, `Failed to decompress record stream: ${message}`);
}

/** Walks decompressed records held in one buffer (tests, the fuzz loop). */
export function checkRecords(
  records: Buffer,
  batch: BatchFields,
  options: RecordCheckOptions,
): CompressedRecordsResult {
  const checker = new RecordStreamChecker(batch, options);
  checker.push(records);
  return checker.end();
}

// Where the walk is inside a record (a record is: length, attributes, timestamp delta, offset
// delta, key length, key, value length, value, header count, then per header: key length, key,
// value length, value).
const STEP_LENGTH = 0;
const STEP_ATTRIBUTES = 1;
const STEP_TIMESTAMP_DELTA = 2;
const STEP_OFFSET_DELTA = 3;
const STEP_KEY_LENGTH = 4;
const STEP_VALUE_LENGTH = 5;
const STEP_HEADER_COUNT = 6;
const STEP_HEADER_KEY_LENGTH = 7;
const STEP_HEADER_VALUE_LENGTH = 8;
/** Skipping `skipLeft` bytes of a key, value, header key or header value, then `afterSkip`. */
const STEP_SKIP = 9;
/** A framing error was found; the rest of the body is skipped before it is reported. */
const STEP_SKIP_BODY = 10;
const STEP_DONE = 11;

const INVALID_STRUCTURE = "Found invalid record structure";

/** The fields of a record the checks need. */
interface RecordFields {
  offsetDelta: number;
  timestampDelta: bigint;
  hasKey: boolean;
}

/**
 * Checks the records of one batch from their bytes given in pieces of any size (`push`), then
 * `end` when the stream is over. Holds no record: memory is a 10-byte scratch whatever the
 * records hold. Answers exactly as a walk of the whole section at once would (a differential test
 * splits sections at every boundary): a record whose body is whole in a piece is read in one go,
 * one cut by a piece boundary field by field.
 */
export class RecordStreamChecker {
  readonly #count: number;
  readonly #baseTimestamp: bigint;
  readonly #options: RecordCheckOptions;
  readonly #checkTimestamp: boolean;
  readonly #lowestMs: number;
  readonly #highestMs: number;
  readonly #recordErrors: RecordError[] = [];
  #errorCount = 0;
  #timestampErrors = 0;
  #verdict: CompressedRecordsResult | undefined;

  #index = 0;
  #step = STEP_LENGTH;
  /** A varint in progress across pieces. */
  readonly #scratch = Buffer.alloc(10);
  #scratchBytes = 0;
  /** The current record's declared body size and what of it is still to come. */
  #bodyBytes = 0;
  #bodyLeft = 0;
  #skipLeft = 0;
  #afterSkip = STEP_LENGTH;
  #headersLeft = 0;
  #pendingError = "";
  readonly #fields: RecordFields = { offsetDelta: 0, timestampDelta: 0n, hasKey: false };

  constructor(batch: BatchFields, options: RecordCheckOptions) {
    this.#count = batch.recordsCount;
    this.#baseTimestamp = batch.baseTimestamp;
    this.#options = options;
    this.#checkTimestamp = options.timestampType === "CreateTime" && batch.timestampType === "CreateTime";
    this.#lowestMs = options.nowMs - options.timestampBeforeMaxMs;
    this.#highestMs = options.nowMs + options.timestampAfterMaxMs;
    if (this.#count <= 0) this.#step = STEP_DONE;
  }

  /** Takes the next bytes of the section; false once the answer is known (more input changes nothing). */
  push(piece: Buffer): boolean {
    let at = 0;
    // Reads the records that lie whole within this piece.
    const cursor = new RecordCursor(piece, 0, piece.length);
    while (at < piece.length && this.#verdict === undefined) {
      if (this.#step === STEP_DONE) {
        this.#verdict = fail(
          RecordErrorCode.INVALID_RECORD,
          "Incorrect declared batch size, records still remaining in file",
        );
        break;
      }
      if (this.#step === STEP_LENGTH && this.#scratchBytes === 0) {
        const next = this.#wholeRecord(cursor, at);
        if (next >= 0) {
          at = next;
          continue;
        }
      }
      at = this.#stepOnce(piece, at);
    }
    return this.#verdict === undefined;
  }

  /** The answer for the section pushed so far, now that it has ended. */
  end(): CompressedRecordsResult {
    if (this.#verdict !== undefined) return this.#verdict;
    if (this.#step === STEP_LENGTH) {
      return fail(
        RecordErrorCode.INVALID_RECORD,
        this.#scratchBytes === 0 ? "Incorrect declared batch size, premature EOF reached" : INVALID_STRUCTURE,
      );
    }
    if (this.#step !== STEP_DONE) {
      return fail(
        RecordErrorCode.INVALID_RECORD,
        `Invalid record size: expected ${this.#bodyBytes} bytes in record payload, but the record payload reached EOF.`,
      );
    }
    if (this.#errorCount === 0) return { ok: true };
    if (this.#timestampErrors > 0) {
      return {
        ok: false,
        errorCode: RecordErrorCode.INVALID_TIMESTAMP,
        errorMessage: "One or more records have been rejected due to invalid timestamp",
        recordErrors: this.#recordErrors,
      };
    }
    const shown = this.#recordErrors
      .slice(0, 3)
      .map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.message}')`)
      .join(", ");
    return {
      ok: false,
      errorCode: RecordErrorCode.INVALID_RECORD,
      errorMessage: `One or more records have been rejected due to ${this.#errorCount} record errors in total, and only showing the first three errors at most: [${shown}]`,
      recordErrors: this.#recordErrors,
    };
  }

  /**
   * The record starting at `at` when its length and body are whole in `piece`: checked in one
   * go, returning the position after it; -1 when it is cut by the piece's end (read field by
   * field instead).
   */
  #wholeRecord(cursor: RecordCursor, at: number): number {
    const piece = cursor.buf;
    // The length varint, only if complete here (else the field-by-field walk takes it).
    let lengthEnd = at;
    while (lengthEnd < piece.length && lengthEnd - at < 5 && (piece[lengthEnd]! & 0x80) !== 0) lengthEnd++;
    if (lengthEnd >= piece.length) return -1;
    cursor.reset(at, piece.length);
    let bodyBytes: number;
    try {
      bodyBytes = cursor.varint();
    } catch {
      this.#verdict = fail(RecordErrorCode.INVALID_RECORD, INVALID_STRUCTURE);
      return piece.length;
    }
    if (bodyBytes < 0) {
      this.#verdict = eofError(bodyBytes);
      return piece.length;
    }
    const start = cursor.position;
    const end = start + bodyBytes;
    if (end > piece.length) return -1;
    cursor.reset(start, end);
    const error = readBody(cursor, this.#fields);
    if (error !== undefined) {
      this.#verdict = fail(RecordErrorCode.INVALID_RECORD, error);
      return piece.length;
    }
    if (cursor.position !== end) {
      this.#verdict = fail(RecordErrorCode.INVALID_RECORD, readError(bodyBytes, cursor.position - start));
      return piece.length;
    }
    this.#recordDone();
    return end;
  }

  /** One step of the field-by-field walk from `at`; the position after what it consumed. */
  #stepOnce(piece: Buffer, at: number): number {
    switch (this.#step) {
      case STEP_SKIP: {
        const take = Math.min(this.#skipLeft, piece.length - at);
        this.#skipLeft -= take;
        this.#bodyLeft -= take;
        if (this.#skipLeft === 0) this.#afterField(this.#afterSkip);
        return at + take;
      }
      case STEP_SKIP_BODY: {
        const take = Math.min(this.#bodyLeft, piece.length - at);
        this.#bodyLeft -= take;
        if (this.#bodyLeft === 0) this.#verdict = fail(RecordErrorCode.INVALID_RECORD, this.#pendingError);
        return at + take;
      }
      case STEP_LENGTH:
        return this.#varintByte(piece[at]!, at, 5);
      case STEP_ATTRIBUTES:
        if (this.#bodyLeft === 0) return this.#invalid(at);
        this.#bodyLeft--;
        this.#step = STEP_TIMESTAMP_DELTA;
        return at + 1;
      case STEP_TIMESTAMP_DELTA:
        return this.#varintByte(piece[at]!, at, 10);
      default:
        return this.#varintByte(piece[at]!, at, 5);
    }
  }

  /** Takes one byte of the varint being read (at most `maxBytes` long); acts on it once complete. */
  #varintByte(byte: number, at: number, maxBytes: number): number {
    const inBody = this.#step !== STEP_LENGTH;
    if (inBody) {
      if (this.#bodyLeft === 0) return this.#invalid(at);
      this.#bodyLeft--;
    }
    this.#scratch[this.#scratchBytes++] = byte;
    if ((byte & 0x80) !== 0) {
      if (this.#scratchBytes < maxBytes) return at + 1;
      // Longer than a varint may be.
      if (!inBody) {
        this.#verdict = fail(RecordErrorCode.INVALID_RECORD, INVALID_STRUCTURE);
        return at + 1;
      }
      this.#scratchBytes = 0;
      return this.#invalid(at + 1);
    }
    const cursor = new RecordCursor(this.#scratch, 0, this.#scratchBytes);
    this.#scratchBytes = 0;
    let value: number;
    try {
      if (this.#step === STEP_TIMESTAMP_DELTA) {
        this.#fields.timestampDelta = cursor.varlong();
        this.#step = STEP_OFFSET_DELTA;
        return at + 1;
      }
      value = cursor.varint();
    } catch {
      if (!inBody) {
        this.#verdict = fail(RecordErrorCode.INVALID_RECORD, INVALID_STRUCTURE);
        return at + 1;
      }
      return this.#invalid(at + 1);
    }
    this.#field(value);
    return at + 1;
  }

  /** A varint field of the current step has been read. */
  #field(value: number): void {
    switch (this.#step) {
      case STEP_LENGTH:
        if (value < 0) {
          this.#verdict = eofError(value);
          return;
        }
        this.#bodyBytes = value;
        this.#bodyLeft = value;
        this.#step = STEP_ATTRIBUTES;
        return;
      case STEP_OFFSET_DELTA:
        this.#fields.offsetDelta = value;
        this.#step = STEP_KEY_LENGTH;
        return;
      case STEP_KEY_LENGTH:
        if (value < -1) {
          this.#failBody(INVALID_STRUCTURE);
          return;
        }
        this.#fields.hasKey = value >= 0;
        this.#skip(value, STEP_VALUE_LENGTH);
        return;
      case STEP_VALUE_LENGTH:
        if (value < -1) {
          this.#failBody(INVALID_STRUCTURE);
          return;
        }
        this.#skip(value, STEP_HEADER_COUNT);
        return;
      case STEP_HEADER_COUNT:
        if (value < 0) {
          this.#failBody(`Found invalid number of record headers ${value}`);
          return;
        }
        if (value > this.#bodyLeft) {
          this.#failBody(
            `Found invalid number of record headers. ${value} is larger than the remaining size of the buffer`,
          );
          return;
        }
        this.#headersLeft = value;
        this.#afterField(STEP_HEADER_KEY_LENGTH);
        return;
      case STEP_HEADER_KEY_LENGTH:
        if (value < 0) {
          this.#failBody(`Invalid negative header key size ${value}`);
          return;
        }
        this.#skip(value, STEP_HEADER_VALUE_LENGTH);
        return;
      case STEP_HEADER_VALUE_LENGTH:
        if (value < -1) {
          this.#failBody(INVALID_STRUCTURE);
          return;
        }
        this.#headersLeft--;
        this.#skip(value, STEP_HEADER_KEY_LENGTH);
        return;
    }
  }

  /** Skips `length` bytes (none for -1 or 0) of the body, then goes on with `next`. */
  #skip(length: number, next: number): void {
    if (length > this.#bodyLeft) {
      this.#failBody(INVALID_STRUCTURE);
      return;
    }
    if (length <= 0) {
      this.#afterField(next);
      return;
    }
    this.#skipLeft = length;
    this.#afterSkip = next;
    this.#step = STEP_SKIP;
  }

  /** Moves to `next`, or ends the record when no header is left to read. */
  #afterField(next: number): void {
    if (next === STEP_HEADER_KEY_LENGTH && this.#headersLeft === 0) {
      if (this.#bodyLeft > 0) {
        this.#failBody(readError(this.#bodyBytes, this.#bodyBytes - this.#bodyLeft));
        return;
      }
      this.#recordDone();
      return;
    }
    this.#step = next;
  }

  /** A framing error inside the body: reported once the body's bytes have all come (else EOF is). */
  #failBody(message: string): void {
    if (this.#bodyLeft === 0) {
      this.#verdict = fail(RecordErrorCode.INVALID_RECORD, message);
      return;
    }
    this.#pendingError = message;
    this.#step = STEP_SKIP_BODY;
  }

  #invalid(at: number): number {
    this.#failBody(INVALID_STRUCTURE);
    return at;
  }

  /** The current record's framing is whole and right: its per-record checks. */
  #recordDone(): void {
    const index = this.#index;
    const fields = this.#fields;
    this.#index++;
    this.#step = this.#index === this.#count ? STEP_DONE : STEP_LENGTH;
    if (fields.offsetDelta !== index) {
      this.#verdict = fail(
        RecordErrorCode.INVALID_RECORD,
        `Record ${index} of the batch has offset delta ${fields.offsetDelta}; a batch's records must have offset deltas 0, 1, 2, ...`,
      );
      return;
    }
    if (this.#options.compacted && !fields.hasKey) {
      this.#addError(
        index,
        `Compacted topic cannot accept message without key in topic partition ${this.#options.topicPartition}`,
      );
      return;
    }
    if (this.#checkTimestamp && this.#baseTimestamp !== -1n) {
      const timestamp = this.#baseTimestamp + fields.timestampDelta;
      // Milliseconds fit a double exactly; the bounds may be Infinity (no bound).
      const timestampMs = Number(timestamp);
      if (timestamp !== -1n && (timestampMs < this.#lowestMs || timestampMs > this.#highestMs)) {
        this.#timestampErrors++;
        this.#addError(
          index,
          `Timestamp ${timestamp} of message with offset ${fields.offsetDelta} is out of range. The timestamp should be within [${this.#lowestMs}, ${this.#highestMs}]`,
        );
      }
    }
  }

  #addError(batchIndex: number, message: string): void {
    this.#errorCount++;
    if (this.#recordErrors.length < RECORD_ERRORS_MAX) this.#recordErrors.push({ batchIndex, message });
  }
}

/**
 * Reads a record body held whole by `body` (positioned after the length) into `fields`, as
 * DefaultRecord.readFrom does; the framing error's message, or undefined.
 */
function readBody(body: RecordCursor, fields: RecordFields): string | undefined {
  try {
    body.int8(); // attributes
    fields.timestampDelta = body.varlong();
    fields.offsetDelta = body.varint();
    const keyBytes = body.varint();
    if (keyBytes < -1) return INVALID_STRUCTURE;
    fields.hasKey = keyBytes >= 0;
    if (keyBytes > 0) body.skip(keyBytes);
    body.skipNullableBytes(); // value
    const headers = body.varint();
    if (headers < 0) return `Found invalid number of record headers ${headers}`;
    if (headers > body.remaining) {
      return `Found invalid number of record headers. ${headers} is larger than the remaining size of the buffer`;
    }
    for (let h = 0; h < headers; h++) {
      const headerKeyBytes = body.varint();
      if (headerKeyBytes < 0) return `Invalid negative header key size ${headerKeyBytes}`;
      body.skip(headerKeyBytes);
      body.skipNullableBytes(); // header value
    }
  } catch {
    return INVALID_STRUCTURE;
  }
  return undefined;
}

function readError(bodyBytes: number, read: number): string {
  return `Invalid record size: expected to read ${bodyBytes} bytes in record payload, but instead read ${read}`;
}

function eofError(bodyBytes: number): CompressedRecordsResult {
  return fail(
    RecordErrorCode.INVALID_RECORD,
    `Invalid record size: expected ${bodyBytes} bytes in record payload, but the record payload reached EOF.`,
  );
}

function fail(errorCode: RecordErrorCode, errorMessage: string): CompressedRecordsResult {
  return { ok: false, errorCode, errorMessage, recordErrors: [] };
}
