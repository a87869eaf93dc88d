/**
 * Walking stored record batches by their fixed headers (batch-header.ts), never decoding records:
 * recovery, index rebuilds and reads find batch boundaries and check CRCs here.
 *
 * Offsets and timestamps are carried as JavaScript numbers: every offset the log accepts is a
 * safe integer (checked on append), which keeps the per-batch arithmetic off BigInt.
 *
 * Every size read from disk is checked against the bytes that remain before it is used, and the
 * CRC of a batch larger than the scan window is computed in window-sized steps, so a corrupt length
 * field can never cause a large allocation.
 */
import { KrillError } from "../errors.js";
import { crc32c } from "../protocol/crc32c.js";
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
} from "../protocol/records/batch-header.js";

/** Reads an int64 field as a number; exact for every value below 2^53 in magnitude. */
export function readInt64Number(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

export function writeInt64Number(buf: Buffer, pos: number, value: number): void {
  buf.writeBigInt64BE(BigInt(value), pos);
}

/** What the log needs to know about one stored batch, read from its header alone. */
export interface BatchInfo {
  /** Byte position of the batch in its segment (or buffer). */
  position: number;
  /** Whole batch size in bytes, LOG_OVERHEAD included. */
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  attributes: number;
  recordsCount: number;
  producerId: number;
}

export function batchInfoAt(buf: Buffer, bufPos: number, position: number, sizeBytes: number): BatchInfo {
  const baseOffset = readInt64Number(buf, bufPos);
  return {
    position,
    sizeBytes,
    baseOffset,
    lastOffset: baseOffset + buf.readInt32BE(bufPos + LAST_OFFSET_DELTA_OFFSET),
    maxTimestamp: readInt64Number(buf, bufPos + MAX_TIMESTAMP_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(bufPos + PARTITION_LEADER_EPOCH_OFFSET),
    attributes: buf.readInt16BE(bufPos + ATTRIBUTES_OFFSET),
    recordsCount: buf.readInt32BE(bufPos + RECORDS_COUNT_OFFSET),
    producerId: readInt64Number(buf, bufPos + PRODUCER_ID_OFFSET),
  };
}

/**
 * Checks the header of the batch at `bufPos` (at least BATCH_HEADER_SIZE bytes available there) as
 * stored data: returns the batch size, or why it is not a batch. `bytesRemaining` is how much of
 * the segment (or buffer) remains from the batch start.
 */
export function checkBatchHeader(buf: Buffer, bufPos: number, bytesRemaining: number): number | string {
  const batchLength = buf.readInt32BE(bufPos + BATCH_LENGTH_OFFSET);
  if (batchLength < BATCH_LENGTH_MIN)
    return `batchLength ${batchLength} is below the minimum ${BATCH_LENGTH_MIN}`;
  const sizeBytes = LOG_OVERHEAD + batchLength;
  if (sizeBytes > bytesRemaining)
    return `batch of ${sizeBytes} bytes runs past the end (${bytesRemaining} left)`;
  const magic = buf.readInt8(bufPos + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) return `magic ${magic} is not ${CURRENT_MAGIC}`;
  const lastOffsetDelta = buf.readInt32BE(bufPos + LAST_OFFSET_DELTA_OFFSET);
  if (lastOffsetDelta < 0) return `negative lastOffsetDelta ${lastOffsetDelta}`;
  const baseOffset = readInt64Number(buf, bufPos);
  if (baseOffset < 0 || !Number.isSafeInteger(baseOffset + lastOffsetDelta)) {
    return `baseOffset ${baseOffset} is out of range`;
  }
  return sizeBytes;
}

/** Reads up to `length` bytes at file position `position` into `buf[0..]`; returns bytes read. */
export type ReadAt = (buf: Buffer, length: number, position: number) => number;

/**
 * Sequential scan of the batches in `[start, end)` of one file, through a reusable window buffer.
 * `next()` returns each batch in turn; when it returns undefined, either the end was reached cleanly
 * (`problem` undefined) or the batch at `position` is torn or corrupt (`problem` says why).
 */
export class BatchScanner {
  /** File position of the next batch to return. */
  position: number;
  problem: string | undefined;
  private readonly window: Buffer;
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    private readonly readAt: ReadAt,
    start: number,
    private readonly end: number,
    windowBytes: number,
  ) {
    this.position = start;
    this.window = Buffer.allocUnsafe(Math.max(windowBytes, BATCH_HEADER_SIZE));
  }

  /**
   * The next batch, or undefined. `verifyCrc` checks the CRC too (recovery, reads); without it only
   * headers are read, so skipping over batches reads a few bytes per batch.
   */
  next(verifyCrc: boolean): BatchInfo | undefined {
    const pos = this.position;
    const remaining = this.end - pos;
    if (remaining === 0) return undefined;
    if (remaining < BATCH_HEADER_SIZE) {
      this.problem = `${remaining} trailing bytes are shorter than a batch header`;
      return undefined;
    }
    const at = this.ensure(pos, BATCH_HEADER_SIZE);
    const checked = checkBatchHeader(this.window, at, remaining);
    if (typeof checked === "string") {
      this.problem = checked;
      return undefined;
    }
    const info = batchInfoAt(this.window, at, pos, checked);
    if (verifyCrc) {
      const expected = this.window.readUInt32BE(at + CRC_OFFSET);
      const actual = this.crcOf(pos + ATTRIBUTES_OFFSET, pos + checked);
      if (actual !== expected) {
        this.problem = `CRC mismatch at offset ${info.baseOffset} (stored ${expected}, computed ${actual})`;
        return undefined;
      }
    }
    this.position = pos + checked;
    return info;
  }

  /** The window-relative position of file bytes `[pos, pos+length)`, refilling if needed. */
  private ensure(pos: number, length: number): number {
    if (pos >= this.windowStart && pos + length <= this.windowStart + this.windowLength) {
      return pos - this.windowStart;
    }
    const want = Math.min(this.window.length, this.end - pos);
    let got = 0;
    while (got < want) {
      const n = this.readAt(this.window.subarray(got), want - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    this.windowStart = pos;
    this.windowLength = got;
    if (got < length) {
      // The file is shorter than its recorded size (truncated underneath us): nothing valid here.
      this.windowLength = 0;
      throw new KrillError(
        "CORRUPT_SEGMENT",
        `File ended early: wanted ${length} bytes at position ${pos}, got ${got}`,
      );
    }
    return 0;
  }

  private crcOf(from: number, to: number): number {
    let crc = 0;
    let pos = from;
    while (pos < to) {
      const step = Math.min(to - pos, this.window.length);
      const at = this.ensure(pos, step);
      crc = crc32c(this.window.subarray(at, at + step), crc);
      pos += step;
    }
    return crc;
  }
}

/** Whether the CRC of the whole batch in `buf[pos, pos+sizeBytes)` matches its header. */
export function isCrcValid(buf: Buffer, pos: number, sizeBytes: number): boolean {
  return (
    crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + sizeBytes)) === buf.readUInt32BE(pos + CRC_OFFSET)
  );
}
