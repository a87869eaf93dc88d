/**
 * What the parts of the group coordinator share: its settings, its clock, the groups of both
 * protocols, the committed offsets, and the one way to write records to __consumer_offsets.
 * `GroupCoordinator` (group-coordinator.ts) owns one of these and hands it to the classic
 * protocol, the consumer (KIP-848) protocol and the offset manager, so each part reads and
 * changes the same maps.
 *
 * Concurrency contract: single-threaded, as the coordinator (see group-coordinator.ts).
 */
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { randomUuidText, SYSTEM_RANDOM } from "../../random.js";
import type { ClassicGroup } from "./classic-group.js";
import type { ConsumerGroup, TopicsByName } from "./consumer-group.js";
import { coordinatorPartitionFor } from "./java-hash.js";
import { OffsetStore } from "./offset-store.js";
import type { CoordinatorRecord } from "./offsets-records.js";
import type { Timer } from "./timer.js";

/** The protocol type of Kafka's consumer clients; groups of this type expose subscriptions. */
export const CONSUMER_PROTOCOL_TYPE = "consumer";

/** Where the coordinator keeps its records: partitions of __consumer_offsets. */
export interface GroupStateLog {
  /** Appends the records as one batch; resolves once stored, rejects if they could not be. */
  append(partition: number, records: readonly CoordinatorRecord[]): Promise<void>;
  /** Calls `onRecord` for every record of the partition, from its start to its end, in order. */
  replay(partition: number, onRecord: (record: CoordinatorRecord) => void): Promise<void>;
}

export interface GroupCoordinatorConfig {
  readonly offsetsTopicPartitions: number;
  readonly groupMinSessionTimeoutMs: number;
  readonly groupMaxSessionTimeoutMs: number;
  readonly groupInitialRebalanceDelayMs: number;
  /** group.max.size: members of one classic group. */
  readonly groupMaxSize: number;
  /** How long a new member's parked JoinGroup may wait (Kafka: 5 minutes, not configurable). */
  readonly newMemberJoinTimeoutMs: number;
  readonly offsetsRetentionMs: number;
  readonly offsetsRetentionCheckIntervalMs: number;
  readonly offsetMetadataMaxBytes: number;
  /** group.max.offsets: partitions one group holds committed offsets for (Krill's bound). */
  readonly groupMaxOffsets: number;
  /** Krill's bound on groups held by the coordinator (offsets-only groups included). */
  readonly groupsMax: number;
  /**
   * "consumer" is in group.coordinator.rebalance.protocols: without it ConsumerGroupHeartbeat and
   * ConsumerGroupDescribe answer UNSUPPORTED_VERSION, as Kafka does.
   */
  readonly consumerProtocolEnabled: boolean;
  /** group.consumer.session.timeout.ms (KIP-848 groups). */
  readonly consumerSessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms. */
  readonly consumerHeartbeatIntervalMs: number;
  /** group.consumer.max.size. */
  readonly consumerMaxSize: number;
  /** group.consumer.assignors: server-side assignor names, the first is the default. */
  readonly consumerAssignors: readonly string[];
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = Object.freeze({
  offsetsTopicPartitions: 50,
  groupMinSessionTimeoutMs: 6_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3_000,
  groupMaxSize: 2_147_483_647,
  newMemberJoinTimeoutMs: 300_000,
  offsetsRetentionMs: 7 * 24 * 3_600_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4_096,
  groupMaxOffsets: 100_000,
  groupsMax: 100_000,
  consumerProtocolEnabled: true,
  consumerSessionTimeoutMs: 45_000,
  consumerHeartbeatIntervalMs: 5_000,
  consumerMaxSize: 2_147_483_647,
  consumerAssignors: ["uniform", "range"],
});

export interface CoordinatorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

const SILENT: CoordinatorLogger = { info: () => {}, warn: () => {} };

export interface GroupCoordinatorDeps {
  readonly config: GroupCoordinatorConfig;
  readonly log: GroupStateLog;
  readonly timer: Timer;
  readonly logger?: CoordinatorLogger;
  /** Makes the random part of member ids; tests pass a counter. */
  readonly newUuid?: () => string;
  /** The topics that exist (KIP-848 groups assign them server-side); none if absent. */
  readonly topics?: () => TopicsByName;
}

/** Who sent a group request. */
export interface ClientInfo {
  readonly apiVersion: number;
  readonly clientId: string;
  readonly clientHost: string;
}

export const EMPTY_BUFFER = Buffer.alloc(0);

/** Kafka's appendGroupMetadataErrorToResponseError, for a failed local append. */
export const APPEND_FAILED = ErrorCode.NOT_COORDINATOR;

export class CoordinatorState {
  readonly config: GroupCoordinatorConfig;
  readonly timer: Timer;
  readonly logger: CoordinatorLogger;
  readonly newUuid: () => string;
  /** The topics that exist, as the KIP-848 assignors see them. */
  readonly topics: () => TopicsByName;
  /** Classic groups, and offsets-only ("simple") groups. */
  readonly groups = new Map<string, ClassicGroup>();
  /** KIP-848 groups; a group id is in at most one of the two maps. */
  readonly consumerGroups = new Map<string, ConsumerGroup>();
  readonly offsets = new OffsetStore();
  /**
   * The partitions of __consumer_offsets this coordinator serves ("loaded") or is replaying
   * ("loading"): those this node leads (or all of them on a lone broker). A group's requests
   * are answered only when its partition is loaded.
   */
  readonly partitionStates = new Map<number, "loading" | "loaded">();
  /**
   * A partition has been assigned to this coordinator since it was built: from then on a group
   * whose partition is not here gets NOT_COORDINATOR (the client finds its coordinator again);
   * before, every request is COORDINATOR_LOAD_IN_PROGRESS, as while a lone broker loads.
   */
  assigned = false;
  /** Set by close(): nothing more is written. */
  closed = false;
  readonly #log: GroupStateLog;

  constructor(deps: GroupCoordinatorDeps) {
    this.config = deps.config;
    this.#log = deps.log;
    this.timer = deps.timer;
    this.logger = deps.logger ?? SILENT;
    this.newUuid = deps.newUuid ?? (() => randomUuidText(SYSTEM_RANDOM));
    this.topics = deps.topics ?? (() => new Map());
  }

  /**
   * Partitions were assigned (a node leading none counts) and none is still loading: ListGroups
   * answers without error, and the broker's health reports the coordinator loaded.
   */
  get loaded(): boolean {
    if (!this.assigned) return false;
    for (const s of this.partitionStates.values()) if (s !== "loaded") return false;
    return true;
  }

  /**
   * Whether requests for `groupId` may be served here: NONE when its partition is loaded,
   * COORDINATOR_LOAD_IN_PROGRESS while it loads (or before any partition was assigned),
   * NOT_COORDINATOR when another node leads it (Kafka's CoordinatorRuntime.scheduleWriteOperation
   * and scheduleReadOperation checks).
   */
  gate(groupId: string): number {
    const state = this.partitionStates.get(this.partitionFor(groupId));
    if (state === "loaded") return ErrorCode.NONE;
    if (state === "loading" || !this.assigned) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NOT_COORDINATOR;
  }

  /** The group's partition is loaded here. */
  isServed(groupId: string): boolean {
    return this.partitionStates.get(this.partitionFor(groupId)) === "loaded";
  }

  get groupCount(): number {
    return this.groups.size + this.consumerGroups.size;
  }

  partitionFor(groupId: string): number {
    return coordinatorPartitionFor(groupId, this.config.offsetsTopicPartitions);
  }

  replay(partition: number, onRecord: (record: CoordinatorRecord) => void): Promise<void> {
    return this.#log.replay(partition, onRecord);
  }

  /** Appends to the group's partition; resolves to null, or to the error code to answer with. */
  async append(groupId: string, records: readonly CoordinatorRecord[]): Promise<number | null> {
    // A closed coordinator (broker stopping, or replaced) must not write behind its successor.
    if (this.closed) return APPEND_FAILED;
    try {
      await this.#log.append(this.partitionFor(groupId), records);
      return null;
    } catch (err) {
      this.logger.warn({ groupId, err }, "appending to __consumer_offsets failed");
      return APPEND_FAILED;
    }
  }
}
