/**
 * Topic-partition -> partition state for the data path (Kafka's ReplicaManager, leader side):
 * resolves a request's topic and partition against the current metadata image, hands out the
 * `Partition` (log, leader epoch, high watermark, producer state), keeps each topic's effective
 * configuration, owns the delayed-fetch purgatory that appends wake, and snapshots producer
 * state periodically and at shutdown.
 *
 * Partition logs are created and deleted by the broker core when the metadata image changes;
 * this manager follows: a `Partition` is built lazily on first use and dropped when its topic
 * leaves the image or its log object changes (topic deleted and recreated), and waiting fetches
 * on it are answered at once.
 *
 * Concurrency contract: synchronous lookups on the event loop; the snapshot timer runs between
 * requests.
 */
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../../clock.js";
import { type BrokerConfig, brokerConfigDef } from "../../config/broker-config.js";
import { effectiveTopicConfig, type TopicConfig } from "../../config/topic-config.js";
import type { LogManager } from "../../log/log-manager.js";
import type { MetadataImage, TopicImage } from "../../metadata/image.js";
import type { MetadataRecord } from "../../metadata/records.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { type Random, SYSTEM_RANDOM } from "../../random.js";
import { DelayedFetchPurgatory } from "../fetch/delayed-fetch.js";
import { FetchSessionCache } from "../fetch/fetch-session.js";
import {
  DEFAULT_PRODUCER_STATE_OPTIONS,
  type ProducerStateOptions,
} from "../producer-state/producer-state.js";
import { Partition, type PartitionEvents } from "./partition.js";

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
  clock?: Clock;
  random?: Random;
  producerState?: ProducerStateOptions;
  /** How often changed producer state is snapshotted; 0 disables the timer. */
  snapshotIntervalMs?: number;
}

export class PartitionManager {
  readonly purgatory: DelayedFetchPurgatory;
  readonly fetchSessions: FetchSessionCache;
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
    this.purgatory = new DelayedFetchPurgatory({ waitersMax: 10_000 });
    this.fetchSessions = new FetchSessionCache({
      slotsMax: intConfig(config, "max.incremental.fetch.session.cache.slots", 1000),
      evictionMs: 120_000,
      clock: this.clock,
      random: options.random ?? SYSTEM_RANDOM,
    });
    this.#producerStateOptions = options.producerState ?? {
      ...DEFAULT_PRODUCER_STATE_OPTIONS,
      producerIdExpirationMs: intConfig(
        config,
        "producer.id.expiration.ms",
        DEFAULT_PRODUCER_STATE_OPTIONS.producerIdExpirationMs,
      ),
    };
    this.#events = {
      onAppend: (key, bytes, stableBytes) => this.purgatory.onAppend(key, bytes, stableBytes),
      onChange: (key) => this.purgatory.onPartitionEvent(key),
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
    const key = `${topic.name}-${partitionId}`;
    const log = this.#options.logs.getLog({ topic: topic.name, partition: partitionId });
    if (log === undefined) return { ok: false, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    let partition = this.#partitions.get(key);
    if (partition === undefined || partition.log !== log) {
      partition = new Partition(
        topic.name,
        partitionId,
        log,
        image.leaderEpoch,
        this.#events,
        this.#producerStateOptions,
        this.clock,
      );
      this.#partitions.set(key, partition);
    }
    partition.updateLeaderEpoch(image.leaderEpoch);
    return { ok: true, partition, topic, config: this.topicConfig(topic.name) };
  }

  /** Metadata listener: drops state of removed topics and answers fetches waiting on them. */
  onImage(next: MetadataImage, previous: MetadataImage, records: readonly MetadataRecord[]): void {
    for (const record of records) {
      if (record.type === "RemoveTopic") {
        const topic = previous.topicsById.get(record.data.topicId);
        if (topic === undefined) continue;
        for (const p of topic.partitions) this.#drop(`${topic.name}-${p.partitionId}`);
      } else if (record.type === "PartitionChange") {
        const topic = next.topicsById.get(record.data.topicId);
        if (topic !== undefined) this.purgatory.onPartitionEvent(`${topic.name}-${record.data.partitionId}`);
      }
    }
  }

  #drop(key: string): void {
    this.#partitions.delete(key);
    this.purgatory.onPartitionEvent(key);
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

  /** Answers waiting fetches and writes final producer snapshots; call before the logs close. */
  async shutdown(): Promise<void> {
    if (this.#snapshotTimer !== undefined) clearInterval(this.#snapshotTimer);
    this.purgatory.shutdown();
    await this.snapshotAll();
    this.#partitions.clear();
  }
}

function intConfig(config: BrokerConfig, name: string, fallback: number): number {
  return brokerConfigDef(name) === undefined ? fallback : (config.intOrNull(name) ?? fallback);
}
