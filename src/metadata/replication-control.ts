/**
 * The partition side of the controller (Kafka's ReplicationControlManager): the records that move
 * leadership and ISR membership when brokers are fenced, unfenced or shut down, AlterPartition
 * from partition leaders, and leader elections. Pure functions of the committed image and the
 * request; the controller (controller.ts) proposes what they return.
 */
import type {
  AlterPartitionRequest,
  AlterPartitionRequestPartitionData,
} from "../protocol/generated/alter-partition-request.js";
import type {
  AlterPartitionResponse,
  AlterPartitionResponsePartitionData,
} from "../protocol/generated/alter-partition-response.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { ZERO_UUID } from "../protocol/primitives/uuid.js";
import type { MetadataImage, PartitionImage, TopicImage } from "./image.js";
import { applyPartitionChange, buildPartitionChange, type Election } from "./partition-change.js";
import { LEADER_RECOVERY_STATE, NO_LEADER, type PartitionChangeRecordData } from "./records.js";

/** Whether a topic allows unclean elections (its override, else the broker's setting). */
export type UncleanEnabled = (topic: string) => boolean;

/** Kafka's ReplicationControlManager.MAX_ELECTIONS_PER_IMBALANCE. */
export const ELECTIONS_PER_IMBALANCE_MAX = 1000;

function* partitions(image: MetadataImage): Generator<{ topic: TopicImage; partition: PartitionImage }> {
  for (const topic of image.topicsByName.values()) {
    for (const partition of topic.partitions) yield { topic, partition };
  }
}

/** Does `brokerId` lead any partition? */
export function hasLeaderships(image: MetadataImage, brokerId: number): boolean {
  for (const { partition } of partitions(image)) if (partition.leader === brokerId) return true;
  return false;
}

/**
 * Kafka's generateLeaderAndIsrUpdates. `remove`: a broker leaving (fenced, shutting down, or a
 * new incarnation replacing it): dropped from every ISR it is in (never the last member) and never
 * an acceptable leader. `add`: a broker being unfenced: acceptable as leader of the partitions
 * that have none, though the image still shows it fenced.
 */
export function leaderAndIsrUpdates(
  image: MetadataImage,
  change: { readonly remove?: number; readonly add?: number },
  uncleanEnabled: UncleanEnabled,
): PartitionChangeRecordData[] {
  const remove = change.remove ?? NO_LEADER;
  const add = change.add ?? NO_LEADER;
  const acceptable = (r: number) => r !== remove && (r === add || image.isActiveBroker(r));
  const records: PartitionChangeRecordData[] = [];
  for (const { topic, partition } of partitions(image)) {
    const affected =
      (remove !== NO_LEADER && partition.isr.includes(remove)) ||
      (add !== NO_LEADER && partition.leader === NO_LEADER);
    if (!affected) continue;
    const record = buildPartitionChange({
      topicId: topic.topicId,
      partition,
      isAcceptableLeader: acceptable,
      election: uncleanEnabled(topic.name) ? "unclean" : "online",
      targetIsr: partition.isr.filter((r) => r !== remove),
    });
    if (record !== undefined) records.push(record);
  }
  return records;
}

/**
 * AlterPartition travels as the generated wire types (plain data): the partition leader builds
 * the request, a remote channel sends it as is. The controller reads `newIsrWithEpochs` (v3);
 * the v2 handler fills it from `newIsr` with broker epoch -1 (no epoch check), as Kafka does.
 */
export type { AlterPartitionRequest, AlterPartitionResponse };

type AlterPartitionPartitionResult = AlterPartitionResponsePartitionData;

function failed(partitionIndex: number, errorCode: number): AlterPartitionPartitionResult {
  return {
    partitionIndex,
    errorCode,
    leaderId: -1,
    leaderEpoch: -1,
    isr: [],
    leaderRecoveryState: 0,
    partitionEpoch: -1,
  };
}

/** Kafka's checkBrokerEpoch: the error message, or undefined when `brokerEpoch` is current. */
export function staleBrokerEpoch(
  image: MetadataImage,
  brokerId: number,
  brokerEpoch: bigint,
): string | undefined {
  const b = image.brokers.get(brokerId);
  if (b === undefined) return `No broker registration found for broker id ${brokerId}`;
  if (b.brokerEpoch !== brokerEpoch)
    return `Expected broker epoch ${b.brokerEpoch}, but got broker epoch ${brokerEpoch}`;
  return undefined;
}

/** Kafka's validateAlterPartitionData: NONE or the partition's error. */
function validateAlterPartition(
  image: MetadataImage,
  brokerId: number,
  partition: PartitionImage | undefined,
  data: AlterPartitionRequestPartitionData,
): number {
  if (partition === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  // A leader ahead of this controller's image: this is likely no longer the active controller.
  if (data.leaderEpoch > partition.leaderEpoch || data.partitionEpoch > partition.partitionEpoch)
    return ErrorCode.NOT_CONTROLLER;
  if (data.leaderEpoch < partition.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (brokerId !== partition.leader) return ErrorCode.INVALID_REQUEST;
  if (data.partitionEpoch < partition.partitionEpoch) return ErrorCode.INVALID_UPDATE_VERSION;
  const newIsr = data.newIsrWithEpochs.map((b) => b.brokerId);
  // Kafka's Replicas.validateIsr: non-empty, no duplicates, every member a replica.
  if (
    newIsr.length === 0 ||
    new Set(newIsr).size !== newIsr.length ||
    newIsr.some((r) => !partition.replicas.includes(r))
  )
    return ErrorCode.INVALID_REQUEST;
  if (!newIsr.includes(partition.leader)) return ErrorCode.INVALID_REQUEST;
  if (data.leaderRecoveryState === LEADER_RECOVERY_STATE.RECOVERING && newIsr.length > 1)
    return ErrorCode.INVALID_REQUEST;
  if (
    partition.leaderRecoveryState === LEADER_RECOVERY_STATE.RECOVERED &&
    data.leaderRecoveryState === LEADER_RECOVERY_STATE.RECOVERING
  )
    return ErrorCode.INVALID_REQUEST;
  for (const member of data.newIsrWithEpochs) {
    const b = image.brokers.get(member.brokerId);
    if (
      b === undefined ||
      b.inControlledShutdown ||
      b.fenced ||
      (member.brokerEpoch !== -1n && member.brokerEpoch !== b.brokerEpoch)
    )
      return ErrorCode.INELIGIBLE_REPLICA;
  }
  return ErrorCode.NONE;
}

/**
 * Kafka's ReplicationControlManager.alterPartition (AlterPartition v2+): the partition leader
 * proposes a new ISR (and recovery state); each partition is checked on its own.
 */
export function alterPartition(
  image: MetadataImage,
  request: AlterPartitionRequest,
  uncleanEnabled: UncleanEnabled,
): { response: AlterPartitionResponse; records: PartitionChangeRecordData[] } {
  if (staleBrokerEpoch(image, request.brokerId, request.brokerEpoch) !== undefined) {
    return {
      response: { throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, topics: [] },
      records: [],
    };
  }
  const records: PartitionChangeRecordData[] = [];
  const topics: AlterPartitionResponse["topics"] = [];
  for (const t of request.topics) {
    const topic = t.topicId === ZERO_UUID ? undefined : image.topicsById.get(t.topicId);
    if (topic === undefined) {
      topics.push({
        topicId: t.topicId,
        partitions: t.partitions.map((p) => failed(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_ID)),
      });
      continue;
    }
    const results: AlterPartitionPartitionResult[] = [];
    for (const data of t.partitions) {
      let partition = topic.partitions[data.partitionIndex];
      const error = validateAlterPartition(image, request.brokerId, partition, data);
      if (error !== ErrorCode.NONE || partition === undefined) {
        results.push(failed(data.partitionIndex, error));
        continue;
      }
      const change = buildPartitionChange({
        topicId: topic.topicId,
        partition,
        isAcceptableLeader: (r) => image.isActiveBroker(r),
        election: uncleanEnabled(topic.name) ? "unclean" : "online",
        targetIsr: data.newIsrWithEpochs.map((b) => b.brokerId),
        targetLeaderRecoveryState: data.leaderRecoveryState,
      });
      if (change !== undefined) {
        records.push(change);
        partition = applyPartitionChange(partition, change);
        if (change.leader !== undefined && change.leader !== request.brokerId) {
          // The change moved leadership (only a reassignment completing does, in Kafka): the
          // requester must refresh its metadata before trying again.
          results.push(failed(data.partitionIndex, ErrorCode.NEW_LEADER_ELECTED));
          continue;
        }
      }
      results.push({
        partitionIndex: data.partitionIndex,
        errorCode: ErrorCode.NONE,
        leaderId: partition.leader,
        leaderEpoch: partition.leaderEpoch,
        isr: [...partition.isr],
        leaderRecoveryState: partition.leaderRecoveryState,
        partitionEpoch: partition.partitionEpoch,
      });
    }
    topics.push({ topicId: t.topicId, partitions: results });
  }
  return { response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics }, records };
}

/** Kafka's ElectionType: 0 preferred, 1 unclean. */
export const ELECTION_TYPE = { PREFERRED: 0, UNCLEAN: 1 } as const;

export interface ElectLeadersResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly results: ReadonlyArray<{
    readonly topic: string;
    readonly partitions: ReadonlyArray<{
      readonly partitionId: number;
      readonly errorCode: number;
      readonly errorMessage: string | null;
    }>;
  }>;
}

/** Kafka's electLeader for one partition: the error (NONE when a record was added). */
function electLeader(
  image: MetadataImage,
  topicName: string,
  partitionId: number,
  electionType: number,
  records: PartitionChangeRecordData[],
): { errorCode: number; errorMessage: string | null } {
  const topic = image.topicsByName.get(topicName);
  if (topic === undefined)
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${topicName}` };
  const partition = topic.partitions[partitionId];
  if (partition === undefined) {
    return {
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `No such partition as ${topicName}-${partitionId}`,
    };
  }
  const preferred = electionType === ELECTION_TYPE.PREFERRED;
  if (
    (preferred && partition.leader === partition.replicas[0]) ||
    (!preferred && partition.leader !== NO_LEADER)
  ) {
    return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null };
  }
  const election: Election = preferred ? "preferred" : "unclean";
  const record = buildPartitionChange({
    topicId: topic.topicId,
    partition,
    isAcceptableLeader: (r) => image.isActiveBroker(r),
    election,
  });
  if (record === undefined) {
    return preferred
      ? { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: null }
      : { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: null };
  }
  records.push(record);
  return { errorCode: ErrorCode.NONE, errorMessage: null };
}

/**
 * Kafka's electLeaders (ElectLeaders, `kafka-leader-election`): preferred or unclean elections
 * for the named partitions, or (null) for every partition, where partitions that need none are
 * left out of the answer.
 */
export function electLeaders(
  image: MetadataImage,
  electionType: number,
  topicPartitions: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }> | null,
): { result: ElectLeadersResult; records: PartitionChangeRecordData[] } {
  const records: PartitionChangeRecordData[] = [];
  if (electionType !== ELECTION_TYPE.PREFERRED && electionType !== ELECTION_TYPE.UNCLEAN) {
    return {
      result: {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Unknown election type ${electionType}`,
        results: [],
      },
      records,
    };
  }
  const results: ElectLeadersResult["results"][number][] = [];
  if (topicPartitions === null) {
    for (const topic of image.topicsByName.values()) {
      const out: ElectLeadersResult["results"][number]["partitions"][number][] = [];
      for (const p of topic.partitions) {
        const r = electLeader(image, topic.name, p.partitionId, electionType, records);
        if (r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED) out.push({ partitionId: p.partitionId, ...r });
      }
      results.push({ topic: topic.name, partitions: out });
    }
  } else {
    for (const t of topicPartitions) {
      results.push({
        topic: t.topic,
        partitions: t.partitions.map((partitionId) => ({
          partitionId,
          ...electLeader(image, t.topic, partitionId, electionType, records),
        })),
      });
    }
  }
  return { result: { errorCode: ErrorCode.NONE, errorMessage: null, results }, records };
}

/**
 * Kafka's maybeBalancePartitionLeaders (`auto.leader.rebalance.enable`): preferred elections for
 * partitions not led by their first replica, at most ELECTIONS_PER_IMBALANCE_MAX at a time.
 */
export function balanceLeaders(image: MetadataImage): PartitionChangeRecordData[] {
  const records: PartitionChangeRecordData[] = [];
  for (const { topic, partition } of partitions(image)) {
    if (records.length >= ELECTIONS_PER_IMBALANCE_MAX) break;
    if (partition.leader === partition.replicas[0]) continue;
    const record = buildPartitionChange({
      topicId: topic.topicId,
      partition,
      isAcceptableLeader: (r) => image.isActiveBroker(r),
      election: "preferred",
    });
    if (record !== undefined) records.push(record);
  }
  return records;
}

/**
 * Kafka's maybeElectUncleanLeaders: for leaderless partitions of topics that allow it, an unclean
 * election; at most ELECTIONS_PER_IMBALANCE_MAX at a time.
 */
export function electUncleanLeaders(
  image: MetadataImage,
  uncleanEnabled: UncleanEnabled,
): PartitionChangeRecordData[] {
  const records: PartitionChangeRecordData[] = [];
  for (const { topic, partition } of partitions(image)) {
    if (records.length >= ELECTIONS_PER_IMBALANCE_MAX) break;
    if (partition.leader !== NO_LEADER || !uncleanEnabled(topic.name)) continue;
    electLeader(image, topic.name, partition.partitionId, ELECTION_TYPE.UNCLEAN, records);
  }
  return records;
}
