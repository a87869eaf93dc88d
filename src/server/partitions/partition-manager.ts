/**
 * The partitions this node holds a replica of (Kafka's ReplicaManager): creates and deletes their
 * logs and `Partition`s as metadata changes (`applyDelta`, driven by each published batch, for
 * the partitions whose replicas include this node), makes each partition leader or follower when
 * the image says so (not when a request looks it up) and starts or stops its replica fetcher,
 * resolves a request's topic and partition to the `Partition` it may use, keeps each topic's
 * effective configuration, holds produces waiting for acks=all (`delayedProduce`), checks the
 * ISRs it leads for lagging followers every replica.lag.time.max.ms / 2, snapshots producer
 * state periodically and at shutdown, and keeps the high watermarks in each log dir's
 * `replication-offset-checkpoint` (Kafka's format: 0 / N / "topic partition offset"), written
 * every replica.high.watermark.checkpoint.interval.ms and at shutdown and read when a partition
 * is first created here, so a restarted replica neither exposes offsets that were never committed
 * nor forgets the ones that were.
 *
 * Appends and log changes are reported through `PartitionManagerOptions.events`: the broker wires
 * them to Fetch's purgatory (src/server/fetch/), which the manager does not know.
 *
 * Concurrency contract: synchronous lookups on the event loop; `applyDelta` runs as a publish
 * listener (deleting a log awaits its close); the timers run between requests.
 */
import path from "node:path";
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../../clock.js";
import { type BrokerConfig, brokerConfigDef } from "../../config/broker-config.js";
import { effectiveTopicConfig, type TopicConfig } from "../../config/topic-config.js";
import {
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
  writeOffsetCheckpointAsync,
} from "../../log/checkpoint.js";
import type { LogManager } from "../../log/log-manager.js";
import {
  partitionDirName,
  REPLICATION_OFFSET_CHECKPOINT_FILE,
  type TopicPartition,
} from "../../log/names.js";
import type { MetadataImage, PartitionImage, TopicImage } from "../../metadata/image.js";
import { METADATA_TOPIC } from "../../metadata/metadata-log.js";
import type { MetadataRecord } from "../../metadata/records.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { SystemTimer, type Timer } from "../group/timer.js";
import { DelayedProducePurgatory } from "../produce/delayed-produce.js";
import {
  DEFAULT_PRODUCER_STATE_OPTIONS,
  type ProducerStateOptions,
} from "../producer-state/producer-state.js";
import { Partition, type PartitionEvents, type PartitionReplicationOptions } from "./partition.js";
import type { AlterPartitionChannel, BrokerLiveness } from "./replica-state.js";
import { topicLogConfig } from "./topic-log-config.js";
import { topicsDelta } from "./topics-delta.js";

/** Snapshot files written at once (the thread pool runs four fsyncs in parallel). */
const SNAPSHOT_WRITES_CONCURRENT = 8;

export type PartitionLookup =
  | { ok: true; partition: Partition; topic: TopicImage; config: TopicConfig }
  | { ok: false; errorCode: number };

export interface PartitionManagerOptions {
  logs: LogManager;
  image: () => MetadataImage;
  /** The broker configuration in force (a new object after a dynamic broker config change). */
  config: () => BrokerConfig;
  nodeId: number;
  logger: Logger;
  /** Appends and other log changes, by partition key (`${topic}-${partition}`). */
  events?: Pick<PartitionEvents, "onAppend" | "onChange">;
  clock?: Clock;
  producerState?: ProducerStateOptions;
  /** How often changed producer state is snapshotted; 0 disables the timer. */
  snapshotIntervalMs?: number;
  /**
   * How often the high-watermark checkpoints are written (default
   * replica.high.watermark.checkpoint.interval.ms); 0 disables the timer (a simulation calls
   * `checkpointHighWatermarks` itself). Shutdown writes them either way.
   */
  highWatermarkCheckpointIntervalMs?: number;
  /**
   * Timers of the replication core (ISR expiration, AlterPartition retries, acks=all deadlines);
   * its clock should be `clock`. Default: wall-clock timers.
   */
  timer?: Timer;
  /** The controller's AlterPartition; without it ISR changes cannot be proposed (a lone broker). */
  alterPartition?: AlterPartitionChannel;
  /** The replica fetchers this node runs as a follower (src/server/replication/). */
  fetchers?: ReplicaFetcherControl;
  /** 0 disables the ISR expiration timer (a simulation calls `maybeShrinkIsr` itself). */
  isrExpirationIntervalMs?: number;
  /** Bound on produces waiting for acks=all at once. */
  delayedProducesMax?: number;
}

/** A follower partition handed to the replica fetchers: fetch from `leaderId` at `leaderEpoch`. */
export interface FollowerPartition {
  readonly partition: Partition;
  readonly topicId: string;
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

/** What the manager asks of the replica fetchers (Kafka's ReplicaFetcherManager). */
export interface ReplicaFetcherControl {
  /** (Re)start fetching these partitions from their leaders, from their log ends. */
  addPartitions(partitions: readonly FollowerPartition[]): void;
  /** Stop fetching these partitions (by key); a fetch in flight for them is ignored. */
  removePartitions(keys: readonly string[]): void;
}

const NO_ALTER_PARTITION: AlterPartitionChannel = {
  alterPartition: () => Promise.reject(new Error("no controller channel for AlterPartition on this node")),
};

export class PartitionManager {
  readonly clock: Clock;
  readonly #options: PartitionManagerOptions;
  readonly #partitions = new Map<string, Partition>();
  /** Effective topic configs by broker config, then by the topic's override map (both immutable). */
  readonly #configCache = new WeakMap<BrokerConfig, WeakMap<ReadonlyMap<string, string>, TopicConfig>>();
  readonly #events: PartitionEvents;
  readonly #producerStateOptions: ProducerStateOptions;
  readonly #timer: Timer;
  /** The manager built its own timer, so it closes it at shutdown. */
  readonly #ownsTimer: boolean;
  readonly #replicaLagTimeMaxMs: number;
  /** Produces waiting for their acks=all (Kafka's delayed produce purgatory). */
  readonly delayedProduce: DelayedProducePurgatory;
  #snapshotTimer: NodeJS.Timeout | undefined;
  #checkpointTimer: NodeJS.Timeout | undefined;
  /** The periodic high-watermark checkpoint being written, if any. */
  #checkpointWriting: Promise<void> | undefined;
  /**
   * High watermarks by partition directory name for logs not held as a `Partition` now: read from
   * the checkpoints at start-up (Kafka's LazyOffsetCheckpoints) and taken when a partition stops
   * being held. A partition created here starts from its entry; a checkpoint written while its
   * log waits for the image keeps the entry.
   */
  readonly #checkpointedHighWatermarks: Map<string, number>;
  #retrySequence = 0;

  constructor(options: PartitionManagerOptions) {
    this.#options = options;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    const config = options.config();
    this.#producerStateOptions = options.producerState ?? {
      ...DEFAULT_PRODUCER_STATE_OPTIONS,
      producerIdExpirationMs: intConfig(
        config,
        "producer.id.expiration.ms",
        DEFAULT_PRODUCER_STATE_OPTIONS.producerIdExpirationMs,
      ),
    };
    this.#ownsTimer = options.timer === undefined;
    this.#timer = options.timer ?? new SystemTimer(this.clock);
    this.#replicaLagTimeMaxMs = intConfig(config, "replica.lag.time.max.ms", 30_000);
    this.delayedProduce = new DelayedProducePurgatory({
      waitersMax: options.delayedProducesMax ?? 10_000,
      timer: this.#timer,
    });
    this.#events = {
      onAppend: (key, bytes, stableBytes, visibleBytes) =>
        options.events?.onAppend(key, bytes, stableBytes, visibleBytes),
      onChange: (key) => {
        this.delayedProduce.check(key);
        options.events?.onChange(key);
      },
      onHighWatermark: (key) => {
        this.delayedProduce.check(key);
        options.events?.onAppend(key, 0, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
      },
      warn: (fields, message) => options.logger.warn(fields, message),
    };
    const isrIntervalMs = options.isrExpirationIntervalMs ?? Math.floor(this.#replicaLagTimeMaxMs / 2);
    if (isrIntervalMs > 0) {
      const tick = () => {
        this.maybeShrinkIsr();
        this.#timer.schedule("isr-expiration", isrIntervalMs, tick);
      };
      this.#timer.schedule("isr-expiration", isrIntervalMs, tick);
    }
    this.#checkpointedHighWatermarks = this.#readHighWatermarkCheckpoints();
    const checkpointMs =
      options.highWatermarkCheckpointIntervalMs ??
      intConfig(config, "replica.high.watermark.checkpoint.interval.ms", 5_000);
    if (checkpointMs > 0) {
      this.#checkpointTimer = setInterval(() => this.#checkpointHighWatermarksInBackground(), checkpointMs);
      this.#checkpointTimer.unref();
    }
    const intervalMs = options.snapshotIntervalMs ?? 30_000;
    if (intervalMs > 0) {
      this.#snapshotTimer = setInterval(() => {
        this.expireProducers();
        void this.snapshotAll();
      }, intervalMs);
      this.#snapshotTimer.unref();
    }
  }

  get nodeId(): number {
    return this.#options.nodeId;
  }

  image(): MetadataImage {
    return this.#options.image();
  }

  /** The effective configuration of a topic (broker defaults + the topic's overrides). */
  topicConfig(topic: string): TopicConfig {
    const overrides = this.image().topicConfigs(topic);
    const broker = this.#options.config();
    let byOverrides = this.#configCache.get(broker);
    if (byOverrides === undefined) {
      byOverrides = new WeakMap();
      this.#configCache.set(broker, byOverrides);
    }
    let config = byOverrides.get(overrides);
    if (config === undefined) {
      config = effectiveTopicConfig(broker, overrides);
      byOverrides.set(overrides, config);
    }
    return config;
  }

  /** Resolves a partition this broker leads, or the wire error for the request. */
  lookup(topicName: string, partitionId: number): PartitionLookup {
    const topic = this.image().topicsByName.get(topicName);
    return this.#lookupIn(topic, partitionId, -1, true);
  }

  /**
   * A partition held here, checked against the request's current leader epoch (KIP-320) and then
   * for leadership when `requireLeader` (Kafka's Partition.getLocalLog), or the wire error:
   * ListOffsets, OffsetForLeaderEpoch and Fetch. A follower thus answers a stale epoch with
   * FENCED_LEADER_EPOCH and a current one with NOT_LEADER_OR_FOLLOWER.
   */
  lookupAtEpoch(
    topicName: string,
    partitionId: number,
    currentLeaderEpoch: number,
    requireLeader = true,
  ): PartitionLookup {
    const topic = this.image().topicsByName.get(topicName);
    return this.#lookupIn(topic, partitionId, currentLeaderEpoch, requireLeader);
  }

  lookupById(topicId: string, partitionId: number, currentLeaderEpoch = -1): PartitionLookup {
    const topic = this.image().topicsById.get(topicId);
    if (topic === undefined) return { ok: false, errorCode: ErrorCode.UNKNOWN_TOPIC_ID };
    return this.#lookupIn(topic, partitionId, currentLeaderEpoch, true);
  }

  /** A partition held here whatever its role (the replica fetchers), or undefined. */
  held(topicName: string, partitionId: number): Partition | undefined {
    return this.#partitions.get(partitionKey(topicName, partitionId));
  }

  #lookupIn(
    topic: TopicImage | undefined,
    partitionId: number,
    currentLeaderEpoch: number,
    requireLeader: boolean,
  ): PartitionLookup {
    const image = topic?.partitions[partitionId];
    if (topic === undefined || image === undefined) {
      return { ok: false, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    }
    // Absent while the batch that created the partition is still being applied, if its log could
    // not be created, or when this node holds no replica of it.
    const partition = this.#partitions.get(partitionKey(topic.name, partitionId));
    if (partition === undefined) {
      return {
        ok: false,
        errorCode: image.replicas.includes(this.#options.nodeId)
          ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          : ErrorCode.NOT_LEADER_OR_FOLLOWER,
      };
    }
    const errorCode = partition.checkLeaderEpochAndRole(currentLeaderEpoch, requireLeader);
    if (errorCode !== ErrorCode.NONE) return { ok: false, errorCode };
    return { ok: true, partition, topic, config: this.topicConfig(topic.name) };
  }

  /**
   * At start-up, before any request: a log and a `Partition` for every replica the image gives
   * this node; logs of partitions the image does not know are reported and left in place.
   */
  loadFromImage(image: MetadataImage): void {
    for (const topic of image.topicsByName.values()) {
      for (const p of topic.partitions) this.#applyPartition(image, topic, p);
    }
    for (const log of this.#options.logs.allLogs()) {
      const { topic, partition } = log.topicPartition;
      if (topic === METADATA_TOPIC) continue;
      if (image.topicsByName.get(topic)?.partitions[partition] === undefined) {
        this.#options.logger.warn(
          { topic, partition, dir: log.dir },
          "partition log has no topic in the metadata image; left in place",
        );
      }
    }
  }

  /**
   * Publish listener: follows one committed metadata batch. Deleted topics lose their logs and
   * partitions (waiting fetches on them are answered); created partitions get theirs; changed
   * ones take their new leader epoch; topics whose settings changed (or all, after a broker
   * config change) get their new log configuration.
   */
  async applyDelta(
    next: MetadataImage,
    previous: MetadataImage,
    records: readonly MetadataRecord[],
  ): Promise<void> {
    const delta = topicsDelta(next, previous, records);
    const logs = this.#options.logs;
    for (const topic of delta.deleted) {
      for (const p of topic.partitions) {
        const key = partitionKey(topic.name, p.partitionId);
        this.#options.fetchers?.removePartitions([key]);
        this.#partitions.delete(key);
        this.#checkpointedHighWatermarks.delete(key);
        await logs.deleteLog({ topic: topic.name, partition: p.partitionId });
        this.#events.onChange(key);
      }
    }
    for (const { topic, partition } of delta.changed) this.#applyPartition(next, topic, partition);
    if (delta.brokerConfigChanged) {
      // Topic log settings fall back to broker keys, so every topic may have changed.
      const config = this.#options.config();
      logs.setDefaultConfig(topicLogConfig(config, new Map()));
      for (const topic of next.topicsByName.keys()) {
        logs.setTopicConfig(topic, topicLogConfig(config, next.topicConfigs(topic)));
      }
    } else {
      for (const topic of delta.reconfigured) {
        logs.setTopicConfig(topic, topicLogConfig(this.#options.config(), next.topicConfigs(topic)));
      }
    }
  }

  /**
   * One partition's state from the image: its log and `Partition` exist while this node holds a
   * replica, and the partition takes its role at once (Kafka's ReplicaManager.applyDelta): a
   * leader stops fetching and becomes leader; a follower becomes one and, when its leader epoch
   * changed, restarts fetching from the new leader at its log end. A partition this node no
   * longer holds stops fetching (its log stays until the topic is deleted).
   */
  #applyPartition(image: MetadataImage, topic: TopicImage, state: PartitionImage): void {
    const nodeId = this.#options.nodeId;
    const key = partitionKey(topic.name, state.partitionId);
    if (!state.replicas.includes(nodeId)) {
      const held = this.#partitions.get(key);
      if (held !== undefined) {
        this.#options.fetchers?.removePartitions([key]);
        this.#partitions.delete(key);
        this.#checkpointedHighWatermarks.set(key, held.highWatermark);
        this.#events.onChange(key);
      }
      return;
    }
    const log = this.#options.logs.getOrCreateLog(
      { topic: topic.name, partition: state.partitionId },
      topicLogConfig(this.#options.config(), image.topicConfigs(topic.name)),
    );
    let partition = this.#partitions.get(key);
    if (partition === undefined || partition.log !== log) {
      partition = new Partition(
        topic.name,
        state.partitionId,
        log,
        -1,
        this.#events,
        this.#producerStateOptions,
        this.clock,
        this.#replicationOptions(topic, this.#checkpointedHighWatermarks.get(key)),
      );
      this.#checkpointedHighWatermarks.delete(key);
      this.#partitions.set(key, partition);
    }
    if (state.leader === nodeId) {
      this.#options.fetchers?.removePartitions([key]);
      partition.makeLeader(state);
    } else if (partition.makeFollower(state)) {
      this.#options.fetchers?.removePartitions([key]);
      if (state.leader >= 0) {
        this.#options.fetchers?.addPartitions([
          { partition, topicId: topic.topicId, leaderId: state.leader, leaderEpoch: state.leaderEpoch },
        ]);
      }
    }
    // Fetches and produces waiting on the partition's old state answer now.
    this.#events.onChange(key);
  }

  #replicationOptions(
    topic: TopicImage,
    checkpointedHighWatermark: number | undefined,
  ): PartitionReplicationOptions {
    const nodeId = this.#options.nodeId;
    const timer = this.#timer;
    return {
      localBrokerId: nodeId,
      topicId: topic.topicId,
      checkpointedHighWatermark,
      replicaLagTimeMaxMs: this.#replicaLagTimeMaxMs,
      minInsyncReplicas: () => this.topicConfig(topic.name).minInsyncReplicas,
      localBrokerEpoch: () => this.image().brokers.get(nodeId)?.brokerEpoch ?? -1n,
      broker: (brokerId): BrokerLiveness | undefined => {
        const b = this.image().brokers.get(brokerId);
        if (b === undefined) return undefined;
        return { brokerEpoch: b.brokerEpoch, fenced: b.fenced, inControlledShutdown: b.inControlledShutdown };
      },
      alterPartition: this.#options.alterPartition ?? NO_ALTER_PARTITION,
      schedule: (delayMs, task) => {
        this.#retrySequence++;
        timer.schedule(`alter-partition-${this.#retrySequence}`, delayMs, task);
      },
    };
  }

  /** Kafka's isr-expiration task: every partition this node leads drops lagging followers. */
  maybeShrinkIsr(): void {
    for (const partition of this.#partitions.values()) {
      if (partition.isLeader && partition.replicas.length > 1) partition.maybeShrinkIsr();
    }
  }

  /** Partitions held here (leaders and followers). */
  allPartitions(): IterableIterator<Partition> {
    return this.#partitions.values();
  }

  /** Forgets idle producers everywhere (Kafka's producer expiration check). */
  expireProducers(): number {
    const nowMs = this.clock.nowMs();
    let removed = 0;
    for (const partition of this.#partitions.values()) removed += partition.expireProducers(nowMs);
    return removed;
  }

  /**
   * Snapshots producer state of every partition whose state changed, a bounded number of files
   * at a time. Resolves to the number written; failures are logged (the next round retries).
   */
  async snapshotAll(): Promise<number> {
    const pending = [...this.#partitions.values()];
    let written = 0;
    const worker = async () => {
      for (let partition = pending.pop(); partition !== undefined; partition = pending.pop()) {
        try {
          if (await partition.takeSnapshot()) written++;
        } catch (err) {
          this.#options.logger.warn({ err, partition: partition.key }, "producer snapshot failed");
        }
      }
    };
    await Promise.all(Array.from({ length: SNAPSHOT_WRITES_CONCURRENT }, worker));
    return written;
  }

  /**
   * Reads every log dir's `replication-offset-checkpoint`, by partition directory name. A missing
   * file (a first start, or a broker that held no partition) or an unreadable one gives no
   * entries: those partitions start with their high watermark at the log start, as Kafka's do.
   */
  #readHighWatermarkCheckpoints(): Map<string, number> {
    const out = new Map<string, number>();
    for (const logDir of this.#options.logs.logDirs) {
      const file = path.join(logDir, REPLICATION_OFFSET_CHECKPOINT_FILE);
      try {
        for (const [name, offset] of readOffsetCheckpoint(file)) out.set(name, offset);
      } catch (err) {
        this.#options.logger.warn({ file, err }, "ignoring unreadable high-watermark checkpoint");
      }
    }
    return out;
  }

  /**
   * Writes each log dir's `replication-offset-checkpoint` (Kafka's
   * ReplicaManager.checkpointHighWatermarks): the high watermark of every partition held here,
   * leader or follower, and the checkpointed one of logs not held now. A failed write is logged;
   * the next one retries.
   */
  checkpointHighWatermarks(): void {
    for (const [file, entries] of this.#highWatermarkCheckpoints()) {
      try {
        writeOffsetCheckpoint(file, entries);
      } catch (err) {
        this.#options.logger.warn({ file, err }, "high-watermark checkpoint failed");
      }
    }
  }

  /**
   * The periodic checkpoint, written off the event loop (checkpoint.ts: its fsyncs would stall
   * every request in flight). A tick while the previous write is still running is skipped.
   */
  #checkpointHighWatermarksInBackground(): void {
    if (this.#checkpointWriting !== undefined) return;
    const writes = [...this.#highWatermarkCheckpoints()].map(([file, entries]) =>
      writeOffsetCheckpointAsync(file, entries).catch((err: unknown) => {
        this.#options.logger.warn({ file, err }, "high-watermark checkpoint failed");
      }),
    );
    this.#checkpointWriting = Promise.all(writes).then(() => {
      this.#checkpointWriting = undefined;
    });
  }

  /** Per log dir: its checkpoint file and the high watermark of every partition to record. */
  #highWatermarkCheckpoints(): Map<string, Map<string, { tp: TopicPartition; offset: number }>> {
    const byDir = new Map<string, Map<string, { tp: TopicPartition; offset: number }>>();
    for (const logDir of this.#options.logs.logDirs) byDir.set(logDir, new Map());
    for (const log of this.#options.logs.allLogs()) {
      const name = partitionDirName(log.topicPartition);
      const held = this.#partitions.get(name);
      const offset =
        held !== undefined && held.log === log
          ? held.highWatermark
          : this.#checkpointedHighWatermarks.get(name);
      if (offset === undefined) continue;
      byDir.get(path.dirname(log.dir))?.set(name, { tp: log.topicPartition, offset });
    }
    const out = new Map<string, Map<string, { tp: TopicPartition; offset: number }>>();
    for (const [logDir, entries] of byDir)
      out.set(path.join(logDir, REPLICATION_OFFSET_CHECKPOINT_FILE), entries);
    return out;
  }

  /** Writes final producer snapshots and high-watermark checkpoints; call before the logs close. */
  async shutdown(): Promise<void> {
    if (this.#snapshotTimer !== undefined) clearInterval(this.#snapshotTimer);
    if (this.#checkpointTimer !== undefined) clearInterval(this.#checkpointTimer);
    this.#timer.cancel("isr-expiration");
    this.delayedProduce.shutdown();
    if (this.#ownsTimer) this.#timer.close();
    await this.snapshotAll();
    // A periodic write still running uses the same temporary file: let it finish first.
    await this.#checkpointWriting;
    this.checkpointHighWatermarks();
    this.#partitions.clear();
  }
}

function intConfig(config: BrokerConfig, name: string, fallback: number): number {
  return brokerConfigDef(name) === undefined ? fallback : (config.intOrNull(name) ?? fallback);
}

/** The key of a partition in the manager and in Fetch's purgatory. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}
