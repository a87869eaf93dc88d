/**
 * A deterministic replication cluster in one process: N PartitionManagers (real logs in a temp
 * directory), one ManualTimer as everyone's clock, a test controller that commits metadata records
 * to one image and publishes them to every node, AlterPartition requests queued at the controller
 * until a step answers them, and replica fetchers driven one round at a time over an in-memory
 * transport that calls the leader's Fetch path directly. Every choice (which action, which node,
 * how much time) comes from one seeded PRNG, so a seed replays a run exactly.
 *
 * Named invariants are checked after every step (`checkInvariants`); a violation throws with the
 * seed and the step trace.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { BrokerConfig } from "../../../src/config/broker-config.js";
import { LogManager } from "../../../src/log/log-manager.js";
import { MetadataImage } from "../../../src/metadata/image.js";
import type { MetadataRecord } from "../../../src/metadata/records.js";
import type { AlterPartitionRequest } from "../../../src/protocol/generated/alter-partition-request.js";
import type { AlterPartitionResponse } from "../../../src/protocol/generated/alter-partition-response.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import type { FetchRequest } from "../../../src/protocol/generated/fetch-request.js";
import type { FetchResponse } from "../../../src/protocol/generated/fetch-response.js";
import { iterateBatches } from "../../../src/protocol/records/batch-iterator.js";
import { buildRecordBatch, decodeRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { SeededRandom } from "../../../src/random.js";
import { DelayedFetchPurgatory } from "../../../src/server/fetch/delayed-fetch.js";
import { type FetchState, fetch } from "../../../src/server/fetch/fetch.js";
import { FetchSessionCache } from "../../../src/server/fetch/fetch-session.js";
import { ManualTimer, type Timer } from "../../../src/server/group/timer.js";
import type { Partition } from "../../../src/server/partitions/partition.js";
import { PartitionManager } from "../../../src/server/partitions/partition-manager.js";
import { produce } from "../../../src/server/produce/produce.js";
import type { LeaderEndpoint, OffsetAnswer } from "../../../src/server/replication/leader-endpoint.js";
import { DEFAULT_FETCHER_CONFIG } from "../../../src/server/replication/replica-fetcher.js";
import { ReplicaFetcherManager } from "../../../src/server/replication/replica-fetcher-manager.js";

export const TOPIC = "sim";
const TOPIC_ID = "c2ltLXRvcGljLWlkLTAwMQ";
const START_MS = 1_760_000_000_000;
const LAG_MS = 30_000;

/** mulberry32, as chaos/src/schedule.ts. */
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

export class InvariantViolation extends Error {}

interface SimNode {
  readonly id: number;
  readonly dir: string;
  readonly logs: LogManager;
  readonly manager: PartitionManager;
  readonly fetches: FetchState;
  readonly fetchers: ReplicaFetcherManager;
}

interface Acked {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly partitions: number;
  readonly minInsyncReplicas: number;
}

export class SimCluster {
  readonly timer = new ManualTimer(START_MS);
  readonly random: () => number;
  readonly trace: string[] = [];
  readonly nodes = new Map<number, SimNode>();
  readonly #root: string;
  readonly #options: SimOptions;
  #image = MetadataImage.EMPTY;
  #offset = 0;
  /** AlterPartition requests waiting for the controller, with their answer callbacks. */
  readonly #alterQueue: { request: AlterPartitionRequest; resolve: (r: AlterPartitionResponse) => void }[] =
    [];
  /** Links between brokers that are down (fetches between them fail): "a>b" leader a, follower b. */
  readonly #down = new Set<number>();
  readonly acked: Acked[] = [];
  /** Produces not answered yet. */
  #pending = 0;
  #nextValue = 0;
  /** Nodes built so far (restarts included): keys of each incarnation's timers. */
  #incarnations = 0;
  /** Per node and leader epoch: the highest high watermark it exposed while leading. */
  readonly #leaderHw = new Map<string, number>();
  /** Leader epoch -> leader, per partition, as observed on the nodes. */
  readonly #epochLeader = new Map<string, number>();
  readonly stats = {
    produced: 0,
    ackedAll: 0,
    ackedOne: 0,
    failed: 0,
    truncations: 0,
    leaderChanges: 0,
    isrChanges: 0,
    restarts: 0,
  };

  constructor(options: SimOptions) {
    this.#options = options;
    this.random = prng(options.seed);
    this.#root = fs.mkdtempSync(path.join(os.tmpdir(), "krill-repl-sim-"));
  }

  get image(): MetadataImage {
    return this.#image;
  }

  note(line: string): void {
    this.trace.push(`[${this.timer.nowMs() - START_MS}ms] ${line}`);
    if (this.trace.length > 400) this.trace.splice(0, this.trace.length - 400);
  }

  async start(): Promise<void> {
    const ids = Array.from({ length: this.#options.nodes }, (_, i) => i + 1);
    for (const id of ids) this.nodes.set(id, this.#buildNode(id));
    const records: MetadataRecord[] = ids.map((id) => ({
      type: "RegisterBroker",
      data: {
        brokerId: id,
        incarnationId: `inc-${id}`,
        brokerEpoch: BigInt(100 + id),
        endPoints: [],
        features: [],
        rack: null,
        fenced: false,
        inControlledShutdown: false,
        logDirs: [],
      },
    }));
    records.push({ type: "Topic", data: { name: TOPIC, topicId: TOPIC_ID } } as MetadataRecord);
    for (let p = 0; p < this.#options.partitions; p++) {
      const replicas = ids.map((_, i) => ids[(i + p) % ids.length]!);
      records.push({
        type: "Partition",
        data: {
          partitionId: p,
          topicId: TOPIC_ID,
          replicas,
          isr: replicas,
          leader: replicas[0]!,
          leaderEpoch: 0,
          partitionEpoch: 0,
          leaderRecoveryState: 0,
        },
      } as MetadataRecord);
    }
    await this.#commit(records);
  }

  /**
   * One broker's data path over its directory (a restart builds it again over the same files):
   * the log manager, the replica fetchers (driven by `fetchRound`) and the partition manager,
   * whose timers are the cluster's clock under keys of this incarnation alone.
   */
  #buildNode(id: number): SimNode {
    const logger = pino({ level: "silent" });
    const dir = path.join(this.#root, `node-${id}`);
    fs.mkdirSync(dir, { recursive: true });
    const config = BrokerConfig.create({
      "node.id": String(id),
      "log.dirs": dir,
      "min.insync.replicas": String(this.#options.minInsyncReplicas),
      "replica.lag.time.max.ms": String(LAG_MS),
    });
    const logs = new LogManager({ logDirs: [dir], clock: this.timer, retentionCheckIntervalMs: 0 });
    logs.startup();
    const purgatory = new DelayedFetchPurgatory({ waitersMax: 100 });
    const fetches: FetchState = {
      sessions: new FetchSessionCache({
        slotsMax: 10,
        evictionMs: 120_000,
        clock: this.timer,
        random: new SeededRandom(this.#options.seed + id),
      }),
      purgatory,
    };
    const fetchers = new ReplicaFetcherManager({
      deps: {
        localBrokerId: id,
        localBrokerEpoch: () => this.#image.brokers.get(id)?.brokerEpoch ?? -1n,
        clock: this.timer,
        logger,
        config: { ...DEFAULT_FETCHER_CONFIG, waitMaxMs: 0 },
        sleep: () => Promise.resolve(),
      },
      fetchersPerBroker: 1,
      autoStart: false,
      endpointFor: (leaderId) => this.#endpoint(leaderId, id),
    });
    this.#incarnations++;
    const manager = new PartitionManager({
      logs,
      image: () => this.#image,
      config: () => config,
      nodeId: id,
      logger,
      events: {
        onAppend: (key, bytes, stable, visible) => purgatory.onAppend(key, bytes, stable, visible),
        onChange: (key) => purgatory.onPartitionEvent(key),
      },
      clock: this.timer,
      timer: new KeyedTimer(this.timer, `n${id}.${this.#incarnations}:`),
      snapshotIntervalMs: 0,
      highWatermarkCheckpointIntervalMs: 0,
      isrExpirationIntervalMs: 0,
      alterPartition: { alterPartition: (request) => this.#queueAlterPartition(request) },
      fetchers,
    });
    return { id, dir, logs, manager, fetches, fetchers };
  }

  /** A broker writes its high-watermark checkpoint, as its periodic task does. */
  checkpoint(id: number): void {
    this.nodes.get(id)!.manager.checkpointHighWatermarks();
    this.note(`node ${id} checkpoints its high watermarks`);
  }

  /**
   * A broker stops and starts again over its files, as the controller sees it: first fenced
   * (each partition it leads moves to another ISR member, or to no leader when it is the last
   * one, and it leaves every ISR it is not the last member of), then re-registered with a new
   * broker epoch, and leader again of what it was the last ISR member of. `clean`: a controlled
   * shutdown, which writes the high-watermark checkpoint; otherwise a crash: the checkpoint is
   * the one of its last periodic write and the log is recovered (no clean-shutdown marker).
   * A clean restart checks **HighWatermarkSurvivesRestart**: no replica comes back with a lower
   * high watermark than it went down with.
   */
  async restart(id: number, clean: boolean): Promise<void> {
    const node = this.nodes.get(id)!;
    const fence: MetadataRecord[] = [];
    for (const [p, state] of this.#image.topicsById.get(TOPIC_ID)!.partitions.entries()) {
      if (!state.isr.includes(id)) continue;
      const others = state.isr.filter((r) => r !== id);
      if (others.length === 0) {
        if (state.leader === id) fence.push(partitionChange(p, { leader: -1 }));
        continue;
      }
      const change: { isr: number[]; leader?: number } = { isr: others };
      if (state.leader === id) change.leader = others.find((r) => !this.#down.has(r)) ?? others[0]!;
      fence.push(partitionChange(p, change));
    }
    this.note(`node ${id} ${clean ? "shuts down" : "crashes"}; fenced`);
    this.stats.restarts++;
    if (fence.length > 0) {
      this.stats.leaderChanges += fence.length;
      await this.#commit(fence);
    }
    const checkpointFile = path.join(node.dir, "replication-offset-checkpoint");
    const lastCheckpoint = fs.existsSync(checkpointFile) ? fs.readFileSync(checkpointFile) : undefined;
    const before = new Map<number, number>();
    for (let p = 0; p < this.#options.partitions; p++) {
      const held = node.manager.held(TOPIC, p);
      if (held !== undefined) before.set(p, held.highWatermark);
    }
    await node.fetchers.shutdown();
    await node.manager.shutdown();
    await node.logs.shutdown();
    if (!clean) {
      // What a crash leaves: the checkpoint of the last periodic write and no clean-shutdown
      // marker (the data itself is in the files, as after a process kill).
      if (lastCheckpoint === undefined) fs.rmSync(checkpointFile, { force: true });
      else fs.writeFileSync(checkpointFile, lastCheckpoint);
      fs.rmSync(path.join(node.dir, ".kafka_cleanshutdown"), { force: true });
    }
    const next = this.#buildNode(id);
    this.nodes.set(id, next);
    next.manager.loadFromImage(this.#image);
    const registered = this.#image.brokers.get(id)!;
    const back: MetadataRecord[] = [
      {
        type: "RegisterBroker",
        data: {
          ...registered,
          incarnationId: `inc-${id}-${this.#incarnations}`,
          brokerEpoch: BigInt(100 + this.#offset),
        },
      } as MetadataRecord,
    ];
    for (const [p, state] of this.#image.topicsById.get(TOPIC_ID)!.partitions.entries()) {
      if (state.leader === -1 && state.isr.length === 1 && state.isr[0] === id)
        back.push(partitionChange(p, { leader: id }));
    }
    await this.#commit(back);
    this.note(`node ${id} is back (epoch ${this.#image.brokers.get(id)!.brokerEpoch})`);
    if (clean) {
      for (const [p, hw] of before) {
        const after = next.manager.held(TOPIC, p)?.highWatermark ?? -1;
        if (after < hw)
          this.fail("HighWatermarkSurvivesRestart", `node ${id} p${p}: ${hw} before, ${after} after`);
      }
    }
  }

  async close(): Promise<void> {
    for (const node of this.nodes.values()) {
      await node.fetchers.shutdown();
      await node.manager.shutdown();
      await node.logs.shutdown();
    }
    this.timer.close();
    fs.rmSync(this.#root, { recursive: true, force: true });
  }

  /** Commits records to the image and publishes them to every node, as the controller does. */
  async #commit(records: MetadataRecord[]): Promise<void> {
    const previous = this.#image;
    this.#offset += records.length;
    this.#image = previous.apply(records, this.#offset);
    for (const node of this.nodes.values()) await node.manager.applyDelta(this.#image, previous, records);
  }

  #endpoint(leaderId: number, followerId: number): LeaderEndpoint {
    const leader = () => {
      const node = this.nodes.get(leaderId);
      if (node === undefined || this.#down.has(leaderId) || this.#down.has(followerId)) {
        throw new Error(`link ${leaderId}-${followerId} down`);
      }
      return node;
    };
    const offsets = (topic: string, p: number, epoch: number, ts: number): OffsetAnswer => {
      const found = leader().manager.lookupAtEpoch(topic, p, epoch, true);
      if (!found.ok) return { errorCode: found.errorCode };
      const hit = found.partition.fetchOffsetForTimestamp(ts, false, true);
      return hit === undefined
        ? { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR }
        : { offset: hit.offset, leaderEpoch: hit.leaderEpoch };
    };
    return {
      fetch: async (request: FetchRequest): Promise<FetchResponse> => {
        const node = leader();
        // maxWaitMs 0: the in-memory leader answers at once; the simulation moves time itself.
        const outcome = await fetch(node.manager, node.fetches, { ...request, maxWaitMs: 0 }, 17, {
          fetchMaxBytes: 64 << 20,
        });
        // The bytes of a pooled read may be reused once "written": copy them as a socket would.
        for (const t of outcome.response.responses) {
          for (const p of t.partitions) if (p.records !== null) p.records = Buffer.from(p.records);
        }
        return outcome.response;
      },
      fetchEarliestOffset: async (topic, p, epoch) => offsets(topic, p, epoch, -2),
      fetchLatestOffset: async (topic, p, epoch) => offsets(topic, p, epoch, -1),
      close: () => {},
    };
  }

  #queueAlterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return new Promise((resolve) => this.#alterQueue.push({ request, resolve }));
  }

  /** The controller handles the oldest AlterPartition (ReplicationControlManager's checks). */
  async answerAlterPartition(): Promise<boolean> {
    const item = this.#alterQueue.shift();
    if (item === undefined) return false;
    const { request } = item;
    const req = request.topics[0]!.partitions[0]!;
    const current = this.#image.topicsById.get(TOPIC_ID)!.partitions[req.partitionIndex]!;
    const answer = (errorCode: number): AlterPartitionResponse => ({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      topics: [
        {
          topicId: TOPIC_ID,
          partitions: [
            {
              partitionIndex: req.partitionIndex,
              errorCode,
              leaderId: current.leader,
              leaderEpoch: current.leaderEpoch,
              isr: [...current.isr],
              leaderRecoveryState: 0,
              partitionEpoch: current.partitionEpoch,
            },
          ],
        },
      ],
    });
    let errorCode: number = ErrorCode.NONE;
    if (request.brokerId !== current.leader || req.leaderEpoch !== current.leaderEpoch) {
      errorCode = ErrorCode.FENCED_LEADER_EPOCH;
    } else if (req.partitionEpoch !== current.partitionEpoch) {
      errorCode = ErrorCode.INVALID_UPDATE_VERSION;
    } else {
      for (const b of req.newIsrWithEpochs) {
        const registered = this.#image.brokers.get(b.brokerId);
        if (!current.replicas.includes(b.brokerId) || registered === undefined)
          errorCode = ErrorCode.INELIGIBLE_REPLICA;
        else if (b.brokerEpoch !== -1n && b.brokerEpoch !== registered.brokerEpoch)
          errorCode = ErrorCode.INELIGIBLE_REPLICA;
      }
    }
    if (errorCode !== ErrorCode.NONE) {
      this.note(
        `controller: AlterPartition p${req.partitionIndex} from ${request.brokerId} refused ${errorCode}`,
      );
      item.resolve(answer(errorCode));
      return true;
    }
    const isr = req.newIsrWithEpochs.map((b) => b.brokerId);
    this.note(`controller: p${req.partitionIndex} ISR [${current.isr}] -> [${isr}]`);
    this.stats.isrChanges++;
    await this.#commit([
      {
        type: "PartitionChange",
        data: { topicId: TOPIC_ID, partitionId: req.partitionIndex, isr },
      } as MetadataRecord,
    ]);
    const next = this.#image.topicsById.get(TOPIC_ID)!.partitions[req.partitionIndex]!;
    item.resolve({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      topics: [
        {
          topicId: TOPIC_ID,
          partitions: [
            {
              partitionIndex: req.partitionIndex,
              errorCode: ErrorCode.NONE,
              leaderId: next.leader,
              leaderEpoch: next.leaderEpoch,
              isr: [...next.isr],
              leaderRecoveryState: 0,
              partitionEpoch: next.partitionEpoch,
            },
          ],
        },
      ],
    });
    return true;
  }

  get pendingAlterPartitions(): number {
    return this.#alterQueue.length;
  }

  /** A clean election: leadership moves to another live ISR member (replica order). */
  async electLeader(partition: number, preferred?: number): Promise<boolean> {
    const current = this.#image.topicsById.get(TOPIC_ID)!.partitions[partition]!;
    const candidates = current.replicas.filter(
      (id) => id !== current.leader && current.isr.includes(id) && !this.#down.has(id),
    );
    const leader = preferred !== undefined && candidates.includes(preferred) ? preferred : candidates[0];
    if (leader === undefined) return false;
    this.note(
      `controller: p${partition} leader ${current.leader} -> ${leader} (epoch ${current.leaderEpoch + 1})`,
    );
    this.stats.leaderChanges++;
    await this.#commit([
      {
        type: "PartitionChange",
        data: { topicId: TOPIC_ID, partitionId: partition, leader },
      } as MetadataRecord,
    ]);
    return true;
  }

  /** Cuts a broker off from the others' fetches (it stays in the metadata). */
  setDown(id: number, down: boolean): void {
    if (down) this.#down.add(id);
    else this.#down.delete(id);
    this.note(`node ${id} ${down ? "cut off" : "back"}`);
  }

  isDown(id: number): boolean {
    return this.#down.has(id);
  }

  leaderOf(partition: number): number {
    return this.#image.topicsById.get(TOPIC_ID)!.partitions[partition]!.leader;
  }

  held(node: number, partition: number): Partition {
    const p = this.nodes.get(node)!.manager.held(TOPIC, partition);
    if (p === undefined) throw new Error(`node ${node} holds no replica of ${partition}`);
    return p;
  }

  /**
   * Produces `count` records to the partition's leader with `acks`; the answer arrives later for
   * acks=all (it is recorded when it does). Returns the promise of the error code.
   */
  produceTo(partition: number, acks: -1 | 1, count: number, timeoutMs = 30_000): Promise<number> {
    const node = this.nodes.get(this.leaderOf(partition));
    if (node === undefined) return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const values = Array.from({ length: count }, () => `v${this.#nextValue++}`);
    const records = buildRecordBatch({
      producerId: -1n,
      records: values.map((value) => ({ timestamp: this.timer.nowMs(), key: null, value })),
    });
    this.stats.produced++;
    this.#pending++;
    return produce(
      node.manager,
      {
        verifyTransactionalProduce: () => ErrorCode.NONE,
        addPartitionImplicitly: async () => ErrorCode.NONE,
      },
      {
        transactionalId: null,
        acks,
        timeoutMs,
        topicData: [
          { name: TOPIC, topicId: "AAAAAAAAAAAAAAAAAAAAAA", partitionData: [{ index: partition, records }] },
        ],
      },
      9,
    ).then((outcome) => {
      this.#pending--;
      const out = outcome.response.responses[0]!.partitionResponses[0]!;
      if (out.errorCode === ErrorCode.NONE) {
        const base = Number(out.baseOffset);
        // AckedAllCommitted: an acks=all answer comes only once the high watermark covers it.
        const answering = node.manager.held(TOPIC, partition);
        if (acks === -1 && (answering === undefined || answering.highWatermark < base + count)) {
          this.fail(
            "AckedAllCommitted",
            `p${partition} acked at ${base}+${count} above HWM ${answering?.highWatermark}`,
          );
        }
        // Only acks=all records are promised to survive a leader change.
        if (acks === -1) {
          values.forEach((value, i) => {
            this.acked.push({ partition, offset: base + i, value });
          });
        }
        if (acks === -1) this.stats.ackedAll++;
        else this.stats.ackedOne++;
        this.note(`produce p${partition} acks=${acks} ${values.join(",")} acked at ${base}`);
      } else {
        this.stats.failed++;
        this.note(`produce p${partition} acks=${acks} ${values.join(",")} error ${out.errorCode}`);
      }
      return out.errorCode;
    });
  }

  /**
   * Sends `records` (a whole batch, as a client built it) to the partition's leader as one
   * Produce v9; resolves to the partition's answer. For batches the test builds itself (an
   * idempotent producer's, sent again after a leader change).
   */
  async produceBatch(
    partition: number,
    acks: -1 | 1,
    records: Buffer,
    timeoutMs = 30_000,
  ): Promise<{ errorCode: number; baseOffset: number }> {
    const node = this.nodes.get(this.leaderOf(partition));
    if (node === undefined) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, baseOffset: -1 };
    const outcome = await produce(
      node.manager,
      {
        verifyTransactionalProduce: () => ErrorCode.NONE,
        addPartitionImplicitly: async () => ErrorCode.NONE,
      },
      {
        transactionalId: null,
        acks,
        timeoutMs,
        topicData: [
          { name: TOPIC, topicId: "AAAAAAAAAAAAAAAAAAAAAA", partitionData: [{ index: partition, records }] },
        ],
      },
      9,
    );
    const out = outcome.response.responses[0]!.partitionResponses[0]!;
    return { errorCode: out.errorCode, baseOffset: Number(out.baseOffset) };
  }

  get pendingProduces(): number {
    return this.#pending;
  }

  /** One round of every fetcher of a node (if it is not cut off). */
  async fetchRound(nodeId: number): Promise<void> {
    if (this.#down.has(nodeId)) return;
    const node = this.nodes.get(nodeId)!;
    for (const fetcher of node.fetchers.fetchers()) {
      const before = fetcher.events.length;
      await fetcher.doWork();
      for (const e of fetcher.events.slice(before)) {
        if (e.kind === "truncated") this.stats.truncations++;
        if (e.kind !== "appended") this.note(`node ${nodeId} fetch ${JSON.stringify(e)}`);
      }
    }
  }

  /** Time passes: timers fall due, leaders check their ISRs. */
  advance(ms: number): void {
    this.timer.advance(ms);
    for (const node of this.nodes.values()) node.manager.maybeShrinkIsr();
  }

  /** Lets promise callbacks (answers, AlterPartition results) run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  }

  fail(name: string, detail: string): never {
    throw new InvariantViolation(
      `invariant ${name} violated (seed ${this.#options.seed}): ${detail}\n${this.trace.slice(-60).join("\n")}`,
    );
  }

  /** The named invariants, after every step. */
  checkInvariants(): void {
    for (let p = 0; p < this.#options.partitions; p++) {
      const state = this.#image.topicsById.get(TOPIC_ID)!.partitions[p]!;
      // OneLeaderPerEpoch: no two nodes lead the same epoch, ever.
      const leaders = [...this.nodes.values()].filter((n) => n.manager.held(TOPIC, p)?.isLeader);
      for (const n of leaders) {
        const part = n.manager.held(TOPIC, p)!;
        const key = `${p}@${part.leaderEpoch}`;
        const seen = this.#epochLeader.get(key);
        if (seen !== undefined && seen !== n.id)
          this.fail("OneLeaderPerEpoch", `${key} led by ${seen} and ${n.id}`);
        this.#epochLeader.set(key, n.id);
        // HighWatermarkMonotonic: a leader's high watermark never moves back in its epoch.
        const hwKey = `${n.id}:${key}`;
        const hw = part.highWatermark;
        const before = this.#leaderHw.get(hwKey) ?? -1;
        if (hw < before)
          this.fail(
            "HighWatermarkMonotonic",
            `node ${n.id} p${p} epoch ${part.leaderEpoch}: ${before} -> ${hw}`,
          );
        this.#leaderHw.set(hwKey, hw);
      }
      for (const n of this.nodes.values()) {
        const part = n.manager.held(TOPIC, p);
        // HighWatermarkBelowLogEnd: no replica exposes offsets it does not hold.
        if (part !== undefined && part.highWatermark > part.logEndOffset) {
          this.fail(
            "HighWatermarkBelowLogEnd",
            `node ${n.id} p${p}: ${part.highWatermark} > ${part.logEndOffset}`,
          );
        }
      }
      const leaderPart = this.nodes.get(state.leader)?.manager.held(TOPIC, p);
      if (leaderPart === undefined || !leaderPart.isLeader) continue;
      // IsrHoldsHighWatermark, LogsMatchBelowHighWatermark, AckedRecordsKept.
      const hw = leaderPart.highWatermark;
      const leaderBytes = readAll(leaderPart, hw);
      for (const id of state.isr) {
        const member = this.nodes.get(id)!.manager.held(TOPIC, p)!;
        if (member.logEndOffset < hw) {
          this.fail(
            "IsrHoldsHighWatermark",
            `p${p} ISR member ${id} ends at ${member.logEndOffset} < HWM ${hw}`,
          );
        }
        // LogsMatchBelowHighWatermark: byte-identical batches below the leader's high watermark.
        const bytes = readAll(member, hw);
        if (!bytes.equals(leaderBytes)) {
          this.fail(
            "LogsMatchBelowHighWatermark",
            `p${p} node ${id} differs from leader ${state.leader} below ${hw}`,
          );
        }
      }
      for (const n of this.nodes.values()) {
        const part = n.manager.held(TOPIC, p);
        if (part === undefined || n.id === state.leader) continue;
        // ReplicaHighWatermarkCommitted: whatever a replica's high watermark covers (learned from
        // a leader, or read back from its checkpoint after a restart) is the current leader's log.
        const own = part.highWatermark;
        if (leaderPart.logEndOffset < own || !readAll(part, own).equals(readAll(leaderPart, own))) {
          this.fail(
            "ReplicaHighWatermarkCommitted",
            `p${p} node ${n.id} high watermark ${own} covers data leader ${state.leader} lacks (log end ${leaderPart.logEndOffset})`,
          );
        }
        // FollowerPrefixOfLeader: a follower whose fetch this leader accepted in its epoch (it
        // learned the follower's log end; a diverging fetch is not recorded) holds a prefix of
        // the leader's log. Logs of ISR members that have fetched are thus prefixes of each other.
        const known = leaderPart.replica(n.id)?.logEndOffset ?? -1;
        if (known < 0) continue;
        const end = part.logEndOffset;
        if (leaderPart.logEndOffset < end || !readAll(part, end).equals(readAll(leaderPart, end))) {
          this.fail(
            "FollowerPrefixOfLeader",
            `p${p} node ${n.id} (log end ${end}, last fetch at ${known}) is not a prefix of leader ${state.leader} (log end ${leaderPart.logEndOffset})`,
          );
        }
      }
      const values = valuesByOffset(leaderPart, hw);
      for (const a of this.acked) {
        if (a.partition !== p || a.offset >= hw) continue;
        if (values.get(a.offset) !== a.value) {
          this.fail(
            "AckedRecordsKept",
            `p${p} offset ${a.offset} holds ${values.get(a.offset)}, acked ${a.value}`,
          );
        }
      }
    }
  }
}

function readAll(partition: Partition, upTo: number): Buffer {
  const chunks: Buffer[] = [];
  let offset = partition.logStartOffset;
  while (offset < upTo) {
    const read = partition.log.read(offset, 1 << 20, { minOneBatch: true, maxOffset: upTo });
    if (read.records.length === 0) break;
    chunks.push(Buffer.from(read.records));
    offset = read.nextOffset;
  }
  return Buffer.concat(chunks);
}

function valuesByOffset(partition: Partition, upTo: number): Map<number, string> {
  const out = new Map<number, string>();
  const bytes = readAll(partition, upTo);
  for (const { position } of iterateBatches(bytes)) {
    const batch = decodeRecordBatch(bytes, { position, decompressedBytesMax: 1 << 20 });
    batch.records.forEach((r, i) => {
      out.set(Number(batch.header.baseOffset) + i, r.value === null ? "" : r.value.toString());
    });
  }
  return out;
}

function partitionChange(partitionId: number, change: { leader?: number; isr?: number[] }): MetadataRecord {
  return { type: "PartitionChange", data: { topicId: TOPIC_ID, partitionId, ...change } } as MetadataRecord;
}

/**
 * One node's view of the cluster's clock: its keys are prefixed, so two nodes (or two
 * incarnations of one) scheduling the same key do not replace each other's tasks.
 */
class KeyedTimer implements Timer {
  readonly #timer: ManualTimer;
  readonly #prefix: string;

  constructor(timer: ManualTimer, prefix: string) {
    this.#timer = timer;
    this.#prefix = prefix;
  }

  nowMs(): number {
    return this.#timer.nowMs();
  }

  schedule(key: string, delayMs: number, task: () => void): void {
    this.#timer.schedule(this.#prefix + key, delayMs, task);
  }

  cancel(key: string): void {
    this.#timer.cancel(this.#prefix + key);
  }

  isScheduled(key: string): boolean {
    return this.#timer.isScheduled(this.#prefix + key);
  }

  /** The cluster's clock outlives a node. */
  close(): void {}
}
