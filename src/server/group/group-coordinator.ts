/**
 * The group coordinator: classic consumer groups (JoinGroup, SyncGroup, Heartbeat, LeaveGroup),
 * committed offsets, and the admin views (DescribeGroups, ListGroups, DeleteGroups,
 * OffsetDelete), with its state kept as records in __consumer_offsets. Behaviour and error codes
 * follow Kafka's GroupMetadataManager / OffsetMetadataManager; the classic state machine and its
 * legal transitions are in classic-group.ts.
 *
 * Concurrency contract: single-threaded. Every public method changes state synchronously, to
 * completion, before its first `await`; only appends to __consumer_offsets are awaited (Kafka
 * waits for the write before answering), and what happens after an append re-checks the group's
 * state and generation, since other requests may have run meanwhile. Parked JoinGroup and
 * SyncGroup requests are promises resolved by later requests or timers. Time comes from the
 * injected `Timer`, so tests drive sessions and rebalances with a manual clock.
 *
 * Until `load()` has replayed the topic every request is answered COORDINATOR_LOAD_IN_PROGRESS.
 */
import { randomUUID } from "node:crypto";
import type { ConsumerGroupHeartbeatRequest } from "../../protocol/generated/consumer-group-heartbeat-request.js";
import { decodeConsumerProtocolSubscription } from "../../protocol/generated/consumer-protocol-subscription.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { GroupMetadataValue } from "../../protocol/generated/group-metadata-value.js";
import type { JoinGroupRequest } from "../../protocol/generated/join-group-request.js";
import type { OffsetCommitRequest } from "../../protocol/generated/offset-commit-request.js";
import type { SyncGroupRequest } from "../../protocol/generated/sync-group-request.js";
import { Reader } from "../../protocol/primitives/reader.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import {
  ClassicGroup,
  type ClassicGroupState,
  ClassicMember,
  type JoinGroupResult,
  type JoinProtocol,
  type SyncGroupResult,
} from "./classic-group.js";
import {
  type Assignment,
  type Assignor,
  assignmentEquals,
  CONSUMER_ASSIGNORS,
  ConsumerGroup,
  type ConsumerMember,
  compileTopicRegex,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  memberTopics,
  reconcile,
  SUBSCRIBED_TOPIC_REGEX_LENGTH_MAX,
  subscriptionSignature,
  type TopicsByName,
} from "./consumer-group.js";
import { coordinatorPartitionFor } from "./java-hash.js";
import { type OffsetAndMetadata, OffsetStore } from "./offset-store.js";
import {
  type CoordinatorRecord,
  consumerGroupCurrentMemberAssignmentRecord,
  consumerGroupMemberMetadataRecord,
  consumerGroupMetadataRecord,
  consumerGroupTargetAssignmentMemberRecord,
  consumerGroupTargetAssignmentMetadataRecord,
  type DecodedGroupRecord,
  decodeGroupRecord,
  groupMetadataRecord,
  offsetCommitRecord,
} from "./offsets-records.js";
import type { Timer } from "./timer.js";

export type { JoinGroupResult, SyncGroupResult } from "./classic-group.js";

export const CONSUMER_OFFSETS_TOPIC = "__consumer_offsets";
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

export interface LeaveMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface PartitionResult {
  partitionIndex: number;
  errorCode: number;
}

export interface TopicPartitionsResult {
  name: string;
  partitions: PartitionResult[];
}

export interface FetchedPartition {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface FetchOffsetsResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedPartition[] }[];
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

export interface OffsetDeleteResult {
  errorCode: number;
  topics: TopicPartitionsResult[];
}

const EMPTY_BUFFER = Buffer.alloc(0);

function joinError(errorCode: number, memberId: string): JoinGroupResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: "",
    skipAssignment: false,
    memberId,
    members: [],
  };
}

function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER };
}

/** Kafka's appendGroupMetadataErrorToResponseError, for a failed local append. */
const APPEND_FAILED = ErrorCode.NOT_COORDINATOR;

/** The topic names in a consumer-protocol subscription (v0 prefix of every version), or null. */
export function parseSubscribedTopics(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    r.readInt16("consumer protocol version");
    return decodeConsumerProtocolSubscription(r, 0).topics;
  } catch {
    return null;
  }
}

const heartbeatKey = (groupId: string, memberId: string) => `heartbeat:${groupId}:${memberId}`;
const joinKey = (groupId: string) => `join:${groupId}`;
const syncKey = (groupId: string) => `sync:${groupId}`;
const EXPIRE_OFFSETS_KEY = "expire-offsets";
/**
 * Shortest wait before a join phase that only absent static members hold up is tried again, so a
 * rebalance timeout of 0 cannot spin the timer.
 */
const JOIN_RETRY_MS_MIN = 1_000;

/**
 * Whether a committed offset's metadata exceeds offset.metadata.max.bytes (OffsetCommit and
 * TxnOffsetCommit alike). A null metadata is never too large, whatever the limit says (Kafka).
 */
export function offsetMetadataTooLarge(metadata: string | null, maxBytes: number): boolean {
  return metadata !== null && Buffer.byteLength(metadata, "utf8") > maxBytes;
}

/** Members that got an id (MEMBER_ID_REQUIRED) and have not joined with it yet, per group. */
export const PENDING_MEMBERS_MAX = 10_000;

export class GroupCoordinator {
  readonly #config: GroupCoordinatorConfig;
  readonly #log: GroupStateLog;
  readonly #timer: Timer;
  readonly #logger: CoordinatorLogger;
  readonly #newUuid: () => string;
  readonly #groups = new Map<string, ClassicGroup>();
  /** KIP-848 groups; a group id is in at most one of the two maps. */
  readonly #consumerGroups = new Map<string, ConsumerGroup>();
  readonly #topics: () => TopicsByName;
  readonly #loadingConsumerGroups = new Map<string, LoadingConsumerGroup>();
  readonly #offsets = new OffsetStore();
  #loaded = false;
  #loading: Promise<void> | null = null;
  #closed = false;

  constructor(deps: GroupCoordinatorDeps) {
    this.#config = deps.config;
    this.#log = deps.log;
    this.#timer = deps.timer;
    this.#logger = deps.logger ?? SILENT;
    this.#newUuid = deps.newUuid ?? randomUUID;
    this.#topics = deps.topics ?? (() => new Map());
  }

  get isLoaded(): boolean {
    return this.#loaded;
  }

  partitionFor(groupId: string): number {
    return coordinatorPartitionFor(groupId, this.#config.offsetsTopicPartitions);
  }

  /** For tests and metrics: the classic group, if any. */
  classicGroup(groupId: string): ClassicGroup | undefined {
    return this.#groups.get(groupId);
  }

  /** For tests and metrics: the KIP-848 group, if any. */
  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.#consumerGroups.get(groupId);
  }

  get groupCount(): number {
    return this.#groups.size + this.#consumerGroups.size;
  }

  // ---------------------------------------------------------------------------------------------
  // Loading

  /**
   * Replays every partition of __consumer_offsets into memory, then starts answering. Members of
   * loaded groups get a fresh session timeout: if they do not come back they are removed.
   */
  load(): Promise<void> {
    // Concurrent callers share one replay, so no record is applied twice.
    this.#loading ??= this.#load().catch((err: unknown) => {
      this.#loading = null;
      throw err;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    for (let p = 0; p < this.#config.offsetsTopicPartitions; p++) {
      await this.#log.replay(p, (record) => this.#replay(record));
    }
    if (this.#closed) return;
    const nowMs = this.#timer.nowMs();
    this.#finishConsumerGroupsLoad(nowMs);
    for (const group of this.#groups.values()) {
      for (const member of group.members.values())
        this.#rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
      if (group.is("Stable") && group.size > this.#config.groupMaxSize) {
        this.#prepareRebalance(group, "loaded group is larger than group.max.size");
      }
    }
    this.#loaded = true;
    this.#timer.schedule(EXPIRE_OFFSETS_KEY, this.#config.offsetsRetentionCheckIntervalMs, () =>
      this.#expireOffsetsTask(),
    );
    this.#logger.info({ groups: this.#groups.size, nowMs }, "group coordinator loaded");
  }

  /** Stops answering (requests get COORDINATOR_LOAD_IN_PROGRESS) and writing; parked requests get NOT_COORDINATOR. */
  close(): void {
    this.#closed = true;
    this.#loaded = false;
    this.#timer.cancel(EXPIRE_OFFSETS_KEY);
    for (const group of this.#groups.values()) {
      for (const member of group.members.values()) {
        group.completeJoin(member, joinError(ErrorCode.NOT_COORDINATOR, member.memberId));
        group.completeSync(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  #replay(record: CoordinatorRecord): void {
    const decoded = decodeGroupRecord(record);
    if (decoded.type === "OffsetCommit") {
      if (decoded.value === null) {
        this.#offsets.delete(decoded.group, decoded.topic, decoded.partition);
        return;
      }
      if (!this.#groups.has(decoded.group)) {
        this.#groups.set(decoded.group, new ClassicGroup(decoded.group, "Empty", null));
      }
      this.#offsets.put(decoded.group, decoded.topic, decoded.partition, {
        offset: decoded.value.offset,
        leaderEpoch: decoded.value.leaderEpoch,
        metadata: decoded.value.metadata,
        commitTimestampMs: Number(decoded.value.commitTimestamp),
        expireTimestampMs: Number(decoded.value.expireTimestamp),
      });
    } else if (decoded.type === "GroupMetadata") {
      if (decoded.value === null) {
        this.#groups.delete(decoded.group);
        return;
      }
      this.#groups.set(decoded.group, this.#groupFromRecord(decoded.group, decoded.value));
    } else if (decoded.type !== "Skipped") {
      replayConsumerRecord(this.#loadingConsumerGroups, decoded);
    }
  }

  /** Builds the KIP-848 groups replayed from the log, with fresh session timers. */
  #finishConsumerGroupsLoad(nowMs: number): void {
    const topics = this.#topics();
    for (const [groupId, loaded] of this.#loadingConsumerGroups) {
      const group = new ConsumerGroup(groupId, nowMs);
      group.groupEpoch = loaded.groupEpoch;
      group.assignmentEpoch = loaded.assignmentEpoch;
      for (const [memberId, target] of loaded.targets) group.targetAssignment.set(memberId, target);
      for (const member of loaded.members.values()) {
        if (member.metadataSeen) group.updateMember(undefined, member.member, nowMs);
      }
      group.subscriptionSignature = subscriptionSignature(group.subscribedTopics(topics), topics);
      // An offsets-only classic group of the same id was made while replaying commits; a group
      // id is never in both maps, and a classic group with members (which conversion would have
      // tombstoned) keeps it.
      const classic = this.#groups.get(groupId);
      if (classic !== undefined) {
        if (!classic.isEmpty || classic.size > 0) continue;
        this.#groups.delete(groupId);
      }
      this.#consumerGroups.set(groupId, group);
      for (const member of group.members.values()) {
        this.#scheduleConsumerSession(group, member.memberId, this.#config.consumerSessionTimeoutMs);
      }
    }
    this.#loadingConsumerGroups.clear();
  }

  #groupFromRecord(groupId: string, value: GroupMetadataValue): ClassicGroup {
    const stateTimestampMs = value.currentStateTimestamp >= 0n ? Number(value.currentStateTimestamp) : null;
    const state: ClassicGroupState = value.members.length === 0 ? "Empty" : "Stable";
    const group = new ClassicGroup(groupId, state, stateTimestampMs);
    group.generationId = value.generation;
    group.protocolType = value.protocolType === "" ? null : value.protocolType;
    group.protocolName = value.protocol;
    for (const m of value.members) {
      const protocols: JoinProtocol[] =
        value.protocol === null ? [] : [{ name: value.protocol, metadata: m.subscription }];
      const member = new ClassicMember(
        m.memberId,
        m.groupInstanceId,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout,
        m.sessionTimeout,
        value.protocolType,
        protocols,
      );
      member.assignment = m.assignment;
      group.restoreMember(member);
    }
    // A leader that is not a member (a damaged record) is replaced by the first member.
    group.leaderId =
      value.leader !== null && group.members.has(value.leader)
        ? value.leader
        : (group.members.keys().next().value ?? null);
    if (group.protocolType === CONSUMER_PROTOCOL_TYPE) {
      const topics = new Set<string>();
      let known = true;
      for (const m of group.members.values()) {
        const parsed = parseSubscribedTopics(m.metadataFor(group.protocolName));
        if (parsed === null) known = false;
        else for (const t of parsed) topics.add(t);
      }
      group.subscribedTopics = known ? topics : null;
    }
    return group;
  }

  // ---------------------------------------------------------------------------------------------
  // JoinGroup

  joinGroup(request: JoinGroupRequest, client: ClientInfo): Promise<JoinGroupResult> {
    if (!this.#loaded)
      return Promise.resolve(joinError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, request.memberId));
    if (request.groupId === "")
      return Promise.resolve(joinError(ErrorCode.INVALID_GROUP_ID, request.memberId));
    if (
      request.sessionTimeoutMs < this.#config.groupMinSessionTimeoutMs ||
      request.sessionTimeoutMs > this.#config.groupMaxSessionTimeoutMs
    ) {
      return Promise.resolve(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, request.memberId));
    }
    // A protocol name listed twice counts once, first occurrence first, as Kafka's keyed collection.
    const seen = new Set<string>();
    const protocols: JoinProtocol[] = [];
    for (const p of request.protocols) {
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      protocols.push({ name: p.name, metadata: p.metadata });
    }
    const rebalanceTimeoutMs =
      request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs;
    const join: ParsedJoin = {
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      protocolType: request.protocolType,
      protocols,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs,
      reason: request.reason,
    };
    return new Promise((resolve) => this.#classicJoin(join, client, resolve));
  }

  #classicJoin(join: ParsedJoin, client: ClientInfo, respond: (r: JoinGroupResult) => void): void {
    const isUnknownMember = join.memberId === "";
    const consumerGroup = this.#consumerGroups.get(join.groupId);
    if (consumerGroup !== undefined) {
      // Krill does not run mixed groups (classic members inside a KIP-848 group); an empty one
      // is converted, as Kafka does.
      if (!consumerGroup.isEmpty) {
        respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, join.memberId));
        return;
      }
      const before = snapshotConsumerGroup(consumerGroup);
      this.#consumerGroups.delete(join.groupId);
      void this.#persistConsumerGroup(join.groupId, before);
    }
    let group = this.#groups.get(join.groupId);
    const isNewGroup = group === undefined;
    if (group === undefined) {
      if (!isUnknownMember) {
        respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, join.memberId));
        return;
      }
      if (this.groupCount >= this.#config.groupsMax) {
        this.#logger.warn(
          { groupId: join.groupId, groupsMax: this.#config.groupsMax },
          "refusing a new group",
        );
        respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ""));
        return;
      }
      group = new ClassicGroup(join.groupId, "Empty", this.#timer.nowMs());
      this.#groups.set(join.groupId, group);
    }
    if (!this.#acceptJoiningMember(group, join.memberId)) {
      this.#removeMember(group, join.memberId, ErrorCode.GROUP_MAX_SIZE_REACHED);
      respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ""));
    } else if (isUnknownMember) {
      this.#joinNewMember(group, join, client, respond);
    } else {
      this.#joinExistingMember(group, join, client, respond);
    }
    // A group created by a join that was refused keeps nothing worth remembering.
    if (isNewGroup && group.isEmpty && group.size === 0 && group.numPendingJoinMembers === 0) {
      this.#groups.delete(join.groupId);
    }
  }

  #acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const maxSize = this.#config.groupMaxSize;
    switch (group.state) {
      case "Empty":
      case "Dead":
        return group.numPendingJoinMembers < maxSize || group.isPendingMember(memberId);
      case "PreparingRebalance":
        return (group.member(memberId)?.isAwaitingJoin ?? false) || group.numAwaitingJoin < maxSize;
      case "CompletingRebalance":
      case "Stable":
        return group.member(memberId) !== undefined || group.size < maxSize;
    }
  }

  #joinNewMember(
    group: ClassicGroup,
    join: ParsedJoin,
    client: ClientInfo,
    respond: (r: JoinGroupResult) => void,
  ): void {
    if (group.is("Dead")) {
      respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, ""));
      return;
    }
    if (!group.supportsProtocols(join.protocolType, join.protocols)) {
      respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, ""));
      return;
    }
    const newMemberId = `${join.groupInstanceId ?? client.clientId}-${this.#newUuid()}`;
    if (join.groupInstanceId !== null) {
      const existingMemberId = group.staticMemberId(join.groupInstanceId);
      if (existingMemberId !== undefined) {
        this.#logger.info(
          { groupId: group.groupId, groupInstanceId: join.groupInstanceId, existingMemberId, newMemberId },
          "static member rejoins with an unknown member id; replacing the previous member",
        );
        this.#updateStaticMemberThenRebalance(group, join, client, existingMemberId, newMemberId, respond);
        return;
      }
      this.#addMemberThenRebalance(group, join, client, newMemberId, respond);
      return;
    }
    if (client.apiVersion >= 4) {
      // KIP-394: the member must come back with this id; until then it is pending, and its
      // pending state expires after the session timeout. Each costs a timer, so they are bounded
      // even when group.max.size is not.
      if (group.numPendingJoinMembers >= PENDING_MEMBERS_MAX) {
        respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ""));
        return;
      }
      group.addPendingMember(newMemberId);
      this.#timer.schedule(heartbeatKey(group.groupId, newMemberId), join.sessionTimeoutMs, () =>
        this.#expireHeartbeat(group.groupId, newMemberId),
      );
      respond(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId));
      return;
    }
    this.#addMemberThenRebalance(group, join, client, newMemberId, respond);
  }

  #joinExistingMember(
    group: ClassicGroup,
    join: ParsedJoin,
    client: ClientInfo,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const memberId = join.memberId;
    if (group.is("Dead")) {
      respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
      return;
    }
    if (!group.supportsProtocols(join.protocolType, join.protocols)) {
      respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
      return;
    }
    if (group.isPendingMember(memberId)) {
      if (join.groupInstanceId !== null) {
        // Pending members are dynamic; a static id on a pending member id is a confused client.
        respond(joinError(ErrorCode.FENCED_INSTANCE_ID, memberId));
        return;
      }
      this.#addMemberThenRebalance(group, join, client, memberId, respond);
      return;
    }
    const invalid = this.#validateMember(group, memberId, join.groupInstanceId);
    if (invalid !== ErrorCode.NONE) {
      respond(joinError(invalid, memberId));
      return;
    }
    const member = group.member(memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        this.#updateMemberThenRebalance(group, member, join, respond);
        return;
      case "CompletingRebalance":
        if (member.matches(join.protocols)) {
          // The member lost the JoinGroup response; answer it again for this generation.
          respond(this.#currentJoinResult(group, memberId, group.isLeader(memberId)));
          return;
        }
        this.#updateMemberThenRebalance(group, member, join, respond);
        return;
      case "Stable":
        if (group.isLeader(memberId) || !member.matches(join.protocols)) {
          // A leader's join asks for a rebalance (its view of topics may have changed).
          this.#updateMemberThenRebalance(group, member, join, respond);
          return;
        }
        respond(this.#currentJoinResult(group, memberId, false));
        return;
      default:
        respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
        return;
    }
  }

  #currentJoinResult(group: ClassicGroup, memberId: string, withMembers: boolean): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      skipAssignment: false,
      memberId,
      members: withMembers ? group.joinedMembers() : [],
    };
  }

  #validateMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const existing = group.staticMemberId(groupInstanceId);
      if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return group.member(memberId) === undefined ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.NONE;
  }

  #addMemberThenRebalance(
    group: ClassicGroup,
    join: ParsedJoin,
    client: ClientInfo,
    memberId: string,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const member = new ClassicMember(
      memberId,
      join.groupInstanceId,
      client.clientId,
      client.clientHost,
      join.rebalanceTimeoutMs,
      join.sessionTimeoutMs,
      join.protocolType,
      join.protocols,
    );
    member.isNew = true;
    if (group.is("PreparingRebalance") && group.previousState === "Empty") group.newMemberAdded = true;
    group.add(member, respond);
    // A new member cannot heartbeat while its join is parked, and a client that gave up would
    // leave a defunct member behind; its join therefore times out on its own.
    this.#rescheduleHeartbeat(group, member, this.#config.newMemberJoinTimeoutMs);
    this.#maybePrepareRebalanceOrCompleteJoin(group, `adding member ${memberId}`);
  }

  #updateMemberThenRebalance(
    group: ClassicGroup,
    member: ClassicMember,
    join: ParsedJoin,
    respond: (r: JoinGroupResult) => void,
  ): void {
    // A second JoinGroup while one is parked supersedes it; the first is told to rejoin.
    if (member.awaitingJoin !== null) {
      group.completeJoin(member, joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    }
    group.updateMember(member, join.protocols, join.rebalanceTimeoutMs, join.sessionTimeoutMs, respond);
    this.#maybePrepareRebalanceOrCompleteJoin(group, `member ${member.memberId} joins in ${group.state}`);
  }

  #updateStaticMemberThenRebalance(
    group: ClassicGroup,
    join: ParsedJoin,
    client: ClientInfo,
    oldMemberId: string,
    newMemberId: string,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const instanceId = join.groupInstanceId!;
    const currentLeader = group.leaderId ?? "";
    const member = group.replaceStaticMember(
      instanceId,
      oldMemberId,
      newMemberId,
      ErrorCode.FENCED_INSTANCE_ID,
    );
    this.#timer.cancel(heartbeatKey(group.groupId, oldMemberId));
    this.#rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
    const old = {
      protocols: member.protocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    group.updateMember(member, join.protocols, join.rebalanceTimeoutMs, join.sessionTimeoutMs, respond);
    if (group.is("Stable")) {
      if ((group.protocolName ?? "") === group.selectProtocol()) {
        // Same protocol: persist the new member id and hand the current generation back, without
        // a rebalance (KIP-345's point: a restarted static member keeps its partitions).
        const generation = group.generationId;
        void this.#append(group.groupId, [this.#groupMetadataRecord(group, null)]).then((failure) => {
          if (failure !== null) {
            if (group.member(newMemberId) === member) {
              group.updateMember(member, old.protocols, old.rebalanceTimeoutMs, old.sessionTimeoutMs, null);
              const reverted = group.replaceStaticMember(
                instanceId,
                newMemberId,
                oldMemberId,
                ErrorCode.FENCED_INSTANCE_ID,
              );
              this.#rescheduleHeartbeat(group, reverted, reverted.sessionTimeoutMs);
            }
            respond({ ...joinError(APPEND_FAILED, ""), generationId: generation, leader: currentLeader });
            return;
          }
          const isLeader = group.isLeader(newMemberId);
          const skipAssignment = client.apiVersion >= 9 && isLeader;
          group.completeJoin(member, {
            errorCode: ErrorCode.NONE,
            generationId: group.generationId,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            leader: skipAssignment ? (group.leaderId ?? "") : currentLeader,
            skipAssignment,
            memberId: newMemberId,
            members: skipAssignment ? group.joinedMembers() : [],
          });
        });
        return;
      }
      this.#maybePrepareRebalanceOrCompleteJoin(group, `static member ${instanceId} changed protocols`);
      return;
    }
    if (group.is("CompletingRebalance")) {
      // The leader may already be assigning to the old member id; only a new generation is safe.
      this.#prepareRebalance(group, `static member ${instanceId} rejoined during CompletingRebalance`);
      return;
    }
    this.#maybeCompleteJoinPhase(group);
  }

  #maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.#prepareRebalance(group, reason);
    else this.#maybeCompleteJoinPhase(group);
  }

  #prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is("CompletingRebalance"))
      this.#resetAndPropagateAssignmentWithError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.#removeSyncExpiration(group);
    const isInitialRebalance = group.is("Empty");
    if (isInitialRebalance) {
      // A new group waits group.initial.rebalance.delay.ms for more members, extended while they
      // keep arriving, up to the rebalance timeout.
      const delayMs = this.#config.groupInitialRebalanceDelayMs;
      const remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
      this.#timer.schedule(joinKey(group.groupId), delayMs, () =>
        this.#tryCompleteInitialRebalance(group, delayMs, remainingMs),
      );
    }
    group.transitionTo("PreparingRebalance", this.#timer.nowMs());
    this.#logger.info(
      { groupId: group.groupId, generationId: group.generationId, reason },
      "preparing to rebalance",
    );
    if (!isInitialRebalance) this.#maybeCompleteJoinElseSchedule(group);
  }

  #maybeCompleteJoinElseSchedule(group: ClassicGroup): void {
    if (group.hasAllMembersJoined()) {
      this.#completeJoin(group);
    } else {
      this.#timer.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs(), () =>
        this.#completeJoinIfCurrent(group),
      );
    }
  }

  #tryCompleteInitialRebalance(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    if (this.#groups.get(group.groupId) !== group) return;
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelayMs = Math.min(this.#config.groupInitialRebalanceDelayMs, remainingMs);
      const nextRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.#timer.schedule(joinKey(group.groupId), nextDelayMs, () =>
        this.#tryCompleteInitialRebalance(group, nextDelayMs, nextRemainingMs),
      );
    } else {
      this.#completeJoin(group);
    }
  }

  #maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (!group.is("PreparingRebalance")) return;
    // The initial rebalance always waits out its delay, to gather members.
    if (group.previousState === "Empty") return;
    if (!group.hasAllMembersJoined()) return;
    this.#completeJoin(group);
  }

  #completeJoinIfCurrent(group: ClassicGroup): void {
    if (this.#groups.get(group.groupId) === group) this.#completeJoin(group);
  }

  #completeJoin(group: ClassicGroup): void {
    this.#timer.cancel(joinKey(group.groupId));
    for (const failed of group.notYetRejoinedMembers()) {
      if (failed.groupInstanceId !== null) continue;
      this.#removeMember(group, failed.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      this.#logger.info(
        { groupId: group.groupId, memberId: failed.memberId },
        "removing member that did not rejoin",
      );
    }
    if (group.is("Dead") || !group.is("PreparingRebalance")) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined remain: wait for them, or for their sessions to end.
      this.#timer.schedule(
        joinKey(group.groupId),
        Math.max(group.rebalanceTimeoutMs(), JOIN_RETRY_MS_MIN),
        () => this.#completeJoinIfCurrent(group),
      );
      return;
    }
    const nowMs = this.#timer.nowMs();
    group.initNextGeneration(nowMs, parseSubscribedTopics);
    if (group.is("Empty")) {
      this.#logger.info({ groupId: group.groupId, generationId: group.generationId }, "group is now empty");
      void this.#append(group.groupId, [this.#groupMetadataRecord(group, new Map())]).then((failure) => {
        if (failure !== null)
          this.#logger.warn({ groupId: group.groupId, failure }, "could not store empty group");
      });
      return;
    }
    this.#logger.info(
      {
        groupId: group.groupId,
        generationId: group.generationId,
        members: group.size,
        protocol: group.protocolName,
      },
      "join phase complete",
    );
    for (const member of [...group.members.values()]) {
      const isLeader = group.isLeader(member.memberId);
      group.completeJoin(member, this.#currentJoinResult(group, member.memberId, isLeader));
      this.#rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
      member.isNew = false;
      group.addPendingSyncMember(member.memberId);
    }
    const generation = group.generationId;
    this.#timer.schedule(syncKey(group.groupId), group.rebalanceTimeoutMs(), () =>
      this.#expirePendingSync(group, generation),
    );
  }

  #expirePendingSync(group: ClassicGroup, generationId: number): void {
    if (this.#groups.get(group.groupId) !== group || group.generationId !== generationId) return;
    if (!group.is("CompletingRebalance") && !group.is("Stable")) return;
    if (group.hasReceivedSyncFromAllMembers()) return;
    const late = group.pendingSyncMembers();
    for (const memberId of late) this.#removeMember(group, memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    this.#prepareRebalance(group, `members ${late.join(", ")} did not send SyncGroup in time`);
  }

  #rescheduleHeartbeat(group: ClassicGroup, member: ClassicMember, timeoutMs: number): void {
    const memberId = member.memberId;
    this.#timer.schedule(heartbeatKey(group.groupId, memberId), timeoutMs, () =>
      this.#expireHeartbeat(group.groupId, memberId),
    );
  }

  #expireHeartbeat(groupId: string, memberId: string): void {
    const group = this.#groups.get(groupId);
    if (group === undefined || group.is("Dead")) return;
    if (group.isPendingMember(memberId)) {
      group.remove(memberId);
      if (group.is("PreparingRebalance") && group.hasAllMembersJoined()) this.#completeJoin(group);
      if (group.isEmpty && group.size === 0 && group.numPendingJoinMembers === 0)
        this.#maybeForgetGroup(group);
      return;
    }
    const member = group.member(memberId);
    if (member === undefined || member.hasSatisfiedHeartbeat) return;
    this.#logger.info({ groupId, memberId }, "member session expired");
    this.#removeMemberAndUpdateGroup(group, member.memberId, `session of ${memberId} expired`);
  }

  /** Removes a member, answering whatever it has parked with `errorCode`. */
  #removeMember(group: ClassicGroup, memberId: string, errorCode: number): void {
    const member = group.member(memberId);
    if (member !== undefined) {
      group.completeJoin(member, joinError(errorCode, ""));
      group.completeSync(member, syncError(errorCode));
    }
    this.#timer.cancel(heartbeatKey(group.groupId, memberId));
    group.remove(memberId);
  }

  #removeMemberAndUpdateGroup(group: ClassicGroup, memberId: string, reason: string): void {
    this.#removeMember(group, memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is("Stable") || group.is("CompletingRebalance"))
      this.#maybePrepareRebalanceOrCompleteJoin(group, reason);
    else if (group.is("PreparingRebalance") && group.hasAllMembersJoined()) this.#completeJoin(group);
  }

  #resetAndPropagateAssignmentWithError(group: ClassicGroup, errorCode: number): void {
    for (const member of group.members.values()) member.assignment = EMPTY_BUFFER;
    this.#propagateAssignment(group, errorCode);
  }

  #propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const member of [...group.members.values()]) {
      const delivered = group.completeSync(member, {
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: member.assignment,
      });
      // Sessions that lapsed while the sync was parked were ignored; start them again now.
      if (delivered) this.#rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
  }

  #removeSyncExpiration(group: ClassicGroup): void {
    group.clearPendingSyncMembers();
    this.#timer.cancel(syncKey(group.groupId));
  }

  // ---------------------------------------------------------------------------------------------
  // SyncGroup

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResult> {
    if (!this.#loaded) return Promise.resolve(syncError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS));
    if (request.groupId === "") return Promise.resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    const group = this.#groups.get(request.groupId);
    if (group === undefined || group.isEmpty) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    const invalid = this.#validateSync(group, request);
    if (invalid !== ErrorCode.NONE) return Promise.resolve(syncError(invalid));
    const member = group.member(request.memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case "Stable":
        this.#removePendingSyncMember(group, request.memberId);
        return Promise.resolve({
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
      case "CompletingRebalance":
        return new Promise((resolve) => {
          group.completeSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
          member.awaitingSync = resolve;
          this.#removePendingSyncMember(group, request.memberId);
          if (group.isLeader(request.memberId)) this.#storeLeaderAssignment(group, request);
        });
      default:
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  #validateSync(group: ClassicGroup, request: SyncGroupRequest): number {
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = this.#validateMember(group, request.memberId, request.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const inconsistent = (mine: string | null, theirs: string | null) =>
      theirs !== null && mine !== null && mine !== theirs;
    if (
      inconsistent(group.protocolType, request.protocolType) ||
      inconsistent(group.protocolName, request.protocolName)
    ) {
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    }
    return ErrorCode.NONE;
  }

  #removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.removePendingSyncMember(memberId);
    if (group.hasReceivedSyncFromAllMembers() || !(group.is("CompletingRebalance") || group.is("Stable"))) {
      this.#timer.cancel(syncKey(group.groupId));
    }
  }

  #storeLeaderAssignment(group: ClassicGroup, request: SyncGroupRequest): void {
    const assignment = new Map<string, Buffer>();
    for (const a of request.assignments) assignment.set(a.memberId, a.assignment);
    const generation = group.generationId;
    void this.#append(group.groupId, [this.#groupMetadataRecord(group, assignment)]).then((failure) => {
      // Members may have joined or left while the record was written; only the same generation
      // still waiting for its assignment may use it.
      if (
        !group.is("CompletingRebalance") ||
        group.generationId !== generation ||
        this.#groups.get(group.groupId) !== group
      ) {
        return;
      }
      if (failure !== null) {
        this.#resetAndPropagateAssignmentWithError(group, failure);
        this.#maybePrepareRebalanceOrCompleteJoin(group, "storing the group assignment failed");
        return;
      }
      for (const member of group.members.values())
        member.assignment = assignment.get(member.memberId) ?? EMPTY_BUFFER;
      this.#propagateAssignment(group, ErrorCode.NONE);
      group.transitionTo("Stable", this.#timer.nowMs());
      this.#logger.info({ groupId: group.groupId, generationId: generation }, "group is stable");
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeat and LeaveGroup

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (!this.#loaded) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
    const group = this.#groups.get(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = this.#validateMember(group, memberId, groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.member(memberId)!;
    switch (group.state) {
      case "Empty":
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case "PreparingRebalance":
        this.#rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        // Heartbeats may start right after the JoinGroup response, in CompletingRebalance.
        this.#rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
    }
  }

  leaveGroup(groupId: string, members: readonly LeaveMember[]): LeaveGroupResult {
    if (!this.#loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, members: [] };
    if (groupId === "") return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.#groups.get(groupId);
    if (group === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: [] };
    if (group.is("Dead")) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results: LeaveGroupResult["members"] = [];
    let anyLeft = false;
    for (const m of members) {
      let errorCode: number = ErrorCode.NONE;
      if (m.memberId === "") {
        // Admin removal by instance id (kafka-consumer-groups --delete with static members).
        const staticId = m.groupInstanceId === null ? undefined : group.staticMemberId(m.groupInstanceId);
        if (staticId === undefined) errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
        else this.#removeMember(group, staticId, ErrorCode.UNKNOWN_MEMBER_ID);
      } else if (group.isPendingMember(m.memberId)) {
        this.#removeMember(group, m.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      } else {
        errorCode = this.#validateMember(group, m.memberId, m.groupInstanceId);
        if (errorCode === ErrorCode.NONE) this.#removeMember(group, m.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      }
      if (errorCode === ErrorCode.NONE) anyLeft = true;
      results.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    }
    if (anyLeft) {
      this.#logger.info(
        { groupId, members: results.filter((r) => r.errorCode === 0).map((r) => r.memberId) },
        "members left",
      );
      if (group.is("Stable") || group.is("CompletingRebalance")) {
        this.#maybePrepareRebalanceOrCompleteJoin(group, "members left the group");
      } else if (group.is("PreparingRebalance")) {
        this.#maybeCompleteJoinPhase(group);
      }
    }
    return { errorCode: ErrorCode.NONE, members: results };
  }

  // ---------------------------------------------------------------------------------------------
  // KIP-848: ConsumerGroupHeartbeat and ConsumerGroupDescribe

  /**
   * One ConsumerGroupHeartbeat: joins (epoch 0), heartbeats and acknowledges revocations
   * (epoch > 0), or leaves (-1; -2 for a static member that will come back). Runs to completion
   * synchronously: Krill keeps KIP-848 group state in memory only (see docs/groups.md).
   */
  async consumerGroupHeartbeat(
    request: ConsumerGroupHeartbeatRequest,
    client: ClientInfo,
  ): Promise<ConsumerHeartbeatResult> {
    const before = snapshotConsumerGroup(this.#consumerGroups.get(request.groupId));
    const result = this.#consumerGroupHeartbeat(request, client);
    if (result.errorCode !== ErrorCode.NONE) return result;
    const failure = await this.#persistConsumerGroup(request.groupId, before);
    if (failure !== null) return { ...result, errorCode: failure, errorMessage: null, assignment: null };
    return result;
  }

  #consumerGroupHeartbeat(
    request: ConsumerGroupHeartbeatRequest,
    client: ClientInfo,
  ): ConsumerHeartbeatResult {
    const fail = (errorCode: number, errorMessage: string | null = null): ConsumerHeartbeatResult => ({
      errorCode,
      errorMessage,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (!this.#config.consumerProtocolEnabled) {
      return fail(ErrorCode.UNSUPPORTED_VERSION, "The consumer group protocol is disabled.");
    }
    if (!this.#loaded) return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    const invalid = this.#validateConsumerHeartbeat(request);
    if (invalid !== null) return fail(invalid.errorCode, invalid.message);
    const epoch = request.memberEpoch;
    if (epoch === LEAVE_GROUP_MEMBER_EPOCH || epoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      return this.#consumerGroupLeave(request, fail);
    }
    const nowMs = this.#timer.nowMs();
    let group = this.#consumerGroups.get(request.groupId);
    if (group === undefined) {
      const classic = this.#groups.get(request.groupId);
      if (classic !== undefined) {
        if (epoch !== 0) {
          return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} is not a consumer group.`);
        }
        if (!classic.isEmpty || classic.size > 0 || classic.numPendingJoinMembers > 0) {
          // Krill has no online upgrade of a live classic group (docs/groups.md): it answers as
          // Kafka does with group.consumer.migration.policy=disabled.
          return fail(
            ErrorCode.GROUP_ID_NOT_FOUND,
            `Cannot upgrade classic group ${request.groupId} to consumer group because online upgrade is disabled.`,
          );
        }
        // An empty classic group becomes a consumer group; its offsets stay.
        this.#groups.delete(request.groupId);
        if (classic.protocolType !== null) {
          void this.#append(request.groupId, [groupMetadataRecord(request.groupId, null)]);
        }
      } else if (epoch !== 0) {
        // No records of this group (never created here, or removed): the member is told to
        // rejoin with epoch 0 (Kafka answers GROUP_ID_NOT_FOUND; docs/groups.md, differences).
        return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Group ${request.groupId} not found.`);
      } else if (this.groupCount >= this.#config.groupsMax) {
        return fail(ErrorCode.GROUP_MAX_SIZE_REACHED, "The coordinator holds too many groups.");
      }
      group = new ConsumerGroup(request.groupId, nowMs);
      this.#consumerGroups.set(request.groupId, group);
    }
    const memberId = request.memberId === "" ? this.#newUuid() : request.memberId;
    const resolved = this.#resolveConsumerMember(group, request, memberId);
    if ("errorCode" in resolved) return fail(resolved.errorCode, resolved.message);
    const { previous, base } = resolved;
    if (previous === undefined && group.members.size >= this.#config.consumerMaxSize) {
      return fail(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum size.`);
    }
    const updated: ConsumerMember = {
      ...base,
      instanceId: request.instanceId ?? base.instanceId,
      rackId: request.rackId ?? base.rackId,
      rebalanceTimeoutMs:
        request.rebalanceTimeoutMs === -1 ? base.rebalanceTimeoutMs : request.rebalanceTimeoutMs,
      serverAssignor: request.serverAssignor ?? base.serverAssignor,
      subscribedTopicNames: request.subscribedTopicNames ?? base.subscribedTopicNames,
      subscribedTopicRegex:
        request.subscribedTopicRegex === null
          ? base.subscribedTopicRegex
          : request.subscribedTopicRegex === ""
            ? null
            : request.subscribedTopicRegex,
      clientId: client.clientId,
      clientHost: client.clientHost,
    };
    const topics = this.#topics();
    const others = [...group.members.values()].filter((m) => m.memberId !== memberId && m !== previous);
    const subscribed = group.subscribedTopics(topics, [...others, updated]);
    const signature = subscriptionSignature(subscribed, topics);
    const subscriptionChanged =
      previous === undefined ||
      previous.subscribedTopicRegex !== updated.subscribedTopicRegex ||
      previous.subscribedTopicNames.join("\u0000") !== updated.subscribedTopicNames.join("\u0000");
    if (subscriptionChanged || signature !== group.subscriptionSignature) {
      group.groupEpoch++;
      group.subscriptionSignature = signature;
    }
    if (group.groupEpoch > group.assignmentEpoch) {
      this.#computeTargetAssignment(group, [...others, updated], topics);
    }
    const target = group.targetAssignment.get(memberId) ?? new Map<string, Set<number>>();
    const reconciled = reconcile(
      updated,
      group.assignmentEpoch,
      target,
      (topicId, partition) => group.currentPartitionEpoch(topicId, partition),
      request.topicPartitions,
    );
    group.updateMember(previous, reconciled, nowMs);
    this.#scheduleConsumerSession(group, memberId, this.#config.consumerSessionTimeoutMs);
    if (reconciled.state === "UNREVOKED_PARTITIONS") {
      if (previous?.state !== "UNREVOKED_PARTITIONS" || previous.memberEpoch !== reconciled.memberEpoch) {
        const atEpoch = reconciled.memberEpoch;
        this.#timer.schedule(
          consumerRebalanceKey(group.groupId, memberId),
          reconciled.rebalanceTimeoutMs,
          () => this.#expireConsumerRebalance(group, memberId, atEpoch),
        );
      }
    } else {
      this.#timer.cancel(consumerRebalanceKey(group.groupId, memberId));
    }
    const fullRequest =
      epoch === 0 ||
      (request.rebalanceTimeoutMs !== -1 &&
        request.subscribedTopicNames !== null &&
        request.topicPartitions !== null);
    const changed =
      previous === undefined || !assignmentEquals(previous.assignedPartitions, reconciled.assignedPartitions);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId,
      memberEpoch: reconciled.memberEpoch,
      heartbeatIntervalMs: this.#config.consumerHeartbeatIntervalMs,
      assignment:
        fullRequest || changed ? { topicPartitions: toTopicPartitions(reconciled.assignedPartitions) } : null,
    };
  }

  #validateConsumerHeartbeat(
    request: ConsumerGroupHeartbeatRequest,
  ): { errorCode: number; message: string } | null {
    const bad = (message: string) => ({ errorCode: ErrorCode.INVALID_REQUEST, message });
    if (request.groupId === "") return bad("GroupId can't be empty.");
    if (request.instanceId === "") return bad("InstanceId can't be empty.");
    if (request.rackId === "") return bad("RackId can't be empty.");
    const epoch = request.memberEpoch;
    if (epoch > 0 || epoch === LEAVE_GROUP_MEMBER_EPOCH) {
      if (request.memberId === "") return bad("MemberId can't be empty.");
    } else if (epoch === 0) {
      if (request.rebalanceTimeoutMs === -1)
        return bad("RebalanceTimeoutMs must be provided in first request.");
      if (request.topicPartitions === null || request.topicPartitions.length > 0) {
        return bad("TopicPartitions must be empty when (re-)joining.");
      }
      const names = request.subscribedTopicNames;
      if ((names === null || names.length === 0) && (request.subscribedTopicRegex ?? "") === "") {
        return bad("SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
      }
    } else if (epoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (request.memberId === "") return bad("MemberId can't be empty.");
      if (request.instanceId === null) return bad("InstanceId can't be null.");
    } else {
      return bad("MemberEpoch is invalid.");
    }
    if (request.subscribedTopicRegex !== null && request.subscribedTopicRegex !== "") {
      if (request.subscribedTopicRegex.length > SUBSCRIBED_TOPIC_REGEX_LENGTH_MAX) {
        return {
          errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION,
          message: "SubscribedTopicRegex is too long.",
        };
      }
      if (compileTopicRegex(request.subscribedTopicRegex) === null) {
        return {
          errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION,
          message: "SubscribedTopicRegex does not compile.",
        };
      }
    }
    if (request.serverAssignor !== null && !this.#assignors().has(request.serverAssignor)) {
      return {
        errorCode: ErrorCode.UNSUPPORTED_ASSIGNOR,
        message: `ServerAssignor ${request.serverAssignor} is not supported. Supported assignors: ${[...this.#assignors().keys()].join(", ")}.`,
      };
    }
    return null;
  }

  /** The member the heartbeat is about (new, rejoining or current), or the error refusing it. */
  #resolveConsumerMember(
    group: ConsumerGroup,
    request: ConsumerGroupHeartbeatRequest,
    memberId: string,
  ): { previous: ConsumerMember | undefined; base: ConsumerMember } | { errorCode: number; message: string } {
    const epoch = request.memberEpoch;
    const fresh = (from?: ConsumerMember): ConsumerMember => ({
      memberId,
      instanceId: request.instanceId,
      rackId: from?.rackId ?? null,
      clientId: "",
      clientHost: "",
      rebalanceTimeoutMs: from?.rebalanceTimeoutMs ?? request.rebalanceTimeoutMs,
      serverAssignor: from?.serverAssignor ?? null,
      subscribedTopicNames: from?.subscribedTopicNames ?? [],
      subscribedTopicRegex: from?.subscribedTopicRegex ?? null,
      memberEpoch: 0,
      previousMemberEpoch: 0,
      state: "STABLE",
      // A static member replacing its departed instance keeps that instance's partitions.
      assignedPartitions: from?.assignedPartitions ?? new Map(),
      partitionsPendingRevocation: new Map(),
    });
    if (request.instanceId !== null) {
      const existing = group.staticMember(request.instanceId);
      if (epoch === 0) {
        if (existing === undefined) {
          const current = group.members.get(memberId);
          return { previous: current, base: fresh() };
        }
        if (existing.memberId !== memberId && existing.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          return {
            errorCode: ErrorCode.UNRELEASED_INSTANCE_ID,
            message: `Static member ${memberId} with instance id ${request.instanceId} cannot join the group because the instance id is owned by ${existing.memberId} member.`,
          };
        }
        this.#cancelConsumerTimers(group, existing.memberId);
        // The new member id takes over the instance's target assignment too.
        const target = group.targetAssignment.get(existing.memberId);
        group.targetAssignment.delete(existing.memberId);
        if (target !== undefined) group.targetAssignment.set(memberId, target);
        return { previous: existing, base: fresh(existing) };
      }
      if (existing === undefined) {
        return {
          errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
          message: `Instance id ${request.instanceId} is unknown.`,
        };
      }
      if (existing.memberId !== memberId) {
        return {
          errorCode: ErrorCode.FENCED_INSTANCE_ID,
          message: `Static member ${memberId} with instance id ${request.instanceId} was fenced by member ${existing.memberId}.`,
        };
      }
    }
    const current = group.members.get(memberId);
    if (epoch === 0) {
      // A rejoin with a known id starts over: the member gave up its partitions.
      return { previous: current, base: fresh() };
    }
    if (current === undefined) {
      return {
        errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
        message: `Member ${memberId} is not a member of group ${group.groupId}.`,
      };
    }
    if (epoch > current.memberEpoch) {
      return {
        errorCode: ErrorCode.FENCED_MEMBER_EPOCH,
        message: `The consumer group member has a greater member epoch (${epoch}) than the one known by the group coordinator (${current.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      };
    }
    if (epoch < current.memberEpoch) {
      // The response with the new epoch may have been lost: the previous epoch is accepted if
      // the member owns no more than its current assignment.
      const owned = request.topicPartitions;
      const subset =
        owned === null ||
        owned.every((tp) =>
          tp.partitions.every((p) => current.assignedPartitions.get(tp.topicId)?.has(p) ?? false),
        );
      if (epoch !== current.previousMemberEpoch || !subset) {
        return {
          errorCode: ErrorCode.FENCED_MEMBER_EPOCH,
          message: `The consumer group member has a smaller member epoch (${epoch}) than the one known by the group coordinator (${current.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        };
      }
    }
    return { previous: current, base: current };
  }

  #consumerGroupLeave(
    request: ConsumerGroupHeartbeatRequest,
    fail: (errorCode: number, message?: string | null) => ConsumerHeartbeatResult,
  ): ConsumerHeartbeatResult {
    const group = this.#consumerGroups.get(request.groupId);
    if (group === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Group ${request.groupId} not found.`);
    let member: ConsumerMember | undefined;
    if (request.instanceId === null) {
      member = group.members.get(request.memberId);
      if (member === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    } else {
      member = group.staticMember(request.instanceId);
      if (member === undefined)
        return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${request.instanceId} is unknown.`);
      if (member.memberId !== request.memberId) return fail(ErrorCode.FENCED_INSTANCE_ID);
      if (request.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        // The instance will be back: it keeps its partitions until its session times out.
        group.updateMember(
          member,
          { ...member, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH, partitionsPendingRevocation: new Map() },
          this.#timer.nowMs(),
        );
        this.#timer.cancel(consumerRebalanceKey(group.groupId, member.memberId));
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          memberId: member.memberId,
          memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH,
          heartbeatIntervalMs: 0,
          assignment: null,
        };
      }
    }
    this.#fenceConsumerMember(group, member, "left the group");
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
  }

  #assignors(): Map<string, Assignor> {
    const out = new Map<string, Assignor>();
    for (const name of this.#config.consumerAssignors) {
      const a = CONSUMER_ASSIGNORS.get(name);
      if (a !== undefined) out.set(name, a);
    }
    if (out.size === 0) out.set("uniform", CONSUMER_ASSIGNORS.get("uniform")!);
    return out;
  }

  /** Kafka's choice: the assignor most members ask for, else the first configured one. */
  #groupAssignor(members: Iterable<ConsumerMember>): Assignor {
    const assignors = this.#assignors();
    const votes = new Map<string, number>();
    for (const m of members) {
      if (m.serverAssignor !== null && assignors.has(m.serverAssignor)) {
        votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    for (const [name, n] of votes) if (best === undefined || n > votes.get(best)!) best = name;
    return assignors.get(best ?? [...assignors.keys()][0]!)!;
  }

  #computeTargetAssignment(
    group: ConsumerGroup,
    members: readonly ConsumerMember[],
    topics: TopicsByName,
  ): void {
    const subscriptions = new Map<string, string[]>();
    for (const m of members) subscriptions.set(m.memberId, memberTopics(m, topics));
    const assignment = this.#groupAssignor(members).assign({
      members: subscriptions,
      topics,
      previous: group.targetAssignment,
    });
    group.targetAssignment.clear();
    for (const [memberId, a] of assignment) group.targetAssignment.set(memberId, a);
    group.assignmentEpoch = group.groupEpoch;
  }

  #scheduleConsumerSession(group: ConsumerGroup, memberId: string, timeoutMs: number): void {
    this.#timer.schedule(consumerSessionKey(group.groupId, memberId), timeoutMs, () => {
      const member = group.members.get(memberId);
      if (this.#consumerGroups.get(group.groupId) !== group || member === undefined) return;
      this.#logger.info({ groupId: group.groupId, memberId }, "consumer group member session expired");
      const before = snapshotConsumerGroup(group);
      this.#fenceConsumerMember(group, member, "session expired");
      void this.#persistConsumerGroup(group.groupId, before);
    });
  }

  #expireConsumerRebalance(group: ConsumerGroup, memberId: string, memberEpoch: number): void {
    const member = group.members.get(memberId);
    if (this.#consumerGroups.get(group.groupId) !== group || member === undefined) return;
    if (member.memberEpoch !== memberEpoch) return;
    this.#logger.info(
      { groupId: group.groupId, memberId, memberEpoch },
      "member did not revoke partitions in time",
    );
    const before = snapshotConsumerGroup(group);
    this.#fenceConsumerMember(group, member, "rebalance timeout");
    void this.#persistConsumerGroup(group.groupId, before);
  }

  /** Writes what changed in a KIP-848 group since `before`; resolves to null or an error code. */
  #persistConsumerGroup(groupId: string, before: ConsumerGroupSnapshot): Promise<number | null> {
    const records = consumerGroupDelta(groupId, before, this.#consumerGroups.get(groupId));
    return records.length === 0 ? Promise.resolve(null) : this.#append(groupId, records);
  }

  #cancelConsumerTimers(group: ConsumerGroup, memberId: string): void {
    this.#timer.cancel(consumerSessionKey(group.groupId, memberId));
    this.#timer.cancel(consumerRebalanceKey(group.groupId, memberId));
  }

  /** Removes a member; the others get a new target assignment at the next group epoch. */
  #fenceConsumerMember(group: ConsumerGroup, member: ConsumerMember, reason: string): void {
    this.#cancelConsumerTimers(group, member.memberId);
    group.updateMember(member, null, this.#timer.nowMs());
    group.targetAssignment.delete(member.memberId);
    group.groupEpoch++;
    group.subscriptionSignature = subscriptionSignature(
      group.subscribedTopics(this.#topics()),
      this.#topics(),
    );
    this.#logger.info(
      { groupId: group.groupId, memberId: member.memberId, reason, groupEpoch: group.groupEpoch },
      "member removed",
    );
  }

  consumerGroupDescribe(groupIds: readonly string[]): DescribedConsumerGroup[] {
    const topics = this.#topics();
    const nameOf = new Map<string, string>();
    for (const [name, t] of topics) nameOf.set(t.topicId, name);
    const describe = (a: Assignment) => ({
      topicPartitions: toTopicPartitions(a).map((tp) => ({ ...tp, topicName: nameOf.get(tp.topicId) ?? "" })),
    });
    return groupIds.map((groupId) => {
      const empty: DescribedConsumerGroup = {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupId,
        groupState: "",
        groupEpoch: -1,
        assignmentEpoch: -1,
        assignorName: "",
        members: [],
      };
      if (!this.#config.consumerProtocolEnabled) {
        return {
          ...empty,
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          errorMessage: "The consumer group protocol is disabled.",
        };
      }
      if (!this.#loaded) return { ...empty, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
      const group = this.#consumerGroups.get(groupId);
      if (group === undefined) {
        const message = this.#groups.has(groupId)
          ? `Group ${groupId} is not a consumer group.`
          : `Group ${groupId} not found.`;
        return { ...empty, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: message };
      }
      return {
        ...empty,
        groupState: group.state,
        groupEpoch: group.groupEpoch,
        assignmentEpoch: group.assignmentEpoch,
        assignorName: this.#groupAssignor(group.members.values()).name,
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: [...m.subscribedTopicNames],
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: describe(m.assignedPartitions),
          targetAssignment: describe(group.targetAssignment.get(m.memberId) ?? new Map()),
        })),
      };
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Offsets

  /**
   * OffsetCommit. Per-partition error codes; a group-level refusal puts the same code on every
   * partition, as Kafka does.
   */
  async commitOffsets(request: OffsetCommitRequest, apiVersion: number): Promise<TopicPartitionsResult[]> {
    const all = (errorCode: number): TopicPartitionsResult[] =>
      request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      }));
    if (!this.#loaded) return all(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    if (request.groupId === "") return all(ErrorCode.INVALID_GROUP_ID);
    const consumerGroup = this.#consumerGroups.get(request.groupId);
    if (consumerGroup !== undefined) {
      const invalid = this.#validateConsumerOffsetCommit(consumerGroup, request, apiVersion);
      if (invalid !== ErrorCode.NONE) return all(invalid);
      return this.#storeOffsets(request);
    }
    let group = this.#groups.get(request.groupId);
    if (group === undefined) {
      if (request.generationIdOrMemberEpoch >= 0) {
        return all(apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
      if (this.groupCount >= this.#config.groupsMax) return all(ErrorCode.GROUP_MAX_SIZE_REACHED);
      // A standalone commit (admin client, assign() consumers, kcat) makes a "simple" group.
      group = new ClassicGroup(request.groupId, "Empty", this.#timer.nowMs());
      this.#groups.set(request.groupId, group);
    }
    const invalid = this.#validateOffsetCommit(
      group,
      request.memberId,
      request.groupInstanceId,
      request.generationIdOrMemberEpoch,
    );
    if (invalid !== ErrorCode.NONE) return all(invalid);
    const member = group.member(request.memberId);
    if (member !== undefined && (group.is("Stable") || group.is("PreparingRebalance"))) {
      // Classic members' commits keep their session alive.
      this.#rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
    const results = await this.#storeOffsets(request);
    if (!this.#groups.has(request.groupId) && !this.#consumerGroups.has(request.groupId)) {
      this.#groups.set(request.groupId, group);
    }
    return results;
  }

  #validateConsumerOffsetCommit(
    group: ConsumerGroup,
    request: OffsetCommitRequest,
    apiVersion: number,
  ): number {
    // Epoch -1 on an empty group: an admin client or a consumer without group management.
    if (request.generationIdOrMemberEpoch < 0 && group.isEmpty) return ErrorCode.NONE;
    const member = group.members.get(request.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    // KIP-848 members must commit with OffsetCommit v9+, which carries the member epoch.
    if (apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (request.generationIdOrMemberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** Writes the commit's records, then makes the offsets visible. */
  async #storeOffsets(request: OffsetCommitRequest): Promise<TopicPartitionsResult[]> {
    const nowMs = this.#timer.nowMs();
    const expireTimestampMs = request.retentionTimeMs >= 0n ? nowMs + Number(request.retentionTimeMs) : -1;
    const results: TopicPartitionsResult[] = [];
    const records: CoordinatorRecord[] = [];
    const updates: { topic: string; partition: number; value: OffsetAndMetadata }[] = [];
    for (const topic of request.topics) {
      const partitions: PartitionResult[] = [];
      for (const p of topic.partitions) {
        const metadata = p.committedMetadata ?? "";
        if (offsetMetadataTooLarge(p.committedMetadata, this.#config.offsetMetadataMaxBytes)) {
          partitions.push({
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE,
          });
          continue;
        }
        const value: OffsetAndMetadata = {
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata,
          commitTimestampMs: nowMs,
          expireTimestampMs,
        };
        records.push(
          offsetCommitRecord(request.groupId, topic.name, p.partitionIndex, {
            offset: value.offset,
            leaderEpoch: value.leaderEpoch,
            metadata: value.metadata,
            commitTimestamp: BigInt(value.commitTimestampMs),
            expireTimestamp: BigInt(value.expireTimestampMs),
            topicId: ZERO_UUID,
          }),
        );
        updates.push({ topic: topic.name, partition: p.partitionIndex, value });
        partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE });
      }
      results.push({ name: topic.name, partitions });
    }
    if (records.length === 0) return results;
    const failure = await this.#append(request.groupId, records);
    if (failure !== null) {
      for (const t of results)
        for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE) p.errorCode = failure;
      return results;
    }
    for (const u of updates) this.#offsets.put(request.groupId, u.topic, u.partition, u.value);
    return results;
  }

  #validateOffsetCommit(
    group: ClassicGroup,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Generation -1 on an empty group: an admin client or a consumer without group management.
    if (generationId < 0 && group.isEmpty) return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== "" || groupInstanceId !== null) {
      const invalid = this.#validateMember(group, memberId, groupInstanceId);
      if (invalid !== ErrorCode.NONE) return invalid;
      if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.isEmpty) {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.is("CompletingRebalance")) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /**
   * OffsetFetch for one group; `topics` null means every committed offset. A group that does not
   * exist has no offsets (-1 everywhere), which is not an error.
   */
  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
    memberId: string | null = null,
    memberEpoch = -1,
  ): FetchOffsetsResult {
    if (!this.#loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, topics: [] };
    if (groupId === "") return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
    const consumerGroup = this.#consumerGroups.get(groupId);
    if (consumerGroup !== undefined && !(memberId === null && memberEpoch < 0)) {
      // A KIP-848 member fetching its group's offsets must be current (OffsetFetch v9+).
      const member = consumerGroup.members.get(memberId ?? "");
      if (member === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, topics: [] };
      if (member.memberEpoch !== memberEpoch) return { errorCode: ErrorCode.STALE_MEMBER_EPOCH, topics: [] };
    }
    const group = this.#groups.get(groupId);
    const known = consumerGroup !== undefined || (group !== undefined && !group.is("Dead"));
    if (topics === null) {
      if (!known) return { errorCode: ErrorCode.NONE, topics: [] };
      return {
        errorCode: ErrorCode.NONE,
        topics: [...this.#offsets.topics(groupId)].map(([name, partitions]) => ({
          name,
          partitions: [...partitions].map(([partitionIndex, o]) => fetched(partitionIndex, o)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) =>
          fetched(p, known ? this.#offsets.get(groupId, t.name, p) : undefined),
        ),
      })),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Admin: describe, list, delete

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    return groupIds.map((groupId) => {
      const base: DescribedGroup = {
        errorCode: ErrorCode.NONE,
        groupId,
        groupState: "Dead",
        protocolType: "",
        protocolData: "",
        members: [],
      };
      if (!this.#loaded)
        return { ...base, groupState: "", errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
      const group = this.#groups.get(groupId);
      if (group === undefined) return base;
      const stable = group.is("Stable");
      return {
        ...base,
        groupState: group.state,
        protocolType: group.protocolType ?? "",
        protocolData: stable ? (group.protocolName ?? "") : "",
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: stable ? m.metadataFor(group.protocolName) : EMPTY_BUFFER,
          memberAssignment: stable ? m.assignment : EMPTY_BUFFER,
        })),
      };
    });
  }

  /** ListGroups; filters are case-insensitive, an empty filter matches everything. */
  listGroups(
    statesFilter: readonly string[],
    typesFilter: readonly string[],
  ): { errorCode: number; groups: ListedGroup[] } {
    if (!this.#loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
    const states = new Set(statesFilter.map((s) => s.trim().toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.trim().toLowerCase()));
    const groups: ListedGroup[] = [];
    for (const group of this.#groups.values()) {
      if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has(group.type)) continue;
      groups.push({
        groupId: group.groupId,
        protocolType: group.protocolType ?? "",
        groupState: group.state,
        groupType: group.type,
      });
    }
    for (const group of this.#consumerGroups.values()) {
      if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has(group.type)) continue;
      groups.push({
        groupId: group.groupId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        groupState: group.state,
        groupType: group.type,
      });
    }
    return { errorCode: ErrorCode.NONE, groups };
  }

  /** DeleteGroups: empty groups only; their offsets and metadata are tombstoned. */
  async deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const pending: Promise<{ groupId: string; errorCode: number }>[] = [];
    for (const groupId of groupIds) pending.push(this.#deleteGroup(groupId));
    return Promise.all(pending);
  }

  async #deleteGroup(groupId: string): Promise<{ groupId: string; errorCode: number }> {
    const result = (errorCode: number) => ({ groupId, errorCode });
    if (!this.#loaded) return result(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    if (groupId === "") return result(ErrorCode.INVALID_GROUP_ID);
    const consumerGroup = this.#consumerGroups.get(groupId);
    if (consumerGroup !== undefined) {
      if (!consumerGroup.isEmpty) return result(ErrorCode.NON_EMPTY_GROUP);
      const tombstones = this.#offsets
        .entries(groupId)
        .map((e) => offsetCommitRecord(groupId, e.topic, e.partition, null));
      tombstones.push(...consumerGroupDelta(groupId, snapshotConsumerGroup(consumerGroup), undefined));
      this.#consumerGroups.delete(groupId);
      this.#offsets.deleteGroup(groupId);
      const failed = tombstones.length === 0 ? null : await this.#append(groupId, tombstones);
      return result(failed ?? ErrorCode.NONE);
    }
    const group = this.#groups.get(groupId);
    if (group === undefined || group.is("Dead")) return result(ErrorCode.GROUP_ID_NOT_FOUND);
    if (!group.isEmpty) return result(ErrorCode.NON_EMPTY_GROUP);
    const records = this.#offsets
      .entries(groupId)
      .map((e) => offsetCommitRecord(groupId, e.topic, e.partition, null));
    records.push(groupMetadataRecord(groupId, null));
    // The group is gone at once, so no join can revive it while the tombstones are written.
    group.transitionTo("Dead", this.#timer.nowMs());
    this.#groups.delete(groupId);
    this.#offsets.deleteGroup(groupId);
    const failure = await this.#append(groupId, records);
    return result(failure ?? ErrorCode.NONE);
  }

  /** OffsetDelete: refused for topics a live consumer group still subscribes to. */
  async deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[],
  ): Promise<OffsetDeleteResult> {
    const refuse = (errorCode: number): OffsetDeleteResult => ({ errorCode, topics: [] });
    if (!this.#loaded) return refuse(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    if (groupId === "") return refuse(ErrorCode.INVALID_GROUP_ID);
    const consumerGroup = this.#consumerGroups.get(groupId);
    const group = this.#groups.get(groupId);
    let isSubscribed: (topic: string) => boolean;
    if (consumerGroup !== undefined) {
      const subscribed = consumerGroup.subscribedTopics(this.#topics());
      isSubscribed = (topic) => subscribed.has(topic);
    } else {
      if (group === undefined || group.is("Dead")) return refuse(ErrorCode.GROUP_ID_NOT_FOUND);
      if (!group.isEmpty && group.protocolType !== CONSUMER_PROTOCOL_TYPE)
        return refuse(ErrorCode.NON_EMPTY_GROUP);
      isSubscribed = (topic) => !group.isEmpty && group.isSubscribedToTopic(topic);
    }
    const records: CoordinatorRecord[] = [];
    const deletions: { topic: string; partition: number }[] = [];
    const results: TopicPartitionsResult[] = topics.map((t) => {
      const subscribed = isSubscribed(t.name);
      return {
        name: t.name,
        partitions: t.partitionIndexes.map((p) => {
          if (subscribed) return { partitionIndex: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
          if (this.#offsets.get(groupId, t.name, p) !== undefined) {
            records.push(offsetCommitRecord(groupId, t.name, p, null));
            deletions.push({ topic: t.name, partition: p });
          }
          return { partitionIndex: p, errorCode: ErrorCode.NONE };
        }),
      };
    });
    for (const d of deletions) this.#offsets.delete(groupId, d.topic, d.partition);
    if (records.length > 0) {
      const failure = await this.#append(groupId, records);
      if (failure !== null) return refuse(failure);
    }
    return { errorCode: ErrorCode.NONE, topics: results };
  }

  /**
   * Topics were deleted: their committed offsets go too, in every group (Kafka's
   * onPartitionsDeleted), so a topic created again under the same name starts without them.
   */
  async onTopicsDeleted(topics: readonly string[]): Promise<number> {
    if (topics.length === 0 || this.#closed) return 0;
    const deleted = new Set(topics);
    const writes: Promise<number | null>[] = [];
    let removed = 0;
    for (const groupId of [...this.#offsets.groups()]) {
      const records: CoordinatorRecord[] = [];
      for (const e of this.#offsets.entries(groupId)) {
        if (!deleted.has(e.topic)) continue;
        this.#offsets.delete(groupId, e.topic, e.partition);
        records.push(offsetCommitRecord(groupId, e.topic, e.partition, null));
        removed++;
      }
      if (records.length > 0) writes.push(this.#append(groupId, records));
    }
    await Promise.all(writes);
    if (removed > 0) this.#logger.info({ topics, removed }, "removed offsets of deleted topics");
    return removed;
  }

  // ---------------------------------------------------------------------------------------------
  // Offset expiration

  #expireOffsetsTask(): void {
    if (this.#closed) return;
    // The removal itself is synchronous; only its tombstones are awaited, so the next check can
    // be scheduled now.
    void this.expireOffsets();
    this.#timer.schedule(EXPIRE_OFFSETS_KEY, this.#config.offsetsRetentionCheckIntervalMs, () =>
      this.#expireOffsetsTask(),
    );
  }

  /**
   * Removes offsets past offsets.retention.minutes (Kafka's rules: for an empty group counted
   * from when it became empty, for a simple group from each commit, for a stable consumer group
   * only topics it no longer subscribes to), then drops empty groups left without offsets.
   */
  async expireOffsets(): Promise<number> {
    if (!this.#loaded) return 0;
    const nowMs = this.#timer.nowMs();
    const retentionMs = this.#config.offsetsRetentionMs;
    let expired = 0;
    const writes: Promise<number | null>[] = [];
    for (const group of [...this.#groups.values()]) {
      const records: CoordinatorRecord[] = [];
      const base = this.#expirationBase(group);
      if (base !== null) {
        for (const e of this.#offsets.entries(group.groupId)) {
          if (group.is("Stable") && group.isSubscribedToTopic(e.topic)) continue;
          const due =
            e.value.expireTimestampMs >= 0
              ? nowMs >= e.value.expireTimestampMs
              : nowMs - base(e.value) >= retentionMs;
          if (!due) continue;
          this.#offsets.delete(group.groupId, e.topic, e.partition);
          records.push(offsetCommitRecord(group.groupId, e.topic, e.partition, null));
          expired++;
        }
      }
      if (group.isEmpty && group.numPendingJoinMembers === 0 && !this.#offsets.hasOffsets(group.groupId)) {
        group.transitionTo("Dead", nowMs);
        this.#groups.delete(group.groupId);
        records.push(groupMetadataRecord(group.groupId, null));
      }
      if (records.length > 0) writes.push(this.#append(group.groupId, records));
    }
    for (const group of [...this.#consumerGroups.values()]) {
      // A KIP-848 group's offsets expire only while it is empty, counted from each commit.
      if (!group.isEmpty) continue;
      const records: CoordinatorRecord[] = [];
      for (const e of this.#offsets.entries(group.groupId)) {
        const due =
          e.value.expireTimestampMs >= 0
            ? nowMs >= e.value.expireTimestampMs
            : nowMs - e.value.commitTimestampMs >= retentionMs;
        if (!due) continue;
        this.#offsets.delete(group.groupId, e.topic, e.partition);
        records.push(offsetCommitRecord(group.groupId, e.topic, e.partition, null));
        expired++;
      }
      if (!this.#offsets.hasOffsets(group.groupId)) {
        records.push(...consumerGroupDelta(group.groupId, snapshotConsumerGroup(group), undefined));
        this.#consumerGroups.delete(group.groupId);
      }
      if (records.length > 0) writes.push(this.#append(group.groupId, records));
    }
    await Promise.all(writes);
    if (expired > 0) this.#logger.info({ expired }, "expired committed offsets");
    return expired;
  }

  #expirationBase(group: ClassicGroup): ((o: OffsetAndMetadata) => number) | null {
    if (group.protocolType === null) return (o) => o.commitTimestampMs;
    if (group.isEmpty) {
      const stateMs = group.currentStateTimestampMs;
      return (o) => stateMs ?? o.commitTimestampMs;
    }
    if (
      group.protocolType === CONSUMER_PROTOCOL_TYPE &&
      group.subscribedTopics !== null &&
      group.is("Stable")
    ) {
      return (o) => o.commitTimestampMs;
    }
    return null;
  }

  #maybeForgetGroup(group: ClassicGroup): void {
    // A group made only of members that never finished joining leaves no trace if it has no offsets.
    if (group.generationId === 0 && group.protocolType === null && !this.#offsets.hasOffsets(group.groupId)) {
      this.#groups.delete(group.groupId);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Records

  #groupMetadataRecord(
    group: ClassicGroup,
    assignment: ReadonlyMap<string, Buffer> | null,
  ): CoordinatorRecord {
    return groupMetadataRecord(group.groupId, {
      protocolType: group.protocolType ?? "",
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestamp: BigInt(group.currentStateTimestampMs ?? -1),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadataFor(group.protocolName),
        assignment: assignment === null ? m.assignment : (assignment.get(m.memberId) ?? EMPTY_BUFFER),
      })),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Transactional offset commits (API for the transaction coordinator, src/server/txn/txn-offsets.ts:
  // TxnOffsetCommit records are written there as transactional batches and become visible here
  // only when their transaction commits).

  /**
   * TxnOffsetCommit member checks (Kafka's validateTransactionalOffsetCommit): none when the
   * request carries no member (v0-2, or a producer without group metadata); otherwise the member
   * and its generation (classic) or epoch (KIP-848, ILLEGAL_GENERATION when stale) must be current.
   */
  validateTxnOffsetCommit(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    if (!this.#loaded) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
    const unchecked = generationId < 0 && memberId === "" && groupInstanceId === null;
    const consumerGroup = this.#consumerGroups.get(groupId);
    if (consumerGroup !== undefined) {
      if (unchecked) return ErrorCode.NONE;
      const member = consumerGroup.members.get(memberId);
      if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      return generationId === member.memberEpoch ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    }
    const group = this.#groups.get(groupId);
    if (group === undefined) return generationId >= 0 ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.NONE;
    if (unchecked) return ErrorCode.NONE;
    return this.#validateOffsetCommit(group, memberId, groupInstanceId, generationId);
  }

  /** The offsets of a committed transaction become visible (its COMMIT marker is in the log). */
  applyTxnOffsets(
    groupId: string,
    offsets: readonly { topic: string; partition: number; value: OffsetAndMetadata }[],
  ): void {
    if (!this.#groups.has(groupId) && !this.#consumerGroups.has(groupId)) {
      this.#groups.set(groupId, new ClassicGroup(groupId, "Empty", this.#timer.nowMs()));
    }
    for (const o of offsets) this.#offsets.put(groupId, o.topic, o.partition, o.value);
  }
  // End of the transactional offset commit API.

  /** Appends to the group's partition; resolves to null, or to the error code to answer with. */
  async #append(groupId: string, records: readonly CoordinatorRecord[]): Promise<number | null> {
    // A closed coordinator (broker stopping, or replaced) must not write behind its successor.
    if (this.#closed) return APPEND_FAILED;
    try {
      await this.#log.append(this.partitionFor(groupId), records);
      return null;
    } catch (err) {
      this.#logger.warn({ groupId, err }, "appending to __consumer_offsets failed");
      return APPEND_FAILED;
    }
  }
}

interface ParsedJoin {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string;
  readonly protocols: readonly JoinProtocol[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly reason: string | null;
}

function fetched(partitionIndex: number, o: OffsetAndMetadata | undefined): FetchedPartition {
  if (o === undefined) {
    return {
      partitionIndex,
      committedOffset: -1n,
      committedLeaderEpoch: -1,
      metadata: "",
      errorCode: ErrorCode.NONE,
    };
  }
  return {
    partitionIndex,
    committedOffset: o.offset,
    committedLeaderEpoch: o.leaderEpoch,
    metadata: o.metadata,
    errorCode: ErrorCode.NONE,
  };
}

export interface ConsumerHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
}

export interface DescribedConsumerGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: { topicPartitions: { topicId: string; topicName: string; partitions: number[] }[] };
    targetAssignment: { topicPartitions: { topicId: string; topicName: string; partitions: number[] }[] };
  }[];
}

const consumerSessionKey = (groupId: string, memberId: string) => `consumer-session:${groupId}:${memberId}`;
const consumerRebalanceKey = (groupId: string, memberId: string) =>
  `consumer-rebalance:${groupId}:${memberId}`;

/** Sorted topic-partitions of an assignment, as the wire carries them. */
function toTopicPartitions(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a]
    .filter(([, ps]) => ps.size > 0)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((x, y) => x - y) }));
}

/** The same for a current-assignment record, whose per-partition assignment epochs Krill leaves out. */
function toRecordTopicPartitions(
  a: Assignment,
): { topicId: string; partitions: number[]; assignmentEpochs: number[] }[] {
  return toTopicPartitions(a).map((t) => ({ ...t, assignmentEpochs: [] }));
}

// -----------------------------------------------------------------------------------------------
// KIP-848 records: what changed in a group becomes Kafka's records; loading rebuilds the groups.

interface ConsumerGroupSnapshot {
  readonly exists: boolean;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly members: ReadonlyMap<string, ConsumerMember>;
  readonly targets: ReadonlyMap<string, Assignment>;
}

function snapshotConsumerGroup(group: ConsumerGroup | undefined): ConsumerGroupSnapshot {
  if (group === undefined) {
    return { exists: false, groupEpoch: -1, assignmentEpoch: -1, members: new Map(), targets: new Map() };
  }
  return {
    exists: true,
    groupEpoch: group.groupEpoch,
    assignmentEpoch: group.assignmentEpoch,
    members: new Map(group.members),
    targets: new Map(group.targetAssignment),
  };
}

const MEMBER_STATE_CODES = { STABLE: 0, UNREVOKED_PARTITIONS: 1, UNRELEASED_PARTITIONS: 2 } as const;

function memberStateFromCode(code: number): ConsumerMember["state"] {
  if (code === 1) return "UNREVOKED_PARTITIONS";
  if (code === 2) return "UNRELEASED_PARTITIONS";
  return "STABLE";
}

function metadataChanged(a: ConsumerMember, b: ConsumerMember): boolean {
  return (
    a.instanceId !== b.instanceId ||
    a.rackId !== b.rackId ||
    a.clientId !== b.clientId ||
    a.clientHost !== b.clientHost ||
    a.rebalanceTimeoutMs !== b.rebalanceTimeoutMs ||
    a.serverAssignor !== b.serverAssignor ||
    a.subscribedTopicRegex !== b.subscribedTopicRegex ||
    a.subscribedTopicNames.join("\u0000") !== b.subscribedTopicNames.join("\u0000")
  );
}

function currentAssignmentChanged(a: ConsumerMember, b: ConsumerMember): boolean {
  return (
    a.memberEpoch !== b.memberEpoch ||
    a.previousMemberEpoch !== b.previousMemberEpoch ||
    a.state !== b.state ||
    !assignmentEquals(a.assignedPartitions, b.assignedPartitions) ||
    !assignmentEquals(a.partitionsPendingRevocation, b.partitionsPendingRevocation)
  );
}

/** The records that take a group from `before` to `group` (undefined: the group is gone). */
function consumerGroupDelta(
  groupId: string,
  before: ConsumerGroupSnapshot,
  group: ConsumerGroup | undefined,
): CoordinatorRecord[] {
  const records: CoordinatorRecord[] = [];
  const removeMember = (memberId: string) => {
    records.push(consumerGroupCurrentMemberAssignmentRecord(groupId, memberId, null));
    records.push(consumerGroupTargetAssignmentMemberRecord(groupId, memberId, null));
    records.push(consumerGroupMemberMetadataRecord(groupId, memberId, null));
  };
  if (group === undefined) {
    if (!before.exists) return records;
    for (const memberId of before.members.keys()) removeMember(memberId);
    records.push(consumerGroupTargetAssignmentMetadataRecord(groupId, null));
    records.push(consumerGroupMetadataRecord(groupId, null));
    return records;
  }
  for (const [memberId, m] of group.members) {
    const prev = before.members.get(memberId);
    if (prev === undefined || metadataChanged(prev, m)) {
      records.push(
        consumerGroupMemberMetadataRecord(groupId, memberId, {
          instanceId: m.instanceId,
          rackId: m.rackId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: [...m.subscribedTopicNames],
          subscribedTopicRegex: m.subscribedTopicRegex,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          serverAssignor: m.serverAssignor,
          classicMemberMetadata: null,
        }),
      );
    }
  }
  if (!before.exists || group.groupEpoch !== before.groupEpoch) {
    records.push(consumerGroupMetadataRecord(groupId, { epoch: group.groupEpoch, metadataHash: 0n }));
  }
  for (const [memberId, target] of group.targetAssignment) {
    const prev = before.targets.get(memberId);
    if (prev === undefined || !assignmentEquals(prev, target)) {
      records.push(
        consumerGroupTargetAssignmentMemberRecord(groupId, memberId, {
          topicPartitions: toTopicPartitions(target),
        }),
      );
    }
  }
  if (!before.exists || group.assignmentEpoch !== before.assignmentEpoch) {
    records.push(
      consumerGroupTargetAssignmentMetadataRecord(groupId, {
        assignmentEpoch: group.assignmentEpoch,
        assignmentTimestamp: 0n,
      }),
    );
  }
  for (const [memberId, m] of group.members) {
    const prev = before.members.get(memberId);
    if (prev === undefined || currentAssignmentChanged(prev, m)) {
      records.push(
        consumerGroupCurrentMemberAssignmentRecord(groupId, memberId, {
          memberEpoch: m.memberEpoch,
          previousMemberEpoch: m.previousMemberEpoch,
          state: MEMBER_STATE_CODES[m.state],
          assignedPartitions: toRecordTopicPartitions(m.assignedPartitions),
          partitionsPendingRevocation: toRecordTopicPartitions(m.partitionsPendingRevocation),
        }),
      );
    }
  }
  for (const memberId of before.members.keys()) if (!group.members.has(memberId)) removeMember(memberId);
  for (const memberId of before.targets.keys()) {
    if (!group.targetAssignment.has(memberId) && group.members.has(memberId)) {
      records.push(consumerGroupTargetAssignmentMemberRecord(groupId, memberId, null));
    }
  }
  return records;
}

interface LoadingConsumerGroup {
  groupEpoch: number;
  assignmentEpoch: number;
  readonly members: Map<string, { member: ConsumerMember; metadataSeen: boolean }>;
  readonly targets: Map<string, Assignment>;
}

function toAssignment(tps: readonly { topicId: string; partitions: readonly number[] }[]): Assignment {
  const a: Assignment = new Map();
  for (const tp of tps) a.set(tp.topicId, new Set(tp.partitions));
  return a;
}

function replayConsumerRecord(
  loading: Map<string, LoadingConsumerGroup>,
  decoded: Exclude<DecodedGroupRecord, { type: "OffsetCommit" | "GroupMetadata" | "Skipped" }>,
): void {
  let group = loading.get(decoded.group);
  if (decoded.type === "ConsumerGroupMetadata" && decoded.value === null) {
    loading.delete(decoded.group);
    return;
  }
  if (group === undefined) {
    group = { groupEpoch: 0, assignmentEpoch: 0, members: new Map(), targets: new Map() };
    loading.set(decoded.group, group);
  }
  const memberOf = (memberId: string) => {
    let entry = group.members.get(memberId);
    if (entry === undefined) {
      entry = {
        metadataSeen: false,
        member: {
          memberId,
          instanceId: null,
          rackId: null,
          clientId: "",
          clientHost: "",
          rebalanceTimeoutMs: -1,
          serverAssignor: null,
          subscribedTopicNames: [],
          subscribedTopicRegex: null,
          memberEpoch: 0,
          previousMemberEpoch: 0,
          state: "STABLE",
          assignedPartitions: new Map(),
          partitionsPendingRevocation: new Map(),
        },
      };
      group.members.set(memberId, entry);
    }
    return entry;
  };
  switch (decoded.type) {
    case "ConsumerGroupMetadata":
      group.groupEpoch = decoded.value!.epoch;
      break;
    case "ConsumerGroupTargetAssignmentMetadata":
      if (decoded.value !== null) group.assignmentEpoch = decoded.value.assignmentEpoch;
      break;
    case "ConsumerGroupTargetAssignmentMember":
      if (decoded.value === null) group.targets.delete(decoded.memberId);
      else group.targets.set(decoded.memberId, toAssignment(decoded.value.topicPartitions));
      break;
    case "ConsumerGroupMemberMetadata": {
      if (decoded.value === null) {
        group.members.delete(decoded.memberId);
        break;
      }
      const entry = memberOf(decoded.memberId);
      const v = decoded.value;
      entry.metadataSeen = true;
      entry.member = {
        ...entry.member,
        instanceId: v.instanceId,
        rackId: v.rackId,
        clientId: v.clientId,
        clientHost: v.clientHost,
        subscribedTopicNames: v.subscribedTopicNames,
        subscribedTopicRegex: v.subscribedTopicRegex,
        rebalanceTimeoutMs: v.rebalanceTimeoutMs,
        serverAssignor: v.serverAssignor,
      };
      break;
    }
    case "ConsumerGroupCurrentMemberAssignment": {
      if (decoded.value === null) break;
      const entry = memberOf(decoded.memberId);
      const v = decoded.value;
      entry.member = {
        ...entry.member,
        memberEpoch: v.memberEpoch,
        previousMemberEpoch: v.previousMemberEpoch,
        state: memberStateFromCode(v.state),
        assignedPartitions: toAssignment(v.assignedPartitions),
        partitionsPendingRevocation: toAssignment(v.partitionsPendingRevocation),
      };
      break;
    }
  }
}
