/**
 * Mutation fuzzing seeded with every golden batch (all clients, all codecs): the decoder, the
 * produce validator and the log's batch scanner (recovery, offset lookup) may only reject, with
 * KrillError or a wire error code, never crash with anything else. Bounded by iteration count; the
 * same loop runs for a set time with `tsx scripts/fuzz-golden.ts SECONDS` (figures in
 * docs/records.md).
 */
import { describe, expect, it } from "vitest";
import { fuzzGoldenBatches } from "./fuzz-loop.js";

const ITERATIONS = 10_000;
const SEED = 20_251_122;

describe("golden-seeded mutation fuzz", () => {
  it(`only rejects cleanly over ${ITERATIONS} mutated batches (seed ${SEED})`, () => {
    const report = fuzzGoldenBatches({ seed: SEED, iterations: ITERATIONS });
    expect(report.inputs).toBe(ITERATIONS);
    // Some mutations (inside values, with a repaired CRC) still decode; most are rejected.
    expect(report.decoded).toBeGreaterThan(0);
    expect(report.decoded).toBeLessThan(ITERATIONS);
  });
});
