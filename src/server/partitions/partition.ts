/**
 * About 1,200 lines, kept whole for now: the leader and follower halves of one replica (appends,
 * the high watermark, the ISR, follower fetch state, truncation) change the same log end, epochs
 * and producer state under one synchronous contract. The next cut is Kafka's split: the leader's
 * replica tracking and ISR changes (`replica-state.ts` has begun it) out of this file.
 *
 * One partition replica on this broker (Kafka's Partition + the leader and follower halves of
 * UnifiedLog.append): its PartitionLog, its role (leader or follower) with the leader epoch and
 * partition epoch, the high watermark, the ISR and the followers' fetch state when it leads, and
 * the idempotent-producer state. The partition manager creates it when the metadata image gives
 * this node a replica and applies every later change of the partition's state (`makeLeader`,
 * `makeFollower`) when the image changes, so a lookup never changes it. Callers read the log
 * through the partition (`read`, `endOffsetForEpoch`, `fetchOffsetForTimestamp`), never
 * `partition.log`, and check a request's leader epoch with `checkLeaderEpoch`.
 *
 * Roles (Kafka's rules, docs/replication.md):
 * - none -> leader | follower, leader <-> follower, by the image only (`makeLeader`/`makeFollower`,
 *   skipped when the image's partition epoch is older than the one this partition knows, since
 *   an AlterPartition answer can be newer than the image).
 * - Leader: appends from producers and coordinators (`appendAsLeader`, `appendTxnMarker`); tracks
 *   each follower (`Replica`) from its fetches (`updateFollowerFetchState`); the high watermark
 *   moves in one place, `#maybeIncrementHighWatermark`: the minimum log end offset over the
 *   maximal ISR (and caught-up eligible replicas), never backwards, and not while the ISR is below
 *   min.insync.replicas (KAFKA-15583). ISR changes are proposed through AlterPartition, one in
 *   flight (`maybeShrinkIsr`, and the expansion inside `updateFollowerFetchState`).
 * - Follower: takes the leader's batches as they are (`appendAsFollower`: same offsets, epochs
 *   and CRCs, validated, never re-encoded) and rebuilds producer state and the aborted-transaction
 *   index from them; truncates when its log diverged (`truncateTo`, `truncateFullyAndStartAt`);
 *   its high watermark is min(leader's, own log end) (`updateFollowerHighWatermark`).
 * A single-replica partition is the leader with ISR [self]: the high watermark is the log end
 * offset after each append, as before replication.
 *
 * The last stable offset is the first offset of the oldest open transaction, or the high
 * watermark when none is open; COMMIT/ABORT markers are appended by the transaction coordinator
 * (`appendTxnMarker`), and aborted transactions are kept in the aborted-transaction index for
 * read_committed fetches (producer-state/aborted-txns.ts).
 *
 * Producer state is loaded when the partition is first used (and again after a truncation): the
 * newest producer snapshot at or below the log end (snapshots above it belong to truncated data
 * and are deleted), then the batch headers after it are replayed from the log. Snapshots are
 * written by `takeSnapshot` (the manager calls it periodically and at shutdown), named by the log
 * end offset they reflect.
 *
 * Concurrency contract: every method is synchronous except the `durable` promise an append may
 * return and the AlterPartition answer, which is applied in one synchronous step (ignored when
 * the partition's ISR state changed meanwhile), so an append (producer checks, log write,
 * producer-state update, high watermark, waking fetches) runs to completion before any other
 * request sees the partition.
 *
 * Files under src/ stay under about 1,000 lines; this one is longer because it keeps Kafka's
 * Partition in one place (roles, high watermark, ISR, both append paths), as the seam
 * docs/CONTRACTS.md describes.
 */
import { type Clock, SYSTEM_CLOCK } from "../../clock.js";
import { isKrillError, KrillError } from "../../errors.js";
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  type PartitionLog,
  type ReadResult,
  type TimestampOffset,
} from "../../log/partition-log.js";
import type { AlterPartitionRequest } from "../../protocol/generated/alter-partition-request.js";
import type { AlterPartitionResponse } from "../../protocol/generated/alter-partition-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import {
  ATTR_CONTROL_MASK,
  ATTR_TRANSACTIONAL_MASK,
  readBatchHeader,
} from "../../protocol/records/batch-header.js";
import { iterateBatches, probeBatch } from "../../protocol/records/batch-iterator.js";
import { buildEndTxnMarkerBatch, parseEndTxnMarker } from "../../protocol/records/control-records.js";
import type { ProducedBatchSummary } from "../../protocol/records/produce-validation.js";
import { decodeRecordBatch } from "../../protocol/records/record-batch.js";
import { type AbortedTxn, AbortedTxnIndex } from "../producer-state/aborted-txns.js";
import { ProducerStateManager, type ProducerStateOptions } from "../producer-state/producer-state.js";
import {
  deleteSnapshotFile,
  encodeSnapshot,
  listSnapshotOffsets,
  readSnapshotFile,
  writeSnapshotBytes,
} from "../producer-state/snapshot.js";
import { VerificationGuards } from "../producer-state/verification-guards.js";
import { lookupOffsetByTimestamp } from "./offset-lookup.js";
import {
  type AlterPartitionChannel,
  type BrokerLiveness,
  type IsrState,
  maximalIsr,
  type PartitionAssignment,
  Replica,
} from "./replica-state.js";

/** Bytes read per step while replaying producer state from the log. */
const REPLAY_READ_BYTES = 1024 * 1024;

export type AppendOutcome =
  | {
      kind: "appended";
      firstOffset: number;
      lastOffset: number;
      logAppendTimeMs: number;
      logStartOffset: number;
      durable: Promise<void> | undefined;
    }
  | { kind: "duplicate"; firstOffset: number; logAppendTimeMs: number; logStartOffset: number }
  | { kind: "error"; errorCode: number; errorMessage: string };

type AppendError = Extract<AppendOutcome, { kind: "error" }>;

export interface PartitionEvents {
  /**
   * Bytes appended to the log (wakes delayed fetches): followers' fetches count all of them,
   * consumers' only the `visibleBytes` below the high watermark and read_committed ones only the
   * `stableBytes` below the last stable offset (Infinity: the offset moved past earlier data,
   * amount unknown: re-read). Both default to `bytes`.
   */
  onAppend(key: string, bytes: number, stableBytes?: number, visibleBytes?: number): void;
  /** The log changed other than by an append (truncation, log start moved, role change). */
  onChange(key: string): void;
  /**
   * The high watermark moved other than within an append's own `onAppend` (a follower's fetch,
   * an ISR change): delayed produces and consumer fetches on the partition re-check.
   */
  onHighWatermark?(key: string): void;
  warn(fields: object, message: string): void;
}

/**
 * What a partition needs to replicate: who this node is, the topic's settings, the brokers' state
 * from the image, and the controller's AlterPartition. The defaults describe a lone broker 0 with
 * no followers, for partitions built outside a PartitionManager (tests).
 */
export interface PartitionReplicationOptions {
  readonly localBrokerId: number;
  readonly topicId: string;
  /** replica.lag.time.max.ms: a follower not caught up for longer leaves the ISR. */
  readonly replicaLagTimeMaxMs: number;
  /** The topic's min.insync.replicas now. */
  minInsyncReplicas(): number;
  /** This node's broker epoch (-1n when not registered). */
  localBrokerEpoch(): bigint;
  /** Another broker's registration in the image (undefined: not registered). */
  broker(brokerId: number): BrokerLiveness | undefined;
  readonly alterPartition: AlterPartitionChannel;
  /**
   * The high watermark the log dir's replication-offset-checkpoint holds for this partition
   * (undefined: none), taken when the partition takes its first role.
   */
  readonly checkpointedHighWatermark?: number;
  /** Runs `task` after `delayMs` (retries of an AlterPartition whose outcome is unknown). */
  schedule(delayMs: number, task: () => void): void;
}

/** Backoff before an AlterPartition whose outcome is unknown is sent again. */
export const ALTER_PARTITION_RETRY_MS = 100;

const STANDALONE_REPLICATION: PartitionReplicationOptions = {
  localBrokerId: 0,
  topicId: "AAAAAAAAAAAAAAAAAAAAAA",
  replicaLagTimeMaxMs: 30_000,
  minInsyncReplicas: () => 1,
  localBrokerEpoch: () => -1n,
  broker: () => undefined,
  alterPartition: {
    alterPartition: () => Promise.reject(new KrillError("STATE", "no controller for a standalone partition")),
  },
  schedule: () => {},
};

/** The result of a follower append: where the appended batches end and their last epoch. */
export type FollowerAppendOutcome =
  | { kind: "appended"; firstOffset: number; lastOffset: number; lastLeaderEpoch: number; bytes: number }
  | { kind: "empty" }
  | { kind: "error"; errorCode: number; errorMessage: string };

/**
 * A failing log fails every produce that reaches the partition (a full disk: each retry of each
 * producer), so after the first failure, which is logged with its error, further ones are logged
 * at most once per this interval, with how many there were since.
 */
export const APPEND_FAILURE_LOG_INTERVAL_MS = 10_000;

export class Partition {
  readonly topic: string;
  readonly partitionId: number;
  /** `${topic}-${partitionId}`, the key of the delayed-fetch purgatory. */
  readonly key: string;
  readonly log: PartitionLog;
  /** The leader epoch this replica knows (its own when leading), -1 before any role. */
  leaderEpoch: number;
  /** The partition epoch of the state this replica applied last (image or AlterPartition). */
  partitionEpoch = -1;
  /** The leader this replica knows (-1: none). */
  leaderId = -1;
  replicas: readonly number[] = [];
  /** Where the current leader epoch started in this log (leaders only). */
  leaderEpochStartOffset: number | undefined;
  readonly #events: PartitionEvents;
  readonly #producerStateOptions: ProducerStateOptions;
  readonly #clock: Clock;
  readonly #replication: PartitionReplicationOptions;
  /** Followers' state, by broker id (leaders only; empty on a follower). */
  readonly #remoteReplicas = new Map<number, Replica>();
  #isrState: IsrState = { kind: "committed", isr: new Set() };
  #producerState: ProducerStateManager | undefined;
  /** Transactional produces being verified with the coordinator (KIP-890; verification-guards.ts). */
  readonly verificationGuards = new VerificationGuards();
  readonly #abortedTxns: AbortedTxnIndex;
  #lastSnapshotOffset = -1;
  #snapshotting = false;
  /** Append failures since the last success: how many, how many not yet logged, when last logged. */
  #appendFailures = { count: 0, unlogged: 0, loggedAtMs: 0 };

  /**
   * A `leaderEpoch` >= 0 makes this node the leader of a single-replica partition at once (tests
   * and lone brokers); the partition manager passes -1 and applies the image's state with
   * `makeLeader` / `makeFollower`.
   */
  constructor(
    topic: string,
    partitionId: number,
    log: PartitionLog,
    leaderEpoch: number,
    events: PartitionEvents,
    producerStateOptions: ProducerStateOptions,
    clock: Clock = SYSTEM_CLOCK,
    replication: PartitionReplicationOptions = STANDALONE_REPLICATION,
  ) {
    this.topic = topic;
    this.partitionId = partitionId;
    this.key = `${topic}-${partitionId}`;
    this.log = log;
    this.leaderEpoch = -1;
    this.#events = events;
    this.#producerStateOptions = producerStateOptions;
    this.#clock = clock;
    this.#replication = replication;
    this.#abortedTxns = new AbortedTxnIndex(log.dir);
    if (leaderEpoch >= 0) {
      const self = replication.localBrokerId;
      this.makeLeader({ leader: self, leaderEpoch, partitionEpoch: 0, replicas: [self], isr: [self] });
    }
  }

  get isLeader(): boolean {
    return this.leaderId === this.#replication.localBrokerId && this.leaderEpoch >= 0;
  }

  /** The committed ISR (the controller's), as this leader last learned it; empty on a follower. */
  get isr(): ReadonlySet<number> {
    return this.#isrState.isr;
  }

  /** The ISR the high watermark waits for: the committed one plus a member being added. */
  get maximalIsr(): ReadonlySet<number> {
    return maximalIsr(this.#isrState);
  }

  /** An AlterPartition of this partition is in flight. */
  get isrChangeInFlight(): boolean {
    return this.#isrState.kind !== "committed";
  }

  /** A follower's state on this leader (undefined: not a follower of this partition). */
  replica(brokerId: number): Replica | undefined {
    return this.#remoteReplicas.get(brokerId);
  }

  /**
   * min.insync.replicas as Kafka applies it (Partition.effectiveMinIsr): never more than the
   * replication factor, so a setting above it does not block a smaller topic.
   */
  effectiveMinIsr(): number {
    if (this.#remoteReplicas.size === 0) return 1;
    return Math.min(this.#replication.minInsyncReplicas(), this.#remoteReplicas.size + 1);
  }

  /** Kafka's Partition.isUnderMinIsr: a leader whose committed ISR is below the effective minimum. */
  get isUnderMinIsr(): boolean {
    return this.isLeader && this.#isrState.isr.size < this.effectiveMinIsr();
  }

  /**
   * The image made (or kept) this node the leader (Kafka's Partition.makeLeader). A state older
   * than the partition epoch this replica knows is ignored (false). The ISR becomes the image's
   * (an AlterPartition in flight is forgotten: its answer will be ignored). A new leader epoch
   * starts at the log end offset in the leader-epoch cache, and the followers' state is reset:
   * ISR members count as caught up now, others not. Returns whether this node was not the leader.
   */
  makeLeader(state: PartitionAssignment): boolean {
    if (state.partitionEpoch < this.partitionEpoch) return false;
    this.#initHighWatermark(state);
    const nowMs = this.#clock.nowMs();
    const isNewLeader = !this.isLeader;
    const isNewLeaderEpoch = state.leaderEpoch > this.leaderEpoch;
    const self = this.#replication.localBrokerId;
    const followers = state.replicas.filter((id) => id !== self);
    for (const id of this.#remoteReplicas.keys())
      if (!followers.includes(id)) this.#remoteReplicas.delete(id);
    for (const id of followers)
      if (!this.#remoteReplicas.has(id)) this.#remoteReplicas.set(id, new Replica(id));
    this.replicas = [...state.replicas];
    this.#isrState = { kind: "committed", isr: new Set(state.isr) };
    if (isNewLeaderEpoch || isNewLeader) {
      this.verificationGuards.clearAll();
      this.leaderEpoch = state.leaderEpoch;
      this.#assignLeaderEpoch();
      const start = this.log.logEndOffset;
      for (const replica of this.#remoteReplicas.values()) {
        replica.reset(nowMs, start, isNewLeader, state.isr.includes(replica.brokerId));
      }
      this.leaderEpochStartOffset = start;
    }
    this.partitionEpoch = state.partitionEpoch;
    this.leaderId = self;
    // The ISR may have shrunk to this node alone.
    if (this.#maybeIncrementHighWatermark()) this.#events.onHighWatermark?.(this.key);
    return isNewLeader;
  }

  /**
   * The image made this node a follower of `state.leader` (Kafka's Partition.makeFollower): the
   * followers' state and the ISR are forgotten (a follower has none). A state older than the
   * partition epoch this replica knows is ignored. Returns whether the fetcher must (re)start:
   * the leader epoch is new (the leader may also have changed) or this node led until now.
   */
  makeFollower(state: PartitionAssignment): boolean {
    if (state.partitionEpoch < this.partitionEpoch) return false;
    this.#initHighWatermark(state);
    const isNewLeaderEpoch = state.leaderEpoch > this.leaderEpoch;
    const wasLeader = this.isLeader;
    this.verificationGuards.clearAll();
    this.leaderId = state.leader;
    this.leaderEpoch = state.leaderEpoch;
    this.leaderEpochStartOffset = undefined;
    this.partitionEpoch = state.partitionEpoch;
    this.replicas = [...state.replicas];
    this.#remoteReplicas.clear();
    this.#isrState = { kind: "committed", isr: new Set() };
    return isNewLeaderEpoch || wasLeader;
  }

  /**
   * The log's high watermark follows its end until set; the partition sets it when it takes its
   * first role, so it moves only by the rules here from then on (Kafka's Partition.createLog and
   * UnifiedLog.updateHighWatermark): the checkpointed high watermark, within the log's start and
   * end. Without a checkpoint entry a replicated partition starts at the log start: it cannot
   * know which of its offsets were committed, and exposing its whole log could show consumers
   * records a new leader lacks; it rises with the first fetches (leader) or fetch responses
   * (follower). A single-replica partition without one starts at its log end, as its leader's
   * high watermark goes there at once anyway.
   */
  #initHighWatermark(state: PartitionAssignment): void {
    if (this.partitionEpoch >= 0) {
      this.log.updateHighWatermark(this.log.highWatermark);
      return;
    }
    const start = this.log.logStartOffset;
    const end = this.log.logEndOffset;
    const initial = this.#replication.checkpointedHighWatermark ?? (state.replicas.length > 1 ? start : end);
    this.log.updateHighWatermark(Math.max(start, Math.min(initial, end)));
  }

  /**
   * Kafka's Partition.getLocalLog check for Fetch, ListOffsets and OffsetForLeaderEpoch: the
   * request's current leader epoch first (`checkLeaderEpoch`), then, when the request must reach
   * the leader, whether this replica leads (NOT_LEADER_OR_FOLLOWER), so a follower answers a
   * stale epoch with FENCED_LEADER_EPOCH as the leader would.
   */
  checkLeaderEpochAndRole(currentLeaderEpoch: number, requireLeader = true): number {
    const error = this.checkLeaderEpoch(currentLeaderEpoch);
    if (error !== ErrorCode.NONE) return error;
    return requireLeader && !this.isLeader ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE;
  }

  /**
   * Kafka's check of a request's current leader epoch (KIP-320, Partition.checkCurrentLeaderEpoch)
   * for Fetch, ListOffsets and OffsetForLeaderEpoch: -1 (or any negative) skips it, an older
   * epoch is FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH (this broker has not seen it).
   */
  checkLeaderEpoch(currentLeaderEpoch: number): number {
    if (currentLeaderEpoch < 0 || currentLeaderEpoch === this.leaderEpoch) return ErrorCode.NONE;
    return currentLeaderEpoch < this.leaderEpoch
      ? ErrorCode.FENCED_LEADER_EPOCH
      : ErrorCode.UNKNOWN_LEADER_EPOCH;
  }

  /**
   * The largest epoch <= `leaderEpoch` this log knows and the offset where it ends (Kafka's
   * Partition.lastOffsetForLeaderEpoch): OffsetForLeaderEpoch and Fetch's divergence check.
   */
  endOffsetForEpoch(leaderEpoch: number): { epoch: number; endOffset: number } {
    return this.log.endOffsetForEpoch(leaderEpoch);
  }

  /**
   * ListOffsets' lookup (Kafka's Partition.fetchOffsetForTimestamp): EARLIEST_TIMESTAMP (-2) is
   * the log start; LATEST_TIMESTAMP (-1) the last fetchable offset (the high watermark, or the
   * last stable offset for read_committed) in the current leader epoch; MAX_TIMESTAMP (-3) and
   * a timestamp >= 0 are answered at record precision (offset-lookup.ts), only below the last
   * fetchable offset (the log end for a follower's request, `fromReplica`). Undefined when no
   * offset qualifies.
   */
  fetchOffsetForTimestamp(
    timestamp: number,
    readCommitted: boolean,
    fromReplica = false,
  ): TimestampOffset | undefined {
    const lastFetchable = fromReplica
      ? this.log.logEndOffset
      : readCommitted
        ? this.lastStableOffset
        : this.highWatermark;
    if (timestamp === LATEST_TIMESTAMP) {
      return { offset: lastFetchable, timestamp: -1, leaderEpoch: this.leaderEpoch };
    }
    if (timestamp === EARLIEST_TIMESTAMP) return this.log.offsetForTimestamp(EARLIEST_TIMESTAMP);
    const hit = lookupOffsetByTimestamp(this.log, timestamp);
    return hit === undefined || hit.offset >= lastFetchable ? undefined : hit;
  }

  /**
   * As Kafka's leader does on election, a new epoch starts at the log end offset in the
   * leader-epoch cache even before data is written in it, so OffsetForLeaderEpoch for the
   * previous epoch ends where the new one starts. An empty log is left alone: its first append
   * records the epoch, and nobody can hold a position with an epoch in a log that has no data
   * (this also spares a checkpoint write per partition when many are created at once).
   */
  #assignLeaderEpoch(): void {
    const cache = this.log.leaderEpochCache;
    const empty = this.log.logEndOffset === this.log.logStartOffset && cache.latestEpoch < 0;
    if (!empty && this.leaderEpoch >= 0 && this.leaderEpoch > cache.latestEpoch) {
      cache.assign(this.leaderEpoch, this.log.logEndOffset);
    }
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  /**
   * The one place a leader's high watermark moves (Kafka's Partition.maybeIncrementLeaderHW): the
   * minimum log end offset over the maximal ISR, and over followers that are caught up and
   * eligible to join it (so a joining follower is not passed by the watermark it must reach), if
   * that is above the current one. Never while the ISR is below the effective
   * min.insync.replicas (KAFKA-15583). A follower whose offset this leader has not learned yet
   * (-1) holds it where it is. Returns whether it moved.
   */
  #maybeIncrementHighWatermark(): boolean {
    if (!this.isLeader || this.isUnderMinIsr) return false;
    const logEnd = this.log.logEndOffset;
    let next = logEnd;
    if (this.#remoteReplicas.size > 0) {
      const nowMs = this.#clock.nowMs();
      const maximal = this.maximalIsr;
      for (const replica of this.#remoteReplicas.values()) {
        if (replica.logEndOffset >= next) continue;
        const waitFor =
          maximal.has(replica.brokerId) ||
          (replica.isCaughtUp(logEnd, nowMs, this.#replication.replicaLagTimeMaxMs) &&
            this.#isReplicaIsrEligible(replica));
        if (waitFor) next = replica.logEndOffset;
      }
    }
    if (next <= this.log.highWatermark) return false;
    this.log.updateHighWatermark(next);
    return true;
  }

  /**
   * Kafka's Partition.isReplicaIsrEligible (KIP-841, KIP-903): the broker is registered, not
   * fenced, not shutting down, and fetched with its current broker epoch (or sent none, -1).
   */
  #isReplicaIsrEligible(replica: Replica): boolean {
    const broker = this.#replication.broker(replica.brokerId);
    if (broker === undefined || broker.fenced || broker.inControlledShutdown) return false;
    return (
      replica.brokerEpoch !== undefined &&
      (replica.brokerEpoch === -1n || replica.brokerEpoch === broker.brokerEpoch)
    );
  }

  /**
   * A follower's fetch must come from a replica of this partition (Kafka's followerReplicaOrThrow):
   * UNKNOWN_LEADER_EPOCH when the request named a leader epoch (the follower retries; it may be
   * newly assigned), else NOT_LEADER_OR_FOLLOWER. A broker epoch older than the image's is a
   * stale fetch from a previous incarnation: NOT_LEADER_OR_FOLLOWER (KIP-903).
   */
  checkFollower(replicaId: number, currentLeaderEpoch: number, brokerEpoch: bigint): number {
    if (!this.#remoteReplicas.has(replicaId)) {
      return currentLeaderEpoch >= 0 ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.NOT_LEADER_OR_FOLLOWER;
    }
    const registered = this.#replication.broker(replicaId)?.brokerEpoch;
    if (brokerEpoch !== -1n && registered !== undefined && registered > brokerEpoch) {
      return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    }
    return ErrorCode.NONE;
  }

  /**
   * Records a follower's fetch at `fetchOffset` (its log end) made when this leader's log ended
   * at `leaderEndOffset` (Kafka's Partition.updateFollowerFetchState): the follower may join the
   * ISR, and the high watermark may move. Call after `checkFollower` accepted the fetch and the
   * read found no diverging epoch.
   */
  updateFollowerFetchState(
    replicaId: number,
    fetchOffset: number,
    followerLogStartOffset: number,
    fetchTimeMs: number,
    leaderEndOffset: number,
    brokerEpoch: bigint,
  ): void {
    const replica = this.#remoteReplicas.get(replicaId);
    if (replica === undefined || !this.isLeader) return;
    const previousEnd = replica.logEndOffset;
    replica.updateFetchState(fetchOffset, followerLogStartOffset, fetchTimeMs, leaderEndOffset, brokerEpoch);
    this.#maybeExpandIsr(replica);
    if (previousEnd !== replica.logEndOffset && this.#maybeIncrementHighWatermark()) {
      this.#events.onHighWatermark?.(this.key);
    }
  }

  /**
   * Kafka's Partition.maybeExpandIsr: a follower outside the ISR joins once it has everything up
   * to the high watermark and has reached this leader epoch's start (so it cannot become leader
   * while missing committed data), and is eligible; one AlterPartition at a time.
   */
  #maybeExpandIsr(replica: Replica): void {
    const state = this.#isrState;
    if (state.kind !== "committed" || state.isr.has(replica.brokerId)) return;
    if (!this.#isReplicaIsrEligible(replica)) return;
    const start = this.leaderEpochStartOffset;
    if (start === undefined || replica.logEndOffset < this.highWatermark || replica.logEndOffset < start)
      return;
    const proposed = [...state.isr, replica.brokerId];
    this.#submitAlterPartition({
      kind: "pendingExpand",
      isr: state.isr,
      maximalIsr: new Set(proposed),
      proposed,
      leaderEpoch: this.leaderEpoch,
      partitionEpoch: this.partitionEpoch,
    });
  }

  /**
   * Kafka's Partition.maybeShrinkIsr, run periodically by the manager: ISR followers that have
   * not been caught up for replica.lag.time.max.ms (stuck, or always behind) are proposed for
   * removal. While the change is in flight the high watermark still waits for them.
   */
  maybeShrinkIsr(): void {
    const state = this.#isrState;
    if (!this.isLeader || state.kind !== "committed") return;
    const nowMs = this.#clock.nowMs();
    const logEnd = this.log.logEndOffset;
    const self = this.#replication.localBrokerId;
    const outOfSync: number[] = [];
    for (const id of state.isr) {
      if (id === self) continue;
      const replica = this.#remoteReplicas.get(id);
      if (
        replica === undefined ||
        !replica.isCaughtUp(logEnd, nowMs, this.#replication.replicaLagTimeMaxMs)
      ) {
        outOfSync.push(id);
      }
    }
    if (outOfSync.length === 0) return;
    this.#events.warn(
      {
        partition: this.key,
        isr: [...state.isr],
        outOfSync: outOfSync.map((id) => ({
          brokerId: id,
          logEndOffset: this.#remoteReplicas.get(id)?.logEndOffset,
          lastCaughtUpTimeMs: this.#remoteReplicas.get(id)?.lastCaughtUpTimeMs,
        })),
        highWatermark: this.highWatermark,
        logEndOffset: logEnd,
      },
      "shrinking ISR",
    );
    this.#submitAlterPartition({
      kind: "pendingShrink",
      isr: state.isr,
      maximalIsr: state.isr,
      proposed: [...state.isr].filter((id) => !outOfSync.includes(id)),
      leaderEpoch: this.leaderEpoch,
      partitionEpoch: this.partitionEpoch,
    });
  }

  /**
   * Proposes an ISR change (Kafka's Partition.submitAlterPartition); the partition stays in the
   * pending state until the answer, or until the image replaces the state. The answer is applied
   * only if the state is still the one proposed.
   */
  #submitAlterPartition(pending: Extract<IsrState, { kind: "pendingExpand" | "pendingShrink" }>): void {
    this.#isrState = pending;
    const self = this.#replication.localBrokerId;
    const localEpoch = this.#replication.localBrokerEpoch();
    const request: AlterPartitionRequest = {
      brokerId: self,
      brokerEpoch: localEpoch,
      topics: [
        {
          topicId: this.#replication.topicId,
          partitions: [
            {
              partitionIndex: this.partitionId,
              leaderEpoch: pending.leaderEpoch,
              // v3+: the ISR goes with broker epochs only (alterPartitionAt adapts older versions).
              newIsr: [],
              newIsrWithEpochs: pending.proposed.map((id) => ({
                brokerId: id,
                brokerEpoch: id === self ? localEpoch : (this.#remoteReplicas.get(id)?.brokerEpoch ?? -1n),
              })),
              leaderRecoveryState: 0,
              partitionEpoch: pending.partitionEpoch,
            },
          ],
        },
      ],
    };
    this.#replication.alterPartition.alterPartition(request).then(
      (response) => this.#onAlterPartitionAnswer(pending, response),
      (err: unknown) => {
        if (this.#isrState !== pending) return;
        this.#events.warn({ err, partition: this.key }, "AlterPartition failed; retrying");
        this.#replication.schedule(ALTER_PARTITION_RETRY_MS, () => {
          if (this.#isrState === pending) this.#submitAlterPartition(pending);
        });
      },
    );
  }

  /** Kafka's handleAlterPartitionUpdate / handleAlterPartitionError. */
  #onAlterPartitionAnswer(
    pending: Extract<IsrState, { kind: "pendingExpand" | "pendingShrink" }>,
    response: AlterPartitionResponse,
  ): void {
    if (this.#isrState !== pending) return;
    const answer = response.topics[0]?.partitions.find((p) => p.partitionIndex === this.partitionId);
    const errorCode = response.errorCode !== ErrorCode.NONE ? response.errorCode : (answer?.errorCode ?? -1);
    if (errorCode !== ErrorCode.NONE || answer === undefined) {
      switch (errorCode) {
        case ErrorCode.OPERATION_NOT_ATTEMPTED:
        case ErrorCode.INELIGIBLE_REPLICA:
          // The controller says it did not apply the change and our partition epoch is current.
          this.#isrState = { kind: "committed", isr: pending.isr };
          return;
        case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
        case ErrorCode.UNKNOWN_TOPIC_ID:
        case ErrorCode.FENCED_LEADER_EPOCH:
        case ErrorCode.INVALID_UPDATE_VERSION:
        case ErrorCode.INVALID_REQUEST:
        case ErrorCode.NEW_LEADER_ELECTED:
          // Our state is out of date: stay pending until the image brings the current one.
          return;
        default:
          this.#events.warn({ partition: this.key, errorCode }, "AlterPartition error; retrying");
          this.#replication.schedule(ALTER_PARTITION_RETRY_MS, () => {
            if (this.#isrState === pending) this.#submitAlterPartition(pending);
          });
          return;
      }
    }
    if (answer.leaderEpoch !== this.leaderEpoch || answer.partitionEpoch < this.partitionEpoch) return;
    this.#isrState = { kind: "committed", isr: new Set(answer.isr) };
    this.partitionEpoch = answer.partitionEpoch;
    if (this.#maybeIncrementHighWatermark()) this.#events.onHighWatermark?.(this.key);
  }

  /**
   * For a produce with acks=all waiting on `requiredOffset` (its last offset + 1), Kafka's
   * Partition.checkEnoughReplicasReachOffset: done once the high watermark covers it, with
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND if the maximal ISR is then below min.insync.replicas;
   * NOT_LEADER_OR_FOLLOWER when this node no longer leads.
   */
  checkEnoughReplicasReachOffset(requiredOffset: number): { done: boolean; errorCode: number } {
    if (!this.isLeader) return { done: true, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    if (this.highWatermark < requiredOffset) return { done: false, errorCode: ErrorCode.NONE };
    const enough = this.effectiveMinIsr() <= this.maximalIsr.size;
    return { done: true, errorCode: enough ? ErrorCode.NONE : ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND };
  }

  // ---------------------------------------------------------------------------------------------
  // Follower

  /** The epoch of the last batch in this log (-1: none), the follower's last fetched epoch. */
  get latestEpoch(): number {
    return this.log.leaderEpochCache.latestEpoch;
  }

  /**
   * Appends batches fetched from the leader as they are (Kafka's UnifiedLog.appendAsFollower):
   * offsets, leader epochs and CRCs are the leader's; every batch's CRC is checked, nothing is
   * re-encoded or decompressed. A trailing partial batch (a fetch cut by its size limit) is left
   * for the next fetch. Producer state and the aborted-transaction index are rebuilt from the
   * batch headers (and the one record of each transaction marker), as a restart replays them.
   */
  appendAsFollower(records: Buffer): FollowerAppendOutcome {
    if (this.isLeader) {
      return { kind: "error", errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: "leader" };
    }
    let whole = 0;
    while (whole < records.length) {
      const probe = probeBatch(records, whole);
      if (probe.kind !== "batch") break;
      whole += probe.sizeBytes;
    }
    if (whole === 0) return { kind: "empty" };
    const batches = whole === records.length ? records : records.subarray(0, whole);
    const nowMs = this.#clock.nowMs();
    const producerState = this.#producerStateForAppend(nowMs);
    if (!(producerState instanceof ProducerStateManager)) return producerState;
    // Kafka's appendRecordsToFollowerOrFutureReplica: the leader's log start may fall inside its
    // first batch (DeleteRecords); an empty log then starts at that batch.
    const first = readBatchHeader(batches, 0);
    const firstOffset = Number(first.baseOffset);
    const logEnd = this.log.logEndOffset;
    if (logEnd === this.log.logStartOffset && firstOffset < logEnd) {
      this.truncateFullyAndStartAt(firstOffset);
      return this.appendAsFollower(records);
    }
    let result: ReturnType<PartitionLog["append"]>;
    try {
      result = this.log.append(batches, { assignOffsets: false, leaderEpoch: -1, verifyCrc: true });
    } catch (err) {
      if (isKrillError(err, "CORRUPT_RECORD")) {
        return { kind: "error", errorCode: ErrorCode.CORRUPT_MESSAGE, errorMessage: err.message };
      }
      this.#noteAppendFailure(err, nowMs, "follower append failed");
      return {
        kind: "error",
        errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
        errorMessage: isKrillError(err) ? err.message : "append failed",
      };
    }
    const lastLeaderEpoch = this.#replayBatches(producerState, batches);
    this.log.firstUnstableOffset = producerState.firstUnstableOffset();
    return {
      kind: "appended",
      firstOffset: result.firstOffset,
      lastOffset: result.lastOffset,
      lastLeaderEpoch,
      bytes: whole,
    };
  }

  /**
   * A follower's high watermark: the leader's, capped by its own log end (Kafka's
   * UnifiedLog.maybeUpdateHighWatermark on the follower; it may move back after a leader
   * change, as in Kafka, since a new leader's watermark can trail the old one's).
   */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    if (this.isLeader) return;
    const next = Math.max(this.log.logStartOffset, Math.min(leaderHighWatermark, this.log.logEndOffset));
    if (next !== this.log.highWatermark) this.log.updateHighWatermark(next);
  }

  /**
   * The leader's log start moved (DeleteRecords, retention): a follower follows it up to its own
   * high watermark (Kafka's maybeIncrementLogStartOffset with LeaderOffsetIncremented).
   */
  followLeaderLogStartOffset(leaderLogStartOffset: number): void {
    if (this.isLeader) return;
    if (leaderLogStartOffset <= this.log.logStartOffset || leaderLogStartOffset > this.highWatermark) return;
    const low = this.log.deleteRecordsBefore(leaderLogStartOffset);
    this.#producerState?.onLogStartOffsetIncremented(low);
    if (this.#producerState !== undefined) this.#abortedTxns.onLogStartOffsetIncremented(low);
  }

  /**
   * Removes everything from `offset` on (a follower's log diverged from its leader's; Kafka's
   * Partition.truncateTo). Producer state and the aborted-transaction index are rebuilt from the
   * newest snapshot below the new end on next use, as Kafka's truncateAndReload does.
   */
  truncateTo(offset: number): void {
    if (offset >= this.log.logEndOffset) {
      // As Kafka's UnifiedLog.truncateTo: a node that led briefly may hold an epoch starting at
      // its log end with no data in it; it must go, or the next fetch names it and diverges again.
      this.log.leaderEpochCache.truncateFromEnd(this.log.logEndOffset);
      return;
    }
    this.log.truncateTo(offset);
    this.log.updateHighWatermark(this.log.highWatermark);
    this.#producerState = undefined;
    this.#events.onChange(this.key);
  }

  /** Empties the log and restarts it at `offset` (the leader's log start is past this log's end). */
  truncateFullyAndStartAt(offset: number): void {
    this.log.truncateFullyAndStartAt(offset);
    this.log.updateHighWatermark(offset);
    this.#producerState = undefined;
    this.#events.onChange(this.key);
  }

  /**
   * The first offset of the oldest open transaction, capped by the high watermark (Kafka's
   * UnifiedLog.lastStableOffset). Loads producer state on first use; if it cannot be loaded the
   * partition takes no writes (appends answer KAFKA_STORAGE_ERROR) and the log start is the
   * only offset known to be stable.
   */
  get lastStableOffset(): number {
    const highWatermark = this.log.highWatermark;
    let state: ProducerStateManager;
    try {
      state = this.producerState(this.#clock.nowMs());
    } catch {
      return this.log.logStartOffset;
    }
    const firstUnstable = state.firstUnstableOffset();
    return firstUnstable === undefined ? highWatermark : Math.min(firstUnstable, highWatermark);
  }

  /**
   * Aborted transactions a read_committed fetch of [fetchOffset, upperBoundOffset) must report
   * (loads producer state, and with it the index, on first use).
   */
  abortedTransactions(fetchOffset: number, upperBoundOffset: number): AbortedTxn[] {
    this.producerState(this.#clock.nowMs());
    return this.#abortedTxns.collect(fetchOffset, upperBoundOffset);
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /**
   * The producer state for an append, or the error to answer with: a log that could not be
   * replayed (corrupt or unreadable) cannot take idempotent or transactional writes safely, so the
   * partition takes none, like an offline log directory in Kafka.
   */
  #producerStateForAppend(nowMs: number): ProducerStateManager | AppendError {
    try {
      return this.producerState(nowMs);
    } catch (err) {
      this.#events.warn({ err, partition: this.key }, "producer state could not be loaded");
      return {
        kind: "error",
        errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
        errorMessage: isKrillError(err) ? err.message : "producer state could not be loaded",
      };
    }
  }

  /**
   * Every leader append to the log (produce batches and transaction markers): a failure is
   * answered as Kafka does (RECORD_LIST_TOO_LARGE, else KAFKA_STORAGE_ERROR) and logged through
   * one throttle, since a failing log (a full disk) fails every retry of every producer and
   * coordinator alike.
   */
  #appendToLog(
    records: Buffer,
    options: Parameters<PartitionLog["append"]>[1],
    nowMs: number,
    failureMessage: string,
  ): ReturnType<PartitionLog["append"]> | AppendError {
    let result: ReturnType<PartitionLog["append"]>;
    try {
      result = this.log.append(records, options);
    } catch (err) {
      if (isKrillError(err, "FRAME_TOO_LARGE")) {
        return { kind: "error", errorCode: ErrorCode.RECORD_LIST_TOO_LARGE, errorMessage: err.message };
      }
      this.#noteAppendFailure(err, nowMs, failureMessage);
      return {
        kind: "error",
        errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
        errorMessage: isKrillError(err) ? err.message : "append failed",
      };
    }
    if (this.#appendFailures.count > 0) {
      this.#events.warn(
        { partition: this.key, failedAppends: this.#appendFailures.count },
        "appends succeed again",
      );
      this.#appendFailures = { count: 0, unlogged: 0, loggedAtMs: 0 };
    }
    return result;
  }

  #noteAppendFailure(err: unknown, nowMs: number, message: string): void {
    const f = this.#appendFailures;
    f.count++;
    if (f.count > 1 && nowMs - f.loggedAtMs < APPEND_FAILURE_LOG_INTERVAL_MS) {
      f.unlogged++;
      return;
    }
    const fields =
      f.count === 1
        ? { err, partition: this.key }
        : { err, partition: this.key, failedSinceLastReport: f.unlogged + 1, failedAppends: f.count };
    this.#events.warn(fields, message);
    f.unlogged = 0;
    f.loggedAtMs = nowMs;
  }

  /** The producer state, loaded from snapshot + log on first use. */
  producerState(nowMs: number): ProducerStateManager {
    this.#producerState ??= this.#loadProducerState(nowMs);
    return this.#producerState;
  }

  /**
   * Appends one partition's validated produce bytes as leader. `batches` are the validation
   * summaries of `records`, in order. Records are never decoded: offsets, leader epoch and
   * LogAppendTime are written into the batch headers in place by the log.
   */
  appendAsLeader(
    records: Buffer,
    batches: readonly ProducedBatchSummary[],
    logAppendTime: boolean,
    nowMs: number,
  ): AppendOutcome {
    if (!this.isLeader) return this.#notLeader();
    const producerState = this.#producerStateForAppend(nowMs);
    if (!(producerState instanceof ProducerStateManager)) return producerState;
    // With LogAppendTime the log stamps the batches now; producer state remembers that time.
    const stamped = logAppendTime ? batches.map((b) => ({ ...b, maxTimestamp: BigInt(nowMs) })) : batches;
    const prepared = producerState.prepareAppend(stamped);
    if (prepared.kind === "error") return prepared;
    if (prepared.kind === "duplicate") {
      return {
        kind: "duplicate",
        firstOffset: prepared.firstOffset,
        logAppendTimeMs: logAppendTime ? prepared.timestampMs : -1,
        logStartOffset: this.log.logStartOffset,
      };
    }
    const highWatermarkBefore = this.log.highWatermark;
    const result = this.#appendToLog(
      records,
      {
        assignOffsets: true,
        leaderEpoch: this.leaderEpoch,
        logAppendTimeMs: logAppendTime ? nowMs : undefined,
      },
      nowMs,
      "append failed",
    );
    if ("errorCode" in result) return result;
    // Batches got consecutive offsets in request order.
    const plannedOffsets: number[] = [];
    let cursor = result.firstOffset;
    for (const b of batches) {
      if (b.producerId >= 0n) plannedOffsets.push(cursor);
      cursor += b.lastOffsetDelta + 1;
    }
    producerState.completeAppend(prepared.plan, plannedOffsets, result.lastOffset + 1, nowMs);
    for (const b of batches) if (b.isTransactional) this.verificationGuards.clear(b.producerId);
    this.log.firstUnstableOffset = producerState.firstUnstableOffset();
    const visible = this.#afterLeaderAppend(highWatermarkBefore, result.firstOffset, records.length);
    // Bytes behind an open transaction are not yet readable by read_committed fetches.
    const stable = producerState.firstUnstableOffset() === undefined ? visible : 0;
    this.#events.onAppend(this.key, records.length, stable, visible);
    return {
      kind: "appended",
      firstOffset: result.firstOffset,
      lastOffset: result.lastOffset,
      logAppendTimeMs: result.logAppendTimeMs,
      logStartOffset: result.logStartOffset,
      durable: result.durable,
    };
  }

  #notLeader(): AppendError {
    return {
      kind: "error",
      errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
      errorMessage: `This broker does not lead ${this.key}`,
    };
  }

  /**
   * After a leader append at `firstOffset` of `bytes`: the high watermark may move (at once when
   * the ISR is this node alone). Returns how many bytes consumers can newly read: exactly the
   * appended ones when the watermark went from the append's start to the log end, Infinity
   * (re-read) when it moved otherwise, which also tells waiting produces.
   */
  #afterLeaderAppend(highWatermarkBefore: number, firstOffset: number, bytes: number): number {
    if (!this.#maybeIncrementHighWatermark()) return 0;
    if (highWatermarkBefore === firstOffset && this.log.highWatermark === this.log.logEndOffset) return bytes;
    this.#events.onHighWatermark?.(this.key);
    return Number.POSITIVE_INFINITY;
  }

  /**
   * Stored batches from `fetchOffset`, up to the high watermark (read_uncommitted), the last
   * stable offset (read_committed) or, for a follower's fetch, the log end offset (Kafka's
   * FetchIsolation LOG_END). Throws KrillError OFFSET_OUT_OF_RANGE outside the log.
   * `pooled`: see ReadOptions.pooled (Fetch responses only).
   */
  read(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    readCommitted: boolean,
    pooled = false,
    toLogEnd = false,
  ): ReadResult {
    return this.log.read(fetchOffset, maxBytes, {
      minOneBatch,
      maxOffset: toLogEnd ? undefined : readCommitted ? this.lastStableOffset : this.highWatermark,
      pooled,
    });
  }

  /**
   * Appends a COMMIT or ABORT marker for `producerId` as leader (Kafka's
   * UnifiedLog.appendAsLeader with AppendOrigin.COORDINATOR): the producer's transaction in this
   * partition ends, an abort is recorded in the aborted-transaction index, and the last stable
   * offset may move (waking read_committed fetches).
   */
  appendTxnMarker(
    producerId: bigint,
    producerEpoch: number,
    coordinatorEpoch: number,
    commit: boolean,
    nowMs: number,
    transactionVersion = 0,
  ): AppendOutcome {
    if (!this.isLeader) return this.#notLeader();
    const producerState = this.#producerStateForAppend(nowMs);
    if (!(producerState instanceof ProducerStateManager)) return producerState;
    const checked = producerState.checkTxnMarker(
      producerId,
      producerEpoch,
      coordinatorEpoch,
      transactionVersion,
    );
    if (checked.kind === "error") return checked;
    const lastStableBefore = this.lastStableOffset;
    const highWatermarkBefore = this.log.highWatermark;
    const batch = buildEndTxnMarkerBatch({
      producerId,
      producerEpoch,
      coordinatorEpoch,
      commit,
      timestampMs: nowMs,
    });
    const result = this.#appendToLog(
      batch,
      { assignOffsets: true, leaderEpoch: this.leaderEpoch },
      nowMs,
      "marker append failed",
    );
    if ("errorCode" in result) return result;
    const aborted = producerState.completeTxn(
      producerId,
      producerEpoch,
      coordinatorEpoch,
      commit,
      result.firstOffset,
      nowMs,
    );
    this.verificationGuards.clear(producerId);
    this.log.firstUnstableOffset = producerState.firstUnstableOffset();
    const visible = this.#afterLeaderAppend(highWatermarkBefore, result.firstOffset, batch.length);
    if (aborted !== undefined) {
      try {
        this.#abortedTxns.add({ ...aborted, lastStableOffset: lastStableBefore });
      } catch (err) {
        // The marker is in the log: a restart's replay re-derives the entry.
        this.#events.warn({ err, partition: this.key }, "aborted-transaction index append failed");
      }
    }
    this.#events.onAppend(
      this.key,
      batch.length,
      this.lastStableOffset > lastStableBefore ? Number.POSITIVE_INFINITY : 0,
      visible,
    );
    return {
      kind: "appended",
      firstOffset: result.firstOffset,
      lastOffset: result.lastOffset,
      logAppendTimeMs: -1,
      logStartOffset: result.logStartOffset,
      durable: result.durable,
    };
  }

  /** DeleteRecords: moves the log start to `offset` (-1 means the high watermark). */
  deleteRecordsBefore(offset: number): number {
    const target = offset === -1 ? this.highWatermark : offset;
    const low = this.log.deleteRecordsBefore(target);
    this.#producerState?.onLogStartOffsetIncremented(low);
    if (this.#producerState !== undefined) this.#abortedTxns.onLogStartOffsetIncremented(low);
    this.#events.onChange(this.key);
    return low;
  }

  /** Forgets producers idle longer than producer.id.expiration.ms (if the state is loaded). */
  expireProducers(nowMs: number): number {
    return this.#producerState?.removeExpiredProducers(nowMs) ?? 0;
  }

  /**
   * Writes a producer snapshot at the log end offset if producer state changed since the last
   * one, then removes all but the newest two snapshots (the new one and its predecessor, in case
   * the new one turns out unreadable). The state is encoded synchronously, so the snapshot is
   * exactly the state at that offset; the file is written in the thread pool. Resolves to true if
   * a snapshot was written.
   */
  async takeSnapshot(): Promise<boolean> {
    const state = this.#producerState;
    if (state === undefined || this.#snapshotting) return false;
    const offset = this.log.logEndOffset;
    if (offset === this.#lastSnapshotOffset || state.mapEndOffset !== offset) return false;
    const dir = this.log.dir;
    const bytes = encodeSnapshot(state.entries());
    this.#snapshotting = true;
    try {
      await writeSnapshotBytes(dir, offset, bytes);
      this.#lastSnapshotOffset = offset;
      const offsets = listSnapshotOffsets(dir);
      for (const old of offsets.slice(0, -2)) deleteSnapshotFile(dir, old);
    } finally {
      this.#snapshotting = false;
    }
    return true;
  }

  #loadProducerState(nowMs: number): ProducerStateManager {
    const state = new ProducerStateManager(this.#producerStateOptions);
    const dir = this.log.dir;
    const logStart = this.log.logStartOffset;
    const logEnd = this.log.logEndOffset;
    let start = logStart;
    const snapshots = listSnapshotOffsets(dir);
    for (const offset of snapshots) if (offset > logEnd) deleteSnapshotFile(dir, offset);
    const usable = snapshots.filter((o) => o <= logEnd && o >= logStart).reverse();
    state.truncateFullyAndStartAt(logStart);
    this.#abortedTxns.load(logStart, logEnd);
    for (const offset of usable) {
      try {
        state.loadSnapshot(readSnapshotFile(dir, offset), offset, nowMs);
        start = offset;
        this.#lastSnapshotOffset = offset;
        break;
      } catch (err) {
        if (!isKrillError(err, "CORRUPT_SEGMENT")) throw err;
        this.#events.warn(
          { partition: this.key, offset, reason: err.message },
          "deleting corrupt producer snapshot",
        );
        deleteSnapshotFile(dir, offset);
      }
    }
    // Replay batch headers after the snapshot: only headers are read, never records.
    let offset = start;
    while (offset < logEnd) {
      const read = this.log.read(offset, REPLAY_READ_BYTES, { minOneBatch: true });
      if (read.records.length === 0) break;
      this.#replayBatches(state, read.records);
      if (read.nextOffset <= offset) {
        throw new KrillError("STATE", `Producer state replay of ${this.key} made no progress at ${offset}`);
      }
      offset = read.nextOffset;
    }
    state.removeExpiredProducers(nowMs);
    // The cleaner never compacts at or beyond an open transaction.
    this.log.firstUnstableOffset = state.firstUnstableOffset();
    return state;
  }

  /**
   * Producer state (and aborted transactions) from whole stored batches, by their headers: the
   * replay after a snapshot and the follower's append. Returns the last batch's leader epoch.
   */
  #replayBatches(state: ProducerStateManager, records: Buffer): number {
    let lastEpoch = -1;
    for (const { position } of iterateBatches(records)) {
      const h = readBatchHeader(records, position);
      lastEpoch = h.partitionLeaderEpoch;
      if ((h.attributes & ATTR_CONTROL_MASK) !== 0 && (h.attributes & ATTR_TRANSACTIONAL_MASK) !== 0) {
        this.#replayMarker(state, records, position, h.producerId, h.producerEpoch, Number(h.baseOffset));
        continue;
      }
      state.replayBatch(
        {
          producerId: h.producerId,
          producerEpoch: h.producerEpoch,
          baseSequence: h.baseSequence,
          lastOffsetDelta: h.lastOffsetDelta,
          maxTimestamp: h.maxTimestamp,
          isTransactional: (h.attributes & ATTR_TRANSACTIONAL_MASK) !== 0,
          isControl: (h.attributes & ATTR_CONTROL_MASK) !== 0,
        },
        Number(h.baseOffset),
      );
    }
    return lastEpoch;
  }

  /** A transaction marker read back from the log: its record says COMMIT or ABORT. */
  #replayMarker(
    state: ProducerStateManager,
    records: Buffer,
    position: number,
    producerId: bigint,
    producerEpoch: number,
    offset: number,
  ): void {
    const lastStableBefore = state.firstUnstableOffset() ?? offset;
    // A marker batch holds one tiny uncompressed record; the bound only guards hostile bytes.
    const decoded = decodeRecordBatch(records, {
      position,
      decompressedBytesMax: 64 * 1024,
      verifyCrc: false,
    });
    const record = decoded.records[0];
    if (record === undefined) {
      throw new KrillError("CORRUPT_SEGMENT", `Empty control batch at ${offset} in ${this.key}`);
    }
    const marker = parseEndTxnMarker(record);
    const aborted = state.completeTxn(
      producerId,
      producerEpoch,
      marker.coordinatorEpoch,
      marker.commit,
      offset,
      Number(decoded.header.maxTimestamp),
    );
    if (aborted !== undefined) this.#abortedTxns.add({ ...aborted, lastStableOffset: lastStableBefore });
  }
}
