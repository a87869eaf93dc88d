/**
 * Idempotent-producer state of one partition, in Kafka's terms (ProducerStateManager,
 * ProducerStateEntry, ProducerAppendInfo): for every producer id that wrote to the partition, its
 * epoch and the metadata (sequence range, offset range, timestamp) of its last 5 data batches.
 *
 * A Produce is checked in two steps so a partition's append is all-or-nothing:
 *   1. `prepareAppend` looks at every batch of the request without changing anything and answers
 *      either "duplicate" (the whole request is a retry of batches already in the log: answer
 *      with their original offsets, append nothing), a wire error (INVALID_PRODUCER_EPOCH,
 *      OUT_OF_ORDER_SEQUENCE_NUMBER), or an `AppendPlan`;
 *   2. after the log accepted the bytes at their offsets, `completeAppend` records the batches.
 * Both run synchronously on Node's one thread, with the log append between them also
 * synchronous, so no other request can interleave (concurrency contract: single-threaded,
 * owned by one partition).
 *
 * Rules (ProducerAppendInfo.checkProducerEpoch / checkSequence, ProducerStateEntry.findDuplicateBatch):
 * - A batch whose epoch and sequence range equal one of the producer's cached batches is a
 *   duplicate; it is checked before anything else, like Kafka does.
 * - An epoch below the producer's current epoch: INVALID_PRODUCER_EPOCH (Kafka 2.7+ for clients).
 * - A new (higher) epoch must start at sequence 0, unless the producer had no epoch yet.
 * - Same epoch: the first sequence must follow the last one (wrapping after Int32 max), unless
 *   the producer is unknown (KIP-360: its state may have been removed by retention or
 *   DeleteRecords, so any sequence is accepted).
 *
 * Transactions (Kafka's ProducerStateManager.ongoingTxns / lastStableOffset): the first
 * transactional batch of a producer opens its transaction in this partition
 * (`currentTxnFirstOffset`); a COMMIT or ABORT marker (`completeTxn`) closes it. The first
 * unstable offset is the smallest first offset of the open transactions; the partition's last
 * stable offset is that or the high watermark, whichever is lower. A producer with an open
 * transaction may not write non-transactional batches (INVALID_TXN_STATE), is never expired and
 * never evicted by the bound.
 */
import { ErrorCode } from "../../protocol/generated/error-codes.js";

/** Batches remembered per producer for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN). */
export const BATCHES_RETAINED_PER_PRODUCER = 5;
/** Kafka's RecordBatch.NO_PRODUCER_EPOCH / NO_SEQUENCE. */
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
const INT32_MAX = 0x7fffffff;
/** The largest producer epoch (Short.MAX_VALUE): a transactions-v2 marker retry at it is accepted. */
const PRODUCER_EPOCH_MAX = 0x7fff;

export interface BatchMetadata {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly timestampMs: number;
}

export interface ProducerStateEntry {
  readonly producerId: bigint;
  producerEpoch: number;
  /** Oldest first, at most BATCHES_RETAINED_PER_PRODUCER. */
  batches: BatchMetadata[];
  /** Largest batch timestamp written (or the time of the last append): drives expiry. */
  lastTimestampMs: number;
  /** Transaction coordinator epoch of the last marker; -1 until transactions exist. */
  coordinatorEpoch: number;
  /** First offset of the producer's ongoing transaction, -1 for none. */
  currentTxnFirstOffset: number;
}

/** The batch-header fields producer state needs; `ProducedBatchSummary` satisfies it. */
export interface ProducerBatch {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: bigint;
  readonly isTransactional: boolean;
}

/** The sequence of the last record of a batch, wrapping as DefaultRecordBatch.incrementSequence. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence === NO_SEQUENCE) return NO_SEQUENCE;
  if (baseSequence > INT32_MAX - lastOffsetDelta) return lastOffsetDelta - (INT32_MAX - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export type PrepareResult =
  | { kind: "ok"; plan: AppendPlan }
  | { kind: "duplicate"; firstOffset: number; lastOffset: number; timestampMs: number }
  | { kind: "error"; errorCode: number; errorMessage: string };

/** Checked batches waiting for their offsets; opaque to callers. */
export interface AppendPlan {
  readonly batches: readonly ProducerBatch[];
}

export interface ProducerStateOptions {
  /** producer.id.expiration.ms: idle producers are forgotten after this. */
  producerIdExpirationMs: number;
  /**
   * Bound on producers tracked by one partition. Beyond it the producer idle the longest is
   * forgotten (its next write is accepted with any sequence, as for an expired producer), so a
   * client minting producer ids cannot grow memory without end.
   */
  producersMax: number;
}

export const DEFAULT_PRODUCER_STATE_OPTIONS: ProducerStateOptions = {
  producerIdExpirationMs: 86_400_000,
  producersMax: 100_000,
};

export class ProducerStateManager {
  readonly #producers = new Map<bigint, ProducerStateEntry>();
  readonly #options: ProducerStateOptions;
  /** Offset after the last batch reflected in this state (Kafka's mapEndOffset). */
  #mapEndOffset = 0;
  /** Producers with an open transaction here -> its first offset (Kafka's ongoingTxns). */
  readonly #ongoing = new Map<bigint, number>();

  constructor(options: ProducerStateOptions = DEFAULT_PRODUCER_STATE_OPTIONS) {
    this.#options = options;
  }

  get mapEndOffset(): number {
    return this.#mapEndOffset;
  }

  get size(): number {
    return this.#producers.size;
  }

  entry(producerId: bigint): ProducerStateEntry | undefined {
    return this.#producers.get(producerId);
  }

  /** The first offset of the oldest open transaction, or undefined when none is open. */
  firstUnstableOffset(): number | undefined {
    let first: number | undefined;
    for (const offset of this.#ongoing.values()) if (first === undefined || offset < first) first = offset;
    return first;
  }

  /** Open transactions in this partition: producer id -> first offset. */
  ongoingTransactions(): ReadonlyMap<bigint, number> {
    return this.#ongoing;
  }

  /**
   * Checks a COMMIT/ABORT marker before it is appended (Kafka's ProducerAppendInfo
   * checkProducerEpoch for markers and appendEndTxnMarker): the marker's epoch may not be older
   * than the producer's, and its coordinator epoch not older than the last marker's. A marker of
   * transactions v2 (`transactionVersion` 2, KIP-1228) carries the epoch the coordinator bumped at
   * the transaction's end, so it must be newer than the producer's; one at the producer's epoch
   * is accepted only as the retry of a marker already written (no transaction open, or the epoch
   * at its maximum).
   */
  checkTxnMarker(
    producerId: bigint,
    producerEpoch: number,
    coordinatorEpoch: number,
    transactionVersion = 0,
  ): PrepareResult {
    const entry = this.#producers.get(producerId);
    const v2 = transactionVersion >= 2;
    if (
      entry !== undefined &&
      (v2 ? producerEpoch <= entry.producerEpoch : producerEpoch < entry.producerEpoch) &&
      !(
        v2 &&
        producerEpoch === entry.producerEpoch &&
        (entry.currentTxnFirstOffset < 0 || producerEpoch === PRODUCER_EPOCH_MAX)
      )
    ) {
      return {
        kind: "error",
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        errorMessage: `Marker epoch ${producerEpoch} of producer ${producerId} is ${v2 ? "not newer than" : "older than"} ${entry.producerEpoch}`,
      };
    }
    if (entry !== undefined && coordinatorEpoch < entry.coordinatorEpoch) {
      return {
        kind: "error",
        errorCode: ErrorCode.TRANSACTION_COORDINATOR_FENCED,
        errorMessage: `Coordinator epoch ${coordinatorEpoch} is older than ${entry.coordinatorEpoch} for producer ${producerId}`,
      };
    }
    return { kind: "ok", plan: { batches: [] } };
  }

  /**
   * Records a COMMIT/ABORT marker appended at `markerOffset`: the producer's transaction in this
   * partition ends. Returns the aborted range when an open transaction was aborted (for the
   * aborted-transaction index), else undefined. The producer's epoch becomes the marker's (a
   * coordinator that fenced the producer wrote the marker with the bumped epoch, so the zombie's
   * next write here is INVALID_PRODUCER_EPOCH).
   */
  completeTxn(
    producerId: bigint,
    producerEpoch: number,
    coordinatorEpoch: number,
    commit: boolean,
    markerOffset: number,
    timestampMs: number,
  ): { producerId: bigint; firstOffset: number; lastOffset: number } | undefined {
    let entry = this.#producers.get(producerId);
    if (entry === undefined) {
      entry = {
        producerId,
        producerEpoch,
        batches: [],
        lastTimestampMs: timestampMs,
        coordinatorEpoch,
        currentTxnFirstOffset: -1,
      };
      this.#producers.set(producerId, entry);
    }
    if (producerEpoch > entry.producerEpoch) {
      entry.producerEpoch = producerEpoch;
      entry.batches = [];
    }
    entry.coordinatorEpoch = coordinatorEpoch;
    entry.lastTimestampMs = Math.max(entry.lastTimestampMs, timestampMs);
    const firstOffset = entry.currentTxnFirstOffset;
    entry.currentTxnFirstOffset = -1;
    this.#ongoing.delete(producerId);
    this.#mapEndOffset = Math.max(this.#mapEndOffset, markerOffset + 1);
    if (commit || firstOffset < 0) return undefined;
    return { producerId, firstOffset, lastOffset: markerOffset };
  }

  /** Every tracked producer (for snapshots and DescribeProducers). */
  entries(): IterableIterator<ProducerStateEntry> {
    return this.#producers.values();
  }

  /**
   * Checks the idempotent batches of one partition's append. Batches without a producer id are
   * ignored. Nothing changes until `completeAppend`.
   */
  prepareAppend(batches: readonly ProducerBatch[]): PrepareResult {
    const idempotent = batches.filter((b) => b.producerId >= 0n);
    if (idempotent.length === 0) return { kind: "ok", plan: { batches: idempotent } };
    // Produce v3+ carries one batch per partition, so a duplicate is the whole request. With
    // several batches (older or internal appends) the request is a duplicate only if the first is.
    const first = idempotent[0]!;
    // Coordinator writes (transactional offset commits) carry no sequence: never duplicates.
    const duplicate = first.baseSequence === NO_SEQUENCE ? undefined : this.#findDuplicate(first);
    if (duplicate !== undefined) {
      return {
        kind: "duplicate",
        firstOffset: duplicate.firstOffset,
        lastOffset: duplicate.lastOffset,
        timestampMs: duplicate.timestampMs,
      };
    }
    // Simulated state per producer, so several batches of one producer chain correctly.
    const pending = new Map<bigint, { epoch: number; lastSeq: number }>();
    for (const batch of idempotent) {
      const current = this.#producers.get(batch.producerId);
      const state = pending.get(batch.producerId) ?? {
        epoch: current?.producerEpoch ?? NO_PRODUCER_EPOCH,
        lastSeq: current?.batches.at(-1)?.lastSeq ?? NO_SEQUENCE,
      };
      const problem = checkBatch(batch, state);
      if (problem !== undefined) return { kind: "error", ...problem };
      if (!batch.isTransactional && this.#ongoing.has(batch.producerId)) {
        return {
          kind: "error",
          errorCode: ErrorCode.INVALID_TXN_STATE,
          errorMessage: `Expected a transactional batch from producer ${batch.producerId}, which has an open transaction`,
        };
      }
      state.epoch = batch.producerEpoch;
      state.lastSeq = lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta);
      pending.set(batch.producerId, state);
    }
    return { kind: "ok", plan: { batches: idempotent } };
  }

  /**
   * Records the planned batches at the offsets the log gave them: `firstOffsets[i]` is the base
   * offset of `plan.batches[i]`. `nextOffset` is the log end offset after the append.
   */
  completeAppend(plan: AppendPlan, firstOffsets: readonly number[], nextOffset: number, nowMs: number): void {
    plan.batches.forEach((batch, i) => {
      const firstOffset = firstOffsets[i];
      if (firstOffset === undefined) throw new Error("assertion: an offset for every planned batch");
      this.#record(batch, firstOffset, nowMs);
    });
    this.#mapEndOffset = Math.max(this.#mapEndOffset, nextOffset);
    this.#enforceBound();
  }

  /**
   * Replays a batch read back from the log (recovery after the last snapshot): no checks, the log
   * is the truth. Control batches and batches without producer id only move the map end offset.
   */
  replayBatch(batch: ProducerBatch & { readonly isControl: boolean }, baseOffset: number): void {
    const nextOffset = baseOffset + batch.lastOffsetDelta + 1;
    if (batch.producerId >= 0n && !batch.isControl) {
      this.#record(batch, baseOffset, Number(batch.maxTimestamp));
    }
    this.#mapEndOffset = Math.max(this.#mapEndOffset, nextOffset);
  }

  /** Restores entries read from a snapshot taken at `snapshotOffset`, dropping expired ones. */
  loadSnapshot(entries: readonly ProducerStateEntry[], snapshotOffset: number, nowMs: number): void {
    this.#producers.clear();
    for (const entry of entries) {
      if (this.#isExpired(entry, nowMs)) continue;
      this.#producers.set(entry.producerId, entry);
    }
    this.#mapEndOffset = snapshotOffset;
    this.#ongoing.clear();
    for (const entry of this.#producers.values()) {
      if (entry.currentTxnFirstOffset >= 0) this.#ongoing.set(entry.producerId, entry.currentTxnFirstOffset);
    }
    this.#enforceBound();
  }

  /** Forgets everything and starts at `offset` (log truncated fully or deleted). */
  truncateFullyAndStartAt(offset: number): void {
    this.#producers.clear();
    this.#ongoing.clear();
    this.#mapEndOffset = offset;
  }

  /**
   * The log start moved to `logStartOffset` (DeleteRecords, retention): producers whose last
   * batch is now below it are forgotten, so their next write is accepted with any sequence
   * (Kafka's KIP-360 behaviour) instead of failing on state that no longer matches the log.
   */
  onLogStartOffsetIncremented(logStartOffset: number): void {
    for (const [id, entry] of this.#producers) {
      const last = entry.batches.at(-1);
      if (last !== undefined && last.lastOffset < logStartOffset && entry.currentTxnFirstOffset < 0) {
        this.#producers.delete(id);
      }
    }
    if (this.#mapEndOffset < logStartOffset) this.#mapEndOffset = logStartOffset;
  }

  /** Forgets producers idle longer than producer.id.expiration.ms with no open transaction. */
  removeExpiredProducers(nowMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.#producers) {
      if (this.#isExpired(entry, nowMs)) {
        this.#producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  #isExpired(entry: ProducerStateEntry, nowMs: number): boolean {
    return (
      entry.currentTxnFirstOffset < 0 && nowMs - entry.lastTimestampMs >= this.#options.producerIdExpirationMs
    );
  }

  #findDuplicate(batch: ProducerBatch): BatchMetadata | undefined {
    const entry = this.#producers.get(batch.producerId);
    if (entry === undefined || entry.producerEpoch !== batch.producerEpoch) return undefined;
    const lastSeq = lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta);
    return entry.batches.find((b) => b.firstSeq === batch.baseSequence && b.lastSeq === lastSeq);
  }

  #record(batch: ProducerBatch, firstOffset: number, nowMs: number): void {
    let entry = this.#producers.get(batch.producerId);
    if (entry === undefined) {
      entry = {
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        batches: [],
        lastTimestampMs: nowMs,
        coordinatorEpoch: -1,
        currentTxnFirstOffset: -1,
      };
      this.#producers.set(batch.producerId, entry);
    } else {
      // Map order is idle order for the bound: re-insert the producer as the most recent.
      this.#producers.delete(batch.producerId);
      this.#producers.set(batch.producerId, entry);
    }
    if (batch.producerEpoch !== entry.producerEpoch) {
      entry.producerEpoch = batch.producerEpoch;
      entry.batches = [];
    }
    const timestampMs = Math.max(Number(batch.maxTimestamp), nowMs);
    if (batch.baseSequence !== NO_SEQUENCE)
      entry.batches.push({
        firstSeq: batch.baseSequence,
        lastSeq: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
        firstOffset,
        lastOffset: firstOffset + batch.lastOffsetDelta,
        timestampMs: Number(batch.maxTimestamp),
      });
    if (entry.batches.length > BATCHES_RETAINED_PER_PRODUCER) entry.batches.shift();
    entry.lastTimestampMs = timestampMs;
    if (batch.isTransactional && entry.currentTxnFirstOffset < 0) {
      entry.currentTxnFirstOffset = firstOffset;
      this.#ongoing.set(batch.producerId, firstOffset);
    }
  }

  #enforceBound(): void {
    // Map iteration order is insertion order and `#record` re-inserts on use: the first keys are
    // the producers idle the longest.
    const excess = this.#producers.size - this.#options.producersMax;
    if (excess <= 0) return;
    let removed = 0;
    for (const [id, entry] of this.#producers) {
      if (removed >= excess) break;
      if (entry.currentTxnFirstOffset >= 0) continue;
      this.#producers.delete(id);
      removed++;
    }
  }
}

function checkBatch(
  batch: ProducerBatch,
  state: { epoch: number; lastSeq: number },
): { errorCode: number; errorMessage: string } | undefined {
  const { producerId, producerEpoch, baseSequence } = batch;
  if (producerEpoch < state.epoch) {
    return {
      errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
      errorMessage:
        `Epoch of producer ${producerId} is ${producerEpoch}, which is smaller than the last seen epoch ` +
        `${state.epoch}`,
    };
  }
  if (producerEpoch !== state.epoch) {
    if (baseSequence !== 0 && baseSequence !== NO_SEQUENCE && state.epoch !== NO_PRODUCER_EPOCH) {
      return {
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        errorMessage:
          `Invalid sequence number for new epoch of producer ${producerId}: ${producerEpoch} (request epoch), ` +
          `${baseSequence} (seq. number), ${state.epoch} (current producer epoch)`,
      };
    }
    return undefined;
  }
  // Same epoch. An unknown producer (no epoch) may start anywhere (KIP-360). Batches without a
  // sequence come from a coordinator (Kafka's AppendOrigin.COORDINATOR): only the epoch counts.
  if (state.epoch === NO_PRODUCER_EPOCH || baseSequence === NO_SEQUENCE) return undefined;
  if (!inSequence(state.lastSeq, baseSequence)) {
    return {
      errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      errorMessage:
        `Out of order sequence number for producer ${producerId}: ${baseSequence} (incoming seq. number), ` +
        `${state.lastSeq} (current end sequence number)`,
    };
  }
  return undefined;
}
