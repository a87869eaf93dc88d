import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import * as lz4napi from "lz4-napi";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import {
  lz4Compress,
  lz4CompressSync,
  lz4Decompress,
  lz4DecompressSync,
} from "../../../src/protocol/compression/lz4.js";
import { xxhash32 } from "../../../src/protocol/compression/xxhash32.js";

const GOLDEN = join(import.meta.dirname, "../golden/lz4");
const content = readFileSync(join(GOLDEN, "content.txt"));
const frames = readdirSync(GOLDEN).filter((f) => f.endsWith(".lz4"));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isKrillError(err) ? err.code : `not a KrillError: ${String(err)}`;
  }
  return undefined;
}

describe("xxhash32", () => {
  it("matches the reference vectors", () => {
    expect(xxhash32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from("a"))).toBe(0x550d7456);
    expect(xxhash32(Buffer.from("abc"))).toBe(0x32d153ff);
    expect(xxhash32(Buffer.from("Nobody inspects the spammish repetition"))).toBe(0xe2293b2f);
    expect(xxhash32(Buffer.from("abc"), 1)).not.toBe(0x32d153ff);
  });
});

describe("lz4 frames", () => {
  it("has the CLI-made fixtures", () => {
    expect(frames.length).toBe(5);
  });

  for (const name of frames) {
    it(`decodes ${name} (sync and async)`, async () => {
      const frame = readFileSync(join(GOLDEN, name));
      expect(lz4DecompressSync(frame, { outputBytesMax: content.length }).equals(content)).toBe(true);
      expect((await lz4Decompress(frame, { outputBytesMax: content.length })).equals(content)).toBe(true);
      expect(codeOf(() => lz4DecompressSync(frame, { outputBytesMax: content.length - 1 }))).toBe(
        "COMPRESSION",
      );
    });
  }

  it("detects a corrupted block, block checksum, content checksum and header checksum", () => {
    const withChecksums = readFileSync(join(GOLDEN, "block-and-content-checksum-256k.lz4"));
    for (const at of [6, 20, 5000, withChecksums.length - 2]) {
      const bad = Buffer.from(withChecksums);
      bad[at]! ^= 0x10;
      expect(codeOf(() => lz4DecompressSync(bad, { outputBytesMax: 1 << 20 }))).toBe("COMPRESSION");
    }
  });

  it("rejects truncation and trailing bytes", () => {
    const frame = readFileSync(join(GOLDEN, "independent-64k.lz4"));
    for (const cut of [0, 3, 6, 7, 11, 100, frame.length - 4, frame.length - 1]) {
      expect(codeOf(() => lz4DecompressSync(frame.subarray(0, cut), { outputBytesMax: 1 << 20 }))).toBe(
        "COMPRESSION",
      );
    }
    expect(
      codeOf(() => lz4DecompressSync(Buffer.concat([frame, Buffer.from([0])]), { outputBytesMax: 1 << 20 })),
    ).toBe("COMPRESSION");
  });

  it("rejects a declared content size beyond the limit before decoding anything", () => {
    const frame = readFileSync(join(GOLDEN, "content-size.lz4"));
    expect(codeOf(() => lz4DecompressSync(frame, { outputBytesMax: 1000 }))).toBe("COMPRESSION");
  });

  it("writes independent-block frames like Java's KafkaLZ4BlockOutputStream", () => {
    const frame = lz4CompressSync(content);
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    const flg = frame[4]!;
    expect(flg & 0xc0).toBe(0x40); // version 01
    expect(flg & 0x20).toBe(0x20); // independent blocks
    // The reference decoder (lz4-napi's frame decoder) agrees.
    expect(lz4napi.decompressFrameSync(frame).equals(content)).toBe(true);
  });

  it("stops a bomb at the limit", () => {
    const bomb = lz4CompressSync(Buffer.alloc(64 << 20));
    expect(bomb.length).toBeLessThan(1 << 20);
    expect(codeOf(() => lz4DecompressSync(bomb, { outputBytesMax: 1 << 20 }))).toBe("COMPRESSION");
  });

  it("round-trips random data, sync and async (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), fc.boolean(), async (bytes, useAsync) => {
        const input = Buffer.from(bytes);
        const frame = useAsync ? await lz4Compress(input) : lz4CompressSync(input);
        const out = useAsync
          ? await lz4Decompress(frame, { outputBytesMax: input.length })
          : lz4DecompressSync(frame, { outputBytesMax: input.length });
        expect(out.equals(input)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("only ever throws KrillError on mutated frames (fuzz)", () => {
    const frame = readFileSync(join(GOLDEN, "linked-all-options-64k.lz4")).subarray(0, 4000);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 3999 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (flips) => {
          const bad = Buffer.from(frame);
          for (const [at, byte] of flips) bad[at] = byte;
          const code = codeOf(() => lz4DecompressSync(bad, { outputBytesMax: 1 << 20 }));
          expect(code).toBe("COMPRESSION");
        },
      ),
      { numRuns: 500 },
    );
  });
});
