/**
 * What a partition leader knows about its followers and its ISR (Kafka's Replica, ReplicaState
 * and PartitionState in `cluster/Replica.scala` / `Partition.scala`), and the call through which
 * it proposes ISR changes to the controller (Kafka's AlterPartitionManager).
 *
 * Concurrency contract: plain data owned by one `Partition`, changed synchronously on the event
 * loop; nothing here reads the clock (times come in as arguments).
 */
import type { AlterPartitionRequest } from "../../protocol/generated/alter-partition-request.js";
import type { AlterPartitionResponse } from "../../protocol/generated/alter-partition-response.js";

/** A partition's assignment and leadership as the metadata image (or AlterPartition) states it. */
export interface PartitionAssignment {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

/**
 * The controller's AlterPartition (api 56), as plain data so a remote controller can serve it:
 * the one way a leader changes its ISR. `ControllerChannel.alterPartition` implements it; it
 * rejects only when the outcome is unknown (the request may or may not have been applied).
 */
export interface AlterPartitionChannel {
  alterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse>;
}

/** How the leader sees another broker, from the metadata image (KIP-841, KIP-903). */
export interface BrokerLiveness {
  readonly brokerEpoch: bigint;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
}

/** Offset not known yet (Kafka's UnifiedLog.UnknownOffset). */
export const UNKNOWN_OFFSET = -1;

/**
 * One follower's state on the leader (Kafka's Replica + ReplicaState): its log end and start
 * offsets as its last fetch stated them, when it last fetched, the leader's log end at that time,
 * when it was last caught up, and the broker epoch it fetched with (undefined: not fetched since
 * this node became leader).
 */
export class Replica {
  readonly brokerId: number;
  logEndOffset = UNKNOWN_OFFSET;
  logStartOffset = UNKNOWN_OFFSET;
  lastFetchLeaderLogEndOffset = 0;
  lastFetchTimeMs = 0;
  lastCaughtUpTimeMs = 0;
  brokerEpoch: bigint | undefined = undefined;

  constructor(brokerId: number) {
    this.brokerId = brokerId;
  }

  /**
   * A fetch at `fetchOffset` arrived at `fetchTimeMs` when the leader's log ended at
   * `leaderEndOffset` (Kafka's Replica.updateFetchStateOrThrow; the stale-epoch check is the
   * caller's). A follower that read up to the leader's end now, or up to where the leader's log
   * ended at its previous fetch, was caught up at that time: so a follower that always trails
   * a busy leader by one fetch still counts as caught up.
   */
  updateFetchState(
    fetchOffset: number,
    logStartOffset: number,
    fetchTimeMs: number,
    leaderEndOffset: number,
    brokerEpoch: bigint,
  ): void {
    if (fetchOffset >= leaderEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, fetchTimeMs);
    } else if (fetchOffset >= this.lastFetchLeaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, this.lastFetchTimeMs);
    }
    this.logStartOffset = logStartOffset;
    this.logEndOffset = fetchOffset;
    this.lastFetchLeaderLogEndOffset = Math.max(leaderEndOffset, this.lastFetchLeaderLogEndOffset);
    this.lastFetchTimeMs = fetchTimeMs;
    this.brokerEpoch = brokerEpoch;
  }

  /**
   * The leader was elected or re-elected (Kafka's Replica.resetReplicaState): an ISR member gets a
   * fresh caught-up time so it is not dropped at once, others get 0 so they do not hold the high
   * watermark back; a new leader forgets every offset it had (it learns them from fetches).
   */
  reset(nowMs: number, leaderEndOffset: number, isNewLeader: boolean, inSync: boolean): void {
    this.lastCaughtUpTimeMs = inSync ? nowMs : 0;
    if (isNewLeader) {
      this.logEndOffset = UNKNOWN_OFFSET;
      this.logStartOffset = UNKNOWN_OFFSET;
      this.lastFetchLeaderLogEndOffset = UNKNOWN_OFFSET;
      this.lastFetchTimeMs = 0;
      this.brokerEpoch = undefined;
    } else {
      this.lastFetchLeaderLogEndOffset = leaderEndOffset;
      this.lastFetchTimeMs = inSync ? nowMs : 0;
    }
  }

  /** Kafka's ReplicaState.isCaughtUp: at the leader's end, or caught up within the lag bound. */
  isCaughtUp(leaderEndOffset: number, nowMs: number, replicaLagTimeMaxMs: number): boolean {
    return leaderEndOffset === this.logEndOffset || nowMs - this.lastCaughtUpTimeMs <= replicaLagTimeMaxMs;
  }
}

/**
 * The ISR as the leader uses it (Kafka's PartitionState): committed, or with one AlterPartition in
 * flight. While an expansion is in flight the high watermark already waits for the new member
 * (the maximal ISR is the larger set); while a shrink is in flight it still waits for the members
 * being removed, because the change may fail. Either way the answer cannot move the high watermark
 * past data a future leader lacks.
 */
export type IsrState =
  | { readonly kind: "committed"; readonly isr: ReadonlySet<number> }
  | {
      readonly kind: "pendingExpand" | "pendingShrink";
      /** The committed ISR while the change is in flight. */
      readonly isr: ReadonlySet<number>;
      readonly maximalIsr: ReadonlySet<number>;
      /** The ISR proposed to the controller. */
      readonly proposed: readonly number[];
      readonly leaderEpoch: number;
      readonly partitionEpoch: number;
    };

export function maximalIsr(state: IsrState): ReadonlySet<number> {
  return state.kind === "committed" ? state.isr : state.maximalIsr;
}
