import { describe, expect, it } from "vitest";
import { randomInt, randomUuidText, SeededRandom } from "../src/random.js";

describe("SeededRandom", () => {
  it("replays the same sequence from the same seed, and another from another seed", () => {
    const draw = (seed: number) => {
      const r = new SeededRandom(seed);
      return [r.nextFloat(), r.nextFloat(), r.bytes(7).toString("hex"), randomInt(r, 1000)];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it("draws floats in [0, 1) spread over the range, and ints below the bound", () => {
    const r = new SeededRandom(7);
    const buckets = new Array<number>(10).fill(0);
    let low = 1;
    let high = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = r.nextFloat();
      low = Math.min(low, x);
      high = Math.max(high, x);
      buckets[Math.floor(x * 10)]!++;
    }
    expect(low).toBeGreaterThanOrEqual(0);
    expect(high).toBeLessThan(1);
    // Each tenth of the range gets close to its 1,000 (a loose bound: this is no statistics test).
    for (const n of buckets) expect(n).toBeGreaterThan(800);
    const ints = Array.from({ length: 1000 }, () => randomInt(r, 3));
    expect(new Set(ints)).toEqual(new Set([0, 1, 2]));
  });

  it("makes version-4 UUIDs in java.util.UUID's text form", () => {
    const text = randomUuidText(new SeededRandom(1));
    expect(text).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
