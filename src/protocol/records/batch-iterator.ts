/**
 * Walking an in-memory buffer of magic-2 record batches by their headers alone: produce
 * validation, offset assignment, transcoding and the coordinators' reads of their own batches find
 * batch boundaries and check CRCs here without decoding a single record.
 *
 * Stored batches (recovery, offset lookup, fetch reads) are walked by src/log/batch-scan.ts
 * instead, which reads files through a bounded window; this module needs the whole buffer.
 *
 * Every size read from the buffer is checked against the bytes that remain before it is used, so
 * a hostile or torn buffer can only produce a clear error, never an out-of-range read or a huge
 * allocation.
 */
import { KrillError } from "../../errors.js";
import { crc32c } from "../crc32c.js";
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
} from "./batch-header.js";

/** Smallest size field of any message format (Kafka's LegacyRecord.RECORD_OVERHEAD_V0). */
const LEGACY_RECORD_OVERHEAD_V0 = 14;

/** Largest batch size accepted when the caller gives no limit: batchLength is an int32. */
export const BATCH_SIZE_MAX_DEFAULT = 0x7fffffff;

/** Where one batch sits inside a buffer. */
export interface BatchSlice {
  /** Byte position of the batch's baseOffset field. */
  position: number;
  /** Whole batch size, LOG_OVERHEAD included. */
  sizeBytes: number;
}

/** What lies at a position in a buffer of batches. */
export type BatchProbe =
  | { kind: "batch"; sizeBytes: number; magic: number }
  /** Fewer bytes remain than the header or the size the header declares: a torn tail. */
  | { kind: "incomplete"; bytesRemaining: number; sizeBytes?: number }
  | { kind: "corrupt"; reason: string };

/**
 * Looks at the batch starting at `position` (bytes up to `end` are available) without reading
 * its records. A batch whose magic is not 2 is reported as a batch with that magic (legacy
 * message sets put magic at the same offset) so produce validation can answer with Kafka's code;
 * iterateBatches below treats it as corruption.
 */
export function probeBatch(
  buf: Buffer,
  position: number,
  end: number = buf.length,
  batchSizeMax: number = BATCH_SIZE_MAX_DEFAULT,
): BatchProbe {
  const bytesRemaining = end - position;
  if (bytesRemaining < LOG_OVERHEAD) return { kind: "incomplete", bytesRemaining };
  const batchLength = buf.readInt32BE(position + BATCH_LENGTH_OFFSET);
  // Kafka's ByteBufferLogInputStream refuses any size below the smallest legacy (magic 0)
  // message before it looks at the magic byte; magic 2 has its own, larger minimum below.
  if (batchLength < LEGACY_RECORD_OVERHEAD_V0) {
    return { kind: "corrupt", reason: `batch length ${batchLength} is smaller than any record batch` };
  }
  const sizeBytes = LOG_OVERHEAD + batchLength;
  if (sizeBytes > batchSizeMax) {
    return {
      kind: "corrupt",
      reason: `batch size ${sizeBytes} bytes exceeds the largest allowed ${batchSizeMax} bytes`,
    };
  }
  if (bytesRemaining <= MAGIC_OFFSET) return { kind: "incomplete", bytesRemaining, sizeBytes };
  const magic = buf.readInt8(position + MAGIC_OFFSET);
  if (magic < 0 || magic > CURRENT_MAGIC) {
    return { kind: "corrupt", reason: `invalid magic ${magic}` };
  }
  if (magic === CURRENT_MAGIC && batchLength < BATCH_LENGTH_MIN) {
    return {
      kind: "corrupt",
      reason: `batch length ${batchLength} is smaller than the ${BATCH_LENGTH_MIN}-byte magic-2 minimum`,
    };
  }
  if (bytesRemaining < sizeBytes) return { kind: "incomplete", bytesRemaining, sizeBytes };
  return { kind: "batch", sizeBytes, magic };
}

/** CRC-32C of a batch as Kafka computes it: over attributes..end of batch. */
export function computeBatchCrc(buf: Buffer, position: number, sizeBytes: number): number {
  return crc32c(buf.subarray(position + ATTRIBUTES_OFFSET, position + sizeBytes));
}

export function isBatchCrcValid(buf: Buffer, position: number, sizeBytes: number): boolean {
  return computeBatchCrc(buf, position, sizeBytes) === buf.readUInt32BE(position + CRC_OFFSET);
}

/** Recomputes and stores the CRC of a batch after a CRC-covered field changed. */
export function writeBatchCrc(buf: Buffer, position: number, sizeBytes: number): void {
  buf.writeUInt32BE(computeBatchCrc(buf, position, sizeBytes), position + CRC_OFFSET);
}

export interface IterateBatchesOptions {
  /** Check each batch's CRC-32C (costs a pass over the bytes). Default false. */
  verifyCrc?: boolean;
  /** Reject any batch larger than this. Default: the int32 limit. */
  batchSizeMax?: number;
  /** First byte to look at. Default 0. */
  start?: number;
  /** One past the last byte to look at. Default buf.length. */
  end?: number;
}

/**
 * Yields the boundaries of every magic-2 batch in `buf[start, end)`. The range must hold whole
 * batches only: a torn tail, a non-2 magic, an impossible length or (with verifyCrc) a CRC
 * mismatch throws KrillError("CORRUPT_RECORD") naming the byte position.
 */
export function* iterateBatches(buf: Buffer, options: IterateBatchesOptions = {}): Generator<BatchSlice> {
  const end = options.end ?? buf.length;
  const batchSizeMax = options.batchSizeMax ?? BATCH_SIZE_MAX_DEFAULT;
  let position = options.start ?? 0;
  while (position < end) {
    const probe = probeBatch(buf, position, end, batchSizeMax);
    if (probe.kind === "incomplete") {
      throw new KrillError(
        "CORRUPT_RECORD",
        `partial record batch at byte ${position}: ${probe.bytesRemaining} bytes remain` +
          (probe.sizeBytes === undefined ? "" : ` of a ${probe.sizeBytes}-byte batch`),
      );
    }
    if (probe.kind === "corrupt") {
      throw new KrillError("CORRUPT_RECORD", `corrupt record batch at byte ${position}: ${probe.reason}`);
    }
    if (probe.magic !== CURRENT_MAGIC) {
      throw new KrillError(
        "CORRUPT_RECORD",
        `record batch at byte ${position} has magic ${probe.magic}; only magic ${CURRENT_MAGIC} is supported`,
      );
    }
    if (options.verifyCrc && !isBatchCrcValid(buf, position, probe.sizeBytes)) {
      throw new KrillError("CORRUPT_RECORD", `record batch at byte ${position} fails its CRC-32C check`);
    }
    yield { position, sizeBytes: probe.sizeBytes };
    position += probe.sizeBytes;
  }
}
