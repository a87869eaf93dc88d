/**
 * The group coordinator: classic consumer groups, KIP-848 consumer groups, committed offsets and
 * the admin views, with its state kept as records in __consumer_offsets. Behaviour and error codes
 * follow Kafka's GroupMetadataManager / OffsetMetadataManager. This class loads the state of the
 * partitions of __consumer_offsets it is given (`loadPartition`: those this node leads; `load`:
 * all, on a lone broker) and drops it when one moves away (`unloadPartition`), answers ListGroups
 * and DeleteGroups, and hands every other request to its part:
 *
 * - classic-protocol.ts: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups;
 * - consumer-protocol.ts: ConsumerGroupHeartbeat, ConsumerGroupDescribe (KIP-848);
 * - offset-manager.ts: OffsetCommit, OffsetFetch, OffsetDelete, retention, transactional offsets;
 * - group-records.ts: groups as records and back;
 * - coordinator-state.ts: what they share (settings, clock, groups, offsets, the log).
 *
 * Concurrency contract: single-threaded. Every public method changes state synchronously, to
 * completion, before its first `await`; only appends to __consumer_offsets are awaited (Kafka
 * waits for the write before answering), and what happens after an append re-checks the group's
 * state and generation, since other requests may have run meanwhile. Parked JoinGroup and
 * SyncGroup requests are promises resolved by later requests or timers. Time comes from the
 * injected `Timer`, so tests drive sessions and rebalances with a manual clock.
 *
 * A group's requests are answered COORDINATOR_LOAD_IN_PROGRESS while its partition is replayed (and
 * before any partition was given), NOT_COORDINATOR when its partition is not served here.
 */
import type { ConsumerGroupHeartbeatRequest } from "../../protocol/generated/consumer-group-heartbeat-request.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { JoinGroupRequest } from "../../protocol/generated/join-group-request.js";
import type { OffsetCommitRequest } from "../../protocol/generated/offset-commit-request.js";
import type { SyncGroupRequest } from "../../protocol/generated/sync-group-request.js";
import { ClassicGroup, type JoinGroupResult, type SyncGroupResult } from "./classic-group.js";
import {
  ClassicProtocol,
  type DescribedGroup,
  type LeaveGroupResult,
  type LeaveMember,
} from "./classic-protocol.js";
import type { ConsumerGroup } from "./consumer-group.js";
import {
  type ConsumerHeartbeatResult,
  ConsumerProtocol,
  type DescribedConsumerGroup,
} from "./consumer-protocol.js";
import {
  type ClientInfo,
  CONSUMER_PROTOCOL_TYPE,
  CoordinatorState,
  type GroupCoordinatorDeps,
} from "./coordinator-state.js";
import {
  classicGroupFromRecord,
  consumerGroupFromLoaded,
  consumerGroupTombstones,
  type LoadingConsumerGroup,
  replayConsumerRecord,
} from "./group-records.js";
import {
  type CommittedPartition,
  type CommittedTopicResult,
  type FetchOffsetsResult,
  type OffsetDeleteResult,
  OffsetManager,
  type PartitionExists,
  type PreparedOffsetCommit,
} from "./offset-manager.js";
import type { OffsetAndMetadata } from "./offset-store.js";
import { type CoordinatorRecord, decodeGroupRecord, groupMetadataRecord } from "./offsets-records.js";

export type { JoinGroupResult, SyncGroupResult } from "./classic-group.js";
export {
  type DescribedGroup,
  type LeaveGroupResult,
  type LeaveMember,
  PENDING_MEMBERS_MAX,
} from "./classic-protocol.js";
export type { ConsumerHeartbeatResult, DescribedConsumerGroup } from "./consumer-protocol.js";
export {
  type ClientInfo,
  CONSUMER_PROTOCOL_TYPE,
  type CoordinatorLogger,
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  type GroupCoordinatorConfig,
  type GroupCoordinatorDeps,
  type GroupStateLog,
} from "./coordinator-state.js";
export { parseSubscribedTopics } from "./group-records.js";
export {
  type CommittedPartition,
  type CommittedTopicResult,
  type FetchedPartition,
  type FetchOffsetsResult,
  type OffsetDeleteResult,
  offsetMetadataTooLarge,
  type PartitionExists,
  type PartitionResult,
  PreparedOffsetCommit,
  type TopicPartitionsResult,
} from "./offset-manager.js";

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

/** One committed offset, as the metrics read it. */
export interface CommittedOffset {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export class GroupCoordinator {
  readonly #state: CoordinatorState;
  readonly #classic: ClassicProtocol;
  readonly #consumer: ConsumerProtocol;
  readonly #offsets: OffsetManager;
  /** Replays in flight, by partition, with the token that tells a load from a later one. */
  readonly #loads = new Map<number, { token: number; done: Promise<void> }>();
  #loadTokens = 0;

  constructor(deps: GroupCoordinatorDeps) {
    this.#state = new CoordinatorState(deps);
    this.#classic = new ClassicProtocol(this.#state);
    this.#consumer = new ConsumerProtocol(this.#state);
    this.#offsets = new OffsetManager(this.#state, this.#classic);
  }

  /** Partitions were assigned (loaded or unloaded; none served counts) and none is loading. */
  get isLoaded(): boolean {
    return this.#state.loaded;
  }

  /** The partitions of __consumer_offsets served here (loaded or loading). */
  get partitions(): ReadonlyMap<number, "loading" | "loaded"> {
    return this.#state.partitionStates;
  }

  partitionFor(groupId: string): number {
    return this.#state.partitionFor(groupId);
  }

  /** For tests and metrics: the classic group, if any. */
  classicGroup(groupId: string): ClassicGroup | undefined {
    return this.#state.groups.get(groupId);
  }

  /** For tests and metrics: the KIP-848 group, if any. */
  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.#state.consumerGroups.get(groupId);
  }

  get groupCount(): number {
    return this.#state.groupCount;
  }

  /**
   * For metrics: every committed offset held here, group by group (none until loaded). A snapshot:
   * the caller may keep it while the coordinator goes on.
   */
  committedOffsets(): CommittedOffset[] {
    const out: CommittedOffset[] = [];
    if (!this.#state.loaded) return out;
    const store = this.#state.offsets;
    for (const group of store.groups()) {
      for (const [topic, partitions] of store.topics(group)) {
        for (const [partition, value] of partitions)
          out.push({ group, topic, partition, offset: Number(value.offset) });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Loading

  /** Loads every partition of __consumer_offsets (a lone broker leads them all). */
  async load(): Promise<void> {
    const loads: Promise<void>[] = [];
    for (let p = 0; p < this.#state.config.offsetsTopicPartitions; p++) loads.push(this.loadPartition(p));
    await Promise.all(loads);
  }

  /**
   * This node became leader of partition `p` of __consumer_offsets (Kafka's onElection): its
   * records are replayed into memory, then its groups are served. Members of loaded groups get a
   * fresh session timeout: if they do not come back they are removed. A partition loaded or
   * loading already is left alone (concurrent callers share one replay, so no record is applied
   * twice); a failed replay is forgotten, so the next call retries.
   */
  loadPartition(p: number): Promise<void> {
    const state = this.#state;
    if (state.closed || state.partitionStates.get(p) === "loaded") return Promise.resolve();
    const inFlight = this.#loads.get(p);
    if (inFlight !== undefined) return inFlight.done;
    state.assigned = true;
    state.partitionStates.set(p, "loading");
    const token = ++this.#loadTokens;
    const done = this.#loadPartition(p, token).then(
      () => {
        if (this.#loads.get(p)?.token === token) this.#loads.delete(p);
      },
      (err: unknown) => {
        if (this.#loads.get(p)?.token === token) {
          this.#loads.delete(p);
          state.partitionStates.delete(p);
          this.#removeGroupsOf(p);
        }
        throw err;
      },
    );
    this.#loads.set(p, { token, done });
    return done;
  }

  async #loadPartition(p: number, token: number): Promise<void> {
    const state = this.#state;
    const loading = new Map<string, LoadingConsumerGroup>();
    await state.replay(p, (record) => this.#replay(record, loading));
    if (this.#loads.get(p)?.token !== token || state.closed) {
      // Unloaded (or closed) while replaying: what the replay added goes again.
      if (!state.partitionStates.has(p)) this.#removeGroupsOf(p);
      return;
    }
    const nowMs = state.timer.nowMs();
    this.#finishConsumerGroupsLoad(nowMs, loading);
    this.#classic.startLoadedGroups((g) => state.partitionFor(g.groupId) === p);
    state.partitionStates.set(p, "loaded");
    this.#offsets.startExpiry();
    let groups = 0;
    for (const id of [...state.groups.keys(), ...state.consumerGroups.keys()])
      if (state.partitionFor(id) === p) groups++;
    state.logger.info({ partition: p, groups, nowMs }, "group coordinator loaded a partition");
  }

  /**
   * This node stopped leading partition `p` (Kafka's onResignation): its groups and offsets leave
   * memory, parked requests of its classic groups are answered NOT_COORDINATOR, and its groups'
   * requests get NOT_COORDINATOR from now on (the client finds the new coordinator).
   */
  unloadPartition(p: number): void {
    const state = this.#state;
    state.assigned = true;
    if (!state.partitionStates.has(p)) return;
    state.partitionStates.delete(p);
    this.#loads.delete(p);
    const groups = this.#removeGroupsOf(p);
    state.logger.info({ partition: p, groups }, "group coordinator unloaded a partition");
  }

  /** Drops the groups and offsets of partition `p` from memory; returns how many groups. */
  #removeGroupsOf(p: number): number {
    const state = this.#state;
    let removed = 0;
    for (const [groupId, group] of [...state.groups]) {
      if (state.partitionFor(groupId) !== p) continue;
      this.#classic.unloadGroup(group);
      state.groups.delete(groupId);
      removed++;
    }
    for (const [groupId, group] of [...state.consumerGroups]) {
      if (state.partitionFor(groupId) !== p) continue;
      this.#consumer.unloadGroup(group);
      state.consumerGroups.delete(groupId);
      removed++;
    }
    for (const groupId of [...state.offsets.groups()])
      if (state.partitionFor(groupId) === p) state.offsets.deleteGroup(groupId);
    return removed;
  }

  /** Stops answering (requests get COORDINATOR_LOAD_IN_PROGRESS) and writing; parked requests get NOT_COORDINATOR. */
  close(): void {
    if (this.#state.loaded)
      this.#state.logger.info({ groups: this.#state.groups.size }, "group coordinator unloaded");
    this.#state.closed = true;
    this.#state.partitionStates.clear();
    this.#state.assigned = false;
    this.#loads.clear();
    this.#offsets.stopExpiry();
    this.#classic.close();
  }

  #replay(record: CoordinatorRecord, loadingConsumerGroups: Map<string, LoadingConsumerGroup>): void {
    const groups = this.#state.groups;
    const decoded = decodeGroupRecord(record);
    if (decoded.type === "OffsetCommit") {
      if (decoded.value === null) {
        this.#state.offsets.delete(decoded.group, decoded.topic, decoded.partition);
        return;
      }
      if (!groups.has(decoded.group)) {
        groups.set(decoded.group, new ClassicGroup(decoded.group, "Empty", null));
      }
      this.#state.offsets.put(decoded.group, decoded.topic, decoded.partition, {
        offset: decoded.value.offset,
        leaderEpoch: decoded.value.leaderEpoch,
        metadata: decoded.value.metadata,
        commitTimestampMs: Number(decoded.value.commitTimestamp),
        expireTimestampMs: Number(decoded.value.expireTimestamp),
      });
    } else if (decoded.type === "GroupMetadata") {
      if (decoded.value === null) {
        groups.delete(decoded.group);
        return;
      }
      groups.set(decoded.group, classicGroupFromRecord(decoded.group, decoded.value));
    } else if (decoded.type !== "Skipped") {
      replayConsumerRecord(loadingConsumerGroups, decoded);
    }
  }

  /** Builds the KIP-848 groups replayed from the log, with fresh session timers. */
  #finishConsumerGroupsLoad(nowMs: number, loadingConsumerGroups: Map<string, LoadingConsumerGroup>): void {
    const state = this.#state;
    const topics = state.topics();
    for (const [groupId, loaded] of loadingConsumerGroups) {
      const group = consumerGroupFromLoaded(groupId, loaded, topics, nowMs);
      // An offsets-only classic group of the same id was made while replaying commits; a group
      // id is never in both maps, and a classic group with members (which conversion would have
      // tombstoned) keeps it.
      const classic = state.groups.get(groupId);
      if (classic !== undefined) {
        if (!classic.isEmpty || classic.size > 0) continue;
        state.groups.delete(groupId);
      }
      state.consumerGroups.set(groupId, group);
      for (const member of group.members.values()) {
        this.#consumer.scheduleSession(group, member.memberId, state.config.consumerSessionTimeoutMs);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Classic protocol (classic-protocol.ts)

  joinGroup(request: JoinGroupRequest, client: ClientInfo): Promise<JoinGroupResult> {
    return this.#classic.joinGroup(request, client);
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResult> {
    return this.#classic.syncGroup(request);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    return this.#classic.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leaveGroup(groupId: string, members: readonly LeaveMember[]): LeaveGroupResult {
    return this.#classic.leaveGroup(groupId, members);
  }

  /** DescribeGroups; `groupIdNotFound` (v6+) answers groups that are not there GROUP_ID_NOT_FOUND. */
  describeGroups(groupIds: readonly string[], groupIdNotFound = false): DescribedGroup[] {
    return this.#classic.describeGroups(groupIds, groupIdNotFound);
  }

  // ---------------------------------------------------------------------------------------------
  // Consumer protocol, KIP-848 (consumer-protocol.ts)

  consumerGroupHeartbeat(
    request: ConsumerGroupHeartbeatRequest,
    client: ClientInfo,
  ): Promise<ConsumerHeartbeatResult> {
    return this.#consumer.heartbeat(request, client);
  }

  consumerGroupDescribe(groupIds: readonly string[]): DescribedConsumerGroup[] {
    return this.#consumer.describe(groupIds);
  }

  // ---------------------------------------------------------------------------------------------
  // Offsets (offset-manager.ts)

  /**
   * OffsetCommit. Per-partition error codes: UNKNOWN_TOPIC_OR_PARTITION for partitions that do not
   * exist; a group-level refusal puts the same code on every other partition, as Kafka does.
   */
  commitOffsets(
    request: OffsetCommitRequest,
    apiVersion: number,
    partitionExists: PartitionExists,
  ): Promise<CommittedTopicResult[]> {
    return this.#offsets.commitOffsets(request, apiVersion, partitionExists);
  }

  /**
   * The partition checks and records of a TxnOffsetCommit (the same as OffsetCommit's), for the
   * transaction coordinator, which writes them in a transactional batch.
   */
  prepareOffsetCommit<P extends CommittedPartition>(
    groupId: string,
    topics: readonly { readonly name: string; readonly topicId: string; readonly partitions: readonly P[] }[],
    partitionExists: PartitionExists,
    offsetOf: (partition: P) => Omit<OffsetAndMetadata, "metadata">,
  ): PreparedOffsetCommit {
    return this.#offsets.prepareCommit(groupId, topics, partitionExists, offsetOf);
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
    return this.#offsets.fetchOffsets(groupId, topics, memberId, memberEpoch);
  }

  /** OffsetDelete: refused for topics a live consumer group still subscribes to. */
  deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[],
  ): Promise<OffsetDeleteResult> {
    return this.#offsets.deleteOffsets(groupId, topics);
  }

  /** Topics were deleted: their committed offsets go too, in every group (Kafka's onPartitionsDeleted). */
  onTopicsDeleted(topics: readonly string[]): Promise<number> {
    return this.#offsets.onTopicsDeleted(topics);
  }

  /** Removes offsets past offsets.retention.minutes, then empty groups left without offsets. */
  expireOffsets(): Promise<number> {
    return this.#offsets.expireOffsets();
  }

  /** TxnOffsetCommit member checks (for the transaction coordinator, src/server/txn/txn-offsets.ts). */
  validateTxnOffsetCommit(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    return this.#offsets.validateTxnOffsetCommit(groupId, memberId, groupInstanceId, generationId);
  }

  /** The offsets of a committed transaction become visible (its COMMIT marker is in the log). */
  applyTxnOffsets(
    groupId: string,
    offsets: readonly { topic: string; partition: number; value: OffsetAndMetadata }[],
  ): void {
    this.#offsets.applyTxnOffsets(groupId, offsets);
  }

  // ---------------------------------------------------------------------------------------------
  // Admin: list, delete

  /** ListGroups; filters are case-insensitive, an empty filter matches everything. */
  listGroups(
    statesFilter: readonly string[],
    typesFilter: readonly string[],
  ): { errorCode: number; groups: ListedGroup[] } {
    // Kafka's ListGroups lists the partitions served here and fails while one of them loads.
    for (const s of this.#state.partitionStates.values())
      if (s === "loading") return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
    if (!this.#state.assigned) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
    const states = new Set(statesFilter.map((s) => s.trim().toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.trim().toLowerCase()));
    const groups: ListedGroup[] = [];
    for (const group of this.#state.groups.values()) {
      if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has(group.type)) continue;
      groups.push({
        groupId: group.groupId,
        protocolType: group.protocolType ?? "",
        groupState: group.state,
        groupType: group.type,
      });
    }
    for (const group of this.#state.consumerGroups.values()) {
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
    const gate = this.#state.gate(groupId);
    if (gate !== ErrorCode.NONE) return result(gate);
    if (groupId === "") return result(ErrorCode.INVALID_GROUP_ID);
    // The group is gone at once, so no join can revive it while its tombstones are written.
    let groupTombstones: CoordinatorRecord[];
    const consumerGroup = this.#state.consumerGroups.get(groupId);
    if (consumerGroup !== undefined) {
      if (!consumerGroup.isEmpty) return result(ErrorCode.NON_EMPTY_GROUP);
      groupTombstones = consumerGroupTombstones(consumerGroup);
      this.#state.consumerGroups.delete(groupId);
    } else {
      const group = this.#state.groups.get(groupId);
      if (group === undefined || group.is("Dead")) return result(ErrorCode.GROUP_ID_NOT_FOUND);
      if (!group.isEmpty) return result(ErrorCode.NON_EMPTY_GROUP);
      groupTombstones = [groupMetadataRecord(groupId, null)];
      group.transitionTo("Dead", this.#state.timer.nowMs());
      this.#state.groups.delete(groupId);
    }
    const records = [...this.#offsets.removeGroupOffsets(groupId), ...groupTombstones];
    const failure = records.length === 0 ? null : await this.#state.append(groupId, records);
    return result(failure ?? ErrorCode.NONE);
  }
}
