/**
 * The partitions this node holds a replica of (Kafka's ReplicaManager): creates and deletes their
 * logs and `Partition`s as metadata changes (`applyDelta`, driven by each published batch; today
 * every partition of the image has its one replica here), applies each leader change to the
 * partition when it is published (not when a request looks it up), resolves a request's topic and
 * partition to the `Partition` it may use, keeps each topic's effective configuration, and
 * snapshots producer state periodically and at shutdown.
 *
 * Appends and log changes are reported through `PartitionManagerOptions.events`: the broker wires
 * them to Fetch's purgatory (src/server/fetch/), which the manager does not know.
 *
 * Concurrency contract: synchronous lookups on the event loop; `applyDelta` runs as a publish
 * listener (deleting a log awaits its close); the snapshot timer runs between requests.
 */
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../../clock.js";
import { type BrokerConfig, brokerConfigDef } from "../../config/broker-config.js";
import { effectiveTopicConfig, type TopicConfig } from "../../config/topic-config.js";
import type { LogManager } from "../../log/log-manager.js";
import type { MetadataImage, PartitionImage, TopicImage } from "../../metadata/image.js";
import { METADATA_TOPIC } from "../../metadata/metadata-log.js";
import type { MetadataRecord } from "../../metadata/records.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import {
  DEFAULT_PRODUCER_STATE_OPTIONS,
  type ProducerStateOptions,
} from "../producer-state/producer-state.js";
import { Partition, type PartitionEvents } from "./partition.js";
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
}

export class PartitionManager {
  readonly clock: Clock;
  readonly #options: PartitionManagerOptions;
  readonly #partitions = new Map<string, Partition>();
  /** Effective topic configs by broker config, then by the topic's override map (both immutable). */
  readonly #configCache = new WeakMap<BrokerConfig, WeakMap<ReadonlyMap<string, string>, TopicConfig>>();
  readonly #events: PartitionEvents;
  readonly #producerStateOptions: ProducerStateOptions;
  #snapshotTimer: NodeJS.Timeout | undefined;

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
    this.#events = {
      onAppend: (key, bytes, stableBytes) => options.events?.onAppend(key, bytes, stableBytes),
      onChange: (key) => options.events?.onChange(key),
      warn: (fields, message) => options.logger.warn(fields, message),
    };
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
    return this.#lookupIn(topic, partitionId);
  }

  /**
   * A partition this broker leads, checked against the request's current leader epoch (KIP-320,
   * `Partition.checkLeaderEpoch`), or the wire error: ListOffsets and OffsetForLeaderEpoch.
   */
  lookupAtEpoch(topicName: string, partitionId: number, currentLeaderEpoch: number): PartitionLookup {
    const found = this.lookup(topicName, partitionId);
    if (!found.ok) return found;
    const errorCode = found.partition.checkLeaderEpoch(currentLeaderEpoch);
    return errorCode === ErrorCode.NONE ? found : { ok: false, errorCode };
  }

  lookupById(topicId: string, partitionId: number): PartitionLookup {
    const topic = this.image().topicsById.get(topicId);
    if (topic === undefined) return { ok: false, errorCode: ErrorCode.UNKNOWN_TOPIC_ID };
    return this.#lookupIn(topic, partitionId);
  }

  #lookupIn(topic: TopicImage | undefined, partitionId: number): PartitionLookup {
    const image = topic?.partitions[partitionId];
    if (topic === undefined || image === undefined) {
      return { ok: false, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    }
    if (image.leader !== this.#options.nodeId)
      return { ok: false, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    // Absent while the batch that created the partition is still being applied, or if its log
    // could not be created.
    const partition = this.#partitions.get(partitionKey(topic.name, partitionId));
    if (partition === undefined) return { ok: false, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
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
        this.#partitions.delete(key);
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
   * replica, and a leader takes the new epoch at once (Kafka's makeLeader). A partition this
   * node only follows keeps its log for replication to fetch into.
   */
  #applyPartition(image: MetadataImage, topic: TopicImage, state: PartitionImage): void {
    const nodeId = this.#options.nodeId;
    if (!state.replicas.includes(nodeId)) return;
    const key = partitionKey(topic.name, state.partitionId);
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
        state.leader === nodeId ? state.leaderEpoch : -1,
        this.#events,
        this.#producerStateOptions,
        this.clock,
      );
      this.#partitions.set(key, partition);
    } else if (state.leader === nodeId) {
      partition.makeLeader(state.leaderEpoch);
    }
    // Fetches waiting on the partition's old state answer now.
    this.#events.onChange(key);
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

  /** Writes final producer snapshots; call before the logs close. */
  async shutdown(): Promise<void> {
    if (this.#snapshotTimer !== undefined) clearInterval(this.#snapshotTimer);
    await this.snapshotAll();
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
