import { describe, expect, it } from "vitest";
import {
  FREE_READ_BUFFERS_MAX,
  freeReadBuffers,
  isLentReadBuffer,
  POOLED_READ_BYTES_MIN,
  READ_BUFFER_BYTES,
  releaseReadBuffer,
  takeReadBuffer,
} from "../../src/log/read-buffer-pool.js";

describe("read buffer pool", () => {
  it("lends a released buffer again, and only once per release", () => {
    const a = takeReadBuffer(200_000);
    expect(a.length).toBe(200_000);
    expect(isLentReadBuffer(a)).toBe(true);
    expect(isLentReadBuffer(a.subarray(10, 20))).toBe(true);
    const before = freeReadBuffers();
    releaseReadBuffer(a.subarray(0, 5));
    expect(isLentReadBuffer(a)).toBe(false);
    expect(freeReadBuffers()).toBe(before + 1);
    releaseReadBuffer(a); // second release: ignored
    expect(freeReadBuffers()).toBe(before + 1);
    const b = takeReadBuffer(POOLED_READ_BYTES_MIN);
    expect(b.buffer).toBe(a.buffer);
    const c = takeReadBuffer(POOLED_READ_BYTES_MIN);
    expect(c.buffer).not.toBe(b.buffer);
    releaseReadBuffer(b);
    releaseReadBuffer(c);
  });

  it("does not pool small or oversized reads, nor foreign buffers", () => {
    const small = takeReadBuffer(POOLED_READ_BYTES_MIN - 1);
    const large = takeReadBuffer(READ_BUFFER_BYTES + 1);
    expect(isLentReadBuffer(small)).toBe(false);
    expect(isLentReadBuffer(large)).toBe(false);
    const before = freeReadBuffers();
    releaseReadBuffer(small);
    releaseReadBuffer(large);
    releaseReadBuffer(Buffer.allocUnsafe(READ_BUFFER_BYTES));
    expect(freeReadBuffers()).toBe(before);
  });

  it("keeps at most FREE_READ_BUFFERS_MAX free buffers", () => {
    const lent = Array.from({ length: FREE_READ_BUFFERS_MAX + 5 }, () => takeReadBuffer(READ_BUFFER_BYTES));
    for (const b of lent) releaseReadBuffer(b);
    expect(freeReadBuffers()).toBe(FREE_READ_BUFFERS_MAX);
  });
});
