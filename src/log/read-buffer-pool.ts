/**
 * Reusable buffers for Fetch reads. Each partition read of a Fetch used to allocate a fresh buffer
 * of up to max.partition.fetch.bytes; on a consumer reading at full speed that is one new
 * ArrayBuffer per MiB sent, and V8 answers that volume of external memory with full mark-compact
 * collections (10 of them per 146 MiB consumed in the 07:20 profile, with a 13 MB heap). A read
 * that opts in takes a buffer from this pool instead; the connection hands it back once the
 * response holding it has been written to the socket (`releaseReadBuffer`), so a steady consumer
 * reuses the same few buffers.
 *
 * A lent buffer that is never released (the response was dropped, the bytes were copied, the
 * socket closed first) is simply collected: the pool keeps no strong reference to lent buffers.
 * Only the owner of the bytes' lifetime may opt in: the bytes are overwritten after release.
 *
 * Concurrency: event loop only.
 */

/** Capacity of every pooled buffer (the default max.partition.fetch.bytes). */
export const READ_BUFFER_BYTES = 1024 * 1024;
/** Reads smaller than this are not worth a pooled megabyte. */
export const POOLED_READ_BYTES_MIN = 64 * 1024;
/** Free buffers kept for reuse (at most this many MiB idle). */
export const FREE_READ_BUFFERS_MAX = 16;

const free: ArrayBuffer[] = [];
const lent = new WeakSet<ArrayBufferLike>();

/** A buffer of `bytes` for a read whose result the caller will hand to `releaseReadBuffer`. */
export function takeReadBuffer(bytes: number): Buffer {
  if (bytes < POOLED_READ_BYTES_MIN || bytes > READ_BUFFER_BYTES) return Buffer.allocUnsafe(bytes);
  const backing = free.pop() ?? new ArrayBuffer(READ_BUFFER_BYTES);
  lent.add(backing);
  return Buffer.from(backing, 0, bytes);
}

/** Whether `buf` is a view of a lent pool buffer. */
export function isLentReadBuffer(buf: Buffer): boolean {
  return lent.has(buf.buffer);
}

/**
 * Returns the pool buffer `buf` is a view of; the caller guarantees nothing reads it afterwards.
 * Anything else, or a second release, is ignored.
 */
export function releaseReadBuffer(buf: Buffer): void {
  const backing = buf.buffer;
  if (!lent.delete(backing)) return;
  if (free.length < FREE_READ_BUFFERS_MAX) free.push(backing as ArrayBuffer);
}

/** Free buffers held (tests and diagnostics). */
export function freeReadBuffers(): number {
  return free.length;
}
