import fc from "fast-check";
import * as snappy from "snappy";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import {
  isXerialFramed,
  rawSnappyLength,
  snappyCompress,
  snappyCompressRawSync,
  snappyCompressSync,
  snappyDecompress,
  snappyDecompressSync,
  XERIAL_MAGIC,
} from "../../../src/protocol/compression/snappy.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isKrillError(err) ? err.code : `not a KrillError: ${String(err)}`;
  }
  return undefined;
}

const text = Buffer.from("the quick brown fox jumps over the lazy dog ".repeat(3000)); // 132 KB

describe("snappy", () => {
  it("writes snappy-java's xerial framing: magic, version 1, compatible 1, 32 KiB blocks", () => {
    const framed = snappyCompressSync(text);
    expect(framed.subarray(0, 8)).toEqual(XERIAL_MAGIC);
    expect(framed.readInt32BE(8)).toBe(1);
    expect(framed.readInt32BE(12)).toBe(1);
    let at = 16;
    const blocks: number[] = [];
    while (at < framed.length) {
      const length = framed.readInt32BE(at);
      blocks.push(rawSnappyLength(framed.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    expect(at).toBe(framed.length);
    expect(blocks).toEqual([32768, 32768, 32768, 32768, text.length - 4 * 32768]);
    expect(snappyDecompressSync(framed, { outputBytesMax: text.length }).equals(text)).toBe(true);
  });

  it("reads a single raw block (kafkajs-snappy's layout)", async () => {
    const raw = snappyCompressRawSync(text);
    expect(isXerialFramed(raw)).toBe(false);
    expect(snappyDecompressSync(raw, { outputBytesMax: text.length }).equals(text)).toBe(true);
    expect((await snappyDecompress(raw, { outputBytesMax: text.length })).equals(text)).toBe(true);
  });

  it("reads xerial streams whose blocks have other sizes", () => {
    const header = Buffer.from(snappyCompressSync(Buffer.alloc(0)));
    const parts: Buffer[] = [header];
    for (const size of [1, 70_000, 5]) {
      const block = snappy.compressSync(text.subarray(0, size));
      const length = Buffer.alloc(4);
      length.writeInt32BE(block.length);
      parts.push(length, block);
    }
    const expected = Buffer.concat([text.subarray(0, 1), text.subarray(0, 70_000), text.subarray(0, 5)]);
    expect(snappyDecompressSync(Buffer.concat(parts), { outputBytesMax: 1 << 20 }).equals(expected)).toBe(
      true,
    );
  });

  it("checks the declared size against the limit before decompressing", () => {
    const raw = snappyCompressRawSync(Buffer.alloc(10 << 20));
    expect(raw.length).toBeLessThan(1 << 20);
    expect(codeOf(() => snappyDecompressSync(raw, { outputBytesMax: 1 << 20 }))).toBe("COMPRESSION");
    const framed = snappyCompressSync(Buffer.alloc(10 << 20));
    expect(codeOf(() => snappyDecompressSync(framed, { outputBytesMax: 1 << 20 }))).toBe("COMPRESSION");
  });

  it("rejects block lengths that lie, truncation and garbage", () => {
    const framed = snappyCompressSync(text);
    const lying = Buffer.from(framed);
    lying.writeInt32BE(0x7fffffff, 16);
    expect(codeOf(() => snappyDecompressSync(lying, { outputBytesMax: 1 << 20 }))).toBe("COMPRESSION");
    const negative = Buffer.from(framed);
    negative.writeInt32BE(-1, 16);
    expect(codeOf(() => snappyDecompressSync(negative, { outputBytesMax: 1 << 20 }))).toBe("COMPRESSION");
    for (const cut of [17, 18, 30, framed.length - 1]) {
      expect(codeOf(() => snappyDecompressSync(framed.subarray(0, cut), { outputBytesMax: 1 << 20 }))).toBe(
        "COMPRESSION",
      );
    }
    expect(
      codeOf(() =>
        snappyDecompressSync(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), { outputBytesMax: 100 }),
      ),
    ).toBe("COMPRESSION");
    expect(codeOf(() => snappyDecompressSync(Buffer.alloc(0), { outputBytesMax: 100 }))).toBe("COMPRESSION");
  });

  it("round-trips random data through both layouts, sync and async (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 70_000 }), async (bytes) => {
        const input = Buffer.from(bytes);
        const limit = { outputBytesMax: input.length };
        expect(snappyDecompressSync(snappyCompressSync(input), limit).equals(input)).toBe(true);
        expect((await snappyDecompress(await snappyCompress(input), limit)).equals(input)).toBe(true);
        if (input.length > 0)
          expect(snappyDecompressSync(snappyCompressRawSync(input), limit).equals(input)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("only ever throws KrillError on mutated input (fuzz)", () => {
    const framed = snappyCompressSync(text.subarray(0, 5000));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: framed.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 4,
        }),
        (flips) => {
          const bad = Buffer.from(framed);
          for (const [at, byte] of flips) bad[at] = byte;
          try {
            snappyDecompressSync(bad, { outputBytesMax: 1 << 16 });
          } catch (err) {
            expect(isKrillError(err, "COMPRESSION")).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
