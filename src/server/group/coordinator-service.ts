/**
 * The group coordinator inside a running broker: its records go to the partitions of the internal
 * topic __consumer_offsets through the partition manager, time comes from the wall clock, and
 * settings from the broker configuration.
 *
 * Like Kafka, the topic is created on first use (a FindCoordinator or any group request), not at
 * start-up. The coordinator serves the partitions of __consumer_offsets this node leads: it loads
 * one when the metadata image makes this node its leader and unloads it when leadership moves
 * away (Kafka's BrokerMetadataPublisher calling onElection / onResignation), answering
 * COORDINATOR_LOAD_IN_PROGRESS while a partition replays and NOT_COORDINATOR for groups of
 * partitions led elsewhere. On a restart with the topic present, loading starts with the broker
 * (`startServices`).
 *
 * Concurrency contract: single event loop. Appends to one partition are issued in call order and
 * the partition log assigns offsets synchronously, so records land in the order the coordinator
 * produced them.
 */
import { CONSUMER_ASSIGNOR_NAMES } from "../../config/broker-config.js";
import type { MetadataImage } from "../../metadata/image.js";
import { CONSUMER_OFFSETS_TOPIC } from "../../metadata/internal-topics.js";
import { parseEndTxnMarker } from "../../protocol/records/control-records.js";
import { randomUuidText } from "../../random.js";
import {
  appendCoordinatorRecords,
  createCoordinatorTopic,
  replayCoordinatorPartition,
} from "../coordinator-log.js";
import type { PartitionManager } from "../partitions/partition-manager.js";
import type { BrokerCore } from "../services.js";
import type { TopicsByName } from "./consumer-group.js";
import {
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type GroupStateLog,
} from "./group-coordinator.js";
import type { CoordinatorRecord } from "./offsets-records.js";
import { SystemTimer } from "./timer.js";

export function groupCoordinatorConfigFrom(broker: Pick<BrokerCore, "config">): GroupCoordinatorConfig {
  const config = broker.config;
  return {
    ...DEFAULT_GROUP_COORDINATOR_CONFIG,
    offsetsTopicPartitions: config.int("offsets.topic.num.partitions"),
    groupMinSessionTimeoutMs: config.int("group.min.session.timeout.ms"),
    groupMaxSessionTimeoutMs: config.int("group.max.session.timeout.ms"),
    groupInitialRebalanceDelayMs: config.int("group.initial.rebalance.delay.ms"),
    groupMaxSize: config.int("group.max.size"),
    offsetsRetentionMs: config.int("offsets.retention.minutes") * 60_000,
    offsetsRetentionCheckIntervalMs: config.int("offsets.retention.check.interval.ms"),
    offsetMetadataMaxBytes: config.int("offset.metadata.max.bytes"),
    groupMaxOffsets: config.int("group.max.offsets"),
    consumerProtocolEnabled: config.list("group.coordinator.rebalance.protocols").includes("consumer"),
    consumerSessionTimeoutMs: config.int("group.consumer.session.timeout.ms"),
    consumerHeartbeatIntervalMs: config.int("group.consumer.heartbeat.interval.ms"),
    consumerMaxSize: config.int("group.consumer.max.size"),
    // The validator admits only the built-in assignors, by short or class name.
    consumerAssignors: config
      .list("group.consumer.assignors")
      .map((name) => CONSUMER_ASSIGNOR_NAMES.get(name) ?? name),
  };
}

const topicsCache = new WeakMap<MetadataImage, TopicsByName>();

/** The image's topics as the KIP-848 assignors see them, computed once per image. */
function topicsOf(image: MetadataImage): TopicsByName {
  let topics = topicsCache.get(image);
  if (topics === undefined) {
    topics = new Map(
      [...image.topicsByName].map(([name, t]) => [
        name,
        { topicId: t.topicId, partitionCount: t.partitions.length },
      ]),
    );
    topicsCache.set(image, topics);
  }
  return topics;
}

/** __consumer_offsets through the partition manager. */
export class PartitionGroupStateLog implements GroupStateLog {
  readonly #partitions: PartitionManager;

  constructor(partitions: PartitionManager) {
    this.#partitions = partitions;
  }

  append(partition: number, records: readonly CoordinatorRecord[]): Promise<void> {
    return appendCoordinatorRecords(this.#partitions, CONSUMER_OFFSETS_TOPIC, partition, records);
  }

  async replay(partition: number, onRecord: (record: CoordinatorRecord) => void): Promise<void> {
    const pendingTxn = new Map<bigint, CoordinatorRecord[]>();
    const pendingRecords = (producerId: bigint): CoordinatorRecord[] => {
      let list = pendingTxn.get(producerId);
      if (list === undefined) {
        list = [];
        pendingTxn.set(producerId, list);
      }
      return list;
    };
    for (const { batch, records } of replayCoordinatorPartition(
      this.#partitions,
      CONSUMER_OFFSETS_TOPIC,
      partition,
    )) {
      if (batch.isControl) {
        // Transactional offset commits (TxnOffsetCommit) count only once their transaction
        // commits; a transaction still open at the end is the transaction coordinator's to
        // finish (src/server/txn/txn-offsets.ts).
        if (batch.isTransactional) {
          const pending = pendingTxn.get(batch.header.producerId);
          pendingTxn.delete(batch.header.producerId);
          const marker = batch.records[0];
          if (pending !== undefined && marker !== undefined && parseEndTxnMarker(marker).commit) {
            for (const record of pending) onRecord(record);
          }
        }
        continue;
      }
      const target = batch.isTransactional ? pendingRecords(batch.header.producerId) : undefined;
      for (const r of records) {
        if (target !== undefined) target.push({ key: r.key, value: r.value });
        else onRecord({ key: r.key, value: r.value });
      }
    }
  }
}

/**
 * The coordinator plus the creation of its topic and its loading, started once and retried if
 * they fail.
 */
export class GroupCoordinatorService {
  readonly coordinator: GroupCoordinator;
  readonly #broker: BrokerCore;
  readonly #partitions: PartitionManager;
  readonly #timer: SystemTimer;
  #ready: Promise<void> | null = null;
  /**
   * The coordinator has been given partitions (by `ensureReady`, or all of them by `ready` before
   * the topic existed): from then on every image follows leadership, so a partition served here
   * is dropped as soon as another node leads it.
   */
  #following = false;
  /**
   * Every partition was loaded empty because this node's image had no __consumer_offsets (a
   * lagging image may not show it yet): when the topic appears they are replayed for real.
   */
  #loadedWithoutTopic = false;
  /** The broker serves (`start`): the topic's appearance starts the following. */
  #serving = false;
  /** Called with each partition once it is loaded (the transactions' pending offsets). */
  readonly #onLoaded: ((partition: number) => void)[] = [];

  constructor(broker: BrokerCore, partitions: PartitionManager) {
    this.#broker = broker;
    this.#partitions = partitions;
    this.#timer = new SystemTimer(broker.clock);
    const logger = broker.logger.child({ component: "group-coordinator" });
    this.coordinator = new GroupCoordinator({
      config: groupCoordinatorConfigFrom(broker),
      log: new PartitionGroupStateLog(partitions),
      timer: this.#timer,
      newUuid: () => randomUuidText(broker.random),
      topics: () => topicsOf(broker.image()),
      logger: { info: (f, m) => logger.info(f, m), warn: (f, m) => logger.warn(f, m) },
    });
    broker.publisher.onPublish((next, previous) => {
      const gone = [...previous.topicsByName.keys()].filter((t) => !next.topicsByName.has(t));
      if (gone.length > 0) void this.coordinator.onTopicsDeleted(gone);
      // Once started, leadership changes of __consumer_offsets load and unload its partitions;
      // a serving broker starts following when the topic appears (created through another node).
      if (this.#following) this.#followLeadership(next).catch(() => {});
      else if (this.#serving && next.topicsByName.has(CONSUMER_OFFSETS_TOPIC))
        this.ensureReady().catch(() => {});
    });
  }

  /**
   * The broker serves: from now on this node loads the partitions of __consumer_offsets it leads as
   * soon as the topic exists, whether or not a group request reached it (Kafka's brokers load a
   * coordinator partition when they become its leader). Without this, a node that never saw a
   * group request would not serve a group whose partition it comes to lead after a failover
   * until a client asked it.
   */
  start(): void {
    this.#serving = true;
    if (this.#broker.image().topicsByName.has(CONSUMER_OFFSETS_TOPIC)) this.kick();
  }

  /**
   * Loads the partitions of __consumer_offsets this node leads (the partition manager has applied
   * the image's roles by now: it listens first) and unloads the others; resolves when the loads
   * are done. Nothing changes while the topic does not exist.
   */
  #followLeadership(image: MetadataImage): Promise<void> {
    const topic = image.topicsByName.get(CONSUMER_OFFSETS_TOPIC);
    if (topic === undefined) return Promise.resolve();
    if (this.#loadedWithoutTopic) {
      this.#loadedWithoutTopic = false;
      for (const p of [...this.coordinator.partitions.keys()]) this.coordinator.unloadPartition(p);
    }
    const nodeId = this.#broker.nodeId;
    const loads: Promise<void>[] = [];
    for (const p of topic.partitions) {
      const held = this.#partitions.held(CONSUMER_OFFSETS_TOPIC, p.partitionId);
      if (p.leader === nodeId && held?.isLeader === true) {
        const wasServed = this.coordinator.partitions.has(p.partitionId);
        loads.push(
          this.coordinator.loadPartition(p.partitionId).then(
            () => {
              if (!wasServed) for (const listener of this.#onLoaded) listener(p.partitionId);
            },
            (err: unknown) => {
              this.#broker.logger.warn({ err, partition: p.partitionId }, "loading a group partition failed");
              throw err;
            },
          ),
        );
      } else {
        this.coordinator.unloadPartition(p.partitionId);
      }
    }
    return Promise.all(loads).then(() => {});
  }

  /** Runs `listener` with each partition of __consumer_offsets this node starts to serve. */
  onPartitionLoaded(listener: (partition: number) => void): void {
    this.#onLoaded.push(listener);
  }

  /**
   * Creates __consumer_offsets if needed and loads the partitions this node leads; resolves when
   * they are served. Concurrent callers share one attempt; a failed attempt is forgotten so the
   * next call retries. From then on the image's leadership changes load and unload partitions.
   */
  ensureReady(): Promise<void> {
    if (this.#ready === null) {
      this.#following = true;
      this.#ready = (async () => {
        await createCoordinatorTopic(this.#broker, CONSUMER_OFFSETS_TOPIC);
        await this.#followLeadership(this.#broker.image());
      })().catch((err: unknown) => {
        this.#ready = null;
        this.#broker.logger.warn({ err }, "group coordinator is not ready");
        throw err;
      });
    }
    return this.#ready;
  }

  /**
   * The coordinator for a group request. Without __consumer_offsets there is no state to load, so
   * the coordinator is ready at once (as a fresh Kafka answers ListGroups with an empty list);
   * the topic is created by FindCoordinator, and a write before that fails with NOT_COORDINATOR,
   * which sends the client to FindCoordinator. With the topic, loading starts and the request is
   * answered COORDINATOR_LOAD_IN_PROGRESS until it is done.
   */
  async ready(): Promise<GroupCoordinator> {
    if (this.coordinator.isLoaded) return this.coordinator;
    if (!this.#broker.image().topicsByName.has(CONSUMER_OFFSETS_TOPIC)) {
      this.#following = true;
      this.#loadedWithoutTopic = true;
      await this.coordinator.load();
      // The topic may have appeared meanwhile: serve only what this node leads of it.
      await this.#followLeadership(this.#broker.image());
      return this.coordinator;
    }
    this.ensureReady().catch(() => {});
    return this.coordinator;
  }

  /** Starts `ensureReady` without waiting (the request is answered LOAD_IN_PROGRESS meanwhile). */
  kick(): GroupCoordinator {
    if (this.coordinator.isLoaded) return this.coordinator;
    // A partition whose load failed is tried again here (the image will not announce it again).
    if (this.#ready === null) this.ensureReady().catch(() => {});
    else this.#followLeadership(this.#broker.image()).catch(() => {});
    return this.coordinator;
  }

  close(): void {
    this.coordinator.close();
    this.#timer.close();
  }
}
