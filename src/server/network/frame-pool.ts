/**
 * Reusable buffers for request frames that arrive in more than one socket read. Such a frame has
 * to be copied into one buffer; a produce request of a 64 KiB batch is just over 64 KiB, so nearly
 * every one spans two of Node's 64 KiB reads, and the copy used to be a fresh ArrayBuffer per
 * request: about one GiB of external memory per GiB produced, which V8 answers with full
 * mark-compact collections. A connection takes the copy's buffer from here for the APIs whose
 * handlers keep none of the request's bytes once they complete (Produce: the append writes them to
 * the segment file synchronously), and hands it back when the request completes
 * (`releaseFrameBuffer`).
 *
 * Capacities are powers of two from FRAME_POOL_BYTES_MIN to FRAME_POOL_BYTES_MAX; at most
 * FREE_PER_CLASS_MAX free buffers per capacity and FREE_BYTES_MAX in total are kept. A lent buffer
 * that is never released (its connection closed first) is simply collected: the pool keeps no
 * strong reference to lent buffers.
 *
 * Concurrency: event loop only.
 */

/** Smaller frames come from Node's own slab pool or are cheap enough to allocate. */
export const FRAME_POOL_BYTES_MIN = 32 * 1024;
/** Larger frames are rare (batch.size above 16 MiB); they are allocated as before. */
export const FRAME_POOL_BYTES_MAX = 16 * 1024 * 1024;
const FREE_PER_CLASS_MAX = 8;
const FREE_BYTES_MAX = 32 * 1024 * 1024;

const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
const lent = new WeakSet<ArrayBufferLike>();

function capacityFor(bytes: number): number {
  let capacity = FRAME_POOL_BYTES_MIN;
  while (capacity < bytes) capacity *= 2;
  return capacity;
}

/** A buffer of exactly `bytes` for a frame the caller will hand to `releaseFrameBuffer`. */
export function takeFrameBuffer(bytes: number): Buffer {
  if (bytes < FRAME_POOL_BYTES_MIN || bytes > FRAME_POOL_BYTES_MAX) return Buffer.allocUnsafe(bytes);
  const capacity = capacityFor(bytes);
  const backing = free.get(capacity)?.pop();
  if (backing !== undefined) freeBytes -= capacity;
  const buffer = backing ?? new ArrayBuffer(capacity);
  lent.add(buffer);
  return Buffer.from(buffer, 0, bytes);
}

/** Whether `buf` is a view of a lent frame buffer. */
export function isLentFrameBuffer(buf: Buffer): boolean {
  return lent.has(buf.buffer);
}

/**
 * Returns the frame buffer `buf` is a view of; the caller guarantees nothing reads it afterwards.
 * Anything else, or a second release, is ignored.
 */
export function releaseFrameBuffer(buf: Buffer): void {
  const backing = buf.buffer;
  if (!lent.delete(backing)) return;
  const capacity = backing.byteLength;
  let list = free.get(capacity);
  if (list === undefined) {
    list = [];
    free.set(capacity, list);
  }
  if (list.length >= FREE_PER_CLASS_MAX || freeBytes + capacity > FREE_BYTES_MAX) return;
  list.push(backing as ArrayBuffer);
  freeBytes += capacity;
}

/** Bytes of free buffers held (tests and diagnostics). */
export function freeFrameBytes(): number {
  return freeBytes;
}
