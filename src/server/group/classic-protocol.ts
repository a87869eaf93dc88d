/**
 * The classic group protocol: JoinGroup, SyncGroup, Heartbeat and LeaveGroup, the rebalance that
 * ties them together (Kafka's GroupMetadataManager, classic part), DescribeGroups, and the member
 * and generation checks that offset commits of classic groups share. The classic state machine
 * and its legal transitions are in classic-group.ts.
 *
 * Concurrency contract: single-threaded, as the coordinator (group-coordinator.ts): every request
 * changes state synchronously before its first `await`; parked JoinGroup and SyncGroup requests
 * are promises that later requests or the injected timer resolve; what runs after an append to
 * __consumer_offsets re-checks the group's state and generation.
 */
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { JoinGroupRequest } from "../../protocol/generated/join-group-request.js";
import type { SyncGroupRequest } from "../../protocol/generated/sync-group-request.js";
import {
  ClassicGroup,
  ClassicMember,
  type JoinGroupResult,
  type JoinProtocol,
  type SyncGroupResult,
} from "./classic-group.js";
import { APPEND_FAILED, type ClientInfo, type CoordinatorState, EMPTY_BUFFER } from "./coordinator-state.js";
import {
  classicGroupMetadataRecord,
  consumerGroupTombstones,
  parseSubscribedTopics,
} from "./group-records.js";

export type { JoinGroupResult, SyncGroupResult } from "./classic-group.js";

export interface LeaveMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface DescribedGroup {
  errorCode: number;
  errorMessage: string | null;
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

export function joinError(errorCode: number, memberId: string): JoinGroupResult {
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

export function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER };
}

const heartbeatKey = (groupId: string, memberId: string) => `heartbeat:${groupId}:${memberId}`;
const joinKey = (groupId: string) => `join:${groupId}`;
const syncKey = (groupId: string) => `sync:${groupId}`;
/**
 * Shortest wait before a join phase that only absent static members hold up is tried again, so a
 * rebalance timeout of 0 cannot spin the timer.
 */
const JOIN_RETRY_MS_MIN = 1_000;

/**
 * Members that got an id (MEMBER_ID_REQUIRED) and have not joined with it yet, per group; beyond
 * it the oldest is forgotten. Kafka has no such bound (only their session timeout).
 */
export const PENDING_MEMBERS_MAX = 10_000;

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

export class ClassicProtocol {
  readonly #state: CoordinatorState;

  constructor(state: CoordinatorState) {
    this.#state = state;
  }

  /** Loaded groups: members get a fresh session; a group over group.max.size rebalances. */
  startLoadedGroups(include: (group: ClassicGroup) => boolean = () => true): void {
    for (const group of this.#state.groups.values()) {
      if (!include(group)) continue;
      for (const member of group.members.values())
        this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
      if (group.is("Stable") && group.size > this.#state.config.groupMaxSize) {
        this.#prepareRebalance(group, "loaded group is larger than group.max.size");
      }
    }
  }

  /** The coordinator closes: parked requests are answered NOT_COORDINATOR. */
  close(): void {
    for (const group of this.#state.groups.values()) this.unloadGroup(group);
  }

  /**
   * The group's partition moved away (or the coordinator closes; Kafka's onGroupUnloaded): parked
   * JoinGroup and SyncGroup requests are answered NOT_COORDINATOR, its timers stop. The caller
   * removes it from the map.
   */
  unloadGroup(group: ClassicGroup): void {
    const timer = this.#state.timer;
    timer.cancel(joinKey(group.groupId));
    timer.cancel(syncKey(group.groupId));
    for (const member of group.members.values()) {
      timer.cancel(heartbeatKey(group.groupId, member.memberId));
      group.completeJoin(member, joinError(ErrorCode.NOT_COORDINATOR, member.memberId));
      group.completeSync(member, syncError(ErrorCode.NOT_COORDINATOR));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // JoinGroup

  joinGroup(request: JoinGroupRequest, client: ClientInfo): Promise<JoinGroupResult> {
    const gate = this.#state.gate(request.groupId);
    if (gate !== ErrorCode.NONE) return Promise.resolve(joinError(gate, request.memberId));
    if (request.groupId === "")
      return Promise.resolve(joinError(ErrorCode.INVALID_GROUP_ID, request.memberId));
    if (
      request.sessionTimeoutMs < this.#state.config.groupMinSessionTimeoutMs ||
      request.sessionTimeoutMs > this.#state.config.groupMaxSessionTimeoutMs
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
    const consumerGroup = this.#state.consumerGroups.get(join.groupId);
    if (consumerGroup !== undefined) {
      // Krill does not run mixed groups (classic members inside a KIP-848 group); an empty one
      // is converted, as Kafka does.
      if (!consumerGroup.isEmpty) {
        respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, join.memberId));
        return;
      }
      // Its records are tombstoned; its offsets stay with the classic group it becomes.
      this.#state.consumerGroups.delete(join.groupId);
      const tombstones = consumerGroupTombstones(consumerGroup);
      if (tombstones.length > 0) void this.#state.append(join.groupId, tombstones);
    }
    let group = this.#state.groups.get(join.groupId);
    const isNewGroup = group === undefined;
    if (group === undefined) {
      if (!isUnknownMember) {
        respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, join.memberId));
        return;
      }
      if (this.#state.groupCount >= this.#state.config.groupsMax) {
        this.#state.logger.warn(
          { groupId: join.groupId, groupsMax: this.#state.config.groupsMax },
          "refusing a new group",
        );
        respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ""));
        return;
      }
      group = new ClassicGroup(join.groupId, "Empty", this.#state.timer.nowMs());
      this.#state.groups.set(join.groupId, group);
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
      this.#state.groups.delete(join.groupId);
    }
  }

  #acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const maxSize = this.#state.config.groupMaxSize;
    switch (group.state) {
      case "Empty":
      case "Dead":
        // Always accepted, as Kafka does: members pending their second join are not members yet,
        // and a group flooded with them must still take a real one (their own bound is
        // PENDING_MEMBERS_MAX).
        return true;
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
    const newMemberId = `${join.groupInstanceId ?? client.clientId}-${this.#state.newUuid()}`;
    if (join.groupInstanceId !== null) {
      const existingMemberId = group.staticMemberId(join.groupInstanceId);
      if (existingMemberId !== undefined) {
        this.#state.logger.info(
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
      // pending state expires after the session timeout. Each costs a timer, so they are bounded:
      // beyond PENDING_MEMBERS_MAX the oldest is forgotten (as if its session had expired) rather
      // than the newest refused, so a flood of joins never answered cannot keep a real member out
      // (it only needs its id to survive one round trip).
      if (group.numPendingJoinMembers >= PENDING_MEMBERS_MAX) {
        const oldest = group.oldestPendingMember()!;
        this.#state.timer.cancel(heartbeatKey(group.groupId, oldest));
        group.remove(oldest);
      }
      group.addPendingMember(newMemberId);
      this.#state.timer.schedule(heartbeatKey(group.groupId, newMemberId), join.sessionTimeoutMs, () =>
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
    this.rescheduleHeartbeat(group, member, this.#state.config.newMemberJoinTimeoutMs);
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
    this.#state.timer.cancel(heartbeatKey(group.groupId, oldMemberId));
    this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
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
        void this.#state.append(group.groupId, [classicGroupMetadataRecord(group, null)]).then((failure) => {
          if (failure !== null) {
            if (group.member(newMemberId) === member) {
              group.updateMember(member, old.protocols, old.rebalanceTimeoutMs, old.sessionTimeoutMs, null);
              const reverted = group.replaceStaticMember(
                instanceId,
                newMemberId,
                oldMemberId,
                ErrorCode.FENCED_INSTANCE_ID,
              );
              this.rescheduleHeartbeat(group, reverted, reverted.sessionTimeoutMs);
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
      const delayMs = this.#state.config.groupInitialRebalanceDelayMs;
      const remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
      this.#state.timer.schedule(joinKey(group.groupId), delayMs, () =>
        this.#tryCompleteInitialRebalance(group, delayMs, remainingMs),
      );
    }
    group.transitionTo("PreparingRebalance", this.#state.timer.nowMs());
    this.#state.logger.info(
      { groupId: group.groupId, generationId: group.generationId, reason },
      "preparing to rebalance",
    );
    if (!isInitialRebalance) this.#maybeCompleteJoinElseSchedule(group);
  }

  #maybeCompleteJoinElseSchedule(group: ClassicGroup): void {
    if (group.hasAllMembersJoined()) {
      this.#completeJoin(group);
    } else {
      this.#state.timer.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs(), () =>
        this.#completeJoinIfCurrent(group),
      );
    }
  }

  #tryCompleteInitialRebalance(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    if (this.#state.groups.get(group.groupId) !== group) return;
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelayMs = Math.min(this.#state.config.groupInitialRebalanceDelayMs, remainingMs);
      const nextRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.#state.timer.schedule(joinKey(group.groupId), nextDelayMs, () =>
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
    if (this.#state.groups.get(group.groupId) === group) this.#completeJoin(group);
  }

  #completeJoin(group: ClassicGroup): void {
    this.#state.timer.cancel(joinKey(group.groupId));
    for (const failed of group.notYetRejoinedMembers()) {
      if (failed.groupInstanceId !== null) continue;
      this.#removeMember(group, failed.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      this.#state.logger.info(
        { groupId: group.groupId, memberId: failed.memberId },
        "removing member that did not rejoin",
      );
    }
    if (group.is("Dead") || !group.is("PreparingRebalance")) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined remain: wait for them, or for their sessions to end.
      this.#state.timer.schedule(
        joinKey(group.groupId),
        Math.max(group.rebalanceTimeoutMs(), JOIN_RETRY_MS_MIN),
        () => this.#completeJoinIfCurrent(group),
      );
      return;
    }
    const nowMs = this.#state.timer.nowMs();
    group.initNextGeneration(nowMs, parseSubscribedTopics);
    if (group.is("Empty")) {
      this.#state.logger.info(
        { groupId: group.groupId, generationId: group.generationId },
        "group is now empty",
      );
      void this.#state
        .append(group.groupId, [classicGroupMetadataRecord(group, new Map())])
        .then((failure) => {
          if (failure !== null)
            this.#state.logger.warn({ groupId: group.groupId, failure }, "could not store empty group");
        });
      return;
    }
    this.#state.logger.info(
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
      this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
      member.isNew = false;
      group.addPendingSyncMember(member.memberId);
    }
    const generation = group.generationId;
    this.#state.timer.schedule(syncKey(group.groupId), group.rebalanceTimeoutMs(), () =>
      this.#expirePendingSync(group, generation),
    );
  }

  #expirePendingSync(group: ClassicGroup, generationId: number): void {
    if (this.#state.groups.get(group.groupId) !== group || group.generationId !== generationId) return;
    if (!group.is("CompletingRebalance") && !group.is("Stable")) return;
    if (group.hasReceivedSyncFromAllMembers()) return;
    const late = group.pendingSyncMembers();
    for (const memberId of late) this.#removeMember(group, memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    this.#prepareRebalance(group, `members ${late.join(", ")} did not send SyncGroup in time`);
  }

  /** (Re)starts the member's session: without a heartbeat (or commit) within `timeoutMs` it is removed. */
  rescheduleHeartbeat(group: ClassicGroup, member: ClassicMember, timeoutMs: number): void {
    const memberId = member.memberId;
    this.#state.timer.schedule(heartbeatKey(group.groupId, memberId), timeoutMs, () =>
      this.#expireHeartbeat(group.groupId, memberId),
    );
  }

  #expireHeartbeat(groupId: string, memberId: string): void {
    const group = this.#state.groups.get(groupId);
    if (group === undefined || group.is("Dead")) return;
    if (group.isPendingMember(memberId)) {
      // Pending members never hold up a join phase (hasAllMembersJoined), so nothing completes here.
      group.remove(memberId);
      if (group.isEmpty && group.size === 0 && group.numPendingJoinMembers === 0)
        this.#maybeForgetGroup(group);
      return;
    }
    const member = group.member(memberId);
    if (member === undefined || member.hasSatisfiedHeartbeat) return;
    this.#state.logger.info({ groupId, memberId }, "member session expired");
    this.#removeMemberAndUpdateGroup(group, member.memberId, `session of ${memberId} expired`);
  }

  /** Removes a member, answering whatever it has parked with `errorCode`. */
  #removeMember(group: ClassicGroup, memberId: string, errorCode: number): void {
    const member = group.member(memberId);
    if (member !== undefined) {
      group.completeJoin(member, joinError(errorCode, ""));
      group.completeSync(member, syncError(errorCode));
    }
    this.#state.timer.cancel(heartbeatKey(group.groupId, memberId));
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
      if (delivered) this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
  }

  #removeSyncExpiration(group: ClassicGroup): void {
    group.clearPendingSyncMembers();
    this.#state.timer.cancel(syncKey(group.groupId));
  }

  // ---------------------------------------------------------------------------------------------
  // SyncGroup

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResult> {
    const gate = this.#state.gate(request.groupId);
    if (gate !== ErrorCode.NONE) return Promise.resolve(syncError(gate));
    if (request.groupId === "") return Promise.resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    const group = this.#state.groups.get(request.groupId);
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
      this.#state.timer.cancel(syncKey(group.groupId));
    }
  }

  #storeLeaderAssignment(group: ClassicGroup, request: SyncGroupRequest): void {
    const assignment = new Map<string, Buffer>();
    for (const a of request.assignments) assignment.set(a.memberId, a.assignment);
    const generation = group.generationId;
    void this.#state
      .append(group.groupId, [classicGroupMetadataRecord(group, assignment)])
      .then((failure) => {
        // Members may have joined or left while the record was written; only the same generation
        // still waiting for its assignment may use it.
        if (
          !group.is("CompletingRebalance") ||
          group.generationId !== generation ||
          this.#state.groups.get(group.groupId) !== group
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
        group.transitionTo("Stable", this.#state.timer.nowMs());
        this.#state.logger.info({ groupId: group.groupId, generationId: generation }, "group is stable");
      });
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeat and LeaveGroup

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const gate = this.#state.gate(groupId);
    if (gate !== ErrorCode.NONE) return gate;
    if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
    const group = this.#state.groups.get(groupId);
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
        this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        // Heartbeats may start right after the JoinGroup response, in CompletingRebalance.
        this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
    }
  }

  leaveGroup(groupId: string, members: readonly LeaveMember[]): LeaveGroupResult {
    const gate = this.#state.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, members: [] };
    if (groupId === "") return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.#state.groups.get(groupId);
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
      this.#state.logger.info(
        { groupId, members: results.filter((r) => r.errorCode === ErrorCode.NONE).map((r) => r.memberId) },
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
  // DescribeGroups

  /**
   * DescribeGroups. A group that does not exist, or is a KIP-848 group, is described as Dead; with
   * `groupIdNotFound` (v6+, KIP-1043) also answered GROUP_ID_NOT_FOUND with Kafka's message.
   */
  describeGroups(groupIds: readonly string[], groupIdNotFound: boolean): DescribedGroup[] {
    return groupIds.map((groupId) => {
      const base: DescribedGroup = {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupId,
        groupState: "Dead",
        protocolType: "",
        protocolData: "",
        members: [],
      };
      const gate = this.#state.gate(groupId);
      if (gate !== ErrorCode.NONE) return { ...base, groupState: "", errorCode: gate };
      const group = this.#state.groups.get(groupId);
      if (group === undefined) {
        if (!groupIdNotFound) return base;
        const errorMessage = this.#state.consumerGroups.has(groupId)
          ? `Group ${groupId} is not a classic group.`
          : `Group ${groupId} not found.`;
        return { ...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage };
      }
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

  // ---------------------------------------------------------------------------------------------
  // Offset commits of classic groups

  /**
   * The member and generation checks of an OffsetCommit (and of a TxnOffsetCommit that names a
   * member) to a classic or simple group, as Kafka's ClassicGroup.validateOffsetCommit.
   */
  validateOffsetCommit(
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

  #maybeForgetGroup(group: ClassicGroup): void {
    // A group made only of members that never finished joining leaves no trace if it has no offsets.
    if (
      group.generationId === 0 &&
      group.protocolType === null &&
      !this.#state.offsets.hasOffsets(group.groupId)
    ) {
      this.#state.groups.delete(group.groupId);
    }
  }
}
