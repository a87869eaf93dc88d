/**
 * The controller: validates admin requests against the committed image, turns them into metadata
 * records and proposes them to the metadata log; like Kafka's QuorumController it is the only
 * writer of metadata. It does not apply records or publish images: the log hands committed
 * batches to the publisher (publisher.ts), and a proposal resolves only after that, so a
 * controller write returns once its records are committed and visible (a client that gets a
 * CreateTopics success can produce at once). Handlers do not call it directly; they go through
 * the controller channel (controller-channel.ts), which a broker-only node will forward to the
 * active controller.
 *
 * Concurrency: operations run one at a time, in submission order (`#serialize`), and each waits
 * for its proposal, so the image an operation validates against already holds every earlier
 * write. A rejected proposal (leadership moved, an I/O error) fails that operation only.
 */
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import {
  type BrokerConfig,
  dynamicBrokerConfigDef,
  validateDynamicBrokerConfig,
} from "../config/broker-config.js";
import { topicConfigDef, validateTopicConfig } from "../config/topic-config.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { METADATA_TOPIC_ID, uuidFromBytes, ZERO_UUID } from "../protocol/primitives/uuid.js";
import { type Random, SYSTEM_RANDOM } from "../random.js";
import {
  type AclApiError,
  type AclBinding,
  type AclDeleteResult,
  type AclFilter,
  createAclRecords,
  deleteAclRecords,
} from "./acls.js";
import { clientQuotaAlterRecords, type QuotaAlteration, type QuotaAlterResult } from "./client-quotas.js";
import {
  type BrokerConnection,
  type BrokerHeartbeatReply,
  type BrokerHeartbeatRequest,
  type BrokerRegistrationReply,
  type BrokerRegistrationRequest,
  ClusterControl,
} from "./cluster-control.js";
import type { ControllerChannel } from "./controller-channel.js";
import { type FeatureUpdate, type FeatureUpdateResult, planFeatureUpdates } from "./feature-control.js";
import { finalizedFeatures } from "./features.js";
import type { MetadataImage } from "./image.js";
import { type MetadataLog, NotControllerError } from "./metadata-log.js";
import { CONFIG_RESOURCE_TYPE, LEADER_RECOVERY_STATE, type MetadataRecord } from "./records.js";
import { InvalidReplicationFactorError, placeReplicas } from "./replica-placer.js";
import {
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  alterPartition,
  balanceLeaders,
  type ElectLeadersResult,
  electLeaders,
  electUncleanLeaders,
  hasLeaderships,
} from "./replication-control.js";
import {
  type ScramAlterResult,
  type ScramDeletion,
  type ScramUpsertion,
  scramAlterRecords,
} from "./scram-control.js";

/** Kafka's Topic.MAX_NAME_LENGTH. */
export const TOPIC_NAME_LENGTH_MAX = 249;
/** Krill's bound on partitions per topic: each one holds open files. */
export const PARTITIONS_PER_TOPIC_MAX = 10_000;
/** Krill's bound on partitions in the whole cluster, so one request cannot exhaust the node. */
export const PARTITIONS_TOTAL_MAX = 100_000;
/**
 * Kafka's bound on the partitions one CreateTopics or CreatePartitions request may add
 * (ReplicationControlManager.validateTotalNumberOfPartitions, MAX_RECORDS_PER_USER_OP): beyond
 * it the whole request fails, every topic answered POLICY_VIOLATION.
 */
export const PARTITIONS_PER_REQUEST_MAX = 10_000;

function partitionCount(image: MetadataImage): number {
  let n = 0;
  for (const t of image.topicsByName.values()) n += t.partitions.length;
  return n;
}

function totalLimitMessage(adding: number, existing: number): string {
  return `Adding ${adding} partition(s) to the ${existing} existing would exceed Krill's limit of ${PARTITIONS_TOTAL_MAX} partitions.`;
}
/** Producer ids handed out per ProducerIdsRecord, as Kafka's controller does. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

export interface CreateTopicRequest {
  readonly name: string;
  /** -1 = num.partitions. */
  readonly numPartitions: number;
  /** -1 = default.replication.factor. */
  readonly replicationFactor: number;
  readonly assignments: ReadonlyArray<{
    readonly partitionIndex: number;
    readonly brokerIds: readonly number[];
  }>;
  readonly configs: ReadonlyArray<{ readonly name: string; readonly value: string | null }>;
}

export interface CreateTopicResult {
  readonly name: string;
  readonly topicId: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly numPartitions: number;
  readonly replicationFactor: number;
}

export interface DeleteTopicResult {
  readonly name: string | null;
  readonly topicId: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface CreatePartitionsRequest {
  readonly name: string;
  readonly count: number;
  readonly assignments: ReadonlyArray<readonly number[]> | null;
}

export interface ApiResult {
  readonly name: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export type IncrementalOp = 0 | 1 | 2 | 3; // SET, DELETE, APPEND, SUBTRACT

/**
 * IncrementalAlterConfigs APPEND (2) or SUBTRACT (3) of `value`'s comma-separated items on a list
 * config whose value is `current` (the stored value, else the key's default, as Kafka's
 * ConfigurationControlManager starts from): appended items not already there go at the end.
 */
function listOperation(current: string | null, value: string | null, op: 2 | 3): string {
  const parts = (text: string | null) =>
    (text ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "");
  const base = parts(current);
  const items = parts(value);
  const merged =
    op === 2 ? [...base, ...items.filter((i) => !base.includes(i))] : base.filter((b) => !items.includes(b));
  return merged.join(",");
}

export interface ConfigAlteration {
  readonly name: string;
  readonly value: string | null;
  /** Only for incremental alters. */
  readonly op?: number;
}

export interface ControllerOptions {
  readonly log: MetadataLog;
  /** The committed image (the publisher's). */
  readonly image: () => MetadataImage;
  /** The live broker config (static config with the dynamic broker configs applied). */
  readonly config: () => BrokerConfig;
  readonly logger: Logger;
  /** Draws topic ids and replica placements. */
  readonly random?: Random;
  /** Broker sessions expire on this clock. */
  readonly clock?: Clock;
  /** When set, registrations from another cluster are refused. */
  readonly clusterId?: string;
  /**
   * In a quorum: whether this node is the active controller now (the leader, caught up with its
   * own epoch). Each operation checks it when it starts and fails with NotControllerError if not.
   */
  readonly isActive?: () => boolean;
  /**
   * In a quorum: the voters whose controller listener refused or closed a connection since this
   * node last became the quorum's leader (RaftClient.unreachableVoters). Read at activation.
   */
  readonly unreachableQuorumPeers?: () => Iterable<number>;
}

export class MetadataController implements ControllerChannel {
  readonly #log: MetadataLog;
  readonly #config: () => BrokerConfig;
  readonly #imageOf: () => MetadataImage;
  readonly #logger: Logger;
  readonly #random: Random;
  readonly #cluster: ClusterControl;
  readonly #clock: Clock;
  readonly #isActive: (() => boolean) | undefined;
  readonly #unreachableQuorumPeers: () => Iterable<number>;
  #wasActive = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ControllerOptions) {
    this.#log = options.log;
    this.#config = options.config;
    this.#imageOf = options.image;
    this.#logger = options.logger;
    this.#random = options.random ?? SYSTEM_RANDOM;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#cluster = new ClusterControl(this.#clock, options.config, options.clusterId);
    this.#isActive = options.isActive;
    this.#unreachableQuorumPeers = options.unreachableQuorumPeers ?? (() => []);
  }

  /** Whether this controller may act now (always, outside a quorum). */
  get isActive(): boolean {
    return this.#isActive === undefined || this.#isActive();
  }

  get #image(): MetadataImage {
    return this.#imageOf();
  }

  /**
   * Notes whether this controller is active; on becoming active its broker sessions start over
   * (Kafka's ClusterControlManager.activate; Krill gives brokers one heartbeat interval to make
   * first contact, broker-heartbeats.ts), so time spent inactive never counts against a broker.
   */
  #noteActivation(): boolean {
    const active = this.isActive;
    const activated = active && !this.#wasActive;
    this.#wasActive = active;
    if (activated) {
      this.#cluster.activate();
      let gone = false;
      for (const nodeId of this.#unreachableQuorumPeers()) gone = this.#peerGone(nodeId) || gone;
      if (gone) this.#fenceSoon();
    }
    return active;
  }

  /**
   * Fast failover when the active controller's node dies with a broker (combined mode): the
   * quorum saw node `nodeId`'s controller listener refuse or close a connection (RaftClient's
   * unreachable voters; its process is gone). If its broker has not heartbeat this controller
   * since the activation, it is fenced now rather than after the first-contact window. Called
   * by the quorum wiring (quorum-metadata.ts); before the activation, the activation reads them.
   */
  quorumPeerUnreachable(nodeId: number): void {
    if (!this.isActive || !this.#wasActive) return;
    if (this.#peerGone(nodeId)) this.#fenceSoon();
  }

  #peerGone(nodeId: number): boolean {
    const image = this.#image;
    const broker = image.brokers.get(nodeId);
    if (broker === undefined || broker.fenced || !this.#cluster.heartbeats.peerGone(nodeId)) return false;
    this.#logger.info(
      { brokerId: nodeId },
      "the node's controller listener closed and its broker has not heartbeat this controller: fencing it",
    );
    return true;
  }

  #fenceSoon(): void {
    queueMicrotask(() => {
      this.fenceStaleBrokers().catch((err: unknown) => {
        if (this.isActive) this.#logger.warn({ err }, "fencing an unreachable node's broker failed");
      });
    });
  }

  #serialize<T>(op: () => Promise<T> | T): Promise<T> {
    const result = this.#queue.then(() => {
      if (!this.#noteActivation()) {
        throw new NotControllerError("this node is not the active controller");
      }
      return op();
    });
    this.#queue = result.catch(() => {});
    return result;
  }

  /** Proposes one batch and waits until it is committed and published; its last offset. */
  async #commit(records: MetadataRecord[]): Promise<number | undefined> {
    if (records.length === 0) return undefined;
    return await this.#log.propose(records);
  }

  /** Whether unclean elections are allowed for `topic` (its override, else the broker's). */
  #uncleanEnabled = (topic: string): boolean => {
    const override = this.#image.topicConfigs(topic).get("unclean.leader.election.enable");
    if (override !== undefined) return override.trim().toLowerCase() === "true";
    return this.#config().bool("unclean.leader.election.enable");
  };

  /** Kafka's BrokerRegistration: see cluster-control.ts. */
  registerBroker(request: BrokerRegistrationRequest): Promise<BrokerRegistrationReply> {
    return this.#serialize(async () => {
      const { records, reply } = this.#cluster.register(
        this.#image,
        request,
        this.#log.endOffset,
        this.#uncleanEnabled,
      );
      await this.#commit(records);
      return reply;
    });
  }

  /** Kafka's BrokerHeartbeat: see cluster-control.ts. */
  brokerHeartbeat(request: BrokerHeartbeatRequest): Promise<BrokerHeartbeatReply> {
    return this.#serialize(async () => {
      const image = this.#image;
      const { records, reply } = this.#cluster.heartbeat(
        image,
        request,
        () => hasLeaderships(this.#image, request.brokerId),
        this.#uncleanEnabled,
      );
      if (reply.errorCode === ErrorCode.NONE && request.connection !== undefined) {
        this.#watchConnection(request.brokerId, request.connection);
      }
      const offset = await this.#commit(records);
      if (reply.inControlledShutdown) {
        this.#cluster.heartbeats.setControlledShutdownOffset(request.brokerId, offset ?? image.offset);
      }
      return reply;
    });
  }

  /**
   * Fast failover (issue 16 item 8): when the connection that carried a broker's last heartbeat
   * closes before another heartbeat arrives, its session ends and it is fenced now rather than
   * after `broker.session.timeout.ms`. A killed process's kernel closes its sockets at once; a live
   * broker whose connection merely dropped heartbeats again within its interval and is unfenced.
   */
  #watchConnection(brokerId: number, connection: BrokerConnection): void {
    const heartbeats = this.#cluster.heartbeats;
    const closed = connection.closed;
    if (closed === undefined || !heartbeats.noteConnection(brokerId, connection)) return;
    void closed.then(() => {
      if (!heartbeats.connectionClosed(brokerId, connection)) return;
      this.#logger.info({ brokerId }, "the broker's connection to the controller closed: fencing it");
      this.fenceStaleBrokers().catch((err: unknown) => {
        if (this.isActive) this.#logger.warn({ err, brokerId }, "fencing a disconnected broker failed");
      });
    });
  }

  /**
   * Fences every broker whose session expired (Kafka's maybeFenceOneStaleBroker, one batch per
   * broker so each fencing is visible before the next). Returns the fenced broker ids. The node
   * calls it on a timer; tests after moving the clock.
   */
  fenceStaleBrokers(): Promise<number[]> {
    // A controller that is not active has no sessions to judge (and must not keep stale ones).
    if (!this.#noteActivation()) return Promise.resolve([]);
    // Sessions are judged as of now, not as of when the check gets its turn (see staleBrokers).
    const asOfMs = this.#clock.nowMs();
    return this.#serialize(async () => {
      const fenced: number[] = [];
      for (;;) {
        const image = this.#image;
        const stale = this.#cluster.heartbeats.staleBrokers(image, asOfMs)[0];
        if (stale === undefined) return fenced;
        this.#logger.info({ brokerId: stale }, "fencing broker: its session ended");
        await this.#commit(this.#cluster.fenceRecords(image, stale, this.#uncleanEnabled));
        fenced.push(stale);
      }
    });
  }

  /** When a broker session can next expire (clock ms), or undefined when none is unfenced. */
  nextSessionCheckMs(): number | undefined {
    return this.#cluster.heartbeats.nextCheckMs(this.#image);
  }

  /** Kafka's AlterPartition from a partition leader: see replication-control.ts. */
  alterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return this.#serialize(async () => {
      const { response, records } = alterPartition(this.#image, request, this.#uncleanEnabled);
      await this.#commit(records.map((data) => ({ type: "PartitionChange", data })));
      return response;
    });
  }

  /** Kafka's ElectLeaders (0 preferred, 1 unclean; null = every partition). */
  electLeaders(
    electionType: number,
    topicPartitions: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }> | null,
  ): Promise<ElectLeadersResult> {
    return this.#serialize(async () => {
      const { result, records } = electLeaders(this.#image, electionType, topicPartitions);
      await this.#commit(records.map((data) => ({ type: "PartitionChange", data })));
      return result;
    });
  }

  /**
   * The periodic elections: preferred leaders back where `auto.leader.rebalance.enable` asks for
   * it, and unclean elections for leaderless partitions of topics that allow them. Returns the
   * number of partitions changed.
   */
  runElections(): Promise<number> {
    if (!this.#noteActivation()) return Promise.resolve(0);
    return this.#serialize(async () => {
      const image = this.#image;
      const records = electUncleanLeaders(image, this.#uncleanEnabled);
      if (records.length === 0 && this.#config().bool("auto.leader.rebalance.enable")) {
        records.push(...balanceLeaders(image));
      }
      await this.#commit(records.map((data) => ({ type: "PartitionChange", data })));
      return records.length;
    });
  }

  /** Partitions a CreateTopics request asks for in all, as Kafka counts them (-1: num.partitions). */
  #partitionsRequested(requests: readonly CreateTopicRequest[]): number {
    let total = 0;
    for (const r of requests) {
      if (r.assignments.length > 0) total += r.assignments.length;
      else if (r.numPartitions === -1) total += this.#config().int("num.partitions");
      else if (r.numPartitions > 0) total += r.numPartitions;
    }
    return total;
  }

  createTopics(requests: readonly CreateTopicRequest[], validateOnly: boolean): Promise<CreateTopicResult[]> {
    return this.#serialize(async () => {
      const image = this.#image;
      const results: CreateTopicResult[] = [];
      const records: MetadataRecord[] = [];
      const counts = new Map<string, number>();
      for (const r of requests) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
      const namesInBatch = new Set<string>();
      let partitionsTotal = partitionCount(image);
      if (this.#partitionsRequested(requests) > PARTITIONS_PER_REQUEST_MAX) {
        return requests.map((r) => ({
          name: r.name,
          topicId: ZERO_UUID,
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: "Excessively large number of partitions per request.",
          numPartitions: -1,
          replicationFactor: -1,
        }));
      }
      for (const r of requests) {
        const fail = (errorCode: number, errorMessage: string): void => {
          results.push({
            name: r.name,
            topicId: ZERO_UUID,
            errorCode,
            errorMessage,
            numPartitions: -1,
            replicationFactor: -1,
          });
        };
        if ((counts.get(r.name) ?? 0) > 1) {
          fail(
            ErrorCode.INVALID_REQUEST,
            `Create topics request contains multiple entries for the topic ${r.name}.`,
          );
          continue;
        }
        const nameError = topicNameError(r.name);
        if (nameError !== undefined) {
          fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
          continue;
        }
        if (image.topicsByName.has(r.name)) {
          fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${r.name}' already exists.`);
          continue;
        }
        const collision = collidingTopic(r.name, [...image.topicsByName.keys(), ...namesInBatch]);
        if (collision !== undefined) {
          fail(
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            `Topic '${r.name}' collides with existing topic: ${collision}`,
          );
          continue;
        }
        const placement = this.#placeReplicas(image, r);
        if ("errorCode" in placement) {
          fail(placement.errorCode, placement.errorMessage);
          continue;
        }
        if (partitionsTotal + placement.replicas.length > PARTITIONS_TOTAL_MAX) {
          fail(ErrorCode.INVALID_PARTITIONS, totalLimitMessage(placement.replicas.length, partitionsTotal));
          continue;
        }
        const configError = this.#topicConfigError(r.configs);
        if (configError !== undefined) {
          fail(ErrorCode.INVALID_CONFIG, configError);
          continue;
        }
        const topicId = randomTopicId(this.#random);
        namesInBatch.add(r.name);
        partitionsTotal += placement.replicas.length;
        results.push({
          name: r.name,
          topicId,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions: placement.replicas.length,
          replicationFactor: placement.replicas[0]?.length ?? 0,
        });
        records.push({ type: "Topic", data: { name: r.name, topicId } });
        for (const c of r.configs) {
          records.push({
            type: "Config",
            data: {
              resourceType: CONFIG_RESOURCE_TYPE.TOPIC,
              resourceName: r.name,
              name: c.name,
              value: c.value,
            },
          });
        }
        placement.replicas.forEach((replicas, partitionId) => {
          records.push(newPartitionRecord(topicId, partitionId, replicas, placement.isrs[partitionId]!));
        });
      }
      if (!validateOnly) await this.#commit(records);
      return results;
    });
  }

  #topicConfigError(configs: CreateTopicRequest["configs"]): string | undefined {
    const seen = new Set<string>();
    for (const c of configs) {
      if (seen.has(c.name)) return `Duplicate config key ${c.name}`;
      seen.add(c.name);
      if (c.value === null) return `Null value not supported for topic configs: ${c.name}`;
      const error = validateTopicConfig(c.name, c.value);
      if (error !== undefined) return error;
    }
    return undefined;
  }

  /**
   * Replica lists (and initial ISRs: the active replicas) per partition, from the manual
   * assignment or Kafka's striped placement over the usable brokers, with Kafka's errors.
   */
  #placeReplicas(image: MetadataImage, r: CreateTopicRequest): Placement | PlacementError {
    if (r.assignments.length > 0) {
      if (r.replicationFactor !== -1) {
        return {
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage:
            "A manual partition assignment was specified, but replication factor was not set to -1.",
        };
      }
      if (r.numPartitions !== -1) {
        return {
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: "A manual partition assignment was specified, but numPartitions was not set to -1.",
        };
      }
      return manualPlacement(
        image,
        r.assignments.map((a) => ({ index: a.partitionIndex, brokers: a.brokerIds })),
        0,
        undefined,
      );
    }
    if (r.replicationFactor < -1 || r.replicationFactor === 0) {
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: "Replication factor must be larger than 0, or -1 to use the default value.",
      };
    }
    if (r.numPartitions < -1 || r.numPartitions === 0) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: "Number of partitions was set to an invalid non-positive value.",
      };
    }
    const numPartitions = r.numPartitions === -1 ? this.#config().int("num.partitions") : r.numPartitions;
    const replicationFactor =
      r.replicationFactor === -1 ? this.#config().int("default.replication.factor") : r.replicationFactor;
    if (numPartitions > PARTITIONS_PER_TOPIC_MAX) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Number of partitions ${numPartitions} exceeds Krill's limit of ${PARTITIONS_PER_TOPIC_MAX} per topic.`,
      };
    }
    return this.#stripedPlacement(image, 0, numPartitions, replicationFactor);
  }

  /** Kafka's StripedReplicaPlacer over the usable brokers; an empty ISR fails as in Kafka. */
  #stripedPlacement(
    image: MetadataImage,
    _firstPartition: number,
    count: number,
    replicationFactor: number,
  ): Placement | PlacementError {
    const usable = [...image.brokers.values()]
      .filter((b) => !b.inControlledShutdown)
      .map((b) => ({ id: b.brokerId, rack: b.rack, fenced: b.fenced }));
    let replicas: number[][];
    try {
      replicas = placeReplicas(usable, count, replicationFactor, this.#random);
    } catch (err) {
      if (!(err instanceof InvalidReplicationFactorError)) throw err;
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Unable to replicate the partition ${replicationFactor} time(s): ${err.message}`,
      };
    }
    const isrs = replicas.map((reps) => reps.filter((b) => image.isActiveBroker(b)));
    if (isrs.some((isr) => isr.length === 0)) {
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Unable to replicate the partition ${replicationFactor} time(s): All brokers are currently fenced or in controlled shutdown.`,
      };
    }
    return { replicas, isrs };
  }

  deleteTopics(
    targets: ReadonlyArray<{ readonly name: string | null; readonly topicId: string | null }>,
  ): Promise<DeleteTopicResult[]> {
    return this.#serialize(async () => {
      const image = this.#image;
      const results: DeleteTopicResult[] = [];
      const records: MetadataRecord[] = [];
      const deleting = new Set<string>();
      const enabled = this.#config().bool("delete.topic.enable");
      for (const t of targets) {
        const byId = t.topicId !== null && t.topicId !== ZERO_UUID;
        const topic = byId ? image.topicsById.get(t.topicId!) : image.topicsByName.get(t.name ?? "");
        if (!enabled) {
          results.push({
            name: t.name,
            topicId: t.topicId ?? ZERO_UUID,
            errorCode: ErrorCode.TOPIC_DELETION_DISABLED,
            errorMessage: "Topic deletion is disabled.",
          });
          continue;
        }
        if (topic === undefined) {
          results.push(
            byId
              ? {
                  name: null,
                  topicId: t.topicId!,
                  errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
                  errorMessage: "This server does not host this topic ID.",
                }
              : {
                  name: t.name,
                  topicId: ZERO_UUID,
                  errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                  errorMessage: "This server does not host this topic-partition.",
                },
          );
          continue;
        }
        results.push({
          name: topic.name,
          topicId: topic.topicId,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
        });
        if (!deleting.has(topic.topicId)) {
          deleting.add(topic.topicId);
          records.push({ type: "RemoveTopic", data: { topicId: topic.topicId } });
        }
      }
      await this.#commit(records);
      return results;
    });
  }

  createPartitions(
    requests: readonly CreatePartitionsRequest[],
    validateOnly: boolean,
  ): Promise<ApiResult[]> {
    return this.#serialize(async () => {
      const image = this.#image;
      const results: ApiResult[] = [];
      const records: MetadataRecord[] = [];
      const counts = new Map<string, number>();
      for (const r of requests) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
      let partitionsTotal = partitionCount(image);
      let partitionsAdded = 0;
      for (const r of requests) {
        const current = image.topicsByName.get(r.name)?.partitions.length;
        if (current !== undefined && r.count > current) partitionsAdded += r.count - current;
      }
      if (partitionsAdded > PARTITIONS_PER_REQUEST_MAX) {
        return requests.map((r) => ({
          name: r.name,
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: "Excessively large number of additional partitions per request.",
        }));
      }
      for (const r of requests) {
        const fail = (errorCode: number, errorMessage: string) =>
          results.push({ name: r.name, errorCode, errorMessage });
        if ((counts.get(r.name) ?? 0) > 1) {
          fail(ErrorCode.INVALID_REQUEST, "Duplicate topic in request.");
          continue;
        }
        const topic = image.topicsByName.get(r.name);
        if (topic === undefined) {
          fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
          continue;
        }
        const current = topic.partitions.length;
        if (r.count < current) {
          fail(
            ErrorCode.INVALID_PARTITIONS,
            `Topic currently has ${current} partitions, which is higher than the requested ${r.count}.`,
          );
          continue;
        }
        if (r.count === current) {
          fail(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
          continue;
        }
        if (r.count > PARTITIONS_PER_TOPIC_MAX) {
          fail(
            ErrorCode.INVALID_PARTITIONS,
            `Number of partitions ${r.count} exceeds Krill's limit of ${PARTITIONS_PER_TOPIC_MAX} per topic.`,
          );
          continue;
        }
        const added = r.count - current;
        if (partitionsTotal + added > PARTITIONS_TOTAL_MAX) {
          fail(ErrorCode.INVALID_PARTITIONS, totalLimitMessage(added, partitionsTotal));
          continue;
        }
        const rf = topic.partitions[0]?.replicas.length ?? 1;
        let placed: Placement | PlacementError;
        if (r.assignments !== null) {
          if (r.assignments.length !== added) {
            fail(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `Attempted to add ${added} additional partition(s), but only ${r.assignments.length} assignment(s) were specified.`,
            );
            continue;
          }
          placed = manualPlacement(
            image,
            r.assignments.map((brokers, i) => ({ index: current + i, brokers })),
            current,
            rf,
          );
        } else {
          placed = this.#stripedPlacement(image, current, added, rf);
          // Kafka answers a placer failure here with the placer's own message.
          if ("errorCode" in placed && placed.errorCode === ErrorCode.INVALID_REPLICATION_FACTOR) {
            placed = {
              ...placed,
              errorMessage: placed.errorMessage.replace(
                /^Unable to replicate the partition \d+ time\(s\): /,
                "",
              ),
            };
          }
        }
        if ("errorCode" in placed) {
          fail(placed.errorCode, placed.errorMessage);
          continue;
        }
        const { replicas, isrs } = placed;
        results.push({ name: r.name, errorCode: ErrorCode.NONE, errorMessage: null });
        partitionsTotal += added;
        replicas.forEach((reps, i) => {
          records.push(newPartitionRecord(topic.topicId, current + i, reps, isrs[i]!));
        });
      }
      if (!validateOnly) await this.#commit(records);
      return results;
    });
  }

  /**
   * Replaces (incremental = false) or edits (incremental = true) the overrides of topic
   * `resourceName`. Returns the wire error for this resource.
   */
  alterTopicConfigs(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<{ errorCode: number; errorMessage: string | null }> {
    return this.#serialize(async () => {
      const image = this.#image;
      if (!image.topicsByName.has(resourceName)) {
        return {
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `Topic ${resourceName} does not exist.`,
        };
      }
      const current = image.topicConfigs(resourceName);
      const next = new Map(incremental ? current : []);
      const seen = new Set<string>();
      for (const a of alterations) {
        if (seen.has(a.name)) {
          return {
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Error due to duplicate config keys: ${a.name}`,
          };
        }
        seen.add(a.name);
        const op = incremental ? (a.op ?? 0) : 0;
        const known = validateTopicConfig(a.name, null);
        if (known !== undefined) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: known };
        if (op === 0) {
          if (a.value === null) {
            if (incremental)
              return {
                errorCode: ErrorCode.INVALID_REQUEST,
                errorMessage: `Null value not supported for : ${a.name}`,
              };
            continue;
          }
          next.set(a.name, a.value);
        } else if (op === 1) {
          next.delete(a.name);
        } else if (op === 2 || op === 3) {
          const listError = validateTopicConfig(a.name, "");
          const isList = a.name === "cleanup.policy" || a.name.endsWith(".throttled.replicas");
          if (!isList || listError !== undefined) {
            return {
              errorCode: ErrorCode.INVALID_CONFIG,
              errorMessage: `Config value append is not allowed for config key: ${a.name}`,
            };
          }
          next.set(
            a.name,
            listOperation(next.get(a.name) ?? topicConfigDef(a.name)?.defaultValue ?? null, a.value, op),
          );
        } else {
          return {
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Unknown config operation ${op} for ${a.name}`,
          };
        }
      }
      for (const [name, value] of next) {
        const error = validateTopicConfig(name, value);
        if (error !== undefined) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: error };
      }
      const records = configChangeRecords(CONFIG_RESOURCE_TYPE.TOPIC, resourceName, current, next);
      if (!validateOnly) await this.#commit(records);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    });
  }

  /**
   * Dynamic broker configs of `resourceName` ("" = cluster-wide default, else a broker id):
   * replaced (incremental = false) or edited key by key. Read-only keys are INVALID_REQUEST, bad
   * values INVALID_CONFIG naming the key, as in Kafka.
   */
  alterBrokerConfigs(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<{ errorCode: number; errorMessage: string | null }> {
    return this.#serialize(async () => {
      const perBroker = resourceName !== "";
      if (perBroker && !this.#image.brokers.has(Number(resourceName))) {
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown broker id ${resourceName}` };
      }
      const current = this.#image.brokerConfigs(resourceName);
      const next = new Map(incremental ? current : []);
      const seen = new Set<string>();
      for (const a of alterations) {
        if (seen.has(a.name)) {
          return {
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Error due to duplicate config keys: ${a.name}`,
          };
        }
        seen.add(a.name);
        const op = incremental ? (a.op ?? 0) : 0;
        if (op === 1) {
          next.delete(a.name);
          continue;
        }
        let value = a.value;
        if (op === 2 || op === 3) {
          // APPEND / SUBTRACT on a list key, from its default when unset (Kafka's controller).
          const def = dynamicBrokerConfigDef(a.name);
          if (def === undefined || def.type !== "LIST") {
            return {
              errorCode: ErrorCode.INVALID_CONFIG,
              errorMessage: `Config value ${op === 2 ? "append" : "subtract"} is not allowed for config key: ${a.name}`,
            };
          }
          value = listOperation(next.get(a.name) ?? def.defaultValue, a.value, op);
        } else if (op !== 0) {
          return {
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Unknown config operation ${op} for ${a.name}`,
          };
        }
        if (value === null) {
          if (incremental)
            return {
              errorCode: ErrorCode.INVALID_REQUEST,
              errorMessage: `Null value not supported for : ${a.name}`,
            };
          continue;
        }
        const problem = validateDynamicBrokerConfig(a.name, value, perBroker, current.get(a.name));
        if (problem !== undefined) {
          return {
            errorCode:
              problem.kind === "invalid-config" ? ErrorCode.INVALID_CONFIG : ErrorCode.INVALID_REQUEST,
            errorMessage: problem.message,
          };
        }
        next.set(a.name, value);
      }
      const records = configChangeRecords(CONFIG_RESOURCE_TYPE.BROKER, resourceName, current, next);
      if (!validateOnly) await this.#commit(records);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    });
  }

  /** AlterUserScramCredentials: commits the credential records (scram-control.ts), one result per user. */
  alterUserScramCredentials(
    deletions: readonly ScramDeletion[],
    upsertions: readonly ScramUpsertion[],
  ): Promise<ScramAlterResult[]> {
    return this.#serialize(async () => {
      const { records, results } = scramAlterRecords(this.#image, deletions, upsertions);
      await this.#commit(records);
      return results;
    });
  }

  /**
   * Kafka's UpdateFeatures (feature-control.ts): every update checked against the levels in
   * force, then their FeatureLevelRecords committed together, or none.
   */
  updateFeatures(updates: readonly FeatureUpdate[], validateOnly: boolean): Promise<FeatureUpdateResult> {
    return this.#serialize(async () => {
      const image = this.#image;
      const current = finalizedFeatures(image.features, this.#log.kraftVersion);
      const { result, records } = planFeatureUpdates(updates, current, this.#config().nodeId);
      if (!validateOnly && result.errorCode === ErrorCode.NONE) {
        await this.#commit(records);
        this.#logger.info(
          { updates: updates.map((u) => `${u.feature}=${u.maxVersionLevel}`) },
          "finalized feature levels updated",
        );
      }
      return result;
    });
  }

  /**
   * AlterClientQuotas: commits the ClientQuotaRecords of every valid alteration together
   * (client-quotas.ts), one result per entity; nothing with `validateOnly`.
   */
  alterClientQuotas(
    alterations: readonly QuotaAlteration[],
    validateOnly: boolean,
  ): Promise<QuotaAlterResult[]> {
    return this.#serialize(async () => {
      const { records, results } = clientQuotaAlterRecords(this.#image.clientQuotas, alterations);
      if (!validateOnly) await this.#commit(records);
      return results;
    });
  }

  /** CreateAcls: commits an AccessControlEntryRecord per new binding (acls.ts), one result each. */
  createAcls(bindings: readonly AclBinding[]): Promise<AclApiError[]> {
    return this.#serialize(async () => {
      const { records, results } = createAclRecords(this.#image, bindings, this.#random);
      await this.#commit(records);
      return results;
    });
  }

  /** DeleteAcls: commits a RemoveAccessControlEntryRecord per matched binding, one result per filter. */
  deleteAcls(filters: readonly AclFilter[]): Promise<AclDeleteResult[]> {
    return this.#serialize(async () => {
      const { records, results } = deleteAclRecords(this.#image, filters);
      await this.#commit(records);
      return results;
    });
  }

  /** Reserves a block of producer ids for `brokerId`; returns the first id and the count. */
  allocateProducerIds(
    brokerId: number,
    brokerEpoch: bigint,
  ): Promise<{ firstProducerId: bigint; count: number }> {
    return this.#serialize(async () => {
      const first = this.#image.nextProducerId;
      const next = first + BigInt(PRODUCER_ID_BLOCK_SIZE);
      await this.#commit([{ type: "ProducerIds", data: { brokerId, brokerEpoch, nextProducerId: next } }]);
      return { firstProducerId: first, count: PRODUCER_ID_BLOCK_SIZE };
    });
  }
}

/** The Config records turning `current` into `next`: changed or new keys, and null for removed ones. */
function configChangeRecords(
  resourceType: (typeof CONFIG_RESOURCE_TYPE)[keyof typeof CONFIG_RESOURCE_TYPE],
  resourceName: string,
  current: ReadonlyMap<string, string>,
  next: ReadonlyMap<string, string>,
): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  for (const [name, value] of next) {
    if (current.get(name) !== value) {
      records.push({ type: "Config", data: { resourceType, resourceName, name, value } });
    }
  }
  for (const name of current.keys()) {
    if (!next.has(name)) {
      records.push({ type: "Config", data: { resourceType, resourceName, name, value: null } });
    }
  }
  return records;
}

/** Kafka's Topic.validate rules; returns the error message or undefined. */
export function topicNameError(name: string): string | undefined {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === "." || name === "..") return 'Topic name cannot be "." or ".."';
  if (name.length > TOPIC_NAME_LENGTH_MAX) {
    return `Topic name is illegal, it can't be longer than ${TOPIC_NAME_LENGTH_MAX} characters, topic name: ${name}`;
  }
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return undefined;
}

/** Kafka forbids topics whose names differ only in '.' versus '_' (metric names collide). */
function collidingTopic(name: string, existing: Iterable<string>): string | undefined {
  const unified = name.replaceAll(".", "_");
  for (const other of existing) if (other !== name && other.replaceAll(".", "_") === unified) return other;
  return undefined;
}

interface Placement {
  readonly replicas: number[][];
  readonly isrs: number[][];
}

interface PlacementError {
  readonly errorCode: number;
  readonly errorMessage: string;
}

/** Kafka's buildPartitionRegistration: the first active replica leads, epochs start at 0. */
function newPartitionRecord(
  topicId: string,
  partitionId: number,
  replicas: readonly number[],
  isr: readonly number[],
): MetadataRecord {
  return {
    type: "Partition",
    data: {
      partitionId,
      topicId,
      replicas,
      isr,
      leader: isr[0]!,
      leaderEpoch: 0,
      partitionEpoch: 0,
      leaderRecoveryState: LEADER_RECOVERY_STATE.RECOVERED,
    },
  };
}

/**
 * Kafka's manual assignment checks (validateManualPartitionAssignment): consecutive partition
 * indexes, registered brokers, each once, the same replication factor throughout, and at least one
 * active broker per partition (its initial ISR).
 */
function manualPlacement(
  image: MetadataImage,
  assignments: ReadonlyArray<{ index: number; brokers: readonly number[] }>,
  firstIndex: number,
  replicationFactor: number | undefined,
): Placement | PlacementError {
  const bad = (errorMessage: string) => ({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage });
  if (assignments.length > PARTITIONS_PER_TOPIC_MAX)
    return bad(`More than ${PARTITIONS_PER_TOPIC_MAX} partitions assigned.`);
  const seen = new Set<number>();
  for (const a of assignments) {
    if (seen.has(a.index)) return bad(`Found multiple manual partition assignments for partition ${a.index}`);
    seen.add(a.index);
  }
  const sorted = [...assignments].sort((a, b) => a.index - b.index);
  const replicas: number[][] = [];
  const isrs: number[][] = [];
  let rf = replicationFactor;
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    if (a.index !== firstIndex + i) return bad("partitions should be a consecutive 0-based integer sequence");
    if (a.brokers.length === 0) return bad("The manual partition assignment includes an empty replica list.");
    const ids = [...a.brokers].sort((x, y) => x - y);
    for (let j = 0; j < ids.length; j++) {
      if (!image.brokers.has(ids[j]!)) {
        return bad(
          `The manual partition assignment includes broker ${ids[j]}, but no such broker is registered.`,
        );
      }
      if (j > 0 && ids[j] === ids[j - 1]) {
        return bad(`The manual partition assignment includes the broker ${ids[j]} more than once.`);
      }
    }
    if (rf !== undefined && a.brokers.length !== rf) {
      return bad(
        `The manual partition assignment includes a partition with ${a.brokers.length} replica(s), but this is not consistent with previous partitions, which have ${rf} replica(s).`,
      );
    }
    rf = a.brokers.length;
    const isr = a.brokers.filter((b) => image.isActiveBroker(b));
    if (isr.length === 0) {
      return bad(
        `All brokers specified in the manual partition assignment for partition ${a.index} are fenced or in controlled shutdown.`,
      );
    }
    replicas.push([...a.brokers]);
    isrs.push(isr);
  }
  return { replicas, isrs };
}

/** A random topic id as Kafka's Uuid.randomUuid: never the zero or metadata-topic id, never starting with '-'. */
export function randomTopicId(random: Random): string {
  for (;;) {
    const id = uuidFromBytes(random.bytes(16), 0);
    if (id !== ZERO_UUID && id !== METADATA_TOPIC_ID && !id.startsWith("-")) return id;
  }
}
