/**
 * gzip (codec 1): the records section is one gzip stream (possibly several members), as written by
 * java.util.zip.GZIPOutputStream, librdkafka and kafkajs (node:zlib). node:zlib enforces the output
 * bound itself (maxOutputLength), so a bomb stops at the limit instead of inflating fully.
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import { isKrillError } from "../../errors.js";
import { checkOutputBytesMax, compressionError, type DecompressOptions, outputTooLarge } from "./limits.js";

/** Output piece size of the streaming decompressor (node:zlib's default is 16 KiB). */
const GZIP_CHUNK_BYTES = 64 * 1024;

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

export function gzipCompressSync(input: Buffer): Buffer {
  return zlib.gzipSync(input);
}

export function gzipCompress(input: Buffer): Promise<Buffer> {
  return gzipAsync(input);
}

// node:zlib needs a maxOutputLength of at least 1, so a limit of 0 is enforced here.
function within(output: Buffer, options: DecompressOptions): Buffer {
  if (output.length > options.outputBytesMax) throw outputTooLarge("gzip", options.outputBytesMax);
  return output;
}

function translate(err: unknown, outputBytesMax: number): Error {
  if (isKrillError(err)) return err;
  if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
    return outputTooLarge("gzip", outputBytesMax, err);
  return compressionError("gzip", `invalid data: ${(err as Error).message}`, err);
}

export function gzipDecompressSync(input: Buffer, options: DecompressOptions): Buffer {
  checkOutputBytesMax(options.outputBytesMax);
  try {
    return within(zlib.gunzipSync(input, { maxOutputLength: Math.max(1, options.outputBytesMax) }), options);
  } catch (err) {
    throw translate(err, options.outputBytesMax);
  }
}

export async function gzipDecompress(input: Buffer, options: DecompressOptions): Promise<Buffer> {
  checkOutputBytesMax(options.outputBytesMax);
  try {
    return within(
      await gunzipAsync(input, { maxOutputLength: Math.max(1, options.outputBytesMax) }),
      options,
    );
  } catch (err) {
    throw translate(err, options.outputBytesMax);
  }
}

/**
 * The output piece by piece (at most GZIP_CHUNK_BYTES each) from a node:zlib stream, which
 * inflates on the thread pool only as far as the consumer has read: memory stays a few pieces
 * whatever the compression ratio, and a consumer that stops early stops the work.
 */
export async function* gzipDecompressChunks(
  input: Buffer,
  options: DecompressOptions,
): AsyncGenerator<Buffer, void, void> {
  checkOutputBytesMax(options.outputBytesMax);
  const stream = zlib.createGunzip({ chunkSize: GZIP_CHUNK_BYTES });
  stream.end(input);
  let totalBytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      totalBytes += chunk.length;
      if (totalBytes > options.outputBytesMax) throw outputTooLarge("gzip", options.outputBytesMax);
      yield chunk;
    }
  } catch (err) {
    throw translate(err, options.outputBytesMax);
  } finally {
    stream.destroy();
  }
}

/** The whole output as one piece, decoded on the calling thread (for small inputs). */
export function* gzipDecompressChunksSync(
  input: Buffer,
  options: DecompressOptions,
): Generator<Buffer, void, void> {
  yield gzipDecompressSync(input, options);
}
