/**
 * Shared pieces of the codecs: the output bound every decompression enforces, and the error all
 * codec failures become.
 */
import { KrillError } from "../../errors.js";

/** Options every decompression takes. */
export interface DecompressOptions {
  /**
   * Largest output accepted, in bytes. Decompression stops with KrillError("COMPRESSION") as soon
   * as the output would exceed it, so a decompression bomb costs at most this much memory.
   */
  outputBytesMax: number;
}

export function compressionError(codec: string, message: string, cause?: unknown): KrillError {
  return new KrillError("COMPRESSION", `${codec}: ${message}`, cause === undefined ? undefined : { cause });
}

export function outputTooLarge(codec: string, outputBytesMax: number, cause?: unknown): KrillError {
  return compressionError(
    codec,
    `decompressed size exceeds the limit of ${outputBytesMax} bytes (possible decompression bomb)`,
    cause,
  );
}

export function checkOutputBytesMax(outputBytesMax: number): void {
  if (!Number.isSafeInteger(outputBytesMax) || outputBytesMax < 0) {
    throw new KrillError(
      "COMPRESSION",
      `outputBytesMax must be a non-negative integer, got ${outputBytesMax}`,
    );
  }
}
