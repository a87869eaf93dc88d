/**
 * Changing a batch's codec (a topic whose compression.type is not `producer`, Kafka's
 * LogValidator with a target codec) without decoding its records. The uncompressed records
 * section is the same bytes whatever the codec, so the batch is transcoded by decompressing the
 * section, checking its record structure without building record objects, compressing it with the
 * target codec, and writing the same header with the new codec bits, length and CRC. Producer id,
 * epoch, sequence, timestamps, offsets deltas and every record byte are kept exactly.
 */
import { KrillError } from "../../errors.js";
import {
  CompressionCodec,
  compress,
  compressSync,
  decompress,
  decompressSync,
} from "../compression/index.js";
import {
  ATTR_COMPRESSION_MASK,
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  LOG_OVERHEAD,
  RECORDS_OFFSET,
} from "./batch-header.js";
import { writeBatchCrc } from "./batch-iterator.js";
import { type BatchSection, checkRecordsStructure, readBatchSection } from "./record-batch.js";

export interface TranscodeOptions {
  /** Largest decompressed records section accepted (KrillError "COMPRESSION" beyond it). */
  decompressedBytesMax: number;
  /** Position of the batch in `buf`. Default 0. */
  position?: number;
  /** Check the CRC before transcoding. Default true. */
  verifyCrc?: boolean;
}

const INT32_MAX = 0x7fffffff;

function assemble(
  buf: Buffer,
  batch: BatchSection,
  position: number,
  target: CompressionCodec,
  section: Buffer,
): Buffer {
  const sizeBytes = RECORDS_OFFSET + section.length;
  if (sizeBytes - LOG_OVERHEAD > INT32_MAX)
    throw new KrillError("ENCODE_ERROR", `batch of ${sizeBytes} bytes is too large`);
  const out = Buffer.allocUnsafe(sizeBytes);
  buf.copy(out, 0, position, position + RECORDS_OFFSET);
  section.copy(out, RECORDS_OFFSET);
  out.writeInt32BE(sizeBytes - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt16BE((batch.header.attributes & ~ATTR_COMPRESSION_MASK) | target, ATTRIBUTES_OFFSET);
  writeBatchCrc(out, 0, sizeBytes);
  return out;
}

/**
 * The batch at `options.position` re-encoded with codec `target` (a new buffer; the input is not
 * changed). A batch already in `target` is returned as a copy after the same checks. Throws
 * KrillError "CORRUPT_RECORD" (framing, CRC, record structure) or "COMPRESSION".
 */
export function transcodeRecordBatch(
  buf: Buffer,
  target: CompressionCodec,
  options: TranscodeOptions,
): Buffer {
  const position = options.position ?? 0;
  const batch = readBatchSection(buf, position, options);
  const plain =
    batch.codec === CompressionCodec.NONE
      ? batch.section
      : decompressSync(batch.codec, batch.section, { outputBytesMax: options.decompressedBytesMax });
  checkRecordsStructure(plain, batch.header.recordsCount);
  const section = target === CompressionCodec.NONE ? plain : compressSync(target, plain);
  return assemble(buf, batch, position, target, section);
}

/** transcodeRecordBatch with decompression and compression off the main thread. */
export async function transcodeRecordBatchAsync(
  buf: Buffer,
  target: CompressionCodec,
  options: TranscodeOptions,
): Promise<Buffer> {
  const position = options.position ?? 0;
  const batch = readBatchSection(buf, position, options);
  const plain =
    batch.codec === CompressionCodec.NONE
      ? batch.section
      : await decompress(batch.codec, batch.section, { outputBytesMax: options.decompressedBytesMax });
  checkRecordsStructure(plain, batch.header.recordsCount);
  const section = target === CompressionCodec.NONE ? plain : await compress(target, plain);
  return assemble(buf, batch, position, target, section);
}
