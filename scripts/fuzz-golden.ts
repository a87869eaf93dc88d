/**
 * The golden-seeded mutation fuzz of record batches (decoder, produce validation, recovery scan)
 * for a set time; the test suite runs a bounded one (test/protocol/golden/fuzz-golden.test.ts).
 *
 *   tsx scripts/fuzz-golden.ts [seconds=60] [seed=<time>]
 *
 * Prints the seed first so a failing run can be replayed; exits 1 on the first input that fails
 * with anything other than a clean rejection.
 */
import { fuzzGoldenBatches } from "../test/protocol/golden/fuzz-loop.js";

const seconds = Number(process.argv[2] ?? 60);
const seed = Number(process.argv[3] ?? Date.now() >>> 0) >>> 0;
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
  console.error("usage: tsx scripts/fuzz-golden.ts [seconds (at most 86400)] [seed]");
  process.exit(2);
}
console.log(`fuzz-golden: seed ${seed}, ${seconds} s`);
try {
  const r = fuzzGoldenBatches({ seed, iterations: Number.MAX_SAFE_INTEGER, timeLimitMs: seconds * 1000 });
  console.log(
    `${r.inputs} inputs in ${seconds} s: ${r.decoded} decoded, ${r.inputs - r.decoded} rejected cleanly; slowest input ${r.slowestMs.toFixed(1)} ms`,
  );
} catch (err) {
  console.log(`FAIL ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
