/**
 * The replication simulation over many seeds (test/server/replication/sim-run.ts): N brokers'
 * PartitionManagers in one process and Krill's real controller over a simulated metadata quorum,
 * a seeded schedule of produces, fetcher rounds, time, commits, metadata replay, heartbeats,
 * AlterPartitions, session checks, elections, cut-off brokers, crashes, controlled shutdowns and
 * controller failovers, with every named invariant checked after each step. The unit suite runs
 * a bounded number of seeds.
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
const totals: Record<string, number> = { runs: 0, steps: 0 };
const produceErrors: Record<string, number> = {};
const startedMs = performance.now();
for (let seed = first; seed < first + seeds; seed++) {
  try {
    const result = await runSeed(seed, steps);
    totals.runs!++;
    totals.steps! += steps;
    for (const [k, v] of Object.entries(result.stats)) totals[k] = (totals[k] ?? 0) + v;
    for (const [k, v] of result.produceErrors) produceErrors[k] = (produceErrors[k] ?? 0) + v;
  } catch (err) {
    console.error(`seed ${seed} failed:`);
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
console.log(
  JSON.stringify({
    ...totals,
    produceErrors,
    seconds: Math.round((performance.now() - startedMs) / 100) / 10,
  }),
);
