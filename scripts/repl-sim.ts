/**
 * The replication simulation over many seeds (test/server/replication/sim-run.ts): N brokers'
 * PartitionManagers in one process, a seeded schedule of produces, fetcher rounds, time, ISR
 * changes, elections and cut-off brokers, with every named invariant checked after each step.
 * The unit suite runs a bounded number of seeds.
 *
 *   tsx scripts/repl-sim.ts [seeds=200] [first=1] [steps=150]
 *
 * Prints totals; on a violation prints the seed, the invariant and the trace, and exits 1.
 */
import { runSeed } from "../test/server/replication/sim-run.js";

const seeds = Number(process.argv[2] ?? 200);
const first = Number(process.argv[3] ?? 1);
const steps = Number(process.argv[4] ?? 150);
if (![seeds, first, steps].every((n) => Number.isSafeInteger(n) && n >= 0) || seeds > 1_000_000) {
  console.error("usage: tsx scripts/repl-sim.ts [seeds=200] [first=1] [steps=150]");
  process.exit(2);
}
const totals = {
  runs: 0,
  produced: 0,
  ackedAll: 0,
  ackedOne: 0,
  failed: 0,
  truncations: 0,
  leaderChanges: 0,
  isrChanges: 0,
  restarts: 0,
};
const startedMs = performance.now();
for (let seed = first; seed < first + seeds; seed++) {
  try {
    const result = await runSeed(seed, steps);
    totals.runs++;
    for (const k of Object.keys(result.stats) as (keyof typeof result.stats)[]) totals[k] += result.stats[k];
  } catch (err) {
    console.error(`seed ${seed} failed:`);
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
console.log(JSON.stringify({ ...totals, seconds: Math.round((performance.now() - startedMs) / 100) / 10 }));
