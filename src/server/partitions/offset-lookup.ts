/**
 * ListOffsets lookups that Kafka answers at record precision (UnifiedLog.fetchOffsetByTimestamp):
 *
 * - a timestamp >= 0: the first record whose timestamp is >= it, with that record's timestamp;
 * - MAX_TIMESTAMP (-3): the first record carrying the largest timestamp (KIP-734,
 *   RecordBatch.offsetOfMaxTimestamp).
 *
 * The log finds the batch from its time index and batch headers; this module then decodes that
 * one batch to pick the record. ListOffsets is not a hot path, decompression is bounded, and if
 * the batch cannot be decoded the batch-level answer stands.
 */
import type { PartitionLog, TimestampOffset } from "../../log/partition-log.js";
import { MAX_TIMESTAMP } from "../../log/partition-log.js";
import { decodeRecordBatch } from "../../protocol/records/record-batch.js";

/** Bound on the decompressed records of the one batch decoded per lookup. */
const LOOKUP_DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

/**
 * `timestamp` is >= 0 or MAX_TIMESTAMP. Returns the record-precise offset and timestamp, or
 * undefined when no record qualifies.
 */
export function lookupOffsetByTimestamp(log: PartitionLog, timestamp: number): TimestampOffset | undefined {
  const hit = log.offsetForTimestamp(timestamp);
  if (hit === undefined) return undefined;
  // The log answers with the batch: its base offset (by timestamp) or last offset (max timestamp).
  let read: ReturnType<PartitionLog["read"]>;
  try {
    read = log.read(hit.offset, 1, { minOneBatch: true });
  } catch {
    return hit;
  }
  if (read.records.length === 0) return hit;
  let batch: ReturnType<typeof decodeRecordBatch>;
  try {
    batch = decodeRecordBatch(read.records, { decompressedBytesMax: LOOKUP_DECOMPRESSED_BYTES_MAX });
  } catch {
    return hit;
  }
  const logStart = log.logStartOffset;
  const wanted = timestamp === MAX_TIMESTAMP ? BigInt(hit.timestamp) : BigInt(timestamp);
  for (const record of batch.records) {
    if (record.offset < BigInt(logStart)) continue;
    const matches = timestamp === MAX_TIMESTAMP ? record.timestamp === wanted : record.timestamp >= wanted;
    if (matches) {
      return {
        offset: Number(record.offset),
        timestamp: Number(record.timestamp),
        leaderEpoch: hit.leaderEpoch,
      };
    }
  }
  return hit;
}
