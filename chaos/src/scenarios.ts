// The known failure scenarios of issue 17 item 4 (`../shared/CLUSTER.md` section 4), each a named
// script of faults aimed at roles, not at fixed nodes: the leader of `chaos-queue` partition 0, its
// in-sync followers, the active controller. Roles are read from the cluster (Metadata for the
// partition, DescribeQuorum for the controller) at the moment a fault is applied, so the same script
// hits the right node whichever node leads. The faults go through the nemesis, so they are logged,
// reported and healed like a random schedule's; the workloads and the checker are the same.
//
// Every wait for the cluster to react (a new leader, an ISR that shrank or grew) is bounded; a wait
// that runs out is logged and the script goes on, since what is judged is the history (an
// unavailable partition is not an anomaly; a lost or duplicated write is).

import type { Fault } from "./schedule.js";

/** What a scenario sees of partition 0 of the queue topic and of the quorum, now. */
export interface Roles {
  /** -1 while the partition has no leader. */
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** The active controller, when the quorum has one. */
  readonly controller: number | undefined;
}

export interface ScenarioContext {
  readonly nodes: readonly number[];
  roles(): Promise<Roles>;
  /** Applies one fault through the nemesis (logged; a failure is recorded, not thrown). */
  apply(fault: Fault): Promise<void>;
  /**
   * Applies faults on different nodes at once: restarts of nodes that can only start together (a
   * node waits for a quorum of controllers before it answers, so with every node down one restart
   * alone never ends).
   */
  applyTogether(faults: readonly Fault[]): Promise<void>;
  /** Polls the roles until `ok` holds or `timeoutMs` passes; says which. */
  until(what: string, ok: (r: Roles) => boolean, timeoutMs?: number): Promise<boolean>;
  /** Lets the workload run for this many steps. */
  steps(n: number): Promise<void>;
  log(line: string): void;
}

export interface Scenario {
  readonly name: string;
  /** The KIP or report the scenario comes from. */
  readonly origin: string;
  readonly description: string;
  /** Network faults need `--net netns`. */
  readonly needsNetns?: boolean;
  /** The node's unflushed data is lost: Krill's fsync journal only. */
  readonly krillOnly?: boolean;
  run(ctx: ScenarioContext): Promise<void>;
}

const WAIT_MS = 30_000;

/** The first in-sync follower in replica order: the one an election would pick. */
function firstFollower(r: Roles): number {
  const f = r.replicas.find((id) => id !== r.leader && r.isr.includes(id));
  if (f === undefined) throw new Error(`partition 0 has no in-sync follower (isr ${r.isr.join(",")})`);
  return f;
}

async function leaderWithFullIsr(ctx: ScenarioContext): Promise<Roles> {
  await ctx.until(
    "a leader and a full ISR",
    (r) => r.leader >= 0 && r.isr.length === r.replicas.length && r.replicas.length >= 3,
    60_000,
  );
  const r = await ctx.roles();
  if (r.leader < 0 || r.replicas.length < 3)
    throw new Error(`the scenario needs partition 0 led and on three replicas (${JSON.stringify(r)})`);
  return r;
}

const hwTruncation: Scenario = {
  name: "hw-truncation",
  origin: "KIP-101 case 1",
  description:
    "A follower restarts (and, before KIP-101, truncated to its high watermark), then the leader dies at once, so the restarted follower is elected before it has fetched again.",
  async run(ctx) {
    const r = await leaderWithFullIsr(ctx);
    const leader = r.leader;
    const follower = firstFollower(r);
    await ctx.apply({ kind: "kill", node: follower });
    await ctx.apply({ kind: "restart", node: follower });
    await ctx.apply({ kind: "kill", node: leader });
    await ctx.until("a new leader", (x) => x.leader >= 0 && x.leader !== leader, WAIT_MS);
    await ctx.steps(2);
    await ctx.apply({ kind: "restart", node: leader });
    await ctx.until("the ISR to grow back", (x) => x.isr.length === x.replicas.length, WAIT_MS);
  },
};

const doubleCrash: Scenario = {
  name: "double-crash",
  origin: "KIP-101 case 2",
  description:
    "The leader and a follower crash together; the follower comes back first and leads, takes writes; the old leader comes back with a tail the new leader never had, which it must truncate.",
  async run(ctx) {
    const r = await leaderWithFullIsr(ctx);
    const leader = r.leader;
    const follower = firstFollower(r);
    await ctx.apply({ kind: "kill", node: leader });
    await ctx.apply({ kind: "kill", node: follower });
    await ctx.steps(1);
    await ctx.apply({ kind: "restart", node: follower });
    await ctx.until("a leader other than the old one", (x) => x.leader >= 0 && x.leader !== leader, WAIT_MS);
    await ctx.steps(2);
    await ctx.apply({ kind: "restart", node: leader });
    await ctx.until("the ISR to grow back", (x) => x.isr.length === x.replicas.length, WAIT_MS);
  },
};

const backToBack: Scenario = {
  name: "back-to-back",
  origin: "KIP-279",
  description:
    "The leader dies, and the leader elected after it dies as soon as it is elected, before the followers have fetched from it.",
  async run(ctx) {
    const r = await leaderWithFullIsr(ctx);
    const first = r.leader;
    await ctx.apply({ kind: "kill", node: first });
    await ctx.until("a second leader", (x) => x.leader >= 0 && x.leader !== first, WAIT_MS);
    const second = (await ctx.roles()).leader;
    if (second >= 0 && second !== first) await ctx.apply({ kind: "kill", node: second });
    await ctx.steps(2);
    await ctx.apply({ kind: "restart", node: first });
    await ctx.until("a live leader", (x) => x.leader >= 0 && x.leader !== second, WAIT_MS);
    await ctx.steps(1);
    if (second >= 0 && second !== first) await ctx.apply({ kind: "restart", node: second });
    await ctx.until("the ISR to grow back", (x) => x.isr.length === x.replicas.length, WAIT_MS);
  },
};

const zombieLeader: Scenario = {
  name: "zombie-leader",
  origin: "KIP-320",
  description:
    "The leader is cut off from the other nodes (the controller quorum and its followers) but not from the clients; a new leader is elected while the old one still answers clients.",
  needsNetns: true,
  async run(ctx) {
    const r = await leaderWithFullIsr(ctx);
    const leader = r.leader;
    const others = ctx.nodes.filter((id) => id !== leader);
    await ctx.apply({ kind: "partition", sides: [[leader], others] });
    await ctx.until("a new leader", (x) => x.leader >= 0 && x.leader !== leader, WAIT_MS);
    await ctx.steps(3);
    await ctx.apply({ kind: "heal-net" });
    await ctx.until("the ISR to grow back", (x) => x.isr.length === x.replicas.length, WAIT_MS);
  },
};

const lastReplicaStanding: Scenario = {
  name: "last-replica-standing",
  origin: "KIP-966",
  description:
    "The followers die one after the other until the leader is the last in-sync replica, then it dies too; the followers come back first (unclean election off: none of them may lead with less than every acknowledged write), then the leader.",
  async run(ctx) {
    const r = await leaderWithFullIsr(ctx);
    const leader = r.leader;
    const [f1, f2] = r.replicas.filter((id) => id !== leader) as [number, number];
    await ctx.apply({ kind: "kill", node: f1 });
    await ctx.until(`the ISR without node ${f1}`, (x) => !x.isr.includes(f1), WAIT_MS);
    await ctx.apply({ kind: "kill", node: f2 });
    await ctx.steps(2);
    await ctx.apply({ kind: "kill", node: leader });
    await ctx.steps(1);
    await ctx.applyTogether([
      { kind: "restart", node: f1 },
      { kind: "restart", node: f2 },
    ]);
    await ctx.steps(3);
    await ctx.apply({ kind: "restart", node: leader });
    await ctx.until("the ISR to grow back", (x) => x.isr.length === x.replicas.length, 60_000);
  },
};

const emptyDiskFollower: Scenario = {
  name: "empty-disk-follower",
  origin: "KIP-903",
  description:
    "A follower restarts with its partitions' data gone, within replica.lag.time.max.ms; then the leader dies. The empty follower must not be taken for in-sync on stale state and elected.",
  async run(ctx) {
    const r = await leaderWithFullIsr(ctx);
    const leader = r.leader;
    const follower = firstFollower(r);
    await ctx.apply({ kind: "kill", node: follower });
    await ctx.apply({ kind: "wipe", node: follower });
    await ctx.apply({ kind: "restart", node: follower });
    await ctx.apply({ kind: "kill", node: leader });
    await ctx.until("a new leader", (x) => x.leader >= 0 && x.leader !== leader, WAIT_MS);
    await ctx.steps(2);
    await ctx.apply({ kind: "restart", node: leader });
    await ctx.until("the ISR to grow back", (x) => x.isr.length === x.replicas.length, 60_000);
  },
};

const controllerUnflushed: Scenario = {
  name: "controller-unflushed",
  origin: "CLUSTER.md section 4 (quorum)",
  description:
    "The active controller loses its unflushed data (a power loss: segments cut back to their last fsync), restarts, and rejoins; then the next active controller does the same.",
  krillOnly: true,
  async run(ctx) {
    for (let round = 0; round < 2; round++) {
      await ctx.until("an active controller", (x) => x.controller !== undefined, 60_000);
      const c = (await ctx.roles()).controller;
      if (c === undefined) return;
      await ctx.apply({ kind: "lose-unflushed", node: c });
      await ctx.until(
        "another active controller",
        (x) => x.controller !== undefined && x.controller !== c,
        WAIT_MS,
      );
      await ctx.steps(2);
      await ctx.apply({ kind: "restart", node: c });
      await ctx.steps(2);
    }
  },
};

export const SCENARIOS: readonly Scenario[] = [
  hwTruncation,
  doubleCrash,
  backToBack,
  zombieLeader,
  lastReplicaStanding,
  emptyDiskFollower,
  controllerUnflushed,
];

export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
