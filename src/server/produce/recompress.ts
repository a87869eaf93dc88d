/**
 * Topic-level `compression.type` other than `producer` (Kafka's LogValidator with a target
 * codec): a batch the client compressed differently is transcoded to the topic's codec. Only the
 * records section is decompressed and recompressed (its structure checked, no record objects
 * built), so the header fields and every record byte are kept exactly: in particular a batch
 * flagged LogAppendTime keeps its records' timestamp deltas instead of having them rewritten by a
 * decode/rebuild round trip. With the default (`producer`) the client's bytes are stored as sent.
 */

import { isKrillError } from "../../errors.js";
import { CompressionCodec } from "../../protocol/compression/index.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { ProducedBatchSummary } from "../../protocol/records/produce-validation.js";
import { transcodeRecordBatch } from "../../protocol/records/transcode.js";

/** Bound on the decompressed records section of one batch being recompressed. */
export const RECOMPRESS_DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

const TOPIC_CODECS: Readonly<Record<string, CompressionCodec>> = {
  uncompressed: CompressionCodec.NONE,
  gzip: CompressionCodec.GZIP,
  snappy: CompressionCodec.SNAPPY,
  lz4: CompressionCodec.LZ4,
  zstd: CompressionCodec.ZSTD,
};

/** The codec a topic's compression.type imposes, or undefined for `producer`. */
export function targetCodec(compressionType: string): CompressionCodec | undefined {
  return TOPIC_CODECS[compressionType];
}

export type RecompressResult =
  | { ok: true; records: Buffer; batches: ProducedBatchSummary[] }
  | { ok: false; errorCode: number; errorMessage: string };

/**
 * Rebuilds every batch of `records` whose codec differs from `target`. Returns the input
 * unchanged when none does.
 */
export function recompressIfNeeded(
  records: Buffer,
  batches: readonly ProducedBatchSummary[],
  target: CompressionCodec,
  maxMessageBytes: number,
): RecompressResult {
  if (batches.every((b) => b.compression === target)) return { ok: true, records, batches: [...batches] };
  const parts: Buffer[] = [];
  const summaries: ProducedBatchSummary[] = [];
  let position = 0;
  for (const b of batches) {
    if (b.compression === target) {
      parts.push(records.subarray(b.position, b.position + b.sizeBytes));
      summaries.push({ ...b, position });
      position += b.sizeBytes;
      continue;
    }
    let rebuilt: Buffer;
    try {
      // CRC and framing were checked by validateProducedBatches.
      rebuilt = transcodeRecordBatch(records, target, {
        position: b.position,
        decompressedBytesMax: RECOMPRESS_DECOMPRESSED_BYTES_MAX,
        verifyCrc: false,
      });
    } catch (err) {
      return {
        ok: false,
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        errorMessage: `Cannot recompress batch for compression.type: ${isKrillError(err) ? err.message : String(err)}`,
      };
    }
    if (rebuilt.length > maxMessageBytes) {
      return {
        ok: false,
        errorCode: ErrorCode.MESSAGE_TOO_LARGE,
        errorMessage: `The record batch size after recompression is ${rebuilt.length} bytes which exceeds the maximum configured value of ${maxMessageBytes}.`,
      };
    }
    parts.push(rebuilt);
    summaries.push({ ...b, position, sizeBytes: rebuilt.length, compression: target });
    position += rebuilt.length;
  }
  return { ok: true, records: Buffer.concat(parts), batches: summaries };
}
