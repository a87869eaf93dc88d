/**
 * One partition replica on this broker (Kafka's Partition + the leader half of UnifiedLog.append):
 * its PartitionLog, leader epoch, high watermark and idempotent-producer state. The partition
 * manager creates it when the metadata image gives this node a replica and applies every later
 * change of the partition's state (`makeLeader`) when the image changes, so a lookup never
 * changes it. Callers read the log through the partition (`read`, `endOffsetForEpoch`,
 * `fetchOffsetForTimestamp`), never `partition.log`, and check a request's leader epoch with
 * `checkLeaderEpoch`.
 *
 * The high watermark moves in one place, `#maybeIncrementHighWatermark`: today every ISR is this
 * node alone, so it is the log end offset after each append (acks=all with min.insync.replicas 1
 * is met by the leader alone); replication makes it the minimum log end offset over the ISR. The last stable offset is the first offset of
 * the oldest open transaction, or the high watermark when none is open; COMMIT/ABORT markers are
 * appended by the transaction coordinator (`appendTxnMarker`), and aborted transactions are kept
 * in the aborted-transaction index for read_committed fetches (producer-state/aborted-txns.ts).
 *
 * Producer state is loaded when the partition is first used: the newest producer snapshot at or
 * below the log end (snapshots above it belong to truncated data and are deleted), then the batch
 * headers after it are replayed from the log. Snapshots are written by `takeSnapshot` (the
 * manager calls it periodically and at shutdown), named by the log end offset they reflect.
 *
 * Concurrency contract: every method is synchronous except the `durable` promise an append may
 * return, so an append (producer checks, log write, producer-state update, high watermark,
 * waking fetches) runs to completion before any other request sees the partition.
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
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import {
  ATTR_CONTROL_MASK,
  ATTR_TRANSACTIONAL_MASK,
  readBatchHeader,
} from "../../protocol/records/batch-header.js";
import { iterateBatches } from "../../protocol/records/batch-iterator.js";
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
import { lookupOffsetByTimestamp } from "./offset-lookup.js";

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
   * Bytes appended (wakes delayed fetches); `stableBytes` of them are readable by read_committed
   * fetches (Infinity: the last stable offset moved past earlier data).
   */
  onAppend(key: string, bytes: number, stableBytes: number): void;
  /** The log changed other than by an append (truncation, log start moved). */
  onChange(key: string): void;
  warn(fields: object, message: string): void;
}

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
  leaderEpoch: number;
  readonly #events: PartitionEvents;
  readonly #producerStateOptions: ProducerStateOptions;
  readonly #clock: Clock;
  #producerState: ProducerStateManager | undefined;
  readonly #abortedTxns: AbortedTxnIndex;
  #lastSnapshotOffset = -1;
  #snapshotting = false;
  /** Append failures since the last success: how many, how many not yet logged, when last logged. */
  #appendFailures = { count: 0, unlogged: 0, loggedAtMs: 0 };

  constructor(
    topic: string,
    partitionId: number,
    log: PartitionLog,
    leaderEpoch: number,
    events: PartitionEvents,
    producerStateOptions: ProducerStateOptions,
    clock: Clock = SYSTEM_CLOCK,
  ) {
    this.topic = topic;
    this.partitionId = partitionId;
    this.key = `${topic}-${partitionId}`;
    this.log = log;
    this.leaderEpoch = leaderEpoch;
    this.#events = events;
    this.#producerStateOptions = producerStateOptions;
    this.#clock = clock;
    this.#abortedTxns = new AbortedTxnIndex(log.dir);
    this.#assignLeaderEpoch();
  }

  /**
   * The metadata image made (or kept) this node the leader at `leaderEpoch` (Kafka's
   * Partition.makeLeader): a new epoch starts at the log end. Called by the partition manager
   * when the image changes, never on lookup.
   */
  makeLeader(leaderEpoch: number): void {
    if (leaderEpoch === this.leaderEpoch) return;
    this.leaderEpoch = leaderEpoch;
    this.#assignLeaderEpoch();
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
   * fetchable offset. Undefined when no offset qualifies.
   */
  fetchOffsetForTimestamp(timestamp: number, readCommitted: boolean): TimestampOffset | undefined {
    const lastFetchable = readCommitted ? this.lastStableOffset : this.highWatermark;
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
   * The one place the high watermark moves (Kafka's Partition.maybeIncrementLeaderHW): the
   * minimum log end offset over the ISR. The ISR of every partition is this node alone today, so
   * that is the local log end offset; replication brings the followers' offsets in here.
   */
  #maybeIncrementHighWatermark(): void {
    const next = this.log.logEndOffset;
    if (next > this.log.highWatermark) this.log.updateHighWatermark(next);
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
    this.log.firstUnstableOffset = producerState.firstUnstableOffset();
    this.#maybeIncrementHighWatermark();
    // Bytes behind an open transaction are not yet readable by read_committed fetches.
    const stable = producerState.firstUnstableOffset() === undefined ? records.length : 0;
    this.#events.onAppend(this.key, records.length, stable);
    return {
      kind: "appended",
      firstOffset: result.firstOffset,
      lastOffset: result.lastOffset,
      logAppendTimeMs: result.logAppendTimeMs,
      logStartOffset: result.logStartOffset,
      durable: result.durable,
    };
  }

  /**
   * Stored batches from `fetchOffset`, up to the high watermark (read_uncommitted) or the last
   * stable offset (read_committed). Throws KrillError OFFSET_OUT_OF_RANGE outside the log.
   * `pooled`: see ReadOptions.pooled (Fetch responses only).
   */
  read(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    readCommitted: boolean,
    pooled = false,
  ): ReadResult {
    return this.log.read(fetchOffset, maxBytes, {
      minOneBatch,
      maxOffset: readCommitted ? this.lastStableOffset : this.highWatermark,
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
    this.#maybeIncrementHighWatermark();
    this.log.firstUnstableOffset = producerState.firstUnstableOffset();
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
      for (const { position } of iterateBatches(read.records)) {
        const h = readBatchHeader(read.records, position);
        if ((h.attributes & ATTR_CONTROL_MASK) !== 0 && (h.attributes & ATTR_TRANSACTIONAL_MASK) !== 0) {
          this.#replayMarker(
            state,
            read.records,
            position,
            h.producerId,
            h.producerEpoch,
            Number(h.baseOffset),
          );
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
