/**
 * lz4 (codec 3): the standard LZ4 frame format (magic 0x184D2204), which Kafka's
 * KafkaLZ4BlockOutputStream, librdkafka (liblz4's LZ4F) and kafkajs-lz4 all write for magic-2
 * batches. (Old Kafka's wrong header checksum only ever applied to magic 0/1 messages.)
 *
 * The frame is parsed here and each block decoded by lz4-napi's native block decoder, so every
 * frame variant is read: independent or linked blocks (linked blocks get the previous 64 KiB of
 * output as dictionary), with or without block checksums, content size and content checksum, any
 * block maximum size (64 KiB to 4 MiB). Each block is bounded by the frame's block maximum size
 * and the running total by the caller's limit, so a bomb is stopped one block past the limit at
 * worst. The chunk entry points hand the content over block by block (at most one block of the
 * frame's maximum size, 4 MiB, plus the 64 KiB window of linked blocks, held at a time). Writing uses lz4-napi's frame encoder: independent blocks, no checksums, like Java.
 */
import { createRequire } from "node:module";
import { isKrillError } from "../../errors.js";
import { checkOutputBytesMax, compressionError, type DecompressOptions, outputTooLarge } from "./limits.js";
import { Xxhash32, xxhash32 } from "./xxhash32.js";

type Lz4Module = typeof import("lz4-napi");
let lz4Module: Lz4Module | undefined;
/** The native lz4-napi binding, loaded on first use: most brokers never see this codec, and
 * loading it at start-up costs resident memory and start-up time (docs/startup.md). */
function lz4(): Lz4Module {
  lz4Module ??= createRequire(import.meta.url)("lz4-napi") as Lz4Module;
  return lz4Module;
}

const LZ4_FRAME_MAGIC = 0x184d2204;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
const BD_RESERVED = 0x8f;
const BLOCK_UNCOMPRESSED_FLAG = 0x80000000;
/** LZ4's match window: how much earlier output a linked block may reference. */
const LINKED_WINDOW_BYTES = 64 * 1024;

export function lz4CompressSync(input: Buffer): Buffer {
  return lz4().compressFrameSync(input);
}

export function lz4Compress(input: Buffer): Promise<Buffer> {
  return lz4().compressFrame(input);
}

interface FrameHeader {
  headerBytes: number;
  linked: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  blockBytesMax: number;
  contentBytes?: number;
}

function readFrameHeader(input: Buffer, outputBytesMax: number): FrameHeader {
  if (input.length < 7) throw compressionError("lz4", "truncated frame header");
  const magic = input.readUInt32LE(0);
  if (magic !== LZ4_FRAME_MAGIC)
    throw compressionError("lz4", `not an LZ4 frame (magic 0x${magic.toString(16)})`);
  const flg = input[4]!;
  const bd = input[5]!;
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) throw compressionError("lz4", "unsupported frame version");
  if ((flg & FLG_RESERVED) !== 0 || (bd & BD_RESERVED) !== 0)
    throw compressionError("lz4", "reserved bits set");
  if ((flg & FLG_DICT_ID) !== 0)
    throw compressionError("lz4", "frames with a dictionary id are not supported");
  const sizeCode = (bd >> 4) & 0x07;
  if (sizeCode < 4) throw compressionError("lz4", `invalid block maximum size code ${sizeCode}`);
  const blockBytesMax = 1 << (8 + 2 * sizeCode);
  let at = 6;
  let contentBytes: number | undefined;
  if ((flg & FLG_CONTENT_SIZE) !== 0) {
    if (input.length < at + 9) throw compressionError("lz4", "truncated frame header");
    const size = input.readBigUInt64LE(at);
    if (size > BigInt(outputBytesMax)) throw outputTooLarge("lz4", outputBytesMax);
    contentBytes = Number(size);
    at += 8;
  }
  const expectedHc = (xxhash32(input.subarray(4, at)) >>> 8) & 0xff;
  if (input[at] !== expectedHc) throw compressionError("lz4", "frame header checksum mismatch");
  at += 1;
  const header: FrameHeader = {
    headerBytes: at,
    linked: (flg & FLG_BLOCK_INDEPENDENCE) === 0,
    blockChecksum: (flg & FLG_BLOCK_CHECKSUM) !== 0,
    contentChecksum: (flg & FLG_CONTENT_CHECKSUM) !== 0,
    blockBytesMax,
  };
  if (contentBytes !== undefined) header.contentBytes = contentBytes;
  return header;
}

/** A compressed block for the native decoder: size-prefixed (the room it may fill) plus dictionary. */
interface DecodeRequest {
  prefixed: Buffer;
  dict: Buffer | undefined;
}

/** What a walk of a frame asks of its driver: decode a block (and send back its output), or take output. */
type FrameStep = { kind: "decode"; request: DecodeRequest } | { kind: "output"; block: Buffer };

/**
 * Walks the blocks of a frame. For each compressed block it yields a decode step and receives
 * the block's output (or the decoder's error, thrown in); each block's output is then yielded as
 * an output step, in order, and is not kept (only the 64 KiB window linked blocks reference). The
 * content checksum is computed as the blocks go, so memory stays one block whatever the frame
 * holds. A generator, so the same walk serves the sync, async and streaming entry points.
 */
function* walkFrame(input: Buffer, outputBytesMax: number): Generator<FrameStep, void, Buffer | undefined> {
  const header = readFrameHeader(input, outputBytesMax);
  const hash = header.contentChecksum ? new Xxhash32() : undefined;
  let totalBytes = 0;
  let window: Buffer | undefined;
  let at = header.headerBytes;
  for (;;) {
    if (input.length - at < 4) throw compressionError("lz4", `truncated block size at byte ${at}`);
    const word = input.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const uncompressed = (word & BLOCK_UNCOMPRESSED_FLAG) !== 0;
    const size = word & ~BLOCK_UNCOMPRESSED_FLAG;
    if (size > header.blockBytesMax) {
      throw compressionError(
        "lz4",
        `block of ${size} bytes exceeds the frame's ${header.blockBytesMax}-byte maximum`,
      );
    }
    const checksumBytes = header.blockChecksum ? 4 : 0;
    if (input.length - at < size + checksumBytes)
      throw compressionError("lz4", `truncated block at byte ${at}`);
    const data = input.subarray(at, at + size);
    at += size;
    if (header.blockChecksum) {
      if (xxhash32(data) !== input.readUInt32LE(at)) throw compressionError("lz4", "block checksum mismatch");
      at += 4;
    }
    let block: Buffer;
    if (uncompressed) {
      block = data;
    } else {
      const room = Math.min(header.blockBytesMax, outputBytesMax - totalBytes + 1);
      const prefixed = Buffer.allocUnsafe(4 + size);
      prefixed.writeUInt32LE(room, 0);
      data.copy(prefixed, 4);
      try {
        block = (yield { kind: "decode", request: { prefixed, dict: header.linked ? window : undefined } })!;
      } catch (err) {
        if (isKrillError(err)) throw err;
        if (room < header.blockBytesMax && /too small/i.test((err as Error).message)) {
          throw outputTooLarge("lz4", outputBytesMax, err);
        }
        throw compressionError("lz4", `invalid block: ${(err as Error).message}`, err);
      }
    }
    totalBytes += block.length;
    if (totalBytes > outputBytesMax) throw outputTooLarge("lz4", outputBytesMax);
    hash?.update(block);
    if (header.linked) window = tail(window, block);
    yield { kind: "output", block };
  }
  if (hash !== undefined) {
    if (input.length - at < 4) throw compressionError("lz4", "truncated content checksum");
    if (hash.digest() !== input.readUInt32LE(at)) throw compressionError("lz4", "content checksum mismatch");
    at += 4;
  }
  if (header.contentBytes !== undefined && header.contentBytes !== totalBytes) {
    throw compressionError(
      "lz4",
      `frame declares ${header.contentBytes} bytes of content but holds ${totalBytes}`,
    );
  }
  if (at !== input.length)
    throw compressionError("lz4", `${input.length - at} trailing bytes after the frame`);
}

/** The last LINKED_WINDOW_BYTES of previous output followed by `block`. */
function tail(window: Buffer | undefined, block: Buffer): Buffer {
  if (block.length >= LINKED_WINDOW_BYTES) return block.subarray(block.length - LINKED_WINDOW_BYTES);
  const joined = window === undefined ? block : Buffer.concat([window, block]);
  return joined.length > LINKED_WINDOW_BYTES ? joined.subarray(joined.length - LINKED_WINDOW_BYTES) : joined;
}

/** The frame's content block by block, decoded on the calling thread. */
export function* lz4DecompressChunksSync(
  input: Buffer,
  options: DecompressOptions,
): Generator<Buffer, void, void> {
  checkOutputBytesMax(options.outputBytesMax);
  const walk = walkFrame(input, options.outputBytesMax);
  let step = walk.next();
  while (!step.done) {
    if (step.value.kind === "output") {
      yield step.value.block;
      step = walk.next();
      continue;
    }
    let decoded: Buffer;
    try {
      decoded = lz4().uncompressSync(step.value.request.prefixed, step.value.request.dict);
    } catch (err) {
      step = walk.throw(err);
      continue;
    }
    step = walk.next(decoded);
  }
}

/** The frame's content block by block, each block decoded on the thread pool. */
export async function* lz4DecompressChunks(
  input: Buffer,
  options: DecompressOptions,
): AsyncGenerator<Buffer, void, void> {
  checkOutputBytesMax(options.outputBytesMax);
  const walk = walkFrame(input, options.outputBytesMax);
  let step = walk.next();
  while (!step.done) {
    if (step.value.kind === "output") {
      yield step.value.block;
      step = walk.next();
      continue;
    }
    let decoded: Buffer;
    try {
      decoded = await lz4().uncompress(step.value.request.prefixed, step.value.request.dict);
    } catch (err) {
      step = walk.throw(err);
      continue;
    }
    step = walk.next(decoded);
  }
}

export function lz4DecompressSync(input: Buffer, options: DecompressOptions): Buffer {
  return Buffer.concat([...lz4DecompressChunksSync(input, options)]);
}

export async function lz4Decompress(input: Buffer, options: DecompressOptions): Promise<Buffer> {
  const blocks: Buffer[] = [];
  for await (const block of lz4DecompressChunks(input, options)) blocks.push(block);
  return Buffer.concat(blocks);
}
