/**
 * snappy (codec 2). Two layouts occur in the records section of a batch:
 * - xerial (snappy-java's SnappyOutputStream, which the Java client writes): the 8-byte magic
 *   0x82 "SNAPPY" 0x00, int32 version, int32 compatible version, then blocks of
 *   [int32 compressed length][raw snappy block];
 * - a single raw snappy block (kafkajs-snappy via snappyjs; librdkafka also reads it), which
 *   snappy-java falls back to when the magic is absent.
 * Both are read; writing uses xerial with 32 KiB blocks like the Java client, which every client
 * reads. A raw snappy block states its uncompressed length up front (a varint), so the output
 * bound is checked before anything is decompressed; and since no snappy element yields more than
 * 64 bytes from 3 (a copy with a 2-byte offset), a block declaring more than 64/3 times its own
 * size is refused as corrupt before anything is allocated. The chunk entry points hand the output
 * over block by block: a xerial stream holds at most one block at a time (32 KiB from Java), a raw
 * block (librdkafka, kafkajs) is one piece of at most 64/3 times its compressed size.
 */
import { createRequire } from "node:module";
import { checkOutputBytesMax, compressionError, type DecompressOptions, outputTooLarge } from "./limits.js";

type SnappyModule = typeof import("snappy");
let snappyModule: SnappyModule | undefined;
/** The native snappy binding, loaded on first use: most brokers never see this codec, and
 * loading it at start-up costs resident memory and start-up time (docs/startup.md). */
function snappy(): SnappyModule {
  snappyModule ??= createRequire(import.meta.url)("snappy") as SnappyModule;
  return snappyModule;
}

export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size, which Kafka's Java producer uses. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

export function isXerialFramed(input: Buffer): boolean {
  return input.length >= XERIAL_HEADER_SIZE && input.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

/** Writes the xerial framing around raw snappy blocks of XERIAL_BLOCK_SIZE input bytes. */
export function snappyCompressSync(input: Buffer): Buffer {
  const parts: Buffer[] = [xerialHeader()];
  for (let at = 0; at < input.length; at += XERIAL_BLOCK_SIZE) {
    const block = snappy().compressSync(input.subarray(at, at + XERIAL_BLOCK_SIZE));
    parts.push(blockLength(block.length), block);
  }
  return Buffer.concat(parts);
}

export async function snappyCompress(input: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [xerialHeader()];
  for (let at = 0; at < input.length; at += XERIAL_BLOCK_SIZE) {
    const block = await snappy().compress(input.subarray(at, at + XERIAL_BLOCK_SIZE));
    parts.push(blockLength(block.length), block);
  }
  return Buffer.concat(parts);
}

/** A single raw snappy block, the layout kafkajs-snappy writes. */
export function snappyCompressRawSync(input: Buffer): Buffer {
  return snappy().compressSync(input);
}

function xerialHeader(): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  return header;
}

function blockLength(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(length, 0);
  return b;
}

/** The uncompressed length a raw snappy block declares (its leading varint, at most 32 bits). */
export function rawSnappyLength(block: Buffer): number {
  let result = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) throw compressionError("snappy", "truncated block length");
    const byte = block[i]!;
    result += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (result > 0xffffffff) throw compressionError("snappy", "block length exceeds 32 bits");
      return result;
    }
  }
  throw compressionError("snappy", "block length varint longer than 5 bytes");
}

/**
 * The length a raw block declares, checked: at most what its bytes can expand to (3 bytes of a
 * copy element yield at most 64), else corrupt.
 */
function declaredLength(block: Buffer): number {
  const length = rawSnappyLength(block);
  const possible = Math.ceil((block.length * 64) / 3);
  if (length > possible) {
    throw compressionError(
      "snappy",
      `block of ${block.length} bytes declares ${length} bytes of output, more than snappy can encode in it (${possible})`,
    );
  }
  return length;
}

/** The raw blocks of the input (one for a raw stream), in order, with their declared lengths. */
function* blocksOf(input: Buffer): Generator<Buffer, void, void> {
  if (!isXerialFramed(input)) {
    yield input;
    return;
  }
  let at = XERIAL_HEADER_SIZE;
  while (at < input.length) {
    if (input.length - at < 4)
      throw compressionError("snappy", `truncated xerial block length at byte ${at}`);
    const length = input.readInt32BE(at);
    at += 4;
    if (length < 0 || length > input.length - at) {
      throw compressionError("snappy", `xerial block length ${length} at byte ${at - 4} exceeds the input`);
    }
    yield input.subarray(at, at + length);
    at += length;
  }
}

/** The raw blocks of the input, each checked against the remaining budget before any is decoded. */
function planBlocks(input: Buffer, outputBytesMax: number): { blocks: Buffer[]; totalBytes: number } {
  const blocks: Buffer[] = [];
  let totalBytes = 0;
  for (const block of blocksOf(input)) {
    totalBytes += declaredLength(block);
    if (totalBytes > outputBytesMax) throw outputTooLarge("snappy", outputBytesMax);
    blocks.push(block);
  }
  return { blocks, totalBytes };
}

/** The output block by block, each decoded on the calling thread when its turn comes. */
export function* snappyDecompressChunksSync(
  input: Buffer,
  options: DecompressOptions,
): Generator<Buffer, void, void> {
  checkOutputBytesMax(options.outputBytesMax);
  let totalBytes = 0;
  for (const block of blocksOf(input)) {
    const length = declaredLength(block);
    totalBytes += length;
    if (totalBytes > options.outputBytesMax) throw outputTooLarge("snappy", options.outputBytesMax);
    const output = Buffer.allocUnsafe(length);
    decodeBlock(block, output, 0);
    yield output;
  }
}

/** The output block by block, each decoded on the thread pool when its turn comes. */
export async function* snappyDecompressChunks(
  input: Buffer,
  options: DecompressOptions,
): AsyncGenerator<Buffer, void, void> {
  checkOutputBytesMax(options.outputBytesMax);
  let totalBytes = 0;
  for (const block of blocksOf(input)) {
    const length = declaredLength(block);
    totalBytes += length;
    if (totalBytes > options.outputBytesMax) throw outputTooLarge("snappy", options.outputBytesMax);
    yield await uncompressBlock(block, length);
  }
}

async function uncompressBlock(block: Buffer, length: number): Promise<Buffer> {
  let decoded: Buffer;
  try {
    decoded = (await snappy().uncompress(block, { asBuffer: true })) as Buffer;
  } catch (err) {
    throw compressionError("snappy", `invalid block: ${(err as Error).message}`, err);
  }
  if (decoded.length !== length)
    throw compressionError("snappy", "block decoded to a different length than declared");
  return decoded;
}

function decodeBlock(block: Buffer, output: Buffer, at: number): number {
  const expected = rawSnappyLength(block);
  let decoded: Buffer;
  try {
    decoded = snappy().uncompressSync(block, { asBuffer: true }) as Buffer;
  } catch (err) {
    throw compressionError("snappy", `invalid block: ${(err as Error).message}`, err);
  }
  if (decoded.length !== expected)
    throw compressionError("snappy", "block decoded to a different length than declared");
  decoded.copy(output, at);
  return decoded.length;
}

export function snappyDecompressSync(input: Buffer, options: DecompressOptions): Buffer {
  checkOutputBytesMax(options.outputBytesMax);
  const { blocks, totalBytes } = planBlocks(input, options.outputBytesMax);
  const output = Buffer.allocUnsafe(totalBytes);
  let at = 0;
  for (const block of blocks) at += decodeBlock(block, output, at);
  return output;
}

export async function snappyDecompress(input: Buffer, options: DecompressOptions): Promise<Buffer> {
  checkOutputBytesMax(options.outputBytesMax);
  const { blocks, totalBytes } = planBlocks(input, options.outputBytesMax);
  const output = Buffer.allocUnsafe(totalBytes);
  let at = 0;
  for (const block of blocks) {
    const decoded = await uncompressBlock(block, rawSnappyLength(block));
    decoded.copy(output, at);
    at += decoded.length;
  }
  return output;
}
