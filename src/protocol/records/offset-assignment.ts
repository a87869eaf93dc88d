/**
 * Leader-side rewrite of validated batches before they are appended: offsets, leader epoch and,
 * for LogAppendTime topics, the timestamp. Works in place on the request's bytes.
 *
 * baseOffset and partitionLeaderEpoch sit before the CRC-covered range (attributes..end), so
 * rewriting them leaves the CRC valid; LogAppendTime changes attributes and maxTimestamp, so that
 * batch's CRC is recomputed (one pass over the batch, no record decoding), as Kafka's
 * DefaultRecordBatch.setMaxTimestamp does.
 */
import { KrillError } from "../../errors.js";
import {
  ATTR_TIMESTAMP_TYPE_MASK,
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
} from "./batch-header.js";
import { type BatchSlice, iterateBatches, writeBatchCrc } from "./batch-iterator.js";

export interface AssignedOffsets {
  /** Offset given to the first record of the first batch. */
  baseOffset: bigint;
  /** Offset of the last record of the last batch. */
  lastOffset: bigint;
  /** The next offset to assign after these batches (the new log end offset). */
  nextOffset: bigint;
  batchCount: number;
}

/**
 * Gives the batches in `buf` consecutive offsets starting at `baseOffset` (each batch keeps its
 * lastOffsetDelta, so the next one starts after it), stamps `partitionLeaderEpoch`, and when
 * `logAppendTimeMs` is given marks each batch LogAppendTime with that maxTimestamp and a fresh
 * CRC (without it, a LogAppendTime bit a client set is cleared, as Kafka does for CreateTime
 * topics). The framing is checked for every batch before any byte is written, so a malformed buffer
 * (KrillError "CORRUPT_RECORD") is left untouched.
 */
export function assignOffsetsInPlace(
  buf: Buffer,
  baseOffset: bigint,
  partitionLeaderEpoch: number,
  logAppendTimeMs?: bigint | number,
): AssignedOffsets {
  const slices: BatchSlice[] = [...iterateBatches(buf)];
  if (slices.length === 0) {
    throw new KrillError("CORRUPT_RECORD", "cannot assign offsets: the buffer holds no record batch");
  }
  for (const slice of slices) {
    if (buf.readInt32BE(slice.position + LAST_OFFSET_DELTA_OFFSET) < 0) {
      throw new KrillError(
        "CORRUPT_RECORD",
        `record batch at byte ${slice.position} has a negative lastOffsetDelta`,
      );
    }
  }
  const appendTime = logAppendTimeMs === undefined ? undefined : BigInt(logAppendTimeMs);
  let nextOffset = baseOffset;
  for (const { position, sizeBytes } of slices) {
    buf.writeBigInt64BE(nextOffset, position + BASE_OFFSET_OFFSET);
    buf.writeInt32BE(partitionLeaderEpoch, position + PARTITION_LEADER_EPOCH_OFFSET);
    nextOffset += BigInt(buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET)) + 1n;
    const attributes = buf.readInt16BE(position + ATTRIBUTES_OFFSET);
    if (appendTime !== undefined) {
      buf.writeInt16BE(attributes | ATTR_TIMESTAMP_TYPE_MASK, position + ATTRIBUTES_OFFSET);
      buf.writeBigInt64BE(appendTime, position + MAX_TIMESTAMP_OFFSET);
      writeBatchCrc(buf, position, sizeBytes);
    } else if ((attributes & ATTR_TIMESTAMP_TYPE_MASK) !== 0) {
      // A CreateTime topic stores CreateTime batches: Kafka's setMaxTimestamp(CREATE_TIME, ...)
      // clears a client-set LogAppendTime bit (keeping maxTimestamp), so records read back with
      // their own timestamps.
      buf.writeInt16BE(attributes & ~ATTR_TIMESTAMP_TYPE_MASK, position + ATTRIBUTES_OFFSET);
      writeBatchCrc(buf, position, sizeBytes);
    }
  }
  return { baseOffset, lastOffset: nextOffset - 1n, nextOffset, batchCount: slices.length };
}
