/**
 * One seeded run of the replication simulation: a random schedule of produces (acks=all and
 * acks=1), fetcher rounds, time passing (ISR shrink, acks=all timeouts), controller answers to
 * AlterPartition, clean leader elections, brokers cut off and back, high-watermark checkpoints,
 * and brokers restarted (cleanly or by a crash) over their files, with every invariant of
 * SimCluster checked after each step. At the end every link heals and the cluster quiesces:
 * every replica holds every acks=all record.
 */
import { SimCluster, TOPIC } from "./sim-cluster.js";

export interface RunResult {
  readonly seed: number;
  readonly steps: number;
  readonly stats: SimCluster["stats"];
  readonly acked: number;
}

export async function runSeed(seed: number, steps = 120): Promise<RunResult> {
  const random0 = seed % 2 === 0 ? 3 : 2;
  const sim = new SimCluster({ seed, nodes: random0, partitions: 2, minInsyncReplicas: 2 });
  try {
    await sim.start();
    const pick = <T>(items: readonly T[]): T => items[Math.floor(sim.random() * items.length)]!;
    const produces: Promise<number>[] = [];
    const ids = [...sim.nodes.keys()];
    const partitions = [0, 1];
    for (let step = 0; step < steps; step++) {
      const r = sim.random();
      if (r < 0.25) {
        const p = pick(partitions);
        const acks = sim.random() < 0.7 ? -1 : 1;
        sim.note(`step ${step}: produce p${p} acks=${acks}`);
        produces.push(sim.produceTo(p, acks, 1 + Math.floor(sim.random() * 3), 20_000));
      } else if (r < 0.6) {
        const id = pick(ids);
        await sim.fetchRound(id);
      } else if (r < 0.72) {
        const ms = pick([10, 100, 1_000, 5_000, 16_000, 31_000]);
        sim.note(`step ${step}: advance ${ms} ms`);
        sim.advance(ms);
      } else if (r < 0.85) {
        await sim.answerAlterPartition();
      } else if (r < 0.92) {
        await sim.electLeader(pick(partitions));
      } else if (r < 0.95) {
        const id = pick(ids);
        sim.setDown(id, !sim.isDown(id));
      } else if (r < 0.965) {
        sim.checkpoint(pick(ids));
      } else if (r < 0.975) {
        const id = pick(ids);
        const clean = sim.random() < 0.5;
        sim.note(`step ${step}: restart node ${id} (${clean ? "clean" : "crash"})`);
        await sim.restart(id, clean);
      } else {
        // A divergent follower: the leader appends alone (acks=1), then loses leadership at once.
        const p = pick(partitions);
        sim.note(`step ${step}: acks=1 then election on p${p}`);
        produces.push(sim.produceTo(p, 1, 2));
        await sim.settle();
        await sim.electLeader(p);
      }
      await sim.settle();
      sim.checkInvariants();
    }
    // Heal and quiesce: every link back, rounds until nothing is pending.
    for (const id of ids) if (sim.isDown(id)) sim.setDown(id, false);
    for (let round = 0; round < 60; round++) {
      for (const id of ids) await sim.fetchRound(id);
      while (await sim.answerAlterPartition()) await sim.settle();
      sim.advance(100);
      await sim.settle();
      sim.checkInvariants();
    }
    sim.advance(60_000);
    await sim.settle();
    await Promise.all(produces);
    sim.checkInvariants();
    // Converged: every replica of each partition holds every acks=all record, at its offset.
    for (const p of partitions) {
      const leader = sim.held(sim.leaderOf(p), p);
      for (const id of ids) {
        const replica = sim.held(id, p);
        const isr = sim.image.topicsByName.get(TOPIC)!.partitions[p]!.isr;
        if (isr.includes(id) && replica.logEndOffset !== leader.logEndOffset) {
          sim.fail(
            "Converged",
            `p${p} node ${id} ends at ${replica.logEndOffset}, leader at ${leader.logEndOffset}`,
          );
        }
      }
    }
    return { seed, steps, stats: { ...sim.stats }, acked: sim.acked.length };
  } finally {
    await sim.close();
  }
}
