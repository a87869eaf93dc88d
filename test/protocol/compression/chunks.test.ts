/**
 * Decompression piece by piece (compression/index.ts decompressChunks / decompressChunksSync):
 * the pieces put together are the whole output for every codec and layout, each piece is bounded
 * whatever the compression ratio, stopping early stops the work, and the output bound and codec
 * errors are the same as for whole decompression. Also: streaming xxHash32 equals the one-shot
 * digest however the input is cut, and a snappy block declaring more than snappy can encode in
 * its bytes is refused before anything is allocated.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import {
  CompressionCodec,
  compressSync,
  decompressChunks,
  decompressChunksSync,
  decompressSync,
  isOutputTooLarge,
} from "../../../src/protocol/compression/index.js";
import { snappyCompressRawSync } from "../../../src/protocol/compression/snappy.js";
import { Xxhash32, xxhash32 } from "../../../src/protocol/compression/xxhash32.js";

const CODECS = [CompressionCodec.GZIP, CompressionCodec.SNAPPY, CompressionCodec.LZ4, CompressionCodec.ZSTD];
const MiB = 1024 * 1024;

async function collect(codec: number, input: Buffer, outputBytesMax: number): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  for await (const piece of decompressChunks(codec, input, { outputBytesMax })) pieces.push(piece);
  return pieces;
}

describe("decompression piece by piece", () => {
  it("gives the whole output, sync and async, for every codec (and raw snappy)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CODECS),
        fc.uint8Array({ maxLength: 200_000 }),
        fc.integer({ min: 1, max: 64 }),
        async (codec, bytes, repeat) => {
          const input = Buffer.concat(Array.from({ length: repeat }, () => Buffer.from(bytes)));
          const compressed = compressSync(codec, input);
          expect(Buffer.concat(await collect(codec, compressed, 64 * MiB)).equals(input)).toBe(true);
          expect(
            Buffer.concat([...decompressChunksSync(codec, compressed, { outputBytesMax: 64 * MiB })]).equals(
              input,
            ),
          ).toBe(true);
        },
      ),
      { numRuns: 40, seed: 19 },
    );
    const text = Buffer.from("kafka record batch ".repeat(5_000));
    const raw = snappyCompressRawSync(text);
    expect(Buffer.concat(await collect(CompressionCodec.SNAPPY, raw, MiB)).equals(text)).toBe(true);
  });

  it("holds one bounded piece at a time whatever the ratio: 64 MiB of zeros", async () => {
    const zeros = Buffer.alloc(64 * MiB);
    const bounds: Record<number, number> = {
      [CompressionCodec.GZIP]: 64 * 1024,
      [CompressionCodec.ZSTD]: 64 * 1024,
      [CompressionCodec.SNAPPY]: 32 * 1024,
      [CompressionCodec.LZ4]: 4 * MiB,
    };
    const compressed = CODECS.map((codec) => [codec, compressSync(codec, zeros)] as const);
    for (const [codec, input] of compressed) {
      let total = 0;
      let largest = 0;
      for await (const piece of decompressChunks(codec, input, { outputBytesMax: 64 * MiB })) {
        total += piece.length;
        largest = Math.max(largest, piece.length);
      }
      expect(total).toBe(64 * MiB);
      expect(largest).toBeLessThanOrEqual(bounds[codec]!);
    }
  }, 120_000);

  it("stops at the output bound, and where the reader stops", async () => {
    const zeros = Buffer.alloc(8 * MiB);
    for (const codec of CODECS) {
      const input = compressSync(codec, zeros);
      const refused = await collect(codec, input, MiB).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isOutputTooLarge(refused)).toBe(true);
      let pieces = 0;
      for await (const _ of decompressChunks(codec, input, { outputBytesMax: 64 * MiB })) {
        pieces++;
        break;
      }
      expect(pieces).toBe(1);
    }
  });

  it("answers corrupt input with the same COMPRESSION error as whole decompression", async () => {
    const input = Buffer.from("kafka ".repeat(10_000));
    for (const codec of CODECS) {
      const compressed = compressSync(codec, input);
      const broken = Buffer.from(compressed);
      broken.fill(0xaa, Math.floor(broken.length / 2), Math.floor(broken.length / 2) + 8);
      const whole = codeOf(() => decompressSync(codec, broken, { outputBytesMax: MiB }));
      const streamed = await collect(codec, broken, MiB).then(
        () => undefined,
        (err: unknown) => (isKrillError(err) ? err.code : String(err)),
      );
      expect(streamed).toBe(whole);
    }
  });
});

describe("snappy block length", () => {
  it("refuses a block declaring more than 64/3 of its size, before allocating", () => {
    // Raw snappy: the uncompressed length as a varint (2^32-1), then a literal of 7 bytes.
    const bomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 6 << 2, 1, 2, 3, 4, 5, 6, 7]);
    expect(() => decompressSync(CompressionCodec.SNAPPY, bomb, { outputBytesMax: 2 ** 33 })).toThrow(
      /declares 4294967295 bytes of output, more than snappy can encode in it/,
    );
    // The densest real block (a long run) stays within the bound.
    const zeros = Buffer.alloc(MiB);
    const back = decompressSync(CompressionCodec.SNAPPY, snappyCompressRawSync(zeros), {
      outputBytesMax: MiB,
    });
    expect(back.equals(zeros)).toBe(true);
  });
});

describe("Xxhash32", () => {
  it("equals the one-shot digest however the input is cut", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const input = Buffer.from(bytes);
        const hash = new Xxhash32();
        let at = 0;
        for (const cut of [...cuts.map((c) => c % (input.length + 1))].sort((a, b) => a - b)) {
          if (cut < at) continue;
          hash.update(input.subarray(at, cut));
          at = cut;
        }
        hash.update(input.subarray(at));
        expect(hash.digest()).toBe(xxhash32(input));
      }),
      { numRuns: 500, seed: 19 },
    );
  });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isKrillError(err) ? err.code : String(err);
  }
  return undefined;
}
