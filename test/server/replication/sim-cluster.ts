/**
 * A deterministic replication cluster in one process, decided by Krill's real controller: N
 * brokers (each a PartitionManager over real logs in a temp directory, its replica fetchers and
 * its own metadata image), one `MetadataController` (controller.ts: cluster-control.ts for
 * registration, heartbeats and fencing, replication-control.ts and partition-change.ts for
 * AlterPartition and elections) over a simulated metadata quorum (sim-quorum.ts), and one
 * ManualTimer as everyone's clock. Nothing happens on its own: a step commits the controller's
 * oldest proposal, lets a broker replay committed metadata, heartbeat, fetch, or hands an
 * AlterPartition to the controller, cuts links, crashes and restarts brokers, or fails the
 * controller over. Every choice comes from one seeded PRNG, so a seed replays a run exactly.
 *
 * The broker side of registration mirrors BrokerLifecycleManager (register, heartbeat with the
 * applied metadata offset until unfenced, register again on STALE_BROKER_EPOCH, controlled
 * shutdown with WantShutDown until ShouldShutDown), which itself runs on wall-clock timers.
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
import type { BrokerConnection } from "../../../src/metadata/cluster-control.js";
import { MetadataController } from "../../../src/metadata/controller.js";
import { MetadataImage, type PartitionImage } from "../../../src/metadata/image.js";
import { MetadataPublisher } from "../../../src/metadata/publisher.js";
import type { MetadataRecord } from "../../../src/metadata/records.js";
import type { AlterPartitionRequest } from "../../../src/protocol/generated/alter-partition-request.js";
import type { AlterPartitionResponse } from "../../../src/protocol/generated/alter-partition-response.js";
import { ErrorCode, errorCodeName } from "../../../src/protocol/generated/error-codes.js";
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
import { registration } from "../../metadata/cluster-helpers.js";
import { SimMetadataQuorum } from "./sim-quorum.js";

export const TOPIC = "sim";
const START_MS = 1_760_000_000_000;
const LAG_MS = 30_000;
export const SESSION_TIMEOUT_MS = 9_000;
export const HEARTBEAT_INTERVAL_MS = 2_000;

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

/** The controller's view of the connection a broker heartbeats on (closed when its process dies). */
interface SimConnection extends BrokerConnection {
  close(): void;
}

function connection(): SimConnection {
  let close = (): void => {};
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  return { closed, close };
}

interface SimNode {
  readonly id: number;
  readonly dir: string;
  readonly logs: LogManager;
  readonly manager: PartitionManager;
  readonly fetches: FetchState;
  readonly fetchers: ReplicaFetcherManager;
  /** This broker's metadata: the committed batches it has replayed. */
  readonly publisher: MetadataPublisher;
  readonly incarnationId: string;
  /** The epoch of its registration (-1 until registered). */
  brokerEpoch: bigint;
  registered: boolean;
  /**
   * It serves clients and followers (broker.ts holds every request until the broker is
   * registered and unfenced the first time; the controller listener aside).
   */
  ready: boolean;
  /** A registration or heartbeat of this broker is waiting for the controller. */
  inFlight: boolean;
  connection: SimConnection;
  /** Heartbeats carry WantShutDown (a controlled shutdown in progress); set when agreed. */
  wantShutDown: boolean;
  shutdownAgreed: boolean;
  /** Count of committed batches replayed (index into the quorum's committed log). */
  applied: number;
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
  readonly quorum = new SimMetadataQuorum();
  readonly #root: string;
  readonly #options: SimOptions;
  readonly #logger = pino({ level: "silent" });
  /** The quorum's committed image (what the active controller reads). */
  readonly #committed = new MetadataPublisher(MetadataImage.EMPTY);
  readonly #config: BrokerConfig;
  #controller: MetadataController;
  /** Incarnations started over files a power loss cut (until they stop). */
  readonly #lossy = new Set<string>();
  /** Brokers that lost unflushed data and have not started again yet. */
  readonly #lostData = new Set<number>();
  /** Brokers whose process is stopped (crashed or shut down, not started again yet). */
  readonly #stopped = new Set<number>();
  /** Brokers cut off from the other brokers (fetches to and from them fail). */
  readonly #cutFromBrokers = new Set<number>();
  /** Brokers cut off from the controller quorum (no heartbeats, AlterPartition or metadata). */
  readonly #cutFromController = new Set<number>();
  /** AlterPartition requests sent to the controller, not delivered yet. */
  readonly #alterQueue: {
    readonly from: SimNode;
    readonly request: AlterPartitionRequest;
    readonly resolve: (r: AlterPartitionResponse) => void;
    readonly reject: (err: Error) => void;
  }[] = [];
  readonly acked: Acked[] = [];
  /** Produce errors by error code name. */
  readonly produceErrors = new Map<string, number>();
  /** Produces not answered yet. */
  #pending = 0;
  #nextValue = 0;
  /** Nodes built so far (restarts included): keys of each incarnation's timers. */
  #incarnations = 0;
  /** Per node and leader epoch: the highest high watermark it exposed while leading. */
  readonly #leaderHw = new Map<string, number>();
  /** Leader epoch -> leader, per partition, as observed on the nodes. */
  readonly #epochLeader = new Map<string, number>();
  /** Per partition: the committed leader epoch and partition epoch last checked. */
  readonly #lastEpochs = new Map<number, { leaderEpoch: number; partitionEpoch: number }>();
  readonly stats = {
    produced: 0,
    ackedAll: 0,
    ackedOne: 0,
    failed: 0,
    truncations: 0,
    /** Committed PartitionChange records that moved leadership (the controller's elections). */
    leaderChanges: 0,
    /** Committed PartitionChange records that changed an ISR. */
    isrChanges: 0,
    /** Committed fencings (BrokerRegistrationChange fenced=true). */
    fencings: 0,
    /** AlterPartition answers: accepted, refused. */
    alterPartitionsAccepted: 0,
    alterPartitionsRefused: 0,
    restarts: 0,
    unflushedLosses: 0,
    /** Acknowledged records lost in the KIP-966 case (see #forgetLastReplicaLosses). */
    lastReplicaLosses: 0,
    controllerFailovers: 0,
    metadataBatches: 0,
  };

  constructor(options: SimOptions) {
    this.#options = options;
    this.random = prng(options.seed);
    this.#root = fs.mkdtempSync(path.join(os.tmpdir(), "krill-repl-sim-"));
    this.#config = BrokerConfig.create({
      "node.id": "1",
      "log.dirs": path.join(this.#root, "controller"),
      "min.insync.replicas": String(options.minInsyncReplicas),
      "broker.session.timeout.ms": String(SESSION_TIMEOUT_MS),
      "broker.heartbeat.interval.ms": String(HEARTBEAT_INTERVAL_MS),
      "auto.leader.rebalance.enable": "true",
    });
    this.quorum.register(this.#committed);
    this.#committed.onPublish((next, previous, records) => this.#countChanges(next, previous, records));
    this.#controller = this.#newController();
  }

  /** The committed metadata image (the quorum's). */
  get image(): MetadataImage {
    return this.#committed.image;
  }

  get controller(): MetadataController {
    return this.#controller;
  }

  #newController(): MetadataController {
    const generation = this.quorum.generation;
    return new MetadataController({
      log: this.quorum.logFor(generation),
      image: () => this.#committed.image,
      config: () => this.#config,
      logger: this.#logger,
      random: new SeededRandom(this.#options.seed * 7 + generation),
      clock: this.timer,
      isActive: () => this.quorum.generation === generation,
    });
  }

  note(line: string): void {
    this.trace.push(`[${this.timer.nowMs() - START_MS}ms] ${line}`);
    if (this.trace.length > 400) this.trace.splice(0, this.trace.length - 400);
  }

  /**
   * Brings the cluster up through the controller: every broker registers and is unfenced, then
   * the topic is created with replicas rotated per partition (`CreateTopics` with assignments).
   */
  async start(): Promise<void> {
    const ids = Array.from({ length: this.#options.nodes }, (_, i) => i + 1);
    for (const id of ids) this.nodes.set(id, this.#buildNode(id, MetadataImage.EMPTY));
    await this.quiesce();
    for (const id of ids) {
      if (!this.#committed.image.isActiveBroker(id)) throw new Error(`broker ${id} was not unfenced`);
    }
    const created = this.#controller.createTopics(
      [
        {
          name: TOPIC,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: Array.from({ length: this.#options.partitions }, (_, p) => ({
            partitionIndex: p,
            brokerIds: ids.map((_, i) => ids[(i + p) % ids.length]!),
          })),
          configs: [],
        },
      ],
      false,
    );
    await this.quiesce();
    const [result] = await created;
    if (result?.errorCode !== ErrorCode.NONE) throw new Error(`CreateTopics failed: ${result?.errorMessage}`);
    await this.quiesce();
  }

  /**
   * One broker's process over its directory (a restart builds it again over the same files): the
   * log manager, the replica fetchers (driven by `fetchRound`), the partition manager, whose
   * timers are the cluster's clock under keys of this incarnation alone, and its metadata image
   * (`image`: the committed image, replayed before it publishes anything).
   */
  #buildNode(id: number, image: MetadataImage): SimNode {
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
    this.#incarnations++;
    const incarnation = this.#incarnations;
    const publisher = new MetadataPublisher(image);
    // The node object is completed below; callbacks reach it through this holder.
    const holder: { node?: SimNode } = {};
    const fetchers = new ReplicaFetcherManager({
      deps: {
        localBrokerId: id,
        localBrokerEpoch: () => holder.node?.brokerEpoch ?? -1n,
        clock: this.timer,
        logger: this.#logger,
        config: { ...DEFAULT_FETCHER_CONFIG, waitMaxMs: 0 },
        sleep: () => Promise.resolve(),
      },
      fetchersPerBroker: 1,
      autoStart: false,
      endpointFor: (leaderId) => this.#endpoint(leaderId, id),
    });
    const manager = new PartitionManager({
      logs,
      image: () => publisher.image,
      config: () => config,
      nodeId: id,
      logger: this.#logger,
      events: {
        onAppend: (key, bytes, stable, visible) => purgatory.onAppend(key, bytes, stable, visible),
        onChange: (key) => purgatory.onPartitionEvent(key),
      },
      clock: this.timer,
      timer: new KeyedTimer(this.timer, `n${id}.${incarnation}:`),
      snapshotIntervalMs: 0,
      highWatermarkCheckpointIntervalMs: 0,
      isrExpirationIntervalMs: 0,
      alterPartition: { alterPartition: (request) => this.#sendAlterPartition(holder.node!, request) },
      fetchers,
    });
    manager.loadFromImage(image);
    publisher.onPublish((next, previous, records) => manager.applyDelta(next, previous, records));
    const node: SimNode = {
      id,
      dir,
      logs,
      manager,
      fetches,
      fetchers,
      publisher,
      incarnationId: registration(id).incarnationId.slice(0, -4) + String(incarnation).padStart(4, "0"),
      brokerEpoch: -1n,
      registered: false,
      ready: false,
      inFlight: false,
      connection: connection(),
      wantShutDown: false,
      shutdownAgreed: false,
      applied: this.quorum.committed.findIndex((b) => b.lastOffset > image.offset),
    };
    if (node.applied < 0) node.applied = this.quorum.committed.length;
    holder.node = node;
    return node;
  }

  #countChanges(_next: MetadataImage, _previous: MetadataImage, records: readonly MetadataRecord[]): void {
    this.stats.metadataBatches++;
    for (const r of records) {
      if (r.type === "PartitionChange") {
        if (r.data.leader !== undefined) this.stats.leaderChanges++;
        if (r.data.isr !== undefined) this.stats.isrChanges++;
        this.note(
          `committed: p${r.data.partitionId} ${JSON.stringify(r.data, (_k, v) => (typeof v === "bigint" ? String(v) : v)).replace(/"topicId":"[^"]*",/, "")}`,
        );
      } else if (r.type === "BrokerRegistrationChange") {
        if (r.data.fenced === true) this.stats.fencings++;
        this.note(
          `committed: broker ${r.data.brokerId} ${r.data.fenced === true ? "fenced" : r.data.fenced === false ? "unfenced" : "changed"}${r.data.inControlledShutdown ? " (controlled shutdown)" : ""}`,
        );
      } else if (r.type === "RegisterBroker") {
        this.note(`committed: broker ${r.data.brokerId} registered, epoch ${r.data.brokerEpoch}`);
      }
    }
  }

  // -----------------------------------------------------------------------------------------
  // The quorum and the controller

  /** The quorum commits the controller's oldest pending proposal. */
  async commitNext(): Promise<boolean> {
    const done = await this.quorum.commitNext();
    return done;
  }

  /** A broker replays up to `batches` committed metadata batches (it must reach the quorum). */
  async replayMetadata(id: number, batches = Number.MAX_SAFE_INTEGER): Promise<number> {
    const node = this.nodes.get(id);
    if (node === undefined || this.#stopped.has(id) || this.#cutFromController.has(id)) return 0;
    let n = 0;
    while (n < batches && node.applied < this.quorum.committed.length) {
      const batch = this.quorum.committed[node.applied++]!;
      await node.publisher.handleCommit(batch);
      n++;
    }
    return n;
  }

  /**
   * A broker's heartbeat (or its registration, when it has none): sent unless its process is
   * stopped, it cannot reach the controller, or its previous one is unanswered. The answer
   * arrives once the controller's records (if any) are committed.
   */
  heartbeat(id: number): void {
    const node = this.nodes.get(id);
    if (node === undefined || this.#stopped.has(id) || this.#cutFromController.has(id) || node.inFlight)
      return;
    node.inFlight = true;
    const current = () => this.nodes.get(id) === node && !this.#stopped.has(id);
    if (!node.registered) {
      this.#controller
        .registerBroker(registration(id, { incarnationId: node.incarnationId }))
        .then(
          (reply) => {
            if (!current() || reply.errorCode !== ErrorCode.NONE) return;
            node.brokerEpoch = reply.brokerEpoch;
            node.registered = true;
          },
          () => {},
        )
        .finally(() => {
          node.inFlight = false;
        });
      return;
    }
    this.#controller
      .brokerHeartbeat({
        brokerId: id,
        brokerEpoch: node.brokerEpoch,
        currentMetadataOffset: BigInt(node.publisher.image.offset),
        wantFence: false,
        wantShutDown: node.wantShutDown,
        connection: node.connection,
      })
      .then(
        (reply) => {
          if (!current()) return;
          // BrokerLifecycleManager: the controller no longer knows this registration.
          if (reply.errorCode === ErrorCode.STALE_BROKER_EPOCH) node.registered = false;
          if (reply.errorCode === ErrorCode.NONE && !reply.isFenced && !node.ready) {
            node.ready = true;
            this.note(`node ${id} is unfenced and serves`);
          }
          if (reply.errorCode === ErrorCode.NONE && reply.shouldShutDown && node.wantShutDown)
            node.shutdownAgreed = true;
        },
        () => {},
      )
      .finally(() => {
        node.inFlight = false;
      });
  }

  #sendAlterPartition(from: SimNode, request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    if (
      this.#stopped.has(from.id) ||
      this.#cutFromController.has(from.id) ||
      this.nodes.get(from.id) !== from
    )
      return Promise.reject(new Error(`broker ${from.id} cannot reach the controller`));
    return new Promise((resolve, reject) => this.#alterQueue.push({ from, request, resolve, reject }));
  }

  get pendingAlterPartitions(): number {
    return this.#alterQueue.length;
  }

  /**
   * The controller takes the oldest AlterPartition that reached it (ReplicationControlManager's
   * checks); the answer goes back once its records are committed. Returns false when none waits.
   */
  deliverAlterPartition(): boolean {
    const item = this.#alterQueue.shift();
    if (item === undefined) return false;
    const req = item.request.topics[0]?.partitions[0];
    this.note(
      `controller gets AlterPartition p${req?.partitionIndex} from ${item.request.brokerId}: ISR [${req?.newIsrWithEpochs.map((b) => b.brokerId)}] at leader epoch ${req?.leaderEpoch}, partition epoch ${req?.partitionEpoch}`,
    );
    this.#controller.alterPartition(item.request).then(
      (response) => {
        const code = response.errorCode || (response.topics[0]?.partitions[0]?.errorCode ?? -1);
        if (code === ErrorCode.NONE) this.stats.alterPartitionsAccepted++;
        else this.stats.alterPartitionsRefused++;
        this.note(`AlterPartition p${req?.partitionIndex} from ${item.request.brokerId} answered ${code}`);
        item.resolve(response);
      },
      (err: Error) => item.reject(err),
    );
    return true;
  }

  /**
   * The hand-written tests' shortcut: the oldest AlterPartition goes to the controller, and the
   * metadata settles (commits, replays, heartbeats). False when none was waiting.
   */
  async answerAlterPartition(): Promise<boolean> {
    if (!this.deliverAlterPartition()) return false;
    await this.quiesce();
    return true;
  }

  /** The controller fences brokers whose session expired (its periodic check). */
  checkSessions(): void {
    this.#controller.fenceStaleBrokers().then(
      (fenced) => {
        if (fenced.length > 0) this.note(`controller fenced ${fenced} (session expired)`);
      },
      () => {},
    );
  }

  /** The controller's periodic elections (preferred leaders back, auto.leader.rebalance.enable). */
  runElections(): void {
    this.#controller.runElections().then(
      (n) => {
        if (n > 0) this.note(`controller: ${n} preferred election(s)`);
      },
      () => {},
    );
  }

  /**
   * The active controller changes: pending proposals are each kept (committed) or dropped, a new
   * controller over the committed image becomes active, and every broker heartbeats it on a new
   * connection (as BrokerLifecycleManager.heartbeatSoon does on a new quorum leader).
   */
  async failoverController(): Promise<void> {
    const generation = await this.quorum.failover(() => this.random() < 0.5);
    this.stats.controllerFailovers++;
    this.note(`controller failover: generation ${generation}`);
    this.#controller = this.#newController();
    for (const node of this.nodes.values()) node.connection = connection();
    // AlterPartitions sent to the old controller and not delivered are lost with its connections.
    for (const item of this.#alterQueue.splice(0)) item.reject(new Error("controller connection lost"));
  }

  /**
   * Lets the metadata settle: every reachable broker heartbeats and replays, the quorum commits,
   * until nothing moves (bounded). With `alterPartitions`, waiting AlterPartitions are delivered too.
   */
  async quiesce(alterPartitions = false, rounds = 30): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      let moved = false;
      for (const id of this.nodes.keys()) this.heartbeat(id);
      if (alterPartitions) while (this.deliverAlterPartition()) moved = true;
      await this.settle();
      while (await this.commitNext()) {
        moved = true;
        await this.settle();
      }
      for (const id of this.nodes.keys()) if ((await this.replayMetadata(id)) > 0) moved = true;
      await this.settle();
      const waiting = [...this.nodes.values()].some(
        (n) =>
          !this.#stopped.has(n.id) && !this.#cutFromController.has(n.id) && (n.inFlight || !n.registered),
      );
      if (!moved && !waiting && this.quorum.pendingCount === 0) return;
    }
  }

  // -----------------------------------------------------------------------------------------
  // Brokers

  /** A broker writes its high-watermark checkpoint, as its periodic task does. */
  checkpoint(id: number): void {
    if (this.#stopped.has(id)) return;
    this.nodes.get(id)!.manager.checkpointHighWatermarks();
    this.note(`node ${id} checkpoints its high watermarks`);
  }

  isStopped(id: number): boolean {
    return this.#stopped.has(id);
  }

  /**
   * A broker's process dies (kill -9): its connection to the controller closes (when it could
   * reach it), and what it leaves on disk is the checkpoint of its last periodic write and no
   * clean-shutdown marker; the data itself is in the files, as after a process kill.
   */
  async crash(id: number, loseUnflushed = false): Promise<void> {
    if (this.#stopped.has(id)) return;
    const node = this.nodes.get(id)!;
    const checkpointFile = path.join(node.dir, "replication-offset-checkpoint");
    const lastCheckpoint = fs.existsSync(checkpointFile) ? fs.readFileSync(checkpointFile) : undefined;
    this.note(`node ${id} crashes${loseUnflushed ? ", losing unflushed data" : ""}`);
    await this.#stop(node);
    if (lastCheckpoint === undefined) fs.rmSync(checkpointFile, { force: true });
    else fs.writeFileSync(checkpointFile, lastCheckpoint);
    fs.rmSync(path.join(node.dir, ".kafka_cleanshutdown"), { force: true });
    if (loseUnflushed) this.#loseUnflushed(node);
  }

  /**
   * A power loss: Krill (as Kafka) leaves log fsyncs to segment rolls, so any suffix of a
   * segment may be gone; each segment of the workload topic is cut to a random length (a torn
   * batch included), and recovery at the next start finds what is left. Checkpoint files are
   * written by rename, so they stay as they were (possibly ahead of the log).
   */
  #loseUnflushed(node: SimNode): void {
    const cuts: string[] = [];
    for (let p = 0; p < this.#options.partitions; p++) {
      const dir = path.join(node.dir, `${TOPIC}-${p}`);
      if (!fs.existsSync(dir)) continue;
      for (const file of fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".log"))
        .sort()) {
        const full = path.join(dir, file);
        const size = fs.statSync(full).size;
        const keep = this.random() < 0.3 ? 0 : Math.floor(this.random() * (size + 1));
        if (keep < size) {
          fs.truncateSync(full, keep);
          cuts.push(`p${p}/${file} ${size} -> ${keep} bytes`);
        }
      }
    }
    this.stats.unflushedLosses++;
    this.#lostData.add(node.id);
    this.note(`node ${node.id} lost unflushed data: ${cuts.join(", ") || "nothing"}`);
  }

  async #stop(node: SimNode): Promise<void> {
    this.#stopped.add(node.id);
    // The kernel closes the process's sockets; the controller hears of it if it is reachable.
    if (!this.#cutFromController.has(node.id)) node.connection.close();
    for (const item of this.#alterQueue.filter((i) => i.from === node)) {
      this.#alterQueue.splice(this.#alterQueue.indexOf(item), 1);
    }
    await node.fetchers.shutdown();
    await node.manager.shutdown();
    await node.logs.shutdown();
  }

  /**
   * A controlled shutdown: the broker heartbeats with WantShutDown until the controller says
   * ShouldShutDown (its leaderships moved and every active broker has seen it), bounded, then
   * stops cleanly (high-watermark checkpoint, clean-shutdown marker). Checks
   * **HighWatermarkSurvivesRestart** when it starts again (`startBroker`).
   */
  async shutDown(id: number): Promise<boolean> {
    if (this.#stopped.has(id)) return false;
    const node = this.nodes.get(id)!;
    node.wantShutDown = true;
    this.note(`node ${id} begins a controlled shutdown`);
    for (let round = 0; round < 10 && !node.shutdownAgreed; round++) await this.quiesce(true, 3);
    this.note(`node ${id} shuts down (${node.shutdownAgreed ? "agreed" : "not agreed; stopping anyway"})`);
    const before = new Map<number, number>();
    for (let p = 0; p < this.#options.partitions; p++) {
      const held = node.manager.held(TOPIC, p);
      if (held !== undefined) before.set(p, held.highWatermark);
    }
    this.#cleanHighWatermarks.set(id, before);
    await this.#stop(node);
    return node.shutdownAgreed;
  }

  /** High watermarks of brokers that shut down cleanly, checked when they start again. */
  readonly #cleanHighWatermarks = new Map<number, Map<number, number>>();

  /** A stopped broker starts again over its files, a new incarnation (it registers on its next heartbeat). */
  startBroker(id: number): boolean {
    // A broker publishes metadata only once it has replayed the committed log (Kafka's
    // MetadataLoader waits for the quorum's high watermark; Krill's raft core knows it only from
    // the leader): one cut off from the quorum does not come up yet.
    if (!this.#stopped.has(id) || this.#cutFromController.has(id)) return false;
    const image = this.#committed.image;
    const next = this.#buildNode(id, image);
    this.nodes.set(id, next);
    this.#stopped.delete(id);
    if (this.#lostData.delete(id)) this.#lossy.add(next.incarnationId);
    this.stats.restarts++;
    this.note(`node ${id} starts (incarnation ${next.incarnationId.slice(-4)})`);
    const before = this.#cleanHighWatermarks.get(id);
    this.#cleanHighWatermarks.delete(id);
    for (const [p, hw] of before ?? []) {
      const after = next.manager.held(TOPIC, p)?.highWatermark ?? -1;
      if (after < hw)
        this.fail("HighWatermarkSurvivesRestart", `node ${id} p${p}: ${hw} before, ${after} after`);
    }
    return true;
  }

  /** Crash or controlled shutdown, then start again and let the metadata settle (hand-written tests). */
  async restart(id: number, clean: boolean): Promise<void> {
    if (clean) await this.shutDown(id);
    else await this.crash(id);
    await this.quiesce();
    this.startBroker(id);
    await this.quiesce();
  }

  /**
   * Moves leadership of `partition` away from its leader the way a live cluster does without a
   * controlled shutdown: the leader's session expires while it is cut off from the controller, the
   * controller fences it (electing another ISR member), then it comes back and is unfenced. For
   * the hand-written tests; true when the leader changed.
   */
  async electLeader(partition: number): Promise<boolean> {
    const leader = this.leaderOf(partition);
    if (leader < 0) return false;
    this.setCutFromController(leader, true);
    this.timer.advance(SESSION_TIMEOUT_MS + 1);
    for (const id of this.nodes.keys()) if (id !== leader) this.heartbeat(id);
    await this.settle();
    this.checkSessions();
    await this.quiesce();
    this.setCutFromController(leader, false);
    await this.quiesce();
    return this.leaderOf(partition) !== leader;
  }

  close(): Promise<void> {
    return (async () => {
      for (const [id, node] of this.nodes) {
        if (this.#stopped.has(id)) continue;
        await node.fetchers.shutdown();
        await node.manager.shutdown();
        await node.logs.shutdown();
      }
      this.timer.close();
      fs.rmSync(this.#root, { recursive: true, force: true });
    })();
  }

  #endpoint(leaderId: number, followerId: number): LeaderEndpoint {
    const leader = () => {
      const node = this.nodes.get(leaderId);
      if (
        node === undefined ||
        !node.ready ||
        this.#stopped.has(leaderId) ||
        this.#cutFromBrokers.has(leaderId) ||
        this.#cutFromBrokers.has(followerId)
      ) {
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

  /** Cuts a broker off from the other brokers' fetches (it still reaches the controller). */
  setDown(id: number, down: boolean): void {
    if (down) this.#cutFromBrokers.add(id);
    else this.#cutFromBrokers.delete(id);
    this.note(`node ${id} ${down ? "cut off from the brokers" : "reaches the brokers again"}`);
  }

  isDown(id: number): boolean {
    return this.#cutFromBrokers.has(id);
  }

  /**
   * Cuts a broker off from the controller quorum (no heartbeats, AlterPartition or metadata; its
   * connection stays open, as a partition leaves it), while clients and brokers still reach it.
   */
  setCutFromController(id: number, cut: boolean): void {
    if (cut) this.#cutFromController.add(id);
    else this.#cutFromController.delete(id);
    this.note(`node ${id} ${cut ? "cut off from the controller" : "reaches the controller again"}`);
  }

  isCutFromController(id: number): boolean {
    return this.#cutFromController.has(id);
  }

  /** The leader in the committed image. */
  leaderOf(partition: number): number {
    return this.#committed.image.topicsByName.get(TOPIC)!.partitions[partition]!.leader;
  }

  held(node: number, partition: number): Partition {
    const p = this.nodes.get(node)!.manager.held(TOPIC, partition);
    if (p === undefined) throw new Error(`node ${node} holds no replica of ${partition}`);
    return p;
  }

  /**
   * Produces `count` records with `acks` to the leader as `via` sees it (a client's metadata may
   * be stale: default the committed image's leader); the answer arrives later for acks=all (it is
   * recorded when it does). Returns the promise of the error code.
   */
  produceTo(
    partition: number,
    acks: -1 | 1,
    count: number,
    timeoutMs = 30_000,
    via?: number,
  ): Promise<number> {
    const view = via === undefined ? this.#committed.image : this.nodes.get(via)?.publisher.image;
    const target = view?.topicsByName.get(TOPIC)?.partitions[partition]?.leader ?? -1;
    const node = this.nodes.get(target);
    this.stats.produced++;
    if (node === undefined || this.#stopped.has(target) || !node.ready) {
      this.stats.failed++;
      this.produceErrors.set("NO_LEADER_REACHABLE", (this.produceErrors.get("NO_LEADER_REACHABLE") ?? 0) + 1);
      return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }
    const values = Array.from({ length: count }, () => `v${this.#nextValue++}`);
    const records = buildRecordBatch({
      producerId: -1n,
      records: values.map((value) => ({ timestamp: this.timer.nowMs(), key: null, value })),
    });
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
        this.note(`produce p${partition} to ${target} acks=${acks} ${values.join(",")} acked at ${base}`);
      } else {
        this.stats.failed++;
        const name = errorCodeName(out.errorCode);
        this.produceErrors.set(name, (this.produceErrors.get(name) ?? 0) + 1);
        this.note(
          `produce p${partition} to ${target} acks=${acks} ${values.join(",")} error ${out.errorCode}`,
        );
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
    if (node === undefined || !node.ready || this.#stopped.has(node.id))
      return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, baseOffset: -1 };
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

  /** One round of every fetcher of a node (if it runs and is not cut off). */
  async fetchRound(nodeId: number): Promise<void> {
    if (this.#cutFromBrokers.has(nodeId) || this.#stopped.has(nodeId)) return;
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
    for (const [id, node] of this.nodes) if (!this.#stopped.has(id)) node.manager.maybeShrinkIsr();
  }

  /**
   * Time passes as in a live cluster: in heartbeat-interval slices, each running broker that
   * reaches the controller heartbeats, the controller checks sessions, the quorum commits what
   * is pending, the brokers that reach it replay the new metadata and every follower fetches
   * once (milliseconds of work in a slice of seconds), leaders check their ISRs.
   */
  async advanceLive(ms: number): Promise<void> {
    let left = ms;
    while (left > 0) {
      const slice = Math.min(left, HEARTBEAT_INTERVAL_MS);
      this.advance(slice);
      left -= slice;
      for (const id of this.nodes.keys()) this.heartbeat(id);
      await this.settle();
      // The controller's session check runs on a timer too (ControllerTasks).
      this.checkSessions();
      await this.settle();
      while (await this.commitNext()) await this.settle();
      for (const id of this.nodes.keys()) await this.replayMetadata(id);
      // Followers fetch continuously in a live cluster (a cut-off one's fetches fail).
      for (const id of this.nodes.keys()) await this.fetchRound(id);
      await this.settle();
    }
  }

  /** Lets promise callbacks (answers, AlterPartition results) run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  }

  fail(name: string, detail: string): never {
    throw new InvariantViolation(
      `invariant ${name} violated (seed ${this.#options.seed}): ${detail}\n${this.trace.slice(-80).join("\n")}`,
    );
  }

  /**
   * KIP-966's "last replica standing with an unclean shutdown": a broker process started after a
   * power loss (`#lossy`) is the only member of a committed ISR. Without eligible leader replicas
   * (Krill has none; Kafka 4.1+ has them by default) the controller keeps it as the last member
   * and elects it, so the acknowledged records it lost are gone: they are dropped from `acked`
   * (counted in `stats.lastReplicaLosses`) and every other invariant goes on.
   */
  #forgetLastReplicaLosses(p: number, isr: readonly number[]): void {
    if (isr.length !== 1) return;
    const node = this.nodes.get(isr[0]!)!;
    if (this.#stopped.has(node.id) || !this.#lossy.has(node.incarnationId)) return;
    const part = node.manager.held(TOPIC, p);
    if (part === undefined) return;
    // Whatever it lost may have been committed (under some replica's high watermark).
    this.#lastReplicaLost.add(p);
    const values = valuesByOffset(part, part.logEndOffset);
    const lost = this.acked.filter((a) => a.partition === p && values.get(a.offset) !== a.value);
    if (lost.length === 0) return;
    this.stats.lastReplicaLosses += lost.length;
    this.note(
      `KIP-966 case: p${p}'s only ISR member ${node.id} lost ${lost.map((a) => `${a.value}@${a.offset}`)} in a power loss`,
    );
    for (const a of lost) this.acked.splice(this.acked.indexOf(a), 1);
  }

  /** Partitions where the KIP-966 case lost acknowledged records (other replicas' high watermarks may cover them). */
  readonly #lastReplicaLost = new Set<number>();

  /** The named invariants, after every step. */
  checkInvariants(): void {
    this.#checkControllerDecisions();
    const image = this.#committed.image;
    const topic = image.topicsByName.get(TOPIC);
    if (topic === undefined) return;
    for (let p = 0; p < this.#options.partitions; p++) {
      const state = topic.partitions[p]!;
      this.#forgetLastReplicaLosses(p, state.isr);
      const running = [...this.nodes.values()].filter((n) => !this.#stopped.has(n.id));
      // OneLeaderPerEpoch: no two nodes lead the same epoch, ever.
      const leaders = running.filter((n) => n.manager.held(TOPIC, p)?.isLeader);
      for (const n of leaders) {
        const part = n.manager.held(TOPIC, p)!;
        const key = `${p}@${part.leaderEpoch}`;
        const seen = this.#epochLeader.get(key);
        if (seen !== undefined && seen !== n.id)
          this.fail("OneLeaderPerEpoch", `${key} led by ${seen} and ${n.id}`);
        this.#epochLeader.set(key, n.id);
        // HighWatermarkMonotonic: a leader's high watermark never moves back in its epoch (in one
        // process: a leader restarted before the controller moved its leadership leads the same
        // epoch again from its checkpoint, as in Kafka).
        const hwKey = `${n.incarnationId}:${key}`;
        const hw = part.highWatermark;
        const before = this.#leaderHw.get(hwKey) ?? -1;
        if (hw < before)
          this.fail(
            "HighWatermarkMonotonic",
            `node ${n.id} p${p} epoch ${part.leaderEpoch}: ${before} -> ${hw}`,
          );
        this.#leaderHw.set(hwKey, hw);
      }
      for (const n of running) {
        const part = n.manager.held(TOPIC, p);
        // HighWatermarkBelowLogEnd: no replica exposes offsets it does not hold.
        if (part !== undefined && part.highWatermark > part.logEndOffset) {
          this.fail(
            "HighWatermarkBelowLogEnd",
            `node ${n.id} p${p}: ${part.highWatermark} > ${part.logEndOffset}`,
          );
        }
      }
      // IsrMembersHoldAcked: every member of the committed ISR that runs holds every acks=all
      // record: whoever the controller may elect cleanly has what was acknowledged.
      for (const id of state.isr) {
        // The member is the registered incarnation: a process started since (after a power loss,
        // with less data) is not, until its registration replaces it.
        const node = this.nodes.get(id)!;
        if (this.#stopped.has(id) || image.brokers.get(id)?.incarnationId !== node.incarnationId) continue;
        const member = node.manager.held(TOPIC, p);
        if (member === undefined) continue;
        const values = valuesByOffset(member, member.logEndOffset);
        for (const a of this.acked) {
          if (a.partition === p && values.get(a.offset) !== a.value) {
            this.fail(
              "IsrMembersHoldAcked",
              `p${p} ISR member ${id} (leader ${state.leader}, epoch ${state.leaderEpoch}) holds ${values.get(a.offset)} at ${a.offset}, acked ${a.value}`,
            );
          }
        }
      }
      // The rest compares replicas with the leader the controller elected, once it leads that
      // epoch (a broker that has not replayed its election yet is not the leader yet), and only
      // while the process leading is the incarnation the controller elected (one restarted since
      // serves nobody until its registration has moved the leadership away).
      const leaderNode = this.nodes.get(state.leader);
      if (
        leaderNode === undefined ||
        this.#stopped.has(state.leader) ||
        image.brokers.get(state.leader)?.incarnationId !== leaderNode.incarnationId
      )
        continue;
      const leaderPart = leaderNode.manager.held(TOPIC, p);
      if (leaderPart === undefined || !leaderPart.isLeader || leaderPart.leaderEpoch !== state.leaderEpoch)
        continue;
      // IsrHoldsHighWatermark, LogsMatchBelowHighWatermark, AckedRecordsKept.
      const hw = leaderPart.highWatermark;
      const leaderBytes = readAll(leaderPart, hw);
      for (const id of state.isr) {
        const node = this.nodes.get(id)!;
        if (this.#stopped.has(id) || image.brokers.get(id)?.incarnationId !== node.incarnationId) continue;
        const member = node.manager.held(TOPIC, p)!;
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
      for (const n of running) {
        const part = n.manager.held(TOPIC, p);
        if (part === undefined || n.id === state.leader) continue;
        // ReplicaHighWatermarkCommitted: whatever a replica's high watermark covers (learned from
        // a leader, or read back from its checkpoint after a restart) is the current leader's log.
        const own = part.highWatermark;
        // After the KIP-966 case, a replica outside the ISR may still cover what was lost (until
        // it truncates to the new leader's log): that loss is counted above, not flagged here.
        const excused = this.#lastReplicaLost.has(p) && !state.isr.includes(n.id);
        if (
          !excused &&
          (leaderPart.logEndOffset < own || !readAll(part, own).equals(readAll(leaderPart, own)))
        ) {
          this.fail(
            "ReplicaHighWatermarkCommitted",
            `p${p} node ${n.id} high watermark ${own} covers data leader ${state.leader} lacks (log end ${leaderPart.logEndOffset})`,
          );
        }
        // FollowerPrefixOfLeader: a follower whose fetch this leader accepted in its epoch (it
        // learned the follower's log end; a diverging fetch is not recorded) holds a prefix of
        // the leader's log. Logs of ISR members that have fetched are thus prefixes of each other.
        const known = leaderPart.replica(n.id)?.logEndOffset ?? -1;
        if (known < 0 || part.leaderEpoch !== leaderPart.leaderEpoch) continue;
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

  /**
   * Invariants of the controller's decisions, on the committed image:
   * - **LeaderInIsr**: a partition's leader is a member of its ISR; the ISR is never empty and
   *   holds only replicas, once each.
   * - **LeaderIsActiveBroker**: no partition is led by a fenced broker or one in controlled
   *   shutdown (fencing moves leaderships in the same batch).
   * - **FencedOnlyAsLastIsrMember**: a fenced broker stays in an ISR only as its last member
   *   (kept so that a clean election is possible when it returns).
   * - **EpochsMonotonic**: a partition's leader epoch never decreases, its partition epoch never
   *   decreases either, and a leader change always bumps the leader epoch.
   */
  #checkControllerDecisions(): void {
    const image = this.#committed.image;
    const topic = image.topicsByName.get(TOPIC);
    if (topic === undefined) return;
    for (const state of topic.partitions) {
      const p = state.partitionId;
      const where = `p${p} ${describe(state)}`;
      if (
        state.isr.length === 0 ||
        new Set(state.isr).size !== state.isr.length ||
        state.isr.some((r) => !state.replicas.includes(r)) ||
        (state.leader !== -1 && !state.isr.includes(state.leader))
      )
        this.fail("LeaderInIsr", where);
      if (state.leader !== -1 && !image.isActiveBroker(state.leader))
        this.fail("LeaderIsActiveBroker", where);
      for (const r of state.isr) {
        if (image.brokers.get(r)?.fenced && state.isr.length > 1)
          this.fail("FencedOnlyAsLastIsrMember", where);
      }
      const last = this.#lastEpochs.get(p);
      if (last !== undefined) {
        if (state.leaderEpoch < last.leaderEpoch || state.partitionEpoch < last.partitionEpoch)
          this.fail(
            "EpochsMonotonic",
            `${where}; was leader epoch ${last.leaderEpoch}, partition epoch ${last.partitionEpoch}`,
          );
      }
      this.#lastEpochs.set(p, { leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch });
    }
  }
}

function describe(state: PartitionImage): string {
  return `leader ${state.leader} epoch ${state.leaderEpoch} ISR [${state.isr}] partition epoch ${state.partitionEpoch}`;
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
