/**
 * Splits a TCP byte stream into Kafka request frames (int32 size, then that many bytes). The size
 * prefix is checked against the limit as soon as its four bytes arrive, so an oversized or negative
 * size is refused before any of its body is read or buffered.
 *
 * A frame that sits in one chunk is returned as a view of it; one that spans chunks is copied into
 * one buffer, taken from the frame pool (frame-pool.ts) when `pooled` says its API allows it: the
 * caller then owns that buffer and hands it back once the request is done with its bytes.
 *
 * Concurrency: owned by one connection; not shared.
 */
import { KrillError } from "../../errors.js";
import { takeFrameBuffer } from "./frame-pool.js";

export const FRAME_SIZE_PREFIX_BYTES = 4;

export class FrameDecoder {
  #frameBytesMax: number;
  /** The key the bound comes from, for the error. */
  #boundKey = "socket.request.max.bytes";
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  /** Whether a frame of this API key (its body's first int16) may be copied into a pooled buffer. */
  readonly #pooled: ((apiKey: number) => boolean) | undefined;

  constructor(frameBytesMax: number, pooled?: (apiKey: number) => boolean) {
    this.#frameBytesMax = frameBytesMax;
    this.#pooled = pooled;
  }

  /** Changes the bound (a SASL connection's is lower until it authenticates). */
  setFrameBytesMax(frameBytesMax: number, boundKey: string): void {
    this.#frameBytesMax = frameBytesMax;
    this.#boundKey = boundKey;
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#bufferedBytes += chunk.length;
  }

  /**
   * The next complete frame body (without its size prefix), or undefined when more bytes are
   * needed. Throws FRAME_TOO_LARGE for a size above the limit and DECODE_ERROR for a negative one.
   */
  next(): Buffer | undefined {
    if (this.#bufferedBytes < FRAME_SIZE_PREFIX_BYTES) return undefined;
    const size = this.#peekSize();
    if (size < 0) throw new KrillError("DECODE_ERROR", `negative frame size ${size}`);
    if (size > this.#frameBytesMax) {
      throw new KrillError(
        "FRAME_TOO_LARGE",
        `frame of ${size} bytes exceeds ${this.#boundKey} (${this.#frameBytesMax})`,
      );
    }
    if (this.#bufferedBytes < FRAME_SIZE_PREFIX_BYTES + size) return undefined;
    this.#consume(FRAME_SIZE_PREFIX_BYTES);
    return this.#consume(size, this.#pooled);
  }

  /** The first int16 buffered (a request frame's api key, once its size prefix is consumed). */
  #peekApiKey(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 2) return first.readInt16BE(0);
    return ((first[0]! << 24) >> 16) | this.#chunks[1]![0]!;
  }

  #peekSize(): number {
    const first = this.#chunks[0]!;
    if (first.length >= FRAME_SIZE_PREFIX_BYTES) return first.readInt32BE(0);
    const head = Buffer.alloc(FRAME_SIZE_PREFIX_BYTES);
    let copied = 0;
    for (const c of this.#chunks) {
      copied += c.copy(head, copied, 0, Math.min(c.length, FRAME_SIZE_PREFIX_BYTES - copied));
      if (copied === FRAME_SIZE_PREFIX_BYTES) break;
    }
    return head.readInt32BE(0);
  }

  /**
   * Removes `bytes` from the front; a view when they sit in one chunk, else one copy (into a
   * pooled buffer when `pooled` allows the frame's API key).
   */
  #consume(bytes: number, pooled?: (apiKey: number) => boolean): Buffer {
    this.#bufferedBytes -= bytes;
    const first = this.#chunks[0];
    if (bytes === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length >= bytes) {
      const out = first.subarray(0, bytes);
      if (first.length === bytes) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(bytes);
      return out;
    }
    const out =
      pooled !== undefined && bytes >= 2 && pooled(this.#peekApiKey())
        ? takeFrameBuffer(bytes)
        : Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const c = this.#chunks[0]!;
      const take = Math.min(c.length, bytes - filled);
      c.copy(out, filled, 0, take);
      filled += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    return out;
  }
}
