import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { BatchScanner } from "../../src/log/batch-scan.js";
import { simpleBatch } from "./helpers.js";

function scannerOver(buf: Buffer, windowBytes: number): BatchScanner {
  return new BatchScanner(
    (target, length, position) => {
      const n = Math.max(0, Math.min(length, buf.length - position));
      buf.copy(target, 0, position, position + n);
      return n;
    },
    0,
    buf.length,
    windowBytes,
  );
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
