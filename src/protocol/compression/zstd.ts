/**
 * zstd (codec 4, Produce v7+): Node's built-in zstd (node:zlib, Node >= 22.15), so no dependency.
 * Frames from zstd-jni (Java), librdkafka and kafkajs codecs are standard zstd frames, with or
 * without the content size; node:zlib enforces the output bound (maxOutputLength).
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import { isKrillError } from "../../errors.js";
import { checkOutputBytesMax, compressionError, type DecompressOptions, outputTooLarge } from "./limits.js";

/** Output piece size of the streaming decompressor (node:zlib's default is 16 KiB). */
const ZSTD_CHUNK_BYTES = 64 * 1024;

const zstdCompressAsync = promisify(zlib.zstdCompress);
const zstdDecompressAsync = promisify(zlib.zstdDecompress);

/** Level 3 is zstd's (and Kafka's compression.zstd.level) default. */
const ZSTD_LEVEL_DEFAULT = 3;

function compressOptions(level: number): zlib.ZstdOptions {
  return { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } };
}

export function zstdCompressSync(input: Buffer, level = ZSTD_LEVEL_DEFAULT): Buffer {
  return zlib.zstdCompressSync(input, compressOptions(level));
}

export function zstdCompress(input: Buffer, level = ZSTD_LEVEL_DEFAULT): Promise<Buffer> {
  return zstdCompressAsync(input, compressOptions(level));
}

// node:zlib needs a maxOutputLength of at least 1, so a limit of 0 is enforced here.
function within(output: Buffer, options: DecompressOptions): Buffer {
  if (output.length > options.outputBytesMax) throw outputTooLarge("zstd", options.outputBytesMax);
  return output;
}

function translate(err: unknown, outputBytesMax: number): Error {
  if (isKrillError(err)) return err;
  if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
    return outputTooLarge("zstd", outputBytesMax, err);
  return compressionError("zstd", `invalid data: ${(err as Error).message}`, err);
}

export function zstdDecompressSync(input: Buffer, options: DecompressOptions): Buffer {
  checkOutputBytesMax(options.outputBytesMax);
  try {
    return within(
      zlib.zstdDecompressSync(input, { maxOutputLength: Math.max(1, options.outputBytesMax) }),
      options,
    );
  } catch (err) {
    throw translate(err, options.outputBytesMax);
  }
}

export async function zstdDecompress(input: Buffer, options: DecompressOptions): Promise<Buffer> {
  checkOutputBytesMax(options.outputBytesMax);
  try {
    return within(
      await zstdDecompressAsync(input, { maxOutputLength: Math.max(1, options.outputBytesMax) }),
      options,
    );
  } catch (err) {
    throw translate(err, options.outputBytesMax);
  }
}

/**
 * The output piece by piece (at most ZSTD_CHUNK_BYTES each) from a node:zlib stream, which
 * inflates on the thread pool only as far as the consumer has read: memory stays a few pieces
 * whatever the compression ratio, and a consumer that stops early stops the work.
 */
export async function* zstdDecompressChunks(
  input: Buffer,
  options: DecompressOptions,
): AsyncGenerator<Buffer, void, void> {
  checkOutputBytesMax(options.outputBytesMax);
  const stream = zlib.createZstdDecompress({ chunkSize: ZSTD_CHUNK_BYTES });
  stream.end(input);
  let totalBytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      totalBytes += chunk.length;
      if (totalBytes > options.outputBytesMax) throw outputTooLarge("zstd", options.outputBytesMax);
      yield chunk;
    }
  } catch (err) {
    throw translate(err, options.outputBytesMax);
  } finally {
    stream.destroy();
  }
}

/** The whole output as one piece, decoded on the calling thread (for small inputs). */
export function* zstdDecompressChunksSync(
  input: Buffer,
  options: DecompressOptions,
): Generator<Buffer, void, void> {
  yield zstdDecompressSync(input, options);
}
