// A fault schedule derived from a seed, clock-free: a list of (step, fault), where a step is a slot
// of the run (the runner gives each step the same wall-clock length, but the schedule itself knows
// nothing of time). The same seed, node list and options always give the same schedule, so a run
// that found something replays with its seed; the report prints the seed and the schedule.
//
// Every fault that starts also ends: a kill is followed by a restart, a pause by a resume, a network
// fault by a heal, each two to six steps later, and the last step ends whatever is still active.

export type Fault =
  /** kill -9; the node stays down until its restart. */
  | { kind: "kill"; node: number }
  /**
   * kill -9, then the node's unflushed data is lost (every segment cut back to its last fsync, as
   * after a power loss); the node stays down until its restart. Krill only (its fsync journal).
   */
  | { kind: "lose-unflushed"; node: number }
  | { kind: "restart"; node: number }
  /**
   * While the node is down: its replicas of the workload topics are deleted (an empty disk for
   * them; the node's metadata stays). Used by the named scenarios, not by random schedules.
   */
  | { kind: "wipe"; node: number }
  /** SIGSTOP (Jepsen's pause nemesis); the node stays stopped until its resume (SIGCONT). */
  | { kind: "pause"; node: number }
  | { kind: "resume"; node: number }
  /** Nodes on different sides cannot reach each other (clients still reach every node). */
  | { kind: "partition"; sides: number[][] }
  /** The node drops this share of the packets it sends and receives. */
  | { kind: "loss"; node: number; percent: number }
  /** The node's packets wait this long (tc netem; needs the sch_netem kernel module). */
  | { kind: "delay"; node: number; ms: number; jitterMs: number }
  /** Removes every partition, loss and delay. */
  | { kind: "heal-net" };

export type FaultKind = "kill" | "lose-unflushed" | "pause" | "partition" | "loss" | "delay";
/** The default mix. "lose-unflushed" is asked for explicitly (--faults), since Kafka has no hook for it. */
export const FAULT_KINDS: readonly FaultKind[] = ["kill", "pause", "partition", "loss", "delay"];
export const ALL_FAULT_KINDS: readonly FaultKind[] = [...FAULT_KINDS, "lose-unflushed"];

export interface ScheduledFault {
  step: number;
  fault: Fault;
}

export interface ScheduleOptions {
  seed: number;
  /** Steps of the run; faults end at the latest at this step. */
  steps: number;
  /** Node ids. */
  nodes: readonly number[];
  /** The kinds of fault to draw from. */
  faults: readonly FaultKind[];
  /** Chance that a step starts a new fault (default 0.4). */
  faultProbability?: number;
  /**
   * Nodes that may be down or paused at once (default: 1, which keeps a three-node cluster with
   * min.insync.replicas=2 writable, and lets a single node go down entirely).
   */
  maxDown?: number;
}

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; the same seed gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeSchedule(options: ScheduleOptions): ScheduledFault[] {
  const { steps, nodes, faults } = options;
  if (!Number.isSafeInteger(steps) || steps < 1)
    throw new Error(`steps must be a positive integer, not ${steps}`);
  if (nodes.length === 0) throw new Error("a schedule needs at least one node");
  const p = options.faultProbability ?? 0.4;
  const maxDown = options.maxDown ?? 1;
  const rnd = prng(options.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const duration = (): number => 2 + Math.floor(rnd() * 5);

  const out: ScheduledFault[] = [];
  /** Node -> [the step its kill or pause ends, how it ends]. */
  const downUntil = new Map<number, [number, Fault]>();
  let netUntil: number | null = null;

  const endDue = (step: number, all: boolean): void => {
    for (const [node, [until, end]] of [...downUntil]) {
      if (all || until <= step) {
        out.push({ step, fault: end });
        downUntil.delete(node);
      }
    }
    if (netUntil !== null && (all || netUntil <= step)) {
      out.push({ step, fault: { kind: "heal-net" } });
      netUntil = null;
    }
  };

  for (let step = 0; step < steps; step++) {
    endDue(step, false);
    if (rnd() >= p) continue;
    const upNodes = nodes.filter((n) => !downUntil.has(n));
    const possible = faults.filter((kind) => {
      switch (kind) {
        case "kill":
        case "lose-unflushed":
        case "pause":
          return downUntil.size < maxDown && upNodes.length > 0;
        case "partition":
          return nodes.length > 1 && netUntil === null;
        case "loss":
        case "delay":
          return netUntil === null;
        default:
          return false;
      }
    });
    if (possible.length === 0) continue;
    const kind = pick(possible);
    const until = Math.min(steps, step + duration());
    switch (kind) {
      case "kill":
      case "lose-unflushed":
      case "pause": {
        const node = pick(upNodes);
        out.push({ step, fault: { kind, node } });
        downUntil.set(node, [until, kind === "pause" ? { kind: "resume", node } : { kind: "restart", node }]);
        break;
      }
      case "partition": {
        // A random split into two non-empty sides (for three nodes: one node cut from two).
        const shuffled = [...nodes];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = Math.floor(rnd() * (i + 1));
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const cut = 1 + Math.floor(rnd() * (nodes.length - 1));
        out.push({
          step,
          fault: {
            kind: "partition",
            sides: [shuffled.slice(0, cut).sort((a, b) => a - b), shuffled.slice(cut).sort((a, b) => a - b)],
          },
        });
        netUntil = until;
        break;
      }
      case "loss":
        out.push({ step, fault: { kind: "loss", node: pick(nodes), percent: pick([5, 10, 20]) } });
        netUntil = until;
        break;
      case "delay":
        out.push({
          step,
          fault: { kind: "delay", node: pick(nodes), ms: pick([20, 50, 100]), jitterMs: 10 },
        });
        netUntil = until;
        break;
    }
  }
  endDue(steps, true);
  return out;
}

/** One line per fault, for reports and logs. */
export function describeFault(f: Fault): string {
  switch (f.kind) {
    case "kill":
    case "lose-unflushed":
    case "wipe":
    case "restart":
    case "pause":
    case "resume":
      return `${f.kind} node ${f.node}`;
    case "partition":
      return `partition ${f.sides.map((s) => `{${s.join(",")}}`).join(" | ")}`;
    case "loss":
      return `loss ${f.percent}% on node ${f.node}`;
    case "delay":
      return `delay ${f.ms}±${f.jitterMs} ms on node ${f.node}`;
    case "heal-net":
      return "heal network";
  }
}
