/**
 * The leader's rewrite of validated batches as they are appended (Kafka's LogValidator with
 * in-place assignment): framing checked, then for each batch the base offset and partition leader
 * epoch written, and the timestamp type settled: LogAppendTime topics get the append time as
 * maxTimestamp with the LogAppendTime bit, CreateTime topics clear a LogAppendTime bit a client set
 * (Kafka's `setMaxTimestamp(CREATE_TIME, maxTimestamp)`), so records read back with their own
 * timestamps. Only header fields are written; the CRC is recomputed when attributes or
 * maxTimestamp change (they are inside its range; baseOffset and the epoch are not). Records are
 * never decoded.
 */
import { KrillError } from "../errors.js";
import { crc32c } from "../protocol/crc32c.js";
import {
  ATTR_TIMESTAMP_TYPE_MASK,
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BATCH_HEADER_SIZE,
  CRC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
} from "../protocol/records/batch-header.js";
import { type BatchInfo, batchInfoAt, checkBatchHeader, isCrcValid, writeInt64Number } from "./batch-scan.js";

/** Splits an append into its batches, checking the framing (sizes, magic, offsets). */
export function frameBatches(records: Buffer, verifyCrc: boolean): BatchInfo[] {
  const batches: BatchInfo[] = [];
  let p = 0;
  while (p < records.length) {
    const remaining = records.length - p;
    if (remaining < BATCH_HEADER_SIZE) {
      throw new KrillError("CORRUPT_RECORD", `${remaining} trailing bytes are not a record batch`);
    }
    const checked = checkBatchHeader(records, p, remaining);
    if (typeof checked === "string")
      throw new KrillError("CORRUPT_RECORD", `Record batch at byte ${p}: ${checked}`);
    if (verifyCrc && !isCrcValid(records, p, checked)) {
      throw new KrillError("CORRUPT_RECORD", `Record batch at byte ${p} fails its CRC check`);
    }
    batches.push(batchInfoAt(records, p, p, checked));
    p += checked;
  }
  if (batches.length === 0) throw new KrillError("CORRUPT_RECORD", "Append of zero record batches");
  return batches;
}

/**
 * Rewrites one framed batch in place for a leader append at `baseOffset` (see the module comment)
 * and updates `b` to match. Returns the offset after the batch.
 */
export function rewriteForLeader(
  records: Buffer,
  b: BatchInfo,
  baseOffset: number,
  leaderEpoch: number,
  logAppendTimeMs: number | undefined,
): number {
  const delta = b.lastOffset - b.baseOffset;
  writeInt64Number(records, b.position + BASE_OFFSET_OFFSET, baseOffset);
  records.writeInt32BE(leaderEpoch, b.position + PARTITION_LEADER_EPOCH_OFFSET);
  b.baseOffset = baseOffset;
  b.lastOffset = baseOffset + delta;
  b.partitionLeaderEpoch = leaderEpoch;
  if (logAppendTimeMs !== undefined) {
    b.attributes |= ATTR_TIMESTAMP_TYPE_MASK;
    b.maxTimestamp = logAppendTimeMs;
    records.writeInt16BE(b.attributes, b.position + ATTRIBUTES_OFFSET);
    writeInt64Number(records, b.position + MAX_TIMESTAMP_OFFSET, logAppendTimeMs);
    writeCrc(records, b);
  } else if ((b.attributes & ATTR_TIMESTAMP_TYPE_MASK) !== 0) {
    b.attributes &= ~ATTR_TIMESTAMP_TYPE_MASK;
    records.writeInt16BE(b.attributes, b.position + ATTRIBUTES_OFFSET);
    writeCrc(records, b);
  }
  return b.lastOffset + 1;
}

function writeCrc(records: Buffer, b: BatchInfo): void {
  const crc = crc32c(records.subarray(b.position + ATTRIBUTES_OFFSET, b.position + b.sizeBytes));
  records.writeUInt32BE(crc, b.position + CRC_OFFSET);
}
