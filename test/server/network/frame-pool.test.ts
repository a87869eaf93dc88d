import { describe, expect, it } from "vitest";
import { FrameDecoder } from "../../../src/server/network/frame-decoder.js";
import {
  FRAME_POOL_BYTES_MAX,
  FRAME_POOL_BYTES_MIN,
  freeFrameBytes,
  isLentFrameBuffer,
  releaseFrameBuffer,
  takeFrameBuffer,
} from "../../../src/server/network/frame-pool.js";

/** A size-prefixed request frame whose body starts with `apiKey` and holds `bodyBytes` in all. */
function requestFrame(apiKey: number, bodyBytes: number, fill: number): Buffer {
  const f = Buffer.alloc(4 + bodyBytes, fill);
  f.writeInt32BE(bodyBytes, 0);
  f.writeInt16BE(apiKey, 4);
  return f;
}

/** Feeds `bytes` to `decoder` in pieces of `piece` bytes; the frames that came out. */
function feed(decoder: FrameDecoder, bytes: Buffer, piece: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += piece) {
    decoder.push(bytes.subarray(at, at + piece));
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) out.push(f);
  }
  return out;
}

describe("frame pool", () => {
  it("reuses a released buffer for the next frame of the same capacity", () => {
    const a = takeFrameBuffer(70_000);
    expect(a.length).toBe(70_000);
    expect(isLentFrameBuffer(a)).toBe(true);
    const backing = a.buffer;
    releaseFrameBuffer(a);
    expect(isLentFrameBuffer(a)).toBe(false);
    const b = takeFrameBuffer(100_000);
    expect(b.buffer).toBe(backing);
    releaseFrameBuffer(b);
    // A second release of the same buffer is ignored.
    const before = freeFrameBytes();
    releaseFrameBuffer(b);
    expect(freeFrameBytes()).toBe(before);
  });

  it("leaves small and huge frames to ordinary allocation", () => {
    expect(isLentFrameBuffer(takeFrameBuffer(FRAME_POOL_BYTES_MIN - 1))).toBe(false);
    expect(isLentFrameBuffer(takeFrameBuffer(FRAME_POOL_BYTES_MAX + 1))).toBe(false);
  });

  it("keeps a bounded number of free bytes", () => {
    const lent = Array.from({ length: 40 }, () => takeFrameBuffer(4 * 1024 * 1024));
    for (const b of lent) releaseFrameBuffer(b);
    expect(freeFrameBytes()).toBeLessThanOrEqual(32 * 1024 * 1024);
  });
});

describe("FrameDecoder with pooled API keys", () => {
  it("copies a frame spanning reads into a pooled buffer only for the named API keys", () => {
    const decoder = new FrameDecoder(1 << 24, (apiKey) => apiKey === 0);
    const produce = requestFrame(0, 70_000, 7);
    const metadata = requestFrame(3, 70_000, 9);
    const frames = feed(decoder, Buffer.concat([produce, metadata]), 65_536);
    expect(frames).toHaveLength(2);
    expect(isLentFrameBuffer(frames[0]!)).toBe(true);
    expect(frames[0]!.equals(produce.subarray(4))).toBe(true);
    expect(isLentFrameBuffer(frames[1]!)).toBe(false);
    expect(frames[1]!.equals(metadata.subarray(4))).toBe(true);
    releaseFrameBuffer(frames[0]!);
  });

  it("reads the API key when the read boundary cuts it", () => {
    const decoder = new FrameDecoder(1 << 24, (apiKey) => apiKey === 0x0102);
    const f = requestFrame(0x0102, 40_000, 1);
    // Boundary after the size prefix and the api key's first byte.
    decoder.push(f.subarray(0, 5));
    expect(decoder.next()).toBeUndefined();
    decoder.push(f.subarray(5));
    const out = decoder.next()!;
    expect(isLentFrameBuffer(out)).toBe(true);
    expect(out.readInt16BE(0)).toBe(0x0102);
    expect(out.equals(f.subarray(4))).toBe(true);
    releaseFrameBuffer(out);
  });

  it("returns a frame inside one read as a view, never a pooled copy", () => {
    const decoder = new FrameDecoder(1 << 24, () => true);
    const f = requestFrame(0, 40_000, 3);
    const [out] = feed(decoder, f, f.length);
    expect(isLentFrameBuffer(out!)).toBe(false);
    expect(out!.buffer).toBe(f.buffer);
  });
});
