/**
 * The record-batch codecs by Kafka codec id (attributes bits 0-2): one entry point for the batch
 * builder and decoder. Every decompression takes the largest output the caller accepts.
 * `decompressChunks` hands the output over piece by piece as it is produced (a zlib chunk, a snappy
 * or lz4 block), so a reader that walks records as they come holds one piece at a time whatever
 * the compression ratio, and stopping early (breaking out of the loop) stops the work.
 */
import { KrillError } from "../../errors.js";
import {
  gzipCompress,
  gzipCompressSync,
  gzipDecompress,
  gzipDecompressChunks,
  gzipDecompressChunksSync,
  gzipDecompressSync,
} from "./gzip.js";
import type { DecompressOptions } from "./limits.js";
import {
  lz4Compress,
  lz4CompressSync,
  lz4Decompress,
  lz4DecompressChunks,
  lz4DecompressChunksSync,
  lz4DecompressSync,
} from "./lz4.js";
import {
  snappyCompress,
  snappyCompressSync,
  snappyDecompress,
  snappyDecompressChunks,
  snappyDecompressChunksSync,
  snappyDecompressSync,
} from "./snappy.js";
import {
  zstdCompress,
  zstdCompressSync,
  zstdDecompress,
  zstdDecompressChunks,
  zstdDecompressChunksSync,
  zstdDecompressSync,
} from "./zstd.js";

export type { DecompressOptions } from "./limits.js";
export { isOutputTooLarge } from "./limits.js";

/** Kafka's compression codec ids (record batch attributes bits 0-2). */
export const CompressionCodec = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionCodec = (typeof CompressionCodec)[keyof typeof CompressionCodec];

/** Kafka's compression.type names, indexed by codec id. */
export const COMPRESSION_NAMES = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
export type CompressionName = (typeof COMPRESSION_NAMES)[number];

interface Codec {
  compressSync(input: Buffer): Buffer;
  compress(input: Buffer): Promise<Buffer>;
  decompressSync(input: Buffer, options: DecompressOptions): Buffer;
  decompress(input: Buffer, options: DecompressOptions): Promise<Buffer>;
  decompressChunksSync(input: Buffer, options: DecompressOptions): Generator<Buffer, void, void>;
  decompressChunks(input: Buffer, options: DecompressOptions): AsyncGenerator<Buffer, void, void>;
}

const CODECS: readonly (Codec | undefined)[] = [
  undefined,
  {
    compressSync: gzipCompressSync,
    compress: gzipCompress,
    decompressSync: gzipDecompressSync,
    decompress: gzipDecompress,
    decompressChunksSync: gzipDecompressChunksSync,
    decompressChunks: gzipDecompressChunks,
  },
  {
    compressSync: snappyCompressSync,
    compress: snappyCompress,
    decompressSync: snappyDecompressSync,
    decompress: snappyDecompress,
    decompressChunksSync: snappyDecompressChunksSync,
    decompressChunks: snappyDecompressChunks,
  },
  {
    compressSync: lz4CompressSync,
    compress: lz4Compress,
    decompressSync: lz4DecompressSync,
    decompress: lz4Decompress,
    decompressChunksSync: lz4DecompressChunksSync,
    decompressChunks: lz4DecompressChunks,
  },
  {
    compressSync: (input) => zstdCompressSync(input),
    compress: (input) => zstdCompress(input),
    decompressSync: zstdDecompressSync,
    decompress: zstdDecompress,
    decompressChunksSync: zstdDecompressChunksSync,
    decompressChunks: zstdDecompressChunks,
  },
];

function codecFor(codecId: number): Codec {
  const codec = CODECS[codecId];
  if (codec === undefined) {
    throw new KrillError(
      "COMPRESSION",
      codecId === 0 ? "codec 0 (none) has nothing to compress" : `unknown compression codec ${codecId}`,
    );
  }
  return codec;
}

export function compressSync(codecId: number, input: Buffer): Buffer {
  return codecFor(codecId).compressSync(input);
}

export function compress(codecId: number, input: Buffer): Promise<Buffer> {
  return codecFor(codecId).compress(input);
}

export function decompressSync(codecId: number, input: Buffer, options: DecompressOptions): Buffer {
  return codecFor(codecId).decompressSync(input, options);
}

export function decompress(codecId: number, input: Buffer, options: DecompressOptions): Promise<Buffer> {
  return codecFor(codecId).decompress(input, options);
}

/**
 * The output piece by piece, decoded on the thread pool (zlib) or block by block (snappy, lz4):
 * for inputs whose output may be large.
 */
export function decompressChunks(
  codecId: number,
  input: Buffer,
  options: DecompressOptions,
): AsyncGenerator<Buffer, void, void> {
  return codecFor(codecId).decompressChunks(input, options);
}

/**
 * The output piece by piece, decoded on the calling thread: for small inputs with a small
 * `outputBytesMax` (gzip and zstd give their whole output as one piece).
 */
export function decompressChunksSync(
  codecId: number,
  input: Buffer,
  options: DecompressOptions,
): Generator<Buffer, void, void> {
  return codecFor(codecId).decompressChunksSync(input, options);
}
