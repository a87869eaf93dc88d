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

/** The output passed the caller's bound (a KrillError "COMPRESSION" that says so). */
export class OutputTooLargeError extends KrillError {}

export function outputTooLarge(codec: string, outputBytesMax: number, cause?: unknown): KrillError {
  return new OutputTooLargeError(
    "COMPRESSION",
    `${codec}: decompressed size exceeds the limit of ${outputBytesMax} bytes (possible decompression bomb)`,
    cause === undefined ? undefined : { cause },
  );
}

export function isOutputTooLarge(err: unknown): err is OutputTooLargeError {
  return err instanceof OutputTooLargeError;
}

export function checkOutputBytesMax(outputBytesMax: number): void {
  if (!Number.isSafeInteger(outputBytesMax) || outputBytesMax < 0) {
    throw new KrillError(
      "COMPRESSION",
      `outputBytesMax must be a non-negative integer, got ${outputBytesMax}`,
    );
  }
}
