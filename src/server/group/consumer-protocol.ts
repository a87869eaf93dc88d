/**
 * The consumer group protocol (KIP-848): ConsumerGroupHeartbeat and ConsumerGroupDescribe, with
 * server-side assignment, member sessions and rebalance timeouts (Kafka's GroupMetadataManager,
 * consumer part). The group data, the assignors and reconciliation are in consumer-group.ts; the
 * records each change writes are computed by group-records.ts.
 *
 * Concurrency contract: single-threaded, as the coordinator (group-coordinator.ts): a heartbeat
 * changes the group synchronously, to completion, then awaits the append of what changed before
 * answering. Timers come from the injected clock.
 */
import type { ConsumerGroupHeartbeatRequest } from "../../protocol/generated/consumer-group-heartbeat-request.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
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
import type { ClientInfo, CoordinatorState } from "./coordinator-state.js";
import {
  type ConsumerGroupSnapshot,
  consumerGroupDelta,
  snapshotConsumerGroup,
  toTopicPartitions,
} from "./group-records.js";
import { groupMetadataRecord } from "./offsets-records.js";

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

export class ConsumerProtocol {
  readonly #state: CoordinatorState;

  constructor(state: CoordinatorState) {
    this.#state = state;
  }

  /**
   * One ConsumerGroupHeartbeat: joins (epoch 0), heartbeats and acknowledges revocations
   * (epoch > 0), or leaves (-1; -2 for a static member that will come back). The group changes
   * synchronously; the answer waits for the records of what changed.
   */
  async heartbeat(
    request: ConsumerGroupHeartbeatRequest,
    client: ClientInfo,
  ): Promise<ConsumerHeartbeatResult> {
    const before = snapshotConsumerGroup(this.#state.consumerGroups.get(request.groupId));
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
    if (!this.#state.config.consumerProtocolEnabled) {
      return fail(ErrorCode.UNSUPPORTED_VERSION, "The consumer group protocol is disabled.");
    }
    const gate = this.#state.gate(request.groupId);
    if (gate !== ErrorCode.NONE) return fail(gate);
    const invalid = this.#validateConsumerHeartbeat(request);
    if (invalid !== null) return fail(invalid.errorCode, invalid.message);
    const epoch = request.memberEpoch;
    if (epoch === LEAVE_GROUP_MEMBER_EPOCH || epoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      return this.#consumerGroupLeave(request, fail);
    }
    const nowMs = this.#state.timer.nowMs();
    let group = this.#state.consumerGroups.get(request.groupId);
    if (group === undefined) {
      const classic = this.#state.groups.get(request.groupId);
      if (classic !== undefined) {
        if (epoch !== 0) {
          return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} is not a consumer group.`);
        }
        // An Empty classic group is converted whatever members are pending their second join
        // (Kafka's isEmptyClassicGroup), so a flood of those cannot keep KIP-848 members out.
        if (!classic.isEmpty) {
          // Krill has no online upgrade of a live classic group (docs/groups.md): it answers as
          // Kafka does with group.consumer.migration.policy=disabled.
          return fail(
            ErrorCode.GROUP_ID_NOT_FOUND,
            `Cannot upgrade classic group ${request.groupId} to consumer group because online upgrade is disabled.`,
          );
        }
        // An empty classic group becomes a consumer group; its offsets stay.
        this.#state.groups.delete(request.groupId);
        if (classic.protocolType !== null) {
          void this.#state.append(request.groupId, [groupMetadataRecord(request.groupId, null)]);
        }
      } else if (epoch !== 0) {
        // No records of this group (never created here, or removed): the member is told to
        // rejoin with epoch 0 (Kafka answers GROUP_ID_NOT_FOUND; docs/groups.md, differences).
        return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Group ${request.groupId} not found.`);
      } else if (this.#state.groupCount >= this.#state.config.groupsMax) {
        return fail(ErrorCode.GROUP_MAX_SIZE_REACHED, "The coordinator holds too many groups.");
      }
      group = new ConsumerGroup(request.groupId, nowMs);
      this.#state.consumerGroups.set(request.groupId, group);
    }
    const memberId = request.memberId === "" ? this.#state.newUuid() : request.memberId;
    const resolved = this.#resolveConsumerMember(group, request, memberId);
    if ("errorCode" in resolved) return fail(resolved.errorCode, resolved.message);
    const { previous, base } = resolved;
    if (previous === undefined && group.members.size >= this.#state.config.consumerMaxSize) {
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
    const topics = this.#state.topics();
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
    this.scheduleSession(group, memberId, this.#state.config.consumerSessionTimeoutMs);
    if (reconciled.state === "UNREVOKED_PARTITIONS") {
      if (previous?.state !== "UNREVOKED_PARTITIONS" || previous.memberEpoch !== reconciled.memberEpoch) {
        const atEpoch = reconciled.memberEpoch;
        this.#state.timer.schedule(
          consumerRebalanceKey(group.groupId, memberId),
          reconciled.rebalanceTimeoutMs,
          () => this.#expireConsumerRebalance(group, memberId, atEpoch),
        );
      }
    } else {
      this.#state.timer.cancel(consumerRebalanceKey(group.groupId, memberId));
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
      heartbeatIntervalMs: this.#state.config.consumerHeartbeatIntervalMs,
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
    const group = this.#state.consumerGroups.get(request.groupId);
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
          this.#state.timer.nowMs(),
        );
        this.#state.timer.cancel(consumerRebalanceKey(group.groupId, member.memberId));
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
    for (const name of this.#state.config.consumerAssignors) {
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

  scheduleSession(group: ConsumerGroup, memberId: string, timeoutMs: number): void {
    this.#state.timer.schedule(consumerSessionKey(group.groupId, memberId), timeoutMs, () => {
      const member = group.members.get(memberId);
      if (this.#state.consumerGroups.get(group.groupId) !== group || member === undefined) return;
      this.#state.logger.info({ groupId: group.groupId, memberId }, "consumer group member session expired");
      const before = snapshotConsumerGroup(group);
      this.#fenceConsumerMember(group, member, "session expired");
      void this.#persistConsumerGroup(group.groupId, before);
    });
  }

  #expireConsumerRebalance(group: ConsumerGroup, memberId: string, memberEpoch: number): void {
    const member = group.members.get(memberId);
    if (this.#state.consumerGroups.get(group.groupId) !== group || member === undefined) return;
    if (member.memberEpoch !== memberEpoch) return;
    this.#state.logger.info(
      { groupId: group.groupId, memberId, memberEpoch },
      "member did not revoke partitions in time",
    );
    const before = snapshotConsumerGroup(group);
    this.#fenceConsumerMember(group, member, "rebalance timeout");
    void this.#persistConsumerGroup(group.groupId, before);
  }

  /** Writes what changed in a KIP-848 group since `before`; resolves to null or an error code. */
  #persistConsumerGroup(groupId: string, before: ConsumerGroupSnapshot): Promise<number | null> {
    const records = consumerGroupDelta(groupId, before, this.#state.consumerGroups.get(groupId));
    return records.length === 0 ? Promise.resolve(null) : this.#state.append(groupId, records);
  }

  /** The group's partition moved away: its members' timers stop (the caller drops the group). */
  unloadGroup(group: ConsumerGroup): void {
    for (const memberId of group.members.keys()) this.#cancelConsumerTimers(group, memberId);
  }

  #cancelConsumerTimers(group: ConsumerGroup, memberId: string): void {
    this.#state.timer.cancel(consumerSessionKey(group.groupId, memberId));
    this.#state.timer.cancel(consumerRebalanceKey(group.groupId, memberId));
  }

  /** Removes a member; the others get a new target assignment at the next group epoch. */
  #fenceConsumerMember(group: ConsumerGroup, member: ConsumerMember, reason: string): void {
    this.#cancelConsumerTimers(group, member.memberId);
    group.updateMember(member, null, this.#state.timer.nowMs());
    group.targetAssignment.delete(member.memberId);
    group.groupEpoch++;
    group.subscriptionSignature = subscriptionSignature(
      group.subscribedTopics(this.#state.topics()),
      this.#state.topics(),
    );
    this.#state.logger.info(
      { groupId: group.groupId, memberId: member.memberId, reason, groupEpoch: group.groupEpoch },
      "member removed",
    );
  }

  describe(groupIds: readonly string[]): DescribedConsumerGroup[] {
    const topics = this.#state.topics();
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
      if (!this.#state.config.consumerProtocolEnabled) {
        return {
          ...empty,
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          errorMessage: "The consumer group protocol is disabled.",
        };
      }
      const gate = this.#state.gate(groupId);
      if (gate !== ErrorCode.NONE) return { ...empty, errorCode: gate };
      const group = this.#state.consumerGroups.get(groupId);
      if (group === undefined) {
        const message = this.#state.groups.has(groupId)
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
}
