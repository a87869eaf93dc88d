/**
 * A deterministic simulation of the KRaft quorum (like Kafka's RaftEventSimulationTest): N voters
 * (1-5) and observers, each a real RaftClient on a MemoryRaftLog and a MemoryQuorumStateStore,
 * driven by one event queue keyed by (time, seq) on a simulated clock, with a network that
 * drops, delays (and so reorders) and partitions messages, all from one seeded PRNG. Every event
 * is handled synchronously; the named invariants are checked after every event and the final
 * validation at the end. A failure throws SimulationFailure whose message ends with the one-line
 * command that replays the seed.
 *
 * Used by test/raft/simulation.test.ts (a fixed set of seeds) and scripts/raft-sim.ts (10,000).
 */
import { RaftClient, type RaftListener } from "../../src/raft/client.js";
import { defaultQuorumConfig, type QuorumConfig } from "../../src/raft/config.js";
import { MemoryRaftLog } from "../../src/raft/memory-log.js";
import { MemoryQuorumStateStore } from "../../src/raft/quorum-state.js";
import {
  batchEndOffset,
  type OffsetAndEpoch,
  type RaftBatch,
  type RaftChannel,
  type RaftClock,
  type RaftRecord,
  type RaftRequest,
  type RaftResponse,
} from "../../src/raft/types.js";
import { randomInt, SeededRandom } from "../../src/random.js";

export const SCENARIOS = [
  "initial-election",
  "leader-failure",
  "minority-partition",
  "all-restart",
  "back-to-back-failures",
  "message-chaos",
  "unflushed-loss",
  "graceful-shutdown",
  "check-quorum",
  "random-faults",
  "fast-failover",
  "connection-reset",
] as const;

/**
 * FastFailover: after the leader's process is killed on a healthy network, a leader of a higher
 * epoch within this much simulated time. The followers see the dead leader's connections close
 * and stand at once (the first by id; the others after a backoff by rank, at most
 * election.backoff.max.ms), rather than after controller.quorum.fetch.timeout.ms (2 s) and an
 * election.
 */
export const FAST_FAILOVER_BOUND_MS = 1_500;
export type ScenarioName = (typeof SCENARIOS)[number];

export function replayCommand(seed: number): string {
  return `npx tsx scripts/raft-sim.ts --seed ${seed}`;
}

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly invariant: string,
    detail: string,
    readonly trace: readonly string[],
  ) {
    super(`${invariant}: ${detail}\nreplay: ${replayCommand(seed)}`);
    this.name = "SimulationFailure";
  }
}

/** The broker's seeded generator with the few draws the scenarios need. */
export class Prng extends SeededRandom {
  nextInt(bound: number): number {
    return randomInt(this, bound);
  }
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.nextInt(items.length)]!;
  }
}

interface SimEvent {
  readonly timeMs: number;
  readonly seq: number;
  readonly label: string;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A binary heap of events ordered by (time, seq): equal times run in the order they were scheduled. */
class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;
  nowMs = 0;

  schedule(atMs: number, label: string, fn: () => void): SimEvent {
    const e: SimEvent = { timeMs: Math.max(atMs, this.nowMs), seq: this.seq++, label, fn, cancelled: false };
    this.heap.push(e);
    let i = this.heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.heap[i]!, this.heap[p]!)) break;
      [this.heap[i], this.heap[p]] = [this.heap[p]!, this.heap[i]!];
      i = p;
    }
    return e;
  }

  pop(): SimEvent | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.heap.length && this.less(this.heap[l]!, this.heap[m]!)) m = l;
        if (r < this.heap.length && this.less(this.heap[r]!, this.heap[m]!)) m = r;
        if (m === i) break;
        [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
        i = m;
      }
    }
    return top;
  }

  get size(): number {
    return this.heap.length;
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.timeMs !== b.timeMs ? a.timeMs < b.timeMs : a.seq < b.seq;
  }
}

/** The state machine of each node: the sequence numbers committed, by offset (Kafka's counter). */
class SequenceStateMachine implements RaftListener {
  applied = new Map<number, number>();
  nextOffset = 0;
  lastSnapshotOffset = 0;
  constructor(
    private readonly node: SimNode,
    private readonly sim: Simulation,
  ) {}

  handleCommit(batch: RaftBatch): void {
    if (batch.baseOffset !== this.nextOffset) {
      this.sim.fail(
        "ContiguousCommits",
        `node ${this.node.id} got batch at ${batch.baseOffset}, expected ${this.nextOffset}`,
      );
    }
    batch.records.forEach((r, i) => {
      if (r.type === "data") this.applied.set(batch.baseOffset + i, Number(r.value.toString()));
    });
    this.nextOffset = batchEndOffset(batch);
    if (this.nextOffset - this.lastSnapshotOffset >= this.sim.snapshotEveryRecords) {
      const id: OffsetAndEpoch = { offset: this.nextOffset, epoch: batch.epoch };
      const bytes = Buffer.from(JSON.stringify([...this.applied]));
      this.lastSnapshotOffset = this.nextOffset;
      const client = this.node.client;
      this.sim.queue.schedule(this.sim.queue.nowMs, `snapshot ${this.node.id}@${id.offset}`, () => {
        if (this.node.client === client && client !== null) client.createSnapshot(id, bytes);
      });
    }
  }

  handleLoadSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    this.applied = new Map(JSON.parse(bytes.toString()) as [number, number][]);
    this.nextOffset = id.offset;
    this.lastSnapshotOffset = id.offset;
  }

  handleLeaderChange(): void {}
}

class SimNode {
  readonly log = new MemoryRaftLog();
  readonly store = new MemoryQuorumStateStore();
  client: RaftClient | null = null;
  machine: SequenceStateMachine | null = null;
  incarnation = 0;
  /** How far below its high watermark this node's log was compared with the committed record. */
  checkedUpTo = 0;
  lastHighWatermark = -1;
  lastStoredEpoch = 0;
  constructor(
    readonly id: number,
    readonly isVoter: boolean,
  ) {}
  get running(): boolean {
    return this.client !== null;
  }
}

export interface SimulationOptions {
  readonly seed: number;
  readonly voters: number;
  readonly observers: number;
  readonly scenario: ScenarioName;
  /** Keep the last events for the failure report. */
  readonly traceEvents?: number;
}

/** Chooses the cluster and the scenario from the seed alone, so `--seed S` replays everything. */
export function optionsForSeed(seed: number): SimulationOptions {
  const rng = new Prng(seed ^ 0x5eed);
  const scenario = SCENARIOS[seed % SCENARIOS.length]!;
  const minVoters =
    scenario === "minority-partition" ||
    scenario === "check-quorum" ||
    scenario === "unflushed-loss" ||
    scenario === "fast-failover"
      ? 3
      : 1;
  const voters = minVoters + rng.nextInt(5 - minVoters + 1);
  return { seed, voters, observers: rng.nextInt(3), scenario };
}

export interface SimulationResult {
  readonly seed: number;
  readonly scenario: ScenarioName;
  readonly voters: number;
  readonly observers: number;
  readonly events: number;
  readonly simulatedMs: number;
  readonly committed: number;
  readonly elections: number;
}

export class Simulation {
  readonly queue = new EventQueue();
  readonly rng: Prng;
  readonly nodes: SimNode[] = [];
  readonly voterIds: number[];
  readonly config: QuorumConfig;
  readonly snapshotEveryRecords: number;
  private readonly cut = new Set<string>();
  lossRate = 0;
  /**
   * Set once a lying disk lost acknowledged data: like Kafka's
   * canRecoverFromSingleNodeCommittedDataLoss, MajorityReachedHighWatermark is then off, as the
   * loss itself breaks it; the other invariants and the final validation stay on.
   */
  committedDataLost = false;
  delayMaxMs = 10;
  private nextValue = 1;
  private events = 0;
  private elections = 0;
  private readonly trace: string[] = [];
  /** What was committed at each offset: `${epoch}:${record}`; never changes once set. */
  private readonly committed = new Map<number, string>();
  private committedEnd = 0;
  private readonly leaderOfEpoch = new Map<number, number>();
  private highestLeader = { epoch: -1, highWatermark: -1 };
  private readonly requestIncarnation = new Map<string, number>();
  private readonly voteRequests = new Map<string, Extract<RaftRequest, { api: "Vote" }>>();

  constructor(readonly opts: SimulationOptions) {
    this.rng = new Prng(opts.seed);
    this.voterIds = Array.from({ length: opts.voters }, (_, i) => i + 1);
    this.config = { ...defaultQuorumConfig(this.voterIds), appendLingerMs: this.rng.pick([0, 5, 25]) };
    this.snapshotEveryRecords = this.rng.pick([25, 60, 1_000_000]);
    for (const id of this.voterIds) this.nodes.push(new SimNode(id, true));
    for (let i = 0; i < opts.observers; i++) this.nodes.push(new SimNode(100 + i, false));
  }

  node(id: number): SimNode {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  fail(invariant: string, detail: string): never {
    throw new SimulationFailure(
      this.opts.seed,
      invariant,
      `${detail} (at ${this.queue.nowMs} ms)`,
      this.trace,
    );
  }

  private note(line: string): void {
    const max = this.opts.traceEvents ?? 0;
    if (max === 0) return;
    this.trace.push(`${this.queue.nowMs} ${line}`);
    if (this.trace.length > max) this.trace.shift();
  }

  // ---- nodes ---------------------------------------------------------------------------------

  start(id: number): void {
    const node = this.node(id);
    if (node.running) return;
    node.incarnation++;
    const incarnation = node.incarnation;
    const sim = this;
    const clock: RaftClock = {
      nowMs: () => sim.queue.nowMs,
      setTimer(delayMs, fn) {
        return sim.queue.schedule(sim.queue.nowMs + delayMs, `timer ${id}`, () => {
          if (node.incarnation === incarnation && node.running) fn();
        });
      },
      clearTimer(handle) {
        (handle as SimEvent).cancelled = true;
      },
    };
    const channel: RaftChannel = {
      send: (to, correlationId, request) => this.deliverRequest(id, incarnation, to, correlationId, request),
      respond: (to, correlationId, response) => this.deliverResponse(id, to, correlationId, response),
    };
    const machine = new SequenceStateMachine(node, this);
    node.machine = machine;
    node.checkedUpTo = node.log.startOffset();
    node.lastHighWatermark = -1;
    node.client = new RaftClient({
      nodeId: id,
      clusterId: "sim-cluster",
      config: this.config,
      clock,
      random: new Prng(this.rng.nextUint32()),
      channel,
      log: node.log,
      store: node.store,
      listener: machine,
      fetchMaxBytes: 2048,
      logger: (line) => this.note(line),
    });
    node.client.onTransition = (_from, to) => {
      this.note(`node ${id} -> ${to.name} epoch ${to.epoch}`);
      if (to.name === "leader") {
        this.elections++;
        const previous = this.leaderOfEpoch.get(to.epoch);
        if (previous !== undefined && previous !== id) {
          this.fail("SingleLeader", `epoch ${to.epoch} has leaders ${previous} and ${id}`);
        }
        this.leaderOfEpoch.set(to.epoch, id);
      } else if (to.name === "follower") {
        const leader = this.leaderOfEpoch.get(to.epoch);
        if (leader !== undefined && leader !== to.leaderId) {
          this.fail(
            "SingleLeader",
            `node ${id} follows ${to.leaderId} in epoch ${to.epoch}, led by ${leader}`,
          );
        }
      }
    };
    this.note(`start node ${id} (incarnation ${incarnation})`);
    node.client.start();
  }

  /** kill -9: the process is gone and its disk keeps only what was durable. */
  crash(id: number): void {
    const node = this.node(id);
    if (!node.running) return;
    node.client!.close();
    node.client = null;
    node.machine = null;
    node.log.crash();
    for (const [key, requesterInc] of [...this.requestIncarnation]) {
      if (!key.startsWith(`${id}:`)) continue;
      this.requestIncarnation.delete(key);
      // The kernel closes a killed process's sockets: a request it was holding (a parked Fetch)
      // fails on the requester's side as a closed connection, after a delay.
      const [, from, correlationId] = key.split(":").map(Number) as [number, number, number];
      this.closeConnection(from, requesterInc, id, correlationId);
    }
    for (const key of [...this.voteRequests.keys()]) {
      if (key.startsWith(`${id}:`)) this.voteRequests.delete(key);
    }
    this.note(`crash node ${id}`);
  }

  restart(id: number): void {
    this.crash(id);
    this.start(id);
  }

  // ---- network -------------------------------------------------------------------------------

  partition(group: readonly number[]): void {
    for (const a of group) {
      for (const b of this.nodes) if (!group.includes(b.id)) this.cutLink(a, b.id);
    }
    this.note(`partition ${group.join(",")} from the rest`);
  }

  cutLink(a: number, b: number): void {
    this.cut.add(`${a}-${b}`);
    this.cut.add(`${b}-${a}`);
  }

  heal(): void {
    this.cut.clear();
    this.lossRate = 0;
    this.note("heal");
  }

  /**
   * The peer closed (or refused) the connection a request of `requester` was on: the requester
   * sees the failure as a closed connection after a delay (unless a partition hides it).
   */
  private closeConnection(
    requester: number,
    requesterInc: number,
    peer: number,
    correlationId: number,
  ): void {
    if (this.partitioned(peer, requester)) return;
    const node = this.node(requester);
    this.queue.schedule(this.queue.nowMs + this.delay(), `closed ${peer}->${requester}`, () => {
      if (node.incarnation === requesterInc) node.client?.handleSendFailure(peer, correlationId, true);
    });
  }

  /**
   * A live node's connections from `requester` are reset (a proxy or NAT dropping them, a
   * listener restarting): every request `requester` has waiting on `peer` fails as closed.
   */
  resetConnections(requester: number, peer: number): void {
    for (const [key, requesterInc] of [...this.requestIncarnation]) {
      if (!key.startsWith(`${peer}:${requester}:`)) continue;
      this.requestIncarnation.delete(key);
      this.voteRequests.delete(key);
      this.closeConnection(requester, requesterInc, peer, Number(key.split(":")[2]));
    }
    this.note(`reset the connections of ${requester} to ${peer}`);
  }

  /** A partition drops silently: the sender only finds out by its request timeout. */
  private partitioned(from: number, to: number): boolean {
    return this.cut.has(`${from}-${to}`);
  }

  /**
   * Loss on TCP is a broken connection: the message is gone and the requester sees the failure
   * (handleSendFailure) after a round trip, as Kafka's NetworkClient reports a disconnect.
   */
  private dropped(
    requester: number,
    requesterInc: number,
    destination: number,
    correlationId: number,
  ): boolean {
    if (this.lossRate === 0 || !this.rng.chance(this.lossRate)) return false;
    const node = this.node(requester);
    this.queue.schedule(this.queue.nowMs + this.delay(), `disconnect ${requester}-${destination}`, () => {
      if (node.incarnation === requesterInc) node.client?.handleSendFailure(destination, correlationId);
    });
    return true;
  }

  private delay(): number {
    return 1 + this.rng.nextInt(this.delayMaxMs);
  }

  private deliverRequest(
    from: number,
    fromInc: number,
    to: number,
    correlationId: number,
    request: RaftRequest,
  ) {
    const sender = this.node(from);
    if (request.api === "Fetch" && sender.isVoter && request.fetchOffset > sender.log.flushedEndOffset()) {
      // FlushedBeforeFetch: a voter's Fetch acknowledges its log up to fetchOffset.
      this.fail(
        "FlushedBeforeFetch",
        `node ${from} fetches at ${request.fetchOffset}, flushed ${sender.log.flushedEndOffset()}`,
      );
    }
    if (this.partitioned(from, to) || this.dropped(from, fromInc, to, correlationId)) return;
    this.queue.schedule(this.queue.nowMs + this.delay(), `${request.api} ${from}->${to}`, () => {
      const target = this.nodes.find((n) => n.id === to);
      if (target?.client == null) {
        // Connection refused: the sender learns it after a round trip, as a closed connection.
        this.closeConnection(from, fromInc, to, correlationId);
        return;
      }
      const key = `${to}:${from}:${correlationId}`;
      this.requestIncarnation.set(key, fromInc);
      if (request.api === "Vote" && !request.preVote) this.voteRequests.set(key, request);
      target.client.handleRequest(from, correlationId, request);
    });
  }

  private deliverResponse(from: number, to: number, correlationId: number, response: RaftResponse) {
    const key = `${from}:${to}:${correlationId}`;
    const toInc = this.requestIncarnation.get(key);
    this.requestIncarnation.delete(key);
    const vote = this.voteRequests.get(key);
    this.voteRequests.delete(key);
    if (vote !== undefined && response.api === "Vote" && response.voteGranted) {
      // VotePersistedBeforeAnswer: a granted vote is in the voter's quorum-state before it is sent.
      const stored = this.node(from).store.read();
      if (stored?.epoch !== vote.replicaEpoch || stored.votedId !== vote.replicaId) {
        this.fail(
          "VotePersistedBeforeAnswer",
          `node ${from} granted ${vote.replicaId} epoch ${vote.replicaEpoch}, stored ${JSON.stringify(stored)}`,
        );
      }
    }
    if (toInc === undefined || this.partitioned(from, to) || this.dropped(to, toInc, from, correlationId))
      return;
    this.queue.schedule(this.queue.nowMs + this.delay(), `${response.api} answer ${from}->${to}`, () => {
      const target = this.node(to);
      if (target.incarnation === toInc) target.client?.handleResponse(from, correlationId, response);
    });
  }

  // ---- running -------------------------------------------------------------------------------

  leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.nodes) {
      if (n.client?.state.name === "leader" && (best === null || n.client.epoch > best.client!.epoch))
        best = n;
    }
    return best;
  }

  private scheduleProposals(): void {
    const tick = () => {
      const leader = this.leader();
      if (leader !== null) {
        const value = this.nextValue++;
        leader.client!.propose([Buffer.from(String(value))]);
      }
      this.queue.schedule(this.queue.nowMs + 10 + this.rng.nextInt(60), "propose", tick);
    };
    this.queue.schedule(this.queue.nowMs + 1, "propose", tick);
  }

  /** Runs events until `done` holds (checked after each) or `timeoutMs` of simulated time pass. */
  runUntil(done: () => boolean, timeoutMs: number, what: string, mustSucceed = true): boolean {
    const deadline = this.queue.nowMs + timeoutMs;
    while (!done()) {
      const e = this.queue.pop();
      if (e === undefined) this.fail("Liveness", `no events left while waiting for ${what}`);
      if (e.cancelled) continue;
      if (e.timeMs > deadline) {
        this.queue.schedule(e.timeMs, e.label, e.fn);
        this.queue.nowMs = deadline;
        if (mustSucceed) this.fail("Liveness", `${what} did not happen within ${timeoutMs} ms`);
        return false;
      }
      this.queue.nowMs = e.timeMs;
      this.events++;
      e.fn();
      this.checkInvariants();
    }
    return true;
  }

  runFor(ms: number): void {
    this.runUntil(() => false, ms, "time to pass", false);
  }

  /** The highest-epoch leader's high watermark has grown by `records` offsets. */
  progress(records: number, timeoutMs: number, what: string): void {
    const start = this.committedEnd;
    this.runUntil(() => this.committedEnd >= start + records, timeoutMs, what);
  }

  // ---- invariants ----------------------------------------------------------------------------

  private checkInvariants(): void {
    for (const n of this.nodes) {
      // MonotonicEpoch: the stored epoch never decreases, and a running node acts in it.
      const stored = n.store.read()?.epoch ?? 0;
      if (stored < n.lastStoredEpoch) {
        this.fail("MonotonicEpoch", `node ${n.id} epoch ${n.lastStoredEpoch} -> ${stored}`);
      }
      n.lastStoredEpoch = stored;
      if (n.client === null) continue;
      if (n.client.epoch !== stored) {
        this.fail("MonotonicEpoch", `node ${n.id} runs in epoch ${n.client.epoch}, stored ${stored}`);
      }
      const hw = n.client.highWatermark;
      if (hw === null) continue;
      // MonotonicHighWatermark within one process lifetime.
      if (hw < n.lastHighWatermark) {
        this.fail("MonotonicHighWatermark", `node ${n.id} high watermark ${n.lastHighWatermark} -> ${hw}`);
      }
      n.lastHighWatermark = hw;
      this.checkCommitted(n, hw);
    }
    const leader = this.leader();
    const hw = leader?.client?.highWatermark ?? null;
    if (leader !== null && hw !== null) {
      const epoch = leader.client!.epoch;
      // MonotonicHighWatermark across leaders: the newest leader never exposes less.
      if (epoch >= this.highestLeader.epoch) {
        if (hw < this.highestLeader.highWatermark) {
          this.fail(
            "MonotonicHighWatermark",
            `leader ${leader.id} of epoch ${epoch} has ${hw} < ${this.highestLeader.highWatermark}`,
          );
        }
        this.highestLeader = { epoch, highWatermark: hw };
      }
      // MajorityReachedHighWatermark: a majority of voters hold (flushed) what the leader exposes.
      const holding = this.nodes.filter((n) => n.isVoter && n.log.flushedEndOffset() >= hw).length;
      if (!this.committedDataLost && holding < Math.floor(this.voterIds.length / 2) + 1) {
        this.fail("MajorityReachedHighWatermark", `only ${holding} voters hold ${hw} (leader ${leader.id})`);
      }
    }
  }

  /** CommittedNeverChanges and LogMatching: below its high watermark a log holds exactly what was committed. */
  private checkCommitted(n: SimNode, hw: number): void {
    const log = n.log;
    const end = Math.min(hw, log.endOffset());
    let offset = Math.max(n.checkedUpTo, log.startOffset());
    while (offset < end) {
      const batches = log.read(offset, 64 * 1024);
      if (batches.length === 0) break;
      for (const b of batches) {
        for (let i = 0; i < b.records.length && b.baseOffset + i < end; i++) {
          const at = b.baseOffset + i;
          const key = `${b.epoch}:${recordKey(b.records[i]!)}`;
          const known = this.committed.get(at);
          if (known === undefined) {
            this.committed.set(at, key);
            if (at + 1 > this.committedEnd) this.committedEnd = at + 1;
          } else if (known !== key) {
            this.fail(
              "CommittedNeverChanges",
              `node ${n.id} has ${key} at committed offset ${at}, was ${known}`,
            );
          }
        }
        offset = batchEndOffset(b);
        if (offset >= end) break;
      }
    }
    n.checkedUpTo = Math.max(n.checkedUpTo, end);
  }

  /** ConsistentCommittedData: every running node's state machine agrees with what was committed. */
  validateFinal(): void {
    const leader = this.leader();
    const hw = leader?.client?.highWatermark ?? null;
    if (leader === null || hw === null || hw < this.committedEnd) {
      this.fail(
        "CommittedNeverLost",
        `the final leader exposes ${hw}, below the committed end ${this.committedEnd}`,
      );
    }
    for (const n of this.nodes) {
      if (n.machine === null) continue;
      for (const [offset, value] of n.machine.applied) {
        const known = this.committed.get(offset);
        if (known !== undefined && known !== `${known.split(":")[0]}:d${value}`) {
          this.fail(
            "ConsistentCommittedData",
            `node ${n.id} applied ${value} at ${offset}, committed ${known}`,
          );
        }
      }
    }
  }

  // ---- scenarios -----------------------------------------------------------------------------

  run(): SimulationResult {
    const o = this.opts;
    this.delayMaxMs = 1 + this.rng.nextInt(30);
    for (const n of this.nodes) this.start(n.id);
    this.scheduleProposals();
    const n = this.voterIds.length;
    const minority = Math.floor((n - 1) / 2);
    this.progress(30, 30_000, "the first election and 30 commits");
    switch (o.scenario) {
      case "initial-election":
        break;
      case "leader-failure": {
        const old = this.leader()!;
        this.crash(old.id);
        if (n >= 3) this.progress(10, 30_000, "progress after the leader failed");
        this.start(old.id);
        break;
      }
      case "minority-partition": {
        const group = this.pickVoters(minority, this.rng.chance(0.5) ? this.leader()?.id : undefined);
        this.partition(group);
        this.progress(10, 30_000, `progress with ${group.join(",")} partitioned`);
        this.heal();
        break;
      }
      case "all-restart": {
        for (const node of this.nodes) this.crash(node.id);
        this.runFor(this.rng.nextInt(3000));
        for (const node of this.nodes) {
          this.runFor(this.rng.nextInt(500));
          this.start(node.id);
        }
        break;
      }
      case "back-to-back-failures": {
        for (let round = 0; round < 3 && n > 1; round++) {
          this.runUntil(() => this.leader() !== null, 30_000, `a leader in round ${round}`);
          this.runFor(this.rng.nextInt(300));
          const leader = this.leader();
          if (leader === null) continue;
          this.crash(leader.id);
          // Keep a majority of voters able to run: restart earlier victims first, this one last.
          const majority = Math.floor(n / 2) + 1;
          const down = this.nodes.filter((x) => x.isVoter && !x.running && x.id !== leader.id);
          down.push(leader);
          while (this.nodes.filter((x) => x.isVoter && x.running).length < majority) {
            this.runFor(this.rng.nextInt(200));
            this.start(down.shift()!.id);
          }
        }
        break;
      }
      case "message-chaos": {
        this.lossRate = 0.05 + this.rng.nextInt(15) / 100;
        this.delayMaxMs = 50 + this.rng.nextInt(200);
        this.progress(10, 120_000, "progress under loss, delay and reordering");
        this.heal();
        this.delayMaxMs = 10;
        break;
      }
      case "unflushed-loss": {
        const followers = this.nodes.filter((x) => x.isVoter && x.client?.state.name !== "leader");
        if (followers.length === 0) break;
        const victim = this.rng.pick(followers);
        victim.log.lyingDisk = true;
        this.progress(5, 30_000, "progress while one disk lies");
        this.committedDataLost = true;
        this.crash(victim.id);
        victim.log.lyingDisk = false;
        this.runFor(this.rng.nextInt(2000));
        this.start(victim.id);
        break;
      }
      case "graceful-shutdown": {
        const old = this.leader()!;
        old.client!.shutdown(5000);
        this.runUntil(() => old.client!.isShutdownComplete(), 10_000, "the leader's graceful shutdown");
        this.crash(old.id);
        if (n >= 3)
          this.runUntil(() => this.leader() !== null, 5_000, "a new leader after a graceful resignation");
        this.start(old.id);
        break;
      }
      case "random-faults": {
        // A nemesis: crashes, restarts, partitions of any shape, loss and delay, for a while.
        const until = this.queue.nowMs + 10_000 + this.rng.nextInt(20_000);
        while (this.queue.nowMs < until) {
          this.runFor(100 + this.rng.nextInt(2000));
          const action = this.rng.nextInt(6);
          const victim = this.rng.pick(this.nodes);
          if (action === 0) this.crash(victim.id);
          else if (action === 1) this.start(victim.id);
          else if (action === 2) this.partition(this.pickVoters(1 + this.rng.nextInt(n)));
          else if (action === 3) this.cutLink(victim.id, this.rng.pick(this.nodes).id);
          else if (action === 4) this.lossRate = this.rng.nextInt(30) / 100;
          else this.heal();
        }
        break;
      }
      case "fast-failover": {
        if (n < 3) break;
        this.runFor(this.rng.nextInt(1000));
        const old = this.leader()!;
        const epoch = old.client!.epoch;
        const killedAt = this.queue.nowMs;
        this.crash(old.id);
        const elected = this.runUntil(
          () => (this.leader()?.client?.epoch ?? -1) > epoch,
          FAST_FAILOVER_BOUND_MS,
          "a new leader after the leader was killed",
          false,
        );
        if (!elected) {
          this.fail(
            "FastFailover",
            `no leader above epoch ${epoch} within ${FAST_FAILOVER_BOUND_MS} ms of killing leader ${old.id} at ${killedAt}`,
          );
        }
        this.progress(10, 30_000, "progress after the leader was killed");
        this.start(old.id);
        break;
      }
      case "connection-reset": {
        // A live leader's connections from one follower at a time are reset: that follower
        // stands early, but its pre-vote is refused while the others still fetch from the
        // leader, so nobody's epoch moves (NoDisruptionByClosedConnection).
        const leader = this.leader()!;
        const epoch = leader.client!.epoch;
        for (let round = 0; round < 5; round++) {
          const followers = this.nodes.filter((x) => x.isVoter && x.running && x !== leader);
          if (followers.length === 0) break;
          this.resetConnections(this.rng.pick(followers).id, leader.id);
          this.runFor(200 + this.rng.nextInt(1000));
          const now = this.leader();
          if (now !== leader || leader.client!.epoch !== epoch) {
            this.fail(
              "NoDisruptionByClosedConnection",
              `leader ${leader.id} of epoch ${epoch} replaced by ${now?.id} in epoch ${now?.client?.epoch}`,
            );
          }
        }
        this.progress(10, 30_000, "progress after the connection resets");
        break;
      }
      case "check-quorum": {
        const old = this.leader()!;
        this.partition([old.id]);
        const timeout = Math.floor(this.config.fetchTimeoutMs * 1.5) + 500;
        this.runUntil(
          () => old.client!.state.name !== "leader",
          timeout,
          "the isolated leader's resignation",
        );
        this.heal();
        break;
      }
    }
    // Heal everything, restart every node, and require the quorum to commit more and everyone to catch up.
    this.heal();
    for (const node of this.nodes) if (!node.running) this.start(node.id);
    this.progress(30, 60_000, "progress after healing");
    const target = this.committedEnd;
    this.runUntil(
      () => this.nodes.every((x) => x.machine !== null && x.machine.nextOffset >= target),
      60_000,
      "every node applying the committed log",
    );
    this.validateFinal();
    return {
      seed: o.seed,
      scenario: o.scenario,
      voters: o.voters,
      observers: o.observers,
      events: this.events,
      simulatedMs: this.queue.nowMs,
      committed: this.committedEnd,
      elections: this.elections,
    };
  }

  private pickVoters(count: number, include?: number): number[] {
    const pool = this.voterIds.filter((id) => id !== include);
    const out: number[] = include === undefined || count === 0 ? [] : [include];
    while (out.length < count) {
      const id = pool.splice(this.rng.nextInt(pool.length), 1)[0]!;
      out.push(id);
    }
    return out;
  }
}

function recordKey(r: RaftRecord): string {
  return r.type === "data" ? `d${r.value.toString()}` : `L${r.leaderId}`;
}

export function runSeed(seed: number, traceEvents = 0): SimulationResult {
  return new Simulation({ ...optionsForSeed(seed), traceEvents }).run();
}
