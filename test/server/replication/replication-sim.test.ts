import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { SESSION_TIMEOUT_MS, SimCluster, TOPIC } from "./sim-cluster.js";
import { runSeed } from "./sim-run.js";

describe("replication (deterministic, in-process)", () => {
  it("answers acks=all once the followers fetched, and holds the HWM until they do", async () => {
    const sim = new SimCluster({ seed: 1, nodes: 3, partitions: 1, minInsyncReplicas: 2 });
    try {
      await sim.start();
      const leader = sim.held(1, 0);
      expect(leader.isLeader).toBe(true);
      expect([...leader.isr]).toEqual([1, 2, 3]);
      let answered: number | undefined;
      const acked = sim.produceTo(0, -1, 2).then((code) => {
        answered = code;
        return code;
      });
      await sim.settle();
      expect(answered).toBeUndefined();
      expect(leader.logEndOffset).toBe(2);
      expect(leader.highWatermark).toBe(0);
      await sim.fetchRound(2);
      await sim.fetchRound(3);
      expect(sim.held(2, 0).logEndOffset).toBe(2);
      // The leader learns the followers' offsets on their next fetch.
      await sim.fetchRound(2);
      await sim.settle();
      expect(answered).toBeUndefined();
      await sim.fetchRound(3);
      await sim.settle();
      expect(leader.highWatermark).toBe(2);
      expect(await acked).toBe(ErrorCode.NONE);
      // The followers learn the high watermark from the leader's answers.
      await sim.fetchRound(2);
      expect(sim.held(2, 0).highWatermark).toBe(2);
      sim.checkInvariants();
    } finally {
      await sim.close();
    }
  });

  it("shrinks the ISR of a silent follower, refuses acks=all below min.insync.replicas, and expands it back", async () => {
    const sim = new SimCluster({ seed: 2, nodes: 3, partitions: 1, minInsyncReplicas: 3 });
    try {
      await sim.start();
      const leader = sim.held(1, 0);
      sim.setDown(3, true);
      const waiting = sim.produceTo(0, -1, 1, 60_000);
      await sim.fetchRound(2);
      await sim.fetchRound(2);
      sim.advance(31_000);
      await sim.fetchRound(2);
      expect(leader.isrChangeInFlight).toBe(true);
      // While the shrink is in flight the HWM still waits for node 3.
      expect(leader.highWatermark).toBe(0);
      expect(await sim.answerAlterPartition()).toBe(true);
      await sim.settle();
      expect([...leader.isr].sort()).toEqual([1, 2]);
      // Below min.insync.replicas 3 the HWM stays (KAFKA-15583): the waiting produce times out,
      // new acks=all produces are refused, acks=1 ones are taken.
      sim.advance(60_000);
      await sim.settle();
      expect(await waiting).toBe(ErrorCode.REQUEST_TIMED_OUT);
      expect(leader.highWatermark).toBe(0);
      expect(await sim.produceTo(0, -1, 1)).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
      expect(await sim.produceTo(0, 1, 1)).toBe(ErrorCode.NONE);
      sim.setDown(3, false);
      await sim.fetchRound(3);
      await sim.fetchRound(3);
      expect(leader.isrChangeInFlight).toBe(true);
      expect(await sim.answerAlterPartition()).toBe(true);
      await sim.settle();
      expect([...leader.isr].sort()).toEqual([1, 2, 3]);
      await sim.fetchRound(2);
      await sim.fetchRound(2);
      await sim.fetchRound(3);
      expect(leader.highWatermark).toBe(2);
      sim.checkInvariants();
    } finally {
      await sim.close();
    }
  });

  it("truncates a divergent former leader to the new leader's log (DivergingEpoch)", async () => {
    const sim = new SimCluster({ seed: 3, nodes: 2, partitions: 1, minInsyncReplicas: 1 });
    try {
      await sim.start();
      expect(await sim.produceTo(0, 1, 2)).toBe(ErrorCode.NONE);
      await sim.fetchRound(2);
      await sim.fetchRound(2);
      // Node 1 appends alone, then loses leadership before node 2 fetches.
      expect(await sim.produceTo(0, 1, 3)).toBe(ErrorCode.NONE);
      expect(sim.held(1, 0).logEndOffset).toBe(5);
      expect(await sim.electLeader(0)).toBe(true);
      expect(await sim.produceTo(0, 1, 1)).toBe(ErrorCode.NONE);
      await sim.fetchRound(1);
      expect(sim.held(1, 0).logEndOffset).toBe(2);
      await sim.fetchRound(1);
      expect(sim.held(1, 0).logEndOffset).toBe(3);
      sim.checkInvariants();
    } finally {
      await sim.close();
    }
  });

  it("keeps high watermarks across restarts (replication-offset-checkpoint) and truncates a crashed leader's tail", async () => {
    const sim = new SimCluster({ seed: 4, nodes: 3, partitions: 1, minInsyncReplicas: 2 });
    try {
      await sim.start();
      const acked = sim.produceTo(0, -1, 3);
      for (const id of [2, 3, 2, 3]) await sim.fetchRound(id);
      expect(await acked).toBe(ErrorCode.NONE);
      await sim.fetchRound(2);
      expect(sim.held(2, 0).highWatermark).toBe(3);
      // A clean restart of a follower: its high watermark comes back from the checkpoint.
      await sim.restart(2, true);
      expect(sim.held(2, 0).highWatermark).toBe(3);
      const dir = sim.nodes.get(2)!.dir;
      expect(fs.readFileSync(path.join(dir, "replication-offset-checkpoint"), "utf8")).toBe(
        "0\n1\nsim 0 3\n",
      );
      // The leader appends alone (acks=1) and crashes before anyone fetched: node 3 (the other
      // ISR member; node 2 left the ISR when it restarted) leads now, and node 1's high watermark, from its last periodic checkpoint, exposes nothing beyond
      // what was committed.
      sim.checkpoint(1);
      expect(await sim.produceTo(0, 1, 2)).toBe(ErrorCode.NONE);
      expect(sim.held(1, 0).logEndOffset).toBe(5);
      await sim.restart(1, false);
      expect(sim.leaderOf(0)).toBe(3);
      expect(sim.held(1, 0).highWatermark).toBe(3);
      expect(sim.held(1, 0).logEndOffset).toBe(5);
      sim.checkInvariants();
      expect(await sim.produceTo(0, 1, 1)).toBe(ErrorCode.NONE);
      // Its first fetch names its last epoch; the new leader answers with a diverging epoch.
      await sim.fetchRound(1);
      expect(sim.held(1, 0).logEndOffset).toBe(3);
      await sim.fetchRound(1);
      expect(sim.held(1, 0).logEndOffset).toBe(4);
      sim.checkInvariants();
      expect(sim.stats.truncations).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });

  it("refuses a deposed leader's AlterPartition even when its ISR names the new leader (leader epoch check)", async () => {
    const sim = new SimCluster({ seed: 6, nodes: 3, partitions: 1, minInsyncReplicas: 2 });
    try {
      await sim.start();
      expect(sim.leaderOf(0)).toBe(1);
      // Node 1 is cut off from the controller; its session expires and node 2 is elected. Node 2
      // does not replay that yet, so it still fetches from node 1, which keeps leading epoch 0.
      sim.setCutFromController(1, true);
      sim.timer.advance(SESSION_TIMEOUT_MS + 1);
      sim.heartbeat(2);
      sim.heartbeat(3);
      await sim.settle();
      sim.checkSessions();
      await sim.settle();
      while (await sim.commitNext()) await sim.settle();
      expect(sim.leaderOf(0)).toBe(2);
      expect(sim.image.topicsByName.get(TOPIC)!.partitions[0]!.isr).toEqual([2, 3]);
      await sim.replayMetadata(3);
      await sim.fetchRound(2);
      // The zombie drops node 3 (which follows node 2 now) from its ISR: [1, 2], which names the
      // current leader, so only the epochs tell the controller the request is stale.
      sim.advance(31_000);
      await sim.fetchRound(2);
      expect(sim.held(1, 0).isLeader).toBe(true);
      expect(sim.held(1, 0).isrChangeInFlight).toBe(true);
      // Node 1 reaches the controller again (heartbeats unfence it) before it replays metadata;
      // its AlterPartition, retried, arrives.
      sim.setCutFromController(1, false);
      sim.heartbeat(1);
      await sim.settle();
      while (await sim.commitNext()) await sim.settle();
      sim.advance(100);
      expect(sim.pendingAlterPartitions).toBe(1);
      sim.deliverAlterPartition();
      await sim.settle();
      while (await sim.commitNext()) await sim.settle();
      expect(sim.stats.alterPartitionsRefused).toBe(1);
      expect(sim.image.topicsByName.get(TOPIC)!.partitions[0]!.isr).toEqual([2, 3]);
      expect(sim.leaderOf(0)).toBe(2);
      sim.checkInvariants();
    } finally {
      await sim.close();
    }
  });

  it("keeps every invariant over seeded random schedules decided by the real controller", async () => {
    const totals = {
      ackedAll: 0,
      leaderChanges: 0,
      isrChanges: 0,
      fencings: 0,
      alterPartitionsAccepted: 0,
      restarts: 0,
    };
    for (let seed = 100; seed < 110; seed++) {
      const result = await runSeed(seed, 100);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += result.stats[k];
    }
    // The schedules exercise what they are meant to: the controller elects, fences and accepts
    // ISR changes, brokers restart, acks=all writes are acknowledged.
    expect(totals.ackedAll).toBeGreaterThan(20);
    expect(totals.leaderChanges).toBeGreaterThan(5);
    expect(totals.isrChanges).toBeGreaterThan(5);
    expect(totals.fencings).toBeGreaterThan(5);
    expect(totals.alterPartitionsAccepted).toBeGreaterThan(5);
    expect(totals.restarts).toBeGreaterThan(5);
  }, 120_000);
});
