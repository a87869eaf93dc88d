/**
 * One seeded run of the replication simulation, decided by Krill's real controller
 * (sim-cluster.ts): a random schedule of produces (acks=all and acks=1, sent to the leader as
 * some broker's possibly stale metadata names it), fetcher rounds, time passing (heartbeats,
 * ISR shrink, acks=all timeouts), the quorum committing the controller's proposals, brokers
 * replaying metadata at their own pace, AlterPartitions reaching the controller, the
 * controller's session checks and preferred elections, brokers cut off from each other or from
 * the controller, high-watermark checkpoints, crashes, controlled shutdowns and restarts, and
 * controller failovers, with every invariant of SimCluster checked after each step. At the end
 * every link heals, every broker runs and the cluster quiesces: every ISR replica holds every
 * acks=all record.
 */
import { SimCluster, TOPIC } from "./sim-cluster.js";

export interface RunResult {
  readonly seed: number;
  readonly steps: number;
  readonly stats: SimCluster["stats"];
  readonly acked: number;
  readonly produceErrors: ReadonlyMap<string, number>;
}

export async function runSeed(seed: number, steps = 120): Promise<RunResult> {
  const sim = new SimCluster({ seed, nodes: seed % 4 === 1 ? 2 : 3, partitions: 2, minInsyncReplicas: 2 });
  try {
    await sim.start();
    const pick = <T>(items: readonly T[]): T => items[Math.floor(sim.random() * items.length)]!;
    const produces: Promise<number>[] = [];
    const ids = [...sim.nodes.keys()];
    const partitions = [0, 1];
    // At most one broker stopped at a time, so the cluster keeps a quorum of brokers for writes.
    const stopped = () => ids.filter((id) => sim.isStopped(id));
    for (let step = 0; step < steps; step++) {
      const r = sim.random();
      if (r < 0.22 || r >= 0.98) {
        const p = pick(partitions);
        const acks = sim.random() < 0.7 ? -1 : 1;
        // The client's metadata: the committed image, or some broker's (possibly stale) one.
        const via = sim.random() < 0.5 ? undefined : pick(ids);
        sim.note(`step ${step}: produce p${p} acks=${acks} (metadata of ${via ?? "the quorum"})`);
        produces.push(sim.produceTo(p, acks, 1 + Math.floor(sim.random() * 3), 20_000, via));
      } else if (r < 0.44) {
        await sim.fetchRound(pick(ids));
      } else if (r < 0.51) {
        const ms = pick([10, 100, 1_000, 5_000, 12_000, 31_000]);
        sim.note(`step ${step}: advance ${ms} ms`);
        if (sim.random() < 0.8) await sim.advanceLive(ms);
        else sim.advance(ms);
      } else if (r < 0.64) {
        await sim.commitNext();
      } else if (r < 0.72) {
        await sim.replayMetadata(pick(ids), 1 + Math.floor(sim.random() * 3));
      } else if (r < 0.77) {
        sim.heartbeat(pick(ids));
      } else if (r < 0.83) {
        sim.deliverAlterPartition();
      } else if (r < 0.85) {
        sim.note(`step ${step}: controller checks sessions`);
        sim.checkSessions();
      } else if (r < 0.86) {
        sim.note(`step ${step}: controller runs elections`);
        sim.runElections();
      } else if (r < 0.88) {
        const id = pick(ids);
        sim.setDown(id, !sim.isDown(id));
      } else if (r < 0.895) {
        const id = pick(ids);
        sim.setCutFromController(id, !sim.isCutFromController(id));
      } else if (r < 0.915) {
        sim.note(`step ${step}: the network heals`);
        for (const id of ids) {
          if (sim.isDown(id)) sim.setDown(id, false);
          if (sim.isCutFromController(id)) sim.setCutFromController(id, false);
        }
      } else if (r < 0.925) {
        sim.checkpoint(pick(ids));
      } else if (r < 0.955) {
        const down = stopped();
        if (down.length > 0) sim.startBroker(down[0]!);
        else {
          const id = pick(ids);
          const how = sim.random();
          if (how < 0.45) await sim.crash(id);
          // A power loss (the KIP-966 case it may lead to is counted, not checked).
          else if (how < 0.7) await sim.crash(id, true);
          else await sim.shutDown(id);
        }
      } else if (r < 0.965) {
        await sim.failoverController();
      } else {
        // A divergent follower: the leader appends alone (acks=1) and is then cut off from
        // the controller, which fences it once its session expires.
        const p = pick(partitions);
        const leader = sim.leaderOf(p);
        sim.note(`step ${step}: acks=1 to p${p}, then its leader ${leader} is cut off from the controller`);
        produces.push(sim.produceTo(p, 1, 2));
        await sim.settle();
        if (leader >= 0) sim.setCutFromController(leader, true);
      }
      await sim.settle();
      sim.checkInvariants();
    }
    // Heal and quiesce: every link back, every broker running, rounds until nothing is pending.
    sim.note("heal");
    for (const id of ids) {
      if (sim.isDown(id)) sim.setDown(id, false);
      if (sim.isCutFromController(id)) sim.setCutFromController(id, false);
      sim.startBroker(id);
    }
    for (let round = 0; round < 80; round++) {
      for (const id of ids) await sim.fetchRound(id);
      await sim.quiesce(true, 3);
      await sim.advanceLive(100);
      if (round % 10 === 9) sim.checkSessions();
      await sim.settle();
      sim.checkInvariants();
    }
    await sim.advanceLive(60_000);
    await sim.quiesce(true);
    await Promise.all(produces);
    sim.checkInvariants();
    // Converged: every ISR replica of each partition holds the leader's whole log, and the
    // partitions have leaders again.
    for (const p of partitions) {
      const leaderId = sim.leaderOf(p);
      if (leaderId < 0) sim.fail("Converged", `p${p} has no leader after healing`);
      const leader = sim.held(leaderId, p);
      const isr = sim.image.topicsByName.get(TOPIC)!.partitions[p]!.isr;
      for (const id of isr) {
        const replica = sim.held(id, p);
        if (replica.logEndOffset !== leader.logEndOffset) {
          sim.fail(
            "Converged",
            `p${p} node ${id} ends at ${replica.logEndOffset}, leader at ${leader.logEndOffset}`,
          );
        }
      }
    }
    return {
      seed,
      steps,
      stats: { ...sim.stats },
      acked: sim.acked.length,
      produceErrors: sim.produceErrors,
    };
  } finally {
    await sim.close();
  }
}
