// The bounded chaos run of the unit suite: a single Krill node, kill -9/restart and SIGSTOP/SIGCONT
// faults from fixed seeds, real clients (confluent-kafka queue and consume-transform-produce
// transactions, kafkajs queue), the whole history checked. Zero anomalies expected. Long runs, all
// faults, the Java client and the Kafka reference cluster are chaos/run.sh (`make chaos`).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/src/broker.js";
import { LoopbackNetwork } from "../../chaos/src/net.js";
import { runChaos } from "../../chaos/src/runner.js";
import { makeSchedule } from "../../chaos/src/schedule.js";

const SEEDS = [2, 8];
const STEPS = 14;
const STEP_MS = 1000;

const hasConfluentKafka = (() => {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import confluent_kafka"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasConfluentKafka)("chaos: single Krill node under kill -9 and pause (fixed seeds)", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}: no anomalies`, { timeout: 240_000 }, async () => {
      const schedule = makeSchedule({ seed, steps: STEPS, nodes: [1], faults: ["kill", "pause"] });
      const kinds = new Set(schedule.map((s) => s.fault.kind));
      // The seeds are chosen so that each run kills and pauses the node.
      expect(kinds).toEqual(new Set(["kill", "restart", "pause", "resume"]));
      const dir = mkdtempSync(join(tmpdir(), `krill-chaos-${seed}-`));
      dirs.push(dir);
      // Ports base+2 (the node) and base+3 must be free; asking the kernel for one and using the
      // next is a small race, acceptable here as elsewhere in the suite.
      const portBase = (await freePort()) - 2;
      const run = await runChaos({
        target: "krill",
        seed,
        steps: STEPS,
        stepMs: STEP_MS,
        faults: ["kill", "pause"],
        clients: ["py-queue", "py-txn", "js-queue"],
        net: new LoopbackNetwork(),
        dir,
        portBase,
        settleMs: 3000,
        // Long enough for the transactional client to commit a few transactions before the faults.
        warmupMs: 5000,
      });
      const r = run.result;
      const summary = `report ${run.reportPath}: ${JSON.stringify(r.counts)}`;
      expect(r.badTypes, summary).toEqual([]);
      expect(r.valid).toBe(true);
      // Every scheduled fault was applied, in order, at its step.
      expect(run.faults.map((f) => [f.step, f.fault])).toEqual(schedule.map((s) => [s.step, s.fault]));
      expect(run.faults.every((f) => f.error === undefined)).toBe(true);
      // Enough happened for the check to mean something.
      expect(r.stats.sends.ok).toBeGreaterThan(50);
      expect(r.stats.polledRecords).toBeGreaterThan(50);
      expect(r.stats.byF.txn?.ok ?? 0).toBeGreaterThan(0);
      for (const c of run.clientExits.filter((c) => c.name.startsWith("final"))) expect(c.code).toBe(0);
    });
  }
});
