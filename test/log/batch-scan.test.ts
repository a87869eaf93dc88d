import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { type BatchInfo, BatchScanner } from "../../src/log/batch-scan.js";
import { crc32c } from "../../src/protocol/crc32c.js";
import { buildBatch, simpleBatch } from "./helpers.js";

function scannerOver(buf: Buffer, windowBytes: number, start = 0): BatchScanner {
  return new BatchScanner(
    (target, length, position) => {
      const n = Math.max(0, Math.min(length, buf.length - position));
      buf.copy(target, 0, position, position + n);
      return n;
    },
    start,
    buf.length,
    windowBytes,
  );
}

/** Runs a scanner to its stop: the batches it returned and where and why it stopped. */
function scanAll(scanner: BatchScanner, verifyCrc: boolean): BatchInfo[] {
  const seen: BatchInfo[] = [];
  for (let b = scanner.next(verifyCrc); b !== undefined; b = scanner.next(verifyCrc)) seen.push(b);
  return seen;
}

/** A batch holding offsets [baseOffset, baseOffset + count). */
function batchAt(baseOffset: number, count: number, valueBytes = 10): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({
    key: null,
    value: Buffer.alloc(valueBytes, i),
    timestamp: 1000 + baseOffset + i,
  }));
  return buildBatch(records, { baseOffset });
}

/** The first batch whose last offset is >= `offset`, by the header-only walk LogSegment.locate runs. */
function locate(scanner: BatchScanner, offset: number): BatchInfo | undefined {
  for (let b = scanner.next(false); b !== undefined; b = scanner.next(false)) {
    if (b.lastOffset >= offset) return b;
  }
  return undefined;
}

describe("BatchScanner", () => {
  it("walks batches with CRC checks through a window smaller than a batch", () => {
    const batches = [simpleBatch(3, 500), simpleBatch(1, 10), simpleBatch(5, 2000)];
    batches.forEach((b, i) => {
      b.writeBigInt64BE(BigInt(i * 10), 0);
    });
    const buf = Buffer.concat(batches);
    const scanner = scannerOver(buf, 100);
    const seen = [];
    for (let b = scanner.next(true); b !== undefined; b = scanner.next(true))
      seen.push([b.baseOffset, b.sizeBytes]);
    expect(scanner.problem).toBeUndefined();
    expect(seen).toEqual(batches.map((b, i) => [i * 10, b.length]));
  });

  it("stops at a torn or corrupt batch and says why", () => {
    const good = simpleBatch(2, 100);
    const torn = Buffer.concat([good, good.subarray(0, 70)]);
    const s1 = scannerOver(torn, 4096);
    expect(s1.next(true)).toBeDefined();
    expect(s1.next(true)).toBeUndefined();
    expect(s1.problem).toMatch(/runs past the end/);
    expect(s1.position).toBe(good.length);
    const flipped = Buffer.from(good);
    flipped[100]! ^= 0xff;
    const s2 = scannerOver(flipped, 4096);
    expect(s2.next(true)).toBeUndefined();
    expect(s2.problem).toMatch(/CRC mismatch/);
    expect(scannerOver(flipped, 4096).next(false)).toBeDefined();
  });

  it("never crashes, hangs or over-allocates on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 61, max: 512 }), (bytes, window) => {
        const scanner = scannerOver(Buffer.from(bytes), window);
        let steps = 0;
        try {
          while (scanner.next(true) !== undefined) steps++;
        } catch (err) {
          expect(isKrillError(err)).toBe(true);
        }
        expect(steps).toBeLessThanOrEqual(bytes.length / 61);
      }),
      { numRuns: 500 },
    );
  });
});

// What recovery truncates to: the longest prefix of whole, magic-2, CRC-valid batches.
describe("BatchScanner valid prefix (recovery)", () => {
  it("keeps exactly the whole batches before a cut, at every cut point", () => {
    const batches = [batchAt(0, 2), batchAt(2, 3), batchAt(5, 1)];
    const buf = Buffer.concat(batches);
    const ends = batches.map((_, i) => batches.slice(0, i + 1).reduce((n, b) => n + b.length, 0));
    for (let cut = 0; cut <= buf.length; cut++) {
      const scanner = scannerOver(buf.subarray(0, cut), 64);
      const seen = scanAll(scanner, true);
      const whole = ends.filter((end) => end <= cut);
      expect(seen.map((b) => b.position + b.sizeBytes)).toEqual(whole);
      expect(scanner.position).toBe(whole.at(-1) ?? 0);
      // Stopping on a batch boundary is a clean end; anywhere else the torn tail is named.
      if (whole.includes(cut) || cut === 0) expect(scanner.problem).toBeUndefined();
      else expect(scanner.problem).toMatch(/shorter than a batch header|runs past the end/);
    }
  });

  it("stops before a batch whose CRC fails, even with valid batches after it", () => {
    const a = batchAt(0, 3);
    const b = batchAt(3, 3);
    b.writeUInt32BE((b.readUInt32BE(17) + 1) >>> 0, 17);
    const buf = Buffer.concat([a, b, batchAt(6, 1)]);
    const scanner = scannerOver(buf, 4096);
    expect(scanAll(scanner, true).map((x) => x.baseOffset)).toEqual([0]);
    expect(scanner.position).toBe(a.length);
    expect(scanner.problem).toMatch(/CRC mismatch at offset 3/);
    // A header-only walk (offset lookup) does not read records, so it passes the bad CRC.
    const headersOnly = scannerOver(buf, 4096);
    expect(scanAll(headersOnly, false).map((x) => x.baseOffset)).toEqual([0, 3, 6]);
    expect(headersOnly.problem).toBeUndefined();
  });

  it("rejects impossible lengths, other magics and offsets beyond 2^53 as corruption", () => {
    const good = batchAt(0, 1);
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ["negative length", (b) => b.writeInt32BE(-5, 8), /below the minimum/],
      ["length below the header", (b) => b.writeInt32BE(30, 8), /below the minimum/],
      ["int32-max length", (b) => b.writeInt32BE(0x7fffffff, 8), /runs past the end/],
      ["magic 1", (b) => b.writeInt8(1, 16), /magic 1 is not 2/],
      ["negative lastOffsetDelta", (b) => b.writeInt32BE(-1, 23), /negative lastOffsetDelta/],
      ["unsafe baseOffset", (b) => b.writeBigInt64BE(2n ** 60n, 0), /out of range/],
      ["negative baseOffset", (b) => b.writeBigInt64BE(-1n, 0), /out of range/],
    ];
    for (const [name, mutate, why] of cases) {
      const bad = Buffer.from(good);
      mutate(bad);
      const scanner = scannerOver(Buffer.concat([good, bad]), 4096);
      expect(scanAll(scanner, false), name).toHaveLength(1);
      expect(scanner.position, name).toBe(good.length);
      expect(scanner.problem, name).toMatch(why);
    }
  });

  it("never throws over whole bytes and accepts only CRC-valid batches, ending on a boundary", () => {
    const good = Buffer.concat([batchAt(0, 2), batchAt(2, 2, 40), batchAt(4, 1)]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: 61, max: 300 }),
        (flips, cutSeed, window) => {
          const buf = Buffer.from(good);
          for (const [at, value] of flips) buf[at % buf.length] = value;
          const input = buf.subarray(0, cutSeed % (buf.length + 1));
          const scanner = scannerOver(input, window);
          // The whole range is readable, so only the data can stop the scan: no exception.
          const seen = scanAll(scanner, true);
          let end = 0;
          for (const b of seen) {
            expect(b.position).toBe(end);
            const stored = input.readUInt32BE(b.position + 17);
            expect(crc32c(input.subarray(b.position + 21, b.position + b.sizeBytes))).toBe(stored);
            end += b.sizeBytes;
          }
          expect(scanner.position).toBe(end);
          expect(end).toBeLessThanOrEqual(input.length);
          expect(scanner.problem === undefined).toBe(end === input.length);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

// What LogSegment.locate runs from an index entry: the batch a read from an offset starts with.
describe("BatchScanner offset lookup (header-only)", () => {
  const a = batchAt(10, 3); // 10..12
  const b = batchAt(13, 2); // 13..14
  const c = batchAt(20, 1); // 20, after a gap as compaction leaves
  const buf = Buffer.concat([a, b, c]);

  it("finds the batch holding or following an offset, across gaps", () => {
    const at = (offset: number, start = 0) => locate(scannerOver(buf, 64, start), offset)?.position;
    expect(at(0)).toBe(0);
    expect(at(12)).toBe(0);
    expect(at(13)).toBe(a.length);
    expect(at(15)).toBe(a.length + b.length);
    expect(at(20)).toBe(a.length + b.length);
    expect(at(21)).toBeUndefined();
    // From a later batch boundary (an index entry), as a segment lookup starts.
    expect(at(14, a.length)).toBe(a.length);
    expect(at(0, a.length + b.length)).toBe(a.length + b.length);
  });

  it("reads headers only: a window smaller than any batch still walks every boundary", () => {
    const scanner = scannerOver(buf, 61);
    const found = locate(scanner, 20);
    expect(found).toMatchObject({ baseOffset: 20, lastOffset: 20, sizeBytes: c.length });
    expect(scanner.position).toBe(buf.length);
  });

  it("reports a corrupt header on the way instead of skipping past it", () => {
    const bad = Buffer.concat([a, b, c]);
    bad.writeInt32BE(7, a.length + 8);
    const scanner = scannerOver(bad, 64);
    expect(locate(scanner, 20)).toBeUndefined();
    expect(scanner.position).toBe(a.length);
    expect(scanner.problem).toMatch(/below the minimum/);
  });
});
