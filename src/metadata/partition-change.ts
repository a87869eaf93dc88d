/**
 * Kafka's PartitionChangeBuilder: from a partition's committed state and a target (ISR, election
 * type, recovery state), the one PartitionChangeRecord that gets there, or nothing when nothing
 * changes. Pure: whether a broker may lead is a predicate the caller passes (registered, unfenced,
 * not in controlled shutdown, and not the broker being removed).
 *
 * Rules, as in Kafka 4.4 without eligible leader replicas (KIP-966 is not done):
 * - Election ONLINE (the default): keep the current leader if it is still in the target ISR and
 *   acceptable, else the first acceptable target-ISR member in replica order, else no leader (-1).
 * - PREFERRED: the first replica if it is in the ISR and acceptable, else as ONLINE.
 * - UNCLEAN: as ONLINE, then any acceptable replica in replica order; the ISR becomes that leader
 *   alone and the leader recovery state RECOVERING (KIP-704). Data may be lost.
 * - The ISR never becomes empty: when every member would go, the last one stays (with no leader),
 *   so a clean election is possible when it comes back.
 * - A leader field in the record bumps the leader epoch; the partition epoch moves on any change.
 *   An ISR shrink alone does not bump the leader epoch (KAFKA-15021, MV 3.6+).
 */
import type { PartitionImage } from "./image.js";
import { LEADER_RECOVERY_STATE, NO_LEADER, type PartitionChangeRecordData } from "./records.js";

export type Election = "preferred" | "online" | "unclean";

export interface PartitionChangeSpec {
  readonly topicId: string;
  readonly partition: PartitionImage;
  /** May `brokerId` lead (and, for an unclean election, be picked from outside the ISR)? */
  readonly isAcceptableLeader: (brokerId: number) => boolean;
  readonly election?: Election;
  /** The ISR to move to (default: unchanged). */
  readonly targetIsr?: readonly number[];
  /** The leader recovery state to move to (default: unchanged). */
  readonly targetLeaderRecoveryState?: number;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface ElectionResult {
  readonly leader: number;
  readonly unclean: boolean;
}

function elect(spec: PartitionChangeSpec, targetIsr: readonly number[]): ElectionResult {
  const { partition, isAcceptableLeader } = spec;
  const election = spec.election ?? "online";
  const isValidNewLeader = (r: number) => targetIsr.includes(r) && isAcceptableLeader(r);
  if (election === "preferred") {
    const preferred = partition.replicas[0];
    if (preferred !== undefined && isValidNewLeader(preferred)) return { leader: preferred, unclean: false };
  }
  if (isValidNewLeader(partition.leader)) return { leader: partition.leader, unclean: false };
  const online = partition.replicas.find(isValidNewLeader);
  if (online !== undefined) return { leader: online, unclean: false };
  if (election === "unclean") {
    const unclean = partition.replicas.find(isAcceptableLeader);
    if (unclean !== undefined) return { leader: unclean, unclean: true };
  }
  return { leader: NO_LEADER, unclean: false };
}

/** The change record, or undefined when the partition would not change. */
export function buildPartitionChange(spec: PartitionChangeSpec): PartitionChangeRecordData | undefined {
  const { partition } = spec;
  const targetIsr = spec.targetIsr ?? partition.isr;
  let leader: number | undefined;
  let isr: readonly number[] | undefined;
  let leaderRecoveryState: number | undefined;
  const result = elect(spec, targetIsr);
  if (result.leader !== partition.leader) {
    leader = result.leader;
    if (result.unclean) {
      // The new leader may miss committed records: it alone is in sync, and it recovers first.
      isr = [result.leader];
      if (partition.leaderRecoveryState !== LEADER_RECOVERY_STATE.RECOVERING) {
        leaderRecoveryState = LEADER_RECOVERY_STATE.RECOVERING;
      }
    }
  }
  // Without ELR the ISR is never emptied: its last member stays so it can lead cleanly again.
  if (isr === undefined && targetIsr.length > 0 && !sameList(targetIsr, partition.isr)) isr = targetIsr;
  const targetRecovery = spec.targetLeaderRecoveryState ?? partition.leaderRecoveryState;
  if (leaderRecoveryState === undefined && targetRecovery !== partition.leaderRecoveryState) {
    leaderRecoveryState = targetRecovery;
  }
  if (leader === undefined && isr === undefined && leaderRecoveryState === undefined) return undefined;
  return {
    topicId: spec.topicId,
    partitionId: partition.partitionId,
    ...(isr !== undefined ? { isr: [...isr] } : {}),
    ...(leader !== undefined ? { leader } : {}),
    ...(leaderRecoveryState !== undefined ? { leaderRecoveryState } : {}),
  };
}

/** The partition after `change`, as the image applies it (for chaining several changes in one batch). */
export function applyPartitionChange(
  partition: PartitionImage,
  change: PartitionChangeRecordData,
): PartitionImage {
  return {
    partitionId: partition.partitionId,
    replicas: change.replicas ?? partition.replicas,
    isr: change.isr ?? partition.isr,
    leader: change.leader ?? partition.leader,
    leaderEpoch: change.leader !== undefined ? partition.leaderEpoch + 1 : partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch + 1,
    leaderRecoveryState: change.leaderRecoveryState ?? partition.leaderRecoveryState,
  };
}
