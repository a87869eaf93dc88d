/**
 * Runs the deterministic KRaft simulation (test/raft/simulation.ts) over many seeds.
 *
 *   npx tsx scripts/raft-sim.ts [--seeds N] [--from S]   N seeds from S (default 10000 from 1)
 *   npx tsx scripts/raft-sim.ts --seed S [--trace N]     one seed, printing its last N events on failure
 *
 * Exits 1 at the first failing seed, printing the invariant, the replay command and the trace.
 */
import { parseArgs } from "node:util";
import { optionsForSeed, runSeed, SCENARIOS, SimulationFailure } from "../test/raft/simulation.js";

const { values } = parseArgs({
  options: {
    seeds: { type: "string" },
    from: { type: "string" },
    seed: { type: "string" },
    trace: { type: "string" },
  },
});

function int(name: string, value: string | undefined, dflt: number): number {
  const n = value === undefined ? dflt : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name}: "${value}" is not a non-negative integer`);
    process.exit(2);
  }
  return n;
}

const trace = int("trace", values.trace, values.seed !== undefined ? 200 : 0);
const seeds =
  values.seed !== undefined
    ? [int("seed", values.seed, 0)]
    : Array.from({ length: int("seeds", values.seeds, 10_000) }, (_, i) => i + int("from", values.from, 1));

const started = process.hrtime.bigint();
const perScenario = new Map<string, number>(SCENARIOS.map((s) => [s, 0]));
let events = 0;
let simulatedMs = 0;
for (const seed of seeds) {
  try {
    const r = runSeed(seed, trace);
    events += r.events;
    simulatedMs += r.simulatedMs;
    perScenario.set(r.scenario, (perScenario.get(r.scenario) ?? 0) + 1);
    if (seeds.length === 1) console.log(JSON.stringify(r));
  } catch (err) {
    const o = optionsForSeed(seed);
    console.log(`FAIL seed ${seed} (${o.scenario}, ${o.voters} voters, ${o.observers} observers)`);
    if (err instanceof SimulationFailure) {
      for (const line of err.trace) console.log(`  ${line}`);
      console.log(err.message);
    } else {
      console.log(err instanceof Error ? err.stack : String(err));
      console.log(`replay: npx tsx scripts/raft-sim.ts --seed ${seed}`);
    }
    process.exit(1);
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  `${seeds.length} seeds clean in ${seconds.toFixed(1)} s: ${events} events, ${(simulatedMs / 3_600_000).toFixed(1)} simulated hours; ` +
    [...perScenario].map(([s, n]) => `${s} ${n}`).join(", "),
);
