/**
 * Longer mutation fuzz of every generated decoder (the test suite runs a bounded one).
 *
 *   tsx scripts/fuzz-codecs.ts [iterations=200000] [seed=<time>] [time-limit-seconds=600]
 *
 * Prints the seed first so a failing run can be replayed with the same arguments; exits 1 if any
 * decoder failed with something other than KrillError DECODE_ERROR.
 */
import { runCodecFuzz } from "../test/protocol/generated/fuzz-support.js";
import { SPEC_DIR, SPEC_PRESENT } from "../test/protocol/generated/schema-arbitraries.js";

const iterations = Number(process.argv[2] ?? 200_000);
const seed = Number(process.argv[3] ?? Date.now() >>> 0) >>> 0;
const timeLimitMs = Number(process.argv[4] ?? 600) * 1000;
if (!Number.isInteger(iterations) || iterations <= 0 || !Number.isFinite(timeLimitMs) || timeLimitMs <= 0) {
  console.error("usage: tsx scripts/fuzz-codecs.ts [iterations] [seed] [time-limit-seconds]");
  process.exit(2);
}
if (!SPEC_PRESENT) {
  console.error(`Kafka spec folder not found at ${SPEC_DIR}; set KAFKA_SPEC_DIR`);
  process.exit(2);
}
console.log(`fuzz-codecs: seed ${seed}, up to ${iterations} decodes, time limit ${timeLimitMs / 1000} s`);
const report = runCodecFuzz({ iterations, seed, timeLimitMs });
console.log(
  `${report.decodes} decodes in ${(report.elapsedMs / 1000).toFixed(1)} s (${Math.round(report.decodes / (report.elapsedMs / 1000))}/s): ` +
    `${report.accepted} accepted, ${report.rejected} rejected with DECODE_ERROR, ${report.failures.length} failures`,
);
for (const f of report.failures.slice(0, 20)) {
  console.log(`FAIL ${f.target} iteration ${f.iteration} (seed ${f.seed}): ${f.error}\n  input ${f.input}`);
}
process.exit(report.failures.length > 0 ? 1 : 0);
