/**
 * The transaction coordinator (Kafka's TransactionCoordinator + TransactionStateManager +
 * TransactionMarkerChannelManager, for one node): InitProducerId with a transactional id,
 * AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, the abort of timed-out transactions, and the views
 * DescribeTransactions / ListTransactions read. State transitions are in txn-metadata.ts.
 *
 * Every change is written to __transaction_state (through `TxnStateLog`) before it takes effect in
 * memory, so a restart replays the newest record of each transactional id. A transaction found
 * in PrepareCommit/PrepareAbort after a restart has its markers written again and is completed:
 * markers are idempotent for the reader (a second marker for a closed transaction changes
 * nothing), so writing them twice is harmless.
 *
 * EndTxn: Prepare* is written, then the COMMIT/ABORT marker goes to every partition of the
 * transaction (`TxnMarkerWriter`, local partitions: no WriteTxnMarkers hop on one node), then
 * Complete* is written. The client is answered once Prepare* is durable and the first marker
 * round is done; partitions whose marker failed are retried by `tick` until all succeed, and
 * meanwhile the transactional id answers CONCURRENT_TRANSACTIONS, as Kafka does.
 *
 * Concurrency contract: single event loop. At most one state change per transactional id is in
 * flight (`pending`, Kafka's pendingState); requests arriving meanwhile get
 * CONCURRENT_TRANSACTIONS, which clients retry.
 */
import type { Clock } from "../../clock.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { coordinatorPartitionFor } from "../group/java-hash.js";
import {
  decodeTxnRecord,
  encodeTxnKey,
  encodeTxnValue,
  isEpochExhausted,
  isValidTransition,
  TXN_STATE_NAMES,
  type TxnRecordValue,
  TxnState,
} from "./txn-metadata.js";

/** __transaction_state, partition by partition. */
export interface TxnStateLog {
  append(partition: number, key: Buffer, value: Buffer | null): Promise<void>;
  replay(partition: number, onRecord: (key: Buffer, value: Buffer | null) => void): Promise<void>;
}

/** One COMMIT (commit: true) or ABORT marker for one partition. */
export interface TxnMarker {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
}

/** Writes one COMMIT/ABORT marker to one partition; resolves to a wire error code (0: written). */
export interface TxnMarkerWriter {
  writeMarker(marker: TxnMarker): Promise<number>;
}

export interface TxnCoordinatorConfig {
  /** transaction.state.log.num.partitions */
  stateLogPartitions: number;
  /** transaction.max.timeout.ms */
  maxTimeoutMs: number;
  /** transactional.id.expiration.ms */
  transactionalIdExpirationMs: number;
  /** Bound on transactional ids held in memory (each has one record in the topic). */
  transactionalIdsMax: number;
}

export interface TxnLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface TxnCoordinatorDeps {
  config: TxnCoordinatorConfig;
  log: TxnStateLog;
  markers: TxnMarkerWriter;
  nextProducerId: () => Promise<bigint>;
  clock: Clock;
  /** Does the partition exist (AddPartitionsToTxn answers UNKNOWN_TOPIC_OR_PARTITION otherwise)? */
  partitionExists: (topic: string, partition: number) => boolean;
  /** Called once a transaction's markers are all written (transactional offsets become visible). */
  onTransactionCompleted?: (producerId: bigint, commit: boolean) => void;
  logger?: TxnLogger;
  /** Epoch of a coordinator that loads every partition with `load()` (a lone broker). */
  coordinatorEpoch?: number;
}

export interface TxnMetadata {
  readonly transactionalId: string;
  producerId: bigint;
  previousProducerId: bigint;
  producerEpoch: number;
  /** In memory only (Kafka's lastProducerEpoch): recognizes a retried InitProducerId (KIP-360). */
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TxnState;
  partitions: Map<string, Set<number>>;
  txnStartTimestampMs: number;
  txnLastUpdateTimestampMs: number;
  /** A state change is being written (Kafka's pendingState). */
  pending: boolean;
  /** Partitions still waiting for their marker while in PrepareCommit/PrepareAbort. */
  markersPending: Map<string, Set<number>>;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

export interface TopicPartitions {
  readonly name: string;
  readonly partitions: readonly number[];
}

export interface PartitionErrors {
  name: string;
  results: { partitionIndex: number; errorCode: number }[];
}

const SILENT: TxnLogger = { info: () => {}, warn: () => {} };

export class TransactionCoordinator {
  readonly #deps: TxnCoordinatorDeps;
  readonly #config: TxnCoordinatorConfig;
  readonly #logger: TxnLogger;
  readonly #txns = new Map<string, TxnMetadata>();
  /** Transactions whose marker round is running (so `tick` does not start a second one). */
  readonly #markerRounds = new Set<TxnMetadata>();
  /**
   * The partitions of __transaction_state served here (the ones this node leads), each with its
   * coordinator epoch (the partition's leader epoch, which its markers carry) and the token that
   * tells a load from a later one.
   */
  readonly #partitions = new Map<
    number,
    { state: "loading" | "loaded"; epoch: number; token: number; done: Promise<void> }
  >();
  /** A partition was assigned (loaded or unloaded) since the coordinator was built. */
  #assigned = false;
  #loadTokens = 0;
  #closed = false;

  constructor(deps: TxnCoordinatorDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    this.#logger = deps.logger ?? SILENT;
  }

  /** Partitions were assigned (a node leading none counts) and none is loading. */
  get isLoaded(): boolean {
    if (!this.#assigned) return false;
    for (const p of this.#partitions.values()) if (p.state !== "loaded") return false;
    return true;
  }

  /** The partitions of __transaction_state served here, with their coordinator epochs. */
  get partitions(): ReadonlyMap<number, { readonly state: "loading" | "loaded"; readonly epoch: number }> {
    return this.#partitions;
  }

  /** The coordinator epoch of a transactional id's partition (the markers' epoch). */
  coordinatorEpochFor(transactionalId: string): number {
    return (
      this.#partitions.get(this.partitionFor(transactionalId))?.epoch ?? this.#deps.coordinatorEpoch ?? 0
    );
  }

  /**
   * Whether requests for `transactionalId` are served here: NONE when its partition is loaded,
   * COORDINATOR_LOAD_IN_PROGRESS while it loads (or before any partition was assigned), else
   * NOT_COORDINATOR (another node leads it; the client finds it again).
   */
  gate(transactionalId: string): number {
    const state = this.#partitions.get(this.partitionFor(transactionalId))?.state;
    if (state === "loaded") return ErrorCode.NONE;
    if (state === "loading" || !this.#assigned) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NOT_COORDINATOR;
  }

  partitionFor(transactionalId: string): number {
    return coordinatorPartitionFor(transactionalId, this.#config.stateLogPartitions);
  }

  metadata(transactionalId: string): Readonly<TxnMetadata> | undefined {
    return this.#txns.get(transactionalId);
  }

  transactions(): IterableIterator<Readonly<TxnMetadata>> {
    return this.#txns.values();
  }

  // ---------------------------------------------------------------------------------------------
  // Loading

  /** Loads every partition of __transaction_state (a lone broker leads them all). */
  async load(): Promise<void> {
    const epoch = this.#deps.coordinatorEpoch ?? 0;
    const loads: Promise<void>[] = [];
    for (let p = 0; p < this.#config.stateLogPartitions; p++) loads.push(this.loadPartition(p, epoch));
    await Promise.all(loads);
  }

  /**
   * This node became leader of partition `p` of __transaction_state at leader epoch `epoch`
   * (Kafka's TransactionStateManager.loadTransactionsForTxnTopicPartition): its records are
   * replayed, then its transactional ids are served, and transactions caught between prepare
   * and complete are completed (their markers written again, with this epoch). A partition
   * already served only takes a newer epoch; a failed replay is forgotten so a later call
   * retries. Resolves once the partition is served and those completions were attempted.
   */
  loadPartition(p: number, epoch: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#assigned = true;
    const current = this.#partitions.get(p);
    if (current !== undefined) {
      if (epoch > current.epoch) current.epoch = epoch;
      return current.done;
    }
    const token = ++this.#loadTokens;
    const entry = { state: "loading" as "loading" | "loaded", epoch, token, done: Promise.resolve() };
    this.#partitions.set(p, entry);
    entry.done = this.#loadPartition(p, entry).catch((err: unknown) => {
      if (this.#partitions.get(p)?.token === token) this.#partitions.delete(p);
      throw err;
    });
    return entry.done;
  }

  async #loadPartition(p: number, entry: { state: "loading" | "loaded"; token: number }): Promise<void> {
    const loaded = new Map<string, TxnMetadata>();
    await this.#deps.log.replay(p, (key, value) => {
      let decoded: ReturnType<typeof decodeTxnRecord>;
      try {
        decoded = decodeTxnRecord(key, value);
      } catch (err) {
        this.#logger.warn({ err, partition: p }, "skipping an unreadable __transaction_state record");
        return;
      }
      if (decoded.value === null) loaded.delete(decoded.transactionalId);
      else loaded.set(decoded.transactionalId, fromRecord(decoded.transactionalId, decoded.value));
    });
    // Unloaded (or closed) while replaying: nothing of it is kept.
    if (this.#closed || this.#partitions.get(p)?.token !== entry.token) return;
    for (const [id, txn] of loaded) this.#txns.set(id, txn);
    entry.state = "loaded";
    const unfinished = [...loaded.values()].filter(
      (t) => t.state === TxnState.PrepareCommit || t.state === TxnState.PrepareAbort,
    );
    this.#logger.info(
      { partition: p, transactionalIds: loaded.size, completing: unfinished.length },
      "transaction coordinator loaded a partition",
    );
    await Promise.all(
      unfinished.map((txn) => {
        txn.markersPending = clonePartitions(txn.partitions);
        txn.pending = true;
        return this.#writeMarkersAndComplete(txn);
      }),
    );
  }

  /**
   * This node stopped leading partition `p` (Kafka's removeTransactionsForTxnTopicPartition): its
   * transactional ids leave memory and get NOT_COORDINATOR; marker rounds in flight for them
   * stop before writing anything more to the state log (the new coordinator completes them).
   */
  unloadPartition(p: number): void {
    this.#assigned = true;
    if (!this.#partitions.delete(p)) return;
    let removed = 0;
    for (const id of [...this.#txns.keys()]) {
      if (this.partitionFor(id) !== p) continue;
      this.#txns.delete(id);
      removed++;
    }
    this.#logger.info(
      { partition: p, transactionalIds: removed },
      "transaction coordinator unloaded a partition",
    );
  }

  close(): void {
    if (this.#partitions.size > 0 && !this.#closed) {
      this.#logger.info({ transactionalIds: this.#txns.size }, "transaction coordinator unloaded");
    }
    this.#closed = true;
  }

  // ---------------------------------------------------------------------------------------------
  // InitProducerId (Kafka's TransactionCoordinator.handleInitProducerId)

  async initProducerId(
    transactionalId: string,
    txnTimeoutMs: number,
    expected: { producerId: bigint; producerEpoch: number } | null,
  ): Promise<InitProducerIdResult> {
    const fail = (errorCode: number): InitProducerIdResult => ({
      errorCode,
      producerId: -1n,
      producerEpoch: -1,
    });
    const gate = this.gate(transactionalId);
    if (gate !== ErrorCode.NONE) return fail(gate);
    if (transactionalId === "") return fail(ErrorCode.INVALID_REQUEST);
    if (txnTimeoutMs <= 0 || txnTimeoutMs > this.#config.maxTimeoutMs) {
      return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    }
    const nowMs = this.#deps.clock.nowMs();
    let txn = this.#txns.get(transactionalId);
    if (txn === undefined) {
      if (this.#txns.size >= this.#config.transactionalIdsMax) {
        this.#logger.warn(
          { transactionalId },
          "refusing a new transactional id: transactionalIdsMax reached",
        );
        return fail(ErrorCode.POLICY_VIOLATION);
      }
      let producerId: bigint;
      try {
        producerId = await this.#deps.nextProducerId();
      } catch (err) {
        this.#logger.warn({ err }, "producer id allocation failed");
        return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      }
      // Another request may have created it while we waited for the id.
      txn = this.#txns.get(transactionalId);
      if (txn === undefined) {
        txn = newMetadata(transactionalId, producerId, txnTimeoutMs, nowMs);
        this.#txns.set(transactionalId, txn);
      }
    }
    if (txn.pending) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (expected !== null && !isValidProducerId(txn, expected)) return fail(ErrorCode.PRODUCER_FENCED);

    switch (txn.state) {
      case TxnState.PrepareCommit:
      case TxnState.PrepareAbort:
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case TxnState.Ongoing: {
        // A new producer instance while a transaction is open: fence the old one by bumping the
        // epoch and aborting with it; the client retries and then gets a fresh epoch.
        const fencedEpoch = isEpochExhausted(txn.producerEpoch) ? txn.producerEpoch : txn.producerEpoch + 1;
        this.#logger.info(
          {
            transactionalId: txn.transactionalId,
            producerId: txn.producerId,
            producerEpoch: txn.producerEpoch,
            fencingEpoch: fencedEpoch,
          },
          "fencing the previous producer of the transactional id (a new instance called InitProducerId)",
        );
        txn.state = TxnState.PrepareEpochFence;
        const error = await this.#endTransaction(txn, false, fencedEpoch, "fencing");
        if (error !== ErrorCode.NONE) return fail(error);
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      }
      case TxnState.Dead:
      case TxnState.PrepareEpochFence:
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        break;
    }
    // Empty, CompleteCommit, CompleteAbort.
    let producerId = txn.producerId;
    let previousProducerId = txn.previousProducerId;
    let epoch: number;
    let lastEpoch = txn.lastProducerEpoch;
    if (isEpochExhausted(txn.producerEpoch)) {
      // Kafka's prepareProducerIdRotation: a fresh id, epoch 0.
      try {
        producerId = await this.#deps.nextProducerId();
      } catch (err) {
        this.#logger.warn({ err }, "producer id allocation failed");
        return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      }
      previousProducerId = txn.producerId;
      epoch = 0;
      lastEpoch = -1;
    } else if (expected === null || expected.producerEpoch < 0 || txn.producerEpoch < 0) {
      epoch = txn.producerEpoch + 1;
      lastEpoch = -1;
    } else if (expected.producerEpoch === txn.producerEpoch) {
      // KIP-360: the producer resumes after an error with its current epoch; bump it.
      epoch = txn.producerEpoch + 1;
      lastEpoch = txn.producerEpoch;
    } else if (expected.producerEpoch === txn.lastProducerEpoch) {
      // A retry of a bump whose answer was lost: the same epoch again.
      epoch = txn.producerEpoch;
    } else {
      return fail(ErrorCode.PRODUCER_FENCED);
    }
    const next: TxnRecordValue = {
      producerId,
      previousProducerId,
      producerEpoch: epoch,
      txnTimeoutMs,
      state: TxnState.Empty,
      partitions: new Map(),
      txnStartTimestampMs: -1,
      txnLastUpdateTimestampMs: nowMs,
    };
    const error = await this.#persist(txn, next);
    if (error !== ErrorCode.NONE) return fail(error);
    txn.lastProducerEpoch = lastEpoch;
    return { errorCode: ErrorCode.NONE, producerId, producerEpoch: epoch };
  }

  // ---------------------------------------------------------------------------------------------
  // AddPartitionsToTxn / AddOffsetsToTxn

  /**
   * Checks that a request's producer id and epoch own the transactional id (Kafka's common checks
   * in handleAddPartitionsToTransaction / handleEndTransaction).
   */
  #checkProducer(txn: TxnMetadata | undefined, producerId: bigint, producerEpoch: number): number {
    if (txn === undefined) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (txn.pending) return ErrorCode.CONCURRENT_TRANSACTIONS;
    return ErrorCode.NONE;
  }

  /** AddPartitionsToTxn for one transaction; per-partition results as Kafka fills them. */
  async addPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topics: readonly TopicPartitions[],
  ): Promise<PartitionErrors[]> {
    const all = (errorCode: number): PartitionErrors[] =>
      topics.map((t) => ({
        name: t.name,
        results: t.partitions.map((partitionIndex) => ({ partitionIndex, errorCode })),
      }));
    const gate = this.gate(transactionalId);
    if (gate !== ErrorCode.NONE) return all(gate);
    if (transactionalId === "") return all(ErrorCode.INVALID_REQUEST);
    // Unknown partitions fail the whole request: those with their error, the rest not attempted.
    const unknown = topics.some((t) => t.partitions.some((p) => !this.#deps.partitionExists(t.name, p)));
    if (unknown) {
      return topics.map((t) => ({
        name: t.name,
        results: t.partitions.map((partitionIndex) => ({
          partitionIndex,
          errorCode: this.#deps.partitionExists(t.name, partitionIndex)
            ? ErrorCode.OPERATION_NOT_ATTEMPTED
            : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        })),
      }));
    }
    const txn = this.#txns.get(transactionalId);
    const error = this.#checkProducer(txn, producerId, producerEpoch);
    if (error !== ErrorCode.NONE || txn === undefined) return all(error);
    if (txn.state === TxnState.PrepareCommit || txn.state === TxnState.PrepareAbort) {
      return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    }
    if (!isValidTransition(txn.state, TxnState.Ongoing)) return all(ErrorCode.INVALID_TXN_STATE);
    const alreadyIn =
      txn.state === TxnState.Ongoing &&
      topics.every((t) => t.partitions.every((p) => hasPartition(txn, t.name, p)));
    if (alreadyIn) return all(ErrorCode.NONE);
    const nowMs = this.#deps.clock.nowMs();
    const partitions = txn.state === TxnState.Ongoing ? clonePartitions(txn.partitions) : new Map();
    for (const t of topics) {
      let set = partitions.get(t.name);
      if (set === undefined) {
        set = new Set();
        partitions.set(t.name, set);
      }
      for (const p of t.partitions) set.add(p);
    }
    const persisted = await this.#persist(txn, {
      ...recordOf(txn),
      state: TxnState.Ongoing,
      partitions,
      txnStartTimestampMs: txn.state === TxnState.Ongoing ? txn.txnStartTimestampMs : nowMs,
      txnLastUpdateTimestampMs: nowMs,
    });
    return all(persisted);
  }

  /**
   * AddPartitionsToTxn v4+ with verify_only (KIP-890 part 1): are these partitions part of the
   * producer's open transaction? Per partition NONE, or INVALID_TXN_STATE if not.
   */
  verifyPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topics: readonly TopicPartitions[],
  ): PartitionErrors[] {
    const txn = this.#txns.get(transactionalId);
    let error: number = this.gate(transactionalId);
    if (error === ErrorCode.NONE) {
      error = this.#checkProducer(txn, producerId, producerEpoch);
      if (error === ErrorCode.CONCURRENT_TRANSACTIONS) error = ErrorCode.NONE;
    }
    return topics.map((t) => ({
      name: t.name,
      results: t.partitions.map((partitionIndex) => ({
        partitionIndex,
        errorCode:
          error !== ErrorCode.NONE
            ? error
            : txn !== undefined && txn.state === TxnState.Ongoing && hasPartition(txn, t.name, partitionIndex)
              ? ErrorCode.NONE
              : ErrorCode.INVALID_TXN_STATE,
      })),
    }));
  }

  /**
   * The produce-side check of KIP-890 part 1: a transactional batch that opens a transaction in a
   * partition must come from the transactional id's current producer, and the partition must have
   * been added to its ongoing transaction. Returns the produce error code, NONE if it may go in.
   */
  verifyTransactionalProduce(
    transactionalId: string | null,
    producerId: bigint,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): number {
    if (transactionalId === null) {
      return this.isLoaded ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : ErrorCode.NOT_ENOUGH_REPLICAS;
    }
    const gate = this.gate(transactionalId);
    // Coordinated by another node: not verified here (Kafka asks that coordinator with
    // AddPartitionsToTxn verify_only, which Krill does not send yet), as with
    // transaction.partition.verification.enable=false.
    if (gate === ErrorCode.NOT_COORDINATOR) return ErrorCode.NONE;
    if (gate !== ErrorCode.NONE) return ErrorCode.NOT_ENOUGH_REPLICAS;
    const txn = this.#txns.get(transactionalId);
    // Kafka's verification answers the producer INVALID_TXN_STATE, or INVALID_PRODUCER_EPOCH when fenced.
    if (txn === undefined || txn.producerId !== producerId) return ErrorCode.INVALID_TXN_STATE;
    if (producerEpoch < txn.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (producerEpoch > txn.producerEpoch) return ErrorCode.INVALID_TXN_STATE;
    if (txn.state !== TxnState.Ongoing || !hasPartition(txn, topic, partition)) {
      return ErrorCode.INVALID_TXN_STATE;
    }
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------------------------------------
  // EndTxn (Kafka's TransactionCoordinator.handleEndTransaction)

  async endTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number> {
    const gate = this.gate(transactionalId);
    if (gate !== ErrorCode.NONE) return gate;
    if (transactionalId === "") return ErrorCode.INVALID_REQUEST;
    const txn = this.#txns.get(transactionalId);
    const error = this.#checkProducer(txn, producerId, producerEpoch);
    if (error !== ErrorCode.NONE || txn === undefined) return error;
    switch (txn.state) {
      case TxnState.Ongoing:
        return this.#endTransaction(txn, commit, txn.producerEpoch, "client");
      case TxnState.CompleteCommit:
        // A retry of a commit that completed is answered as it was.
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case TxnState.CompleteAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case TxnState.PrepareCommit:
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case TxnState.PrepareAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
  }

  /**
   * Writes Prepare* (with `epoch`, bumped when fencing), then the markers, then Complete*.
   * Resolves once Prepare* is durable and the first round of markers is done.
   */
  async #endTransaction(txn: TxnMetadata, commit: boolean, epoch: number, reason: string): Promise<number> {
    const nowMs = this.#deps.clock.nowMs();
    const target = commit ? TxnState.PrepareCommit : TxnState.PrepareAbort;
    if (!isValidTransition(txn.state, target)) return ErrorCode.INVALID_TXN_STATE;
    const fencing = txn.state === TxnState.PrepareEpochFence;
    const error = await this.#persist(txn, {
      ...recordOf(txn),
      producerEpoch: epoch,
      state: target,
      txnLastUpdateTimestampMs: nowMs,
    });
    if (error !== ErrorCode.NONE) {
      if (fencing) txn.state = TxnState.Ongoing;
      return error;
    }
    if (reason !== "client") {
      this.#logger.info(
        { transactionalId: txn.transactionalId, producerId: txn.producerId, epoch, reason },
        "aborting transaction",
      );
    }
    txn.markersPending = clonePartitions(txn.partitions);
    txn.pending = true;
    await this.#writeMarkersAndComplete(txn);
    return ErrorCode.NONE;
  }

  /** Writes the markers still pending; when none remain, persists Complete*. `txn.pending` is set. */
  async #writeMarkersAndComplete(txn: TxnMetadata): Promise<void> {
    if (this.#markerRounds.has(txn)) return;
    this.#markerRounds.add(txn);
    try {
      await this.#markerRound(txn);
    } finally {
      this.#markerRounds.delete(txn);
    }
  }

  async #markerRound(txn: TxnMetadata): Promise<void> {
    const commit = txn.state === TxnState.PrepareCommit;
    const writes: Promise<void>[] = [];
    for (const [topic, partitions] of txn.markersPending) {
      for (const partition of partitions) {
        writes.push(
          this.#deps.markers
            .writeMarker({
              topic,
              partition,
              producerId: txn.producerId,
              producerEpoch: txn.producerEpoch,
              coordinatorEpoch: this.coordinatorEpochFor(txn.transactionalId),
              commit,
            })
            .catch(() => ErrorCode.KAFKA_STORAGE_ERROR)
            .then((errorCode) => {
              // A deleted partition needs no marker (Kafka drops it too).
              if (errorCode === ErrorCode.NONE || errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
                const set = txn.markersPending.get(topic);
                set?.delete(partition);
                if (set?.size === 0) txn.markersPending.delete(topic);
              } else {
                this.#logger.warn(
                  { transactionalId: txn.transactionalId, topic, partition, errorCode },
                  "transaction marker not written; will retry",
                );
              }
            }),
        );
      }
    }
    await Promise.all(writes);
    // `tick` retries while markers are missing (the txn stays pending); a partition unloaded
    // meanwhile is the new coordinator's to complete.
    if (txn.markersPending.size > 0 || this.#closed || this.#txns.get(txn.transactionalId) !== txn) return;
    this.#deps.onTransactionCompleted?.(txn.producerId, commit);
    const nowMs = this.#deps.clock.nowMs();
    txn.pending = false;
    const error = await this.#persist(txn, {
      ...recordOf(txn),
      state: commit ? TxnState.CompleteCommit : TxnState.CompleteAbort,
      partitions: new Map(),
      txnLastUpdateTimestampMs: nowMs,
    });
    if (error !== ErrorCode.NONE) {
      // Markers are written; the Complete record is retried by `tick` (state is still Prepare*).
      txn.pending = true;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Timers

  /**
   * Periodic work (Kafka's abortTimedOutTransactions and marker retries): aborts, with a bumped
   * epoch that fences the producer, every Ongoing transaction older than its timeout; retries
   * markers of transactions stuck in Prepare*; forgets transactional ids idle longer than
   * transactional.id.expiration.ms (a tombstone in the topic).
   */
  async tick(): Promise<void> {
    if (this.#closed) return;
    const nowMs = this.#deps.clock.nowMs();
    const work: Promise<unknown>[] = [];
    for (const txn of [...this.#txns.values()]) {
      if (
        txn.state === TxnState.Ongoing &&
        !txn.pending &&
        txn.txnStartTimestampMs + txn.txnTimeoutMs < nowMs
      ) {
        const epoch = isEpochExhausted(txn.producerEpoch) ? txn.producerEpoch : txn.producerEpoch + 1;
        txn.state = TxnState.PrepareEpochFence;
        work.push(this.#endTransaction(txn, false, epoch, "timeout"));
      } else if (
        (txn.state === TxnState.PrepareCommit || txn.state === TxnState.PrepareAbort) &&
        txn.pending
      ) {
        work.push(this.#writeMarkersAndComplete(txn));
      } else if (
        !txn.pending &&
        (txn.state === TxnState.Empty ||
          txn.state === TxnState.CompleteCommit ||
          txn.state === TxnState.CompleteAbort) &&
        txn.txnLastUpdateTimestampMs + this.#config.transactionalIdExpirationMs < nowMs
      ) {
        work.push(this.#expire(txn));
      }
    }
    await Promise.all(work);
  }

  async #expire(txn: TxnMetadata): Promise<void> {
    txn.pending = true;
    try {
      await this.#deps.log.append(
        this.partitionFor(txn.transactionalId),
        encodeTxnKey(txn.transactionalId),
        null,
      );
      txn.state = TxnState.Dead;
      this.#txns.delete(txn.transactionalId);
    } catch (err) {
      this.#logger.warn({ err, transactionalId: txn.transactionalId }, "expiring a transactional id failed");
    } finally {
      txn.pending = false;
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Writes `next` for the transaction, then applies it in memory. Resolves to a wire error code. */
  async #persist(txn: TxnMetadata, next: TxnRecordValue): Promise<number> {
    if (!isValidTransition(txn.state, next.state)) return ErrorCode.INVALID_TXN_STATE;
    const wasPending = txn.pending;
    txn.pending = true;
    try {
      await this.#deps.log.append(
        this.partitionFor(txn.transactionalId),
        encodeTxnKey(txn.transactionalId),
        encodeTxnValue(next),
      );
    } catch (err) {
      this.#logger.warn({ err, transactionalId: txn.transactionalId }, "writing __transaction_state failed");
      txn.pending = wasPending;
      // Kafka answers a failed coordinator append with a retriable coordinator error.
      return ErrorCode.NOT_COORDINATOR;
    }
    txn.pending = wasPending;
    txn.producerId = next.producerId;
    txn.previousProducerId = next.previousProducerId;
    txn.producerEpoch = next.producerEpoch;
    txn.txnTimeoutMs = next.txnTimeoutMs;
    txn.state = next.state;
    txn.partitions = clonePartitions(next.partitions);
    txn.txnStartTimestampMs = next.txnStartTimestampMs;
    txn.txnLastUpdateTimestampMs = next.txnLastUpdateTimestampMs;
    return ErrorCode.NONE;
  }
}

export function stateName(state: TxnState): string {
  return TXN_STATE_NAMES[state];
}

function newMetadata(
  transactionalId: string,
  producerId: bigint,
  txnTimeoutMs: number,
  nowMs: number,
): TxnMetadata {
  return {
    transactionalId,
    producerId,
    previousProducerId: -1n,
    producerEpoch: -1,
    lastProducerEpoch: -1,
    txnTimeoutMs,
    state: TxnState.Empty,
    partitions: new Map(),
    txnStartTimestampMs: -1,
    txnLastUpdateTimestampMs: nowMs,
    pending: false,
    markersPending: new Map(),
  };
}

function fromRecord(transactionalId: string, v: TxnRecordValue): TxnMetadata {
  return {
    transactionalId,
    producerId: v.producerId,
    previousProducerId: v.previousProducerId,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: -1,
    txnTimeoutMs: v.txnTimeoutMs,
    state: v.state,
    partitions: clonePartitions(v.partitions),
    txnStartTimestampMs: v.txnStartTimestampMs,
    txnLastUpdateTimestampMs: v.txnLastUpdateTimestampMs,
    pending: false,
    markersPending: new Map(),
  };
}

function recordOf(txn: TxnMetadata): TxnRecordValue {
  return {
    producerId: txn.producerId,
    previousProducerId: txn.previousProducerId,
    producerEpoch: txn.producerEpoch,
    txnTimeoutMs: txn.txnTimeoutMs,
    state: txn.state,
    partitions: txn.partitions,
    txnStartTimestampMs: txn.txnStartTimestampMs,
    txnLastUpdateTimestampMs: txn.txnLastUpdateTimestampMs,
  };
}

function clonePartitions(p: ReadonlyMap<string, ReadonlySet<number>>): Map<string, Set<number>> {
  return new Map([...p].map(([topic, ids]) => [topic, new Set(ids)]));
}

function hasPartition(txn: TxnMetadata, topic: string, partition: number): boolean {
  return txn.partitions.get(topic)?.has(partition) ?? false;
}

/**
 * Kafka's isValidProducerId: a request naming a producer id is accepted if the metadata is new,
 * the id is the current one (the epoch is checked next), or it is the previous id with an
 * exhausted epoch (a retry after an id rotation).
 */
function isValidProducerId(
  txn: TxnMetadata,
  expected: { producerId: bigint; producerEpoch: number },
): boolean {
  return (
    txn.producerEpoch < 0 ||
    expected.producerId === txn.producerId ||
    (expected.producerId === txn.previousProducerId && isEpochExhausted(expected.producerEpoch))
  );
}
