/**
 * A group's state as records of __consumer_offsets, and back: the classic GroupMetadata record
 * (type 2) of a classic group, the KIP-848 records (types 3, 5, 6, 7, 8) that take a consumer group
 * from one state to the next, and the groups rebuilt from them on load. The records' encoding is
 * offsets-records.ts (the generated codecs of `kafka-spec/group-coordinator`); this module decides
 * what goes in them.
 *
 * Pure functions: nothing here reads the clock or writes; the coordinator appends what they return.
 */
import { decodeConsumerProtocolSubscription } from "../../protocol/generated/consumer-protocol-subscription.js";
import type { GroupMetadataValue } from "../../protocol/generated/group-metadata-value.js";
import { Reader } from "../../protocol/primitives/reader.js";
import { ClassicGroup, type ClassicGroupState, ClassicMember, type JoinProtocol } from "./classic-group.js";
import {
  type Assignment,
  assignmentEquals,
  ConsumerGroup,
  type ConsumerMember,
  subscriptionSignature,
  type TopicsByName,
} from "./consumer-group.js";
import { CONSUMER_PROTOCOL_TYPE, EMPTY_BUFFER } from "./coordinator-state.js";
import {
  type CoordinatorRecord,
  consumerGroupCurrentMemberAssignmentRecord,
  consumerGroupMemberMetadataRecord,
  consumerGroupMetadataRecord,
  consumerGroupTargetAssignmentMemberRecord,
  consumerGroupTargetAssignmentMetadataRecord,
  type DecodedGroupRecord,
  groupMetadataRecord,
} from "./offsets-records.js";

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

// -----------------------------------------------------------------------------------------------
// Classic groups: one GroupMetadata record holds the whole group.

/**
 * The GroupMetadata record of a classic group; `assignment` replaces the members' current
 * assignments (the leader's SyncGroup), null keeps them.
 */
export function classicGroupMetadataRecord(
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

/** The classic group a GroupMetadata record describes: Stable with its members, else Empty. */
export function classicGroupFromRecord(groupId: string, value: GroupMetadataValue): ClassicGroup {
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

/** Sorted topic-partitions of an assignment, as the wire carries them. */
export function toTopicPartitions(a: Assignment): { topicId: string; partitions: number[] }[] {
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

export interface ConsumerGroupSnapshot {
  readonly exists: boolean;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly members: ReadonlyMap<string, ConsumerMember>;
  readonly targets: ReadonlyMap<string, Assignment>;
}

export function snapshotConsumerGroup(group: ConsumerGroup | undefined): ConsumerGroupSnapshot {
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
export function consumerGroupDelta(
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

/** The tombstones that remove a KIP-848 group's records (its offsets are not among them). */
export function consumerGroupTombstones(group: ConsumerGroup): CoordinatorRecord[] {
  return consumerGroupDelta(group.groupId, snapshotConsumerGroup(group), undefined);
}

export interface LoadingConsumerGroup {
  groupEpoch: number;
  assignmentEpoch: number;
  readonly members: Map<string, { member: ConsumerMember; metadataSeen: boolean }>;
  readonly targets: Map<string, Assignment>;
}

/** The KIP-848 group its replayed records describe (its members' sessions are the caller's). */
export function consumerGroupFromLoaded(
  groupId: string,
  loaded: LoadingConsumerGroup,
  topics: TopicsByName,
  nowMs: number,
): ConsumerGroup {
  const group = new ConsumerGroup(groupId, nowMs);
  group.groupEpoch = loaded.groupEpoch;
  group.assignmentEpoch = loaded.assignmentEpoch;
  for (const [memberId, target] of loaded.targets) group.targetAssignment.set(memberId, target);
  for (const member of loaded.members.values()) {
    if (member.metadataSeen) group.updateMember(undefined, member.member, nowMs);
  }
  group.subscriptionSignature = subscriptionSignature(group.subscribedTopics(topics), topics);
  return group;
}

function toAssignment(tps: readonly { topicId: string; partitions: readonly number[] }[]): Assignment {
  const a: Assignment = new Map();
  for (const tp of tps) a.set(tp.topicId, new Set(tp.partitions));
  return a;
}

export function replayConsumerRecord(
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
