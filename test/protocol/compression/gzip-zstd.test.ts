import zlib from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import {
  COMPRESSION_NAMES,
  compress,
  compressSync,
  decompress,
  decompressSync,
} from "../../../src/protocol/compression/index.js";

async function codeOfAsync(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return isKrillError(err) ? err.code : `not a KrillError: ${String(err)}`;
  }
  return undefined;
}

describe("gzip and zstd", () => {
  it("read streams other writers produce: multi-member gzip, zstd without content size", () => {
    const a = Buffer.from("first member ");
    const b = Buffer.from("second member");
    const twoMembers = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
    expect(decompressSync(1, twoMembers, { outputBytesMax: 100 }).toString()).toBe(
      "first member second member",
    );
    const streamed = zlib.zstdCompressSync(Buffer.from("streamed"), {
      params: { [zlib.constants.ZSTD_c_contentSizeFlag]: 0 },
    });
    expect(decompressSync(4, streamed, { outputBytesMax: 100 }).toString()).toBe("streamed");
  });

  for (const codec of [1, 4]) {
    const name = COMPRESSION_NAMES[codec];
    it(`${name}: stops a bomb at the limit, sync and async, and enforces a limit of 0`, async () => {
      const bomb = compressSync(codec, Buffer.alloc(32 << 20));
      expect(bomb.length).toBeLessThan(1 << 20);
      expect(await codeOfAsync(async () => decompressSync(codec, bomb, { outputBytesMax: 1 << 20 }))).toBe(
        "COMPRESSION",
      );
      expect(await codeOfAsync(() => decompress(codec, bomb, { outputBytesMax: 1 << 20 }))).toBe(
        "COMPRESSION",
      );
      const one = compressSync(codec, Buffer.from("x"));
      expect(await codeOfAsync(async () => decompressSync(codec, one, { outputBytesMax: 0 }))).toBe(
        "COMPRESSION",
      );
      expect(decompressSync(codec, one, { outputBytesMax: 1 }).toString()).toBe("x");
    });

    it(`${name}: rejects garbage and truncation with COMPRESSION`, async () => {
      const good = compressSync(codec, Buffer.from("hello ".repeat(100)));
      for (const bad of [
        Buffer.from("definitely not compressed"),
        good.subarray(0, good.length - 3),
        Buffer.alloc(0),
      ]) {
        expect(await codeOfAsync(async () => decompressSync(codec, bad, { outputBytesMax: 1 << 20 }))).toBe(
          "COMPRESSION",
        );
        expect(await codeOfAsync(() => decompress(codec, bad, { outputBytesMax: 1 << 20 }))).toBe(
          "COMPRESSION",
        );
      }
    });

    it(`${name}: round-trips random data, sync and async (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 20_000 }), async (bytes) => {
          const input = Buffer.from(bytes);
          const limit = { outputBytesMax: input.length };
          expect(decompressSync(codec, compressSync(codec, input), limit).equals(input)).toBe(true);
          expect((await decompress(codec, await compress(codec, input), limit)).equals(input)).toBe(true);
        }),
        { numRuns: 50 },
      );
    });
  }

  it("refuses codec 0 and unknown codec ids", async () => {
    expect(await codeOfAsync(async () => compressSync(0, Buffer.alloc(1)))).toBe("COMPRESSION");
    expect(await codeOfAsync(async () => decompressSync(7, Buffer.alloc(1), { outputBytesMax: 1 }))).toBe(
      "COMPRESSION",
    );
    expect(await codeOfAsync(async () => decompressSync(1, Buffer.alloc(1), { outputBytesMax: -1 }))).toBe(
      "COMPRESSION",
    );
  });
});
