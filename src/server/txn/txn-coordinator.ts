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
  supportsEpochBump,
  TV_2,
  TXN_STATE_NAMES,
  type TxnRecordValue,
  TxnState,
} from "./txn-metadata.js";

/** Short.MAX_VALUE: the epoch a transactions-v2 end may reach before the producer id rotates. */
const EPOCH_MAX = 0x7fff;

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
  /** The transaction version the transaction ended with (WriteTxnMarkers v2, KIP-1228). */
  transactionVersion: number;
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
  /**
   * The finalized transaction.version: what the coordinator's own aborts (timeouts, fencing) use,
   * as Kafka uses the server's level for them. Absent: 0.
   */
  transactionVersion?: () => number;
}

export interface TxnMetadata {
  readonly transactionalId: string;
  producerId: bigint;
  previousProducerId: bigint;
  /** Transactions v2: the id replacing an exhausted producer id when the transaction completes. */
  nextProducerId: bigint;
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
  /** The transaction version of the client's last transition (persisted; markers carry it). */
  clientTransactionVersion: number;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

/** EndTxn's answer: transactions v2 returns the producer id and epoch for the next transaction. */
export type EndTxnResult = InitProducerIdResult;

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
        const fencedEpoch = this.#fencingEpoch(txn);
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
        const ended = await this.#endTransaction(txn, false, {
          epoch: fencedEpoch,
          transactionVersion: this.#serverTransactionVersion(),
          noPartitionAdded: false,
          reason: "fencing",
        });
        if (ended.errorCode !== ErrorCode.NONE) return fail(ended.errorCode);
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
      nextProducerId: -1n,
      producerEpoch: epoch,
      txnTimeoutMs,
      state: TxnState.Empty,
      partitions: new Map(),
      txnStartTimestampMs: -1,
      txnLastUpdateTimestampMs: nowMs,
      clientTransactionVersion: txn.clientTransactionVersion,
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

  /**
   * AddPartitionsToTxn for one transaction; per-partition results as Kafka fills them.
   * `clientTransactionVersion` is 2 when the partitions join implicitly (transactions v2: a
   * produce, a TxnOffsetCommit v5+, or a broker's AddPartitionsToTxn v4+ without verify_only).
   */
  async addPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topics: readonly TopicPartitions[],
    clientTransactionVersion = 0,
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
      clientTransactionVersion,
    });
    return all(persisted);
  }

  /**
   * Transactions v2 (KIP-890 part 2): a transactional batch of Produce v12+, or a TxnOffsetCommit
   * v5+, adds its partition to the producer's transaction itself (Kafka's AddPartitionsToTxnManager
   * with the addPartition operation), so the client sends no AddPartitionsToTxn/AddOffsetsToTxn.
   * Resolves to the coordinator's error code (NONE once the partition is in the transaction).
   */
  async addPartitionImplicitly(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): Promise<number> {
    const [result] = await this.addPartitions(
      transactionalId,
      producerId,
      producerEpoch,
      [{ name: topic, partitions: [partition] }],
      TV_2,
    );
    return result?.results[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
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
   * A partition outside the transaction is TRANSACTION_ABORTABLE for a client that knows that
   * error (`abortable`: Produce v11+, TxnOffsetCommit v4+), else INVALID_TXN_STATE, as Kafka's
   * AddPartitionsToTxnManager translates its coordinator's answer (genericError / defaultError).
   */
  verifyTransactionalProduce(
    transactionalId: string | null,
    producerId: bigint,
    producerEpoch: number,
    topic: string,
    partition: number,
    abortable: boolean,
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
      return abortable ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE;
    }
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------------------------------------
  // EndTxn (Kafka's TransactionCoordinator.handleEndTransaction)

  /**
   * EndTxn. `clientTransactionVersion` is 2 for EndTxn v5+ (transactions v2: the epoch is bumped
   * at every transaction end and returned), else 0 (the answer carries no producer id).
   */
  async endTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
    clientTransactionVersion = 0,
  ): Promise<EndTxnResult> {
    const gate = this.gate(transactionalId);
    if (gate !== ErrorCode.NONE) return noProducer(gate);
    if (transactionalId === "") return noProducer(ErrorCode.INVALID_REQUEST);
    const txn = this.#txns.get(transactionalId);
    if (supportsEpochBump(clientTransactionVersion)) {
      return this.#endTxnV2(txn, producerId, producerEpoch, commit, clientTransactionVersion);
    }
    const error = this.#checkProducer(txn, producerId, producerEpoch);
    if (error !== ErrorCode.NONE || txn === undefined) return noProducer(error);
    switch (txn.state) {
      case TxnState.Ongoing:
        return this.#endTransaction(txn, commit, {
          epoch: txn.producerEpoch,
          transactionVersion: clientTransactionVersion,
          noPartitionAdded: false,
          reason: "client",
        });
      case TxnState.CompleteCommit:
        // A retry of a commit that completed is answered as it was.
        return noProducer(commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
      case TxnState.CompleteAbort:
        return noProducer(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE);
      case TxnState.PrepareCommit:
        return noProducer(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case TxnState.PrepareAbort:
        return noProducer(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        return noProducer(ErrorCode.INVALID_TXN_STATE);
    }
  }

  /**
   * EndTxn with transactions v2 (Kafka's endTransaction for TV_2). The same epoch no longer tells
   * a retry from the next transaction's end, so a retry is recognized by the epoch it bumped: the
   * coordinator holds epoch + 1 (or, after an id rotation, the new id at epoch 0 with the request's
   * id as the previous one). Outcomes in Empty / CompleteAbort / CompleteCommit:
   *
   *                   abort: retry / current     commit: retry / current
   *   Empty           PRODUCER_FENCED / bump     PRODUCER_FENCED / INVALID_TXN_STATE
   *   CompleteAbort   NONE / bump                INVALID_TXN_STATE / INVALID_TXN_STATE
   *   CompleteCommit  INVALID_TXN_STATE / bump   NONE / INVALID_TXN_STATE
   *
   * An abort with the current epoch in those states is a transaction the client cannot tell
   * whether a partition joined (a produce that failed): it is ended with a bumped epoch, no markers.
   */
  async #endTxnV2(
    txn: TxnMetadata | undefined,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
    clientTransactionVersion: number,
  ): Promise<EndTxnResult> {
    if (txn === undefined) return noProducer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const retryOnOverflow =
      txn.previousProducerId === producerId && producerEpoch === EPOCH_MAX - 1 && txn.producerEpoch === 0;
    const retryOnEpochBump = txn.producerEpoch === producerEpoch + 1;
    let validEpoch: boolean;
    switch (txn.state) {
      case TxnState.PrepareCommit:
      case TxnState.PrepareAbort:
        validEpoch = retryOnEpochBump;
        break;
      case TxnState.CompleteCommit:
      case TxnState.CompleteAbort:
        validEpoch = retryOnEpochBump || retryOnOverflow || producerEpoch === txn.producerEpoch;
        break;
      default:
        validEpoch = producerEpoch === txn.producerEpoch;
    }
    if (txn.producerId !== producerId && !retryOnOverflow) {
      return noProducer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    }
    if (!validEpoch) return noProducer(ErrorCode.PRODUCER_FENCED);
    if (txn.pending) return noProducer(ErrorCode.CONCURRENT_TRANSACTIONS);
    const isRetry = retryOnEpochBump || retryOnOverflow;
    const current: EndTxnResult = {
      errorCode: ErrorCode.NONE,
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
    };
    const end = (noPartitionAdded: boolean, endCommit: boolean) =>
      this.#endTransaction(txn, endCommit, {
        epoch: txn.producerEpoch,
        transactionVersion: clientTransactionVersion,
        noPartitionAdded,
        reason: "client",
      });
    switch (txn.state) {
      case TxnState.Ongoing:
        return end(false, commit);
      case TxnState.CompleteCommit:
        if (commit) return isRetry ? current : noProducer(ErrorCode.INVALID_TXN_STATE);
        return isRetry ? noProducer(ErrorCode.INVALID_TXN_STATE) : end(true, false);
      case TxnState.CompleteAbort:
        if (commit) return noProducer(ErrorCode.INVALID_TXN_STATE);
        return isRetry ? current : end(true, false);
      case TxnState.PrepareCommit:
        return noProducer(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case TxnState.PrepareAbort:
        return noProducer(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
      case TxnState.Empty:
        return commit ? noProducer(ErrorCode.INVALID_TXN_STATE) : end(true, false);
      default:
        return noProducer(ErrorCode.INVALID_TXN_STATE);
    }
  }

  /**
   * Writes Prepare*, then the markers, then Complete*. Resolves once Prepare* is durable and the
   * first round of markers is done. `epoch` is the producer's epoch, or the bumped one when the
   * coordinator fences (timeout, a new instance). With transactions v2 the transaction ends one
   * epoch later (Kafka's prepareAbortOrCommit), the markers carry that epoch, and an exhausted
   * producer id is replaced by a fresh one at completion (epoch 0), which the answer returns.
   */
  async #endTransaction(
    txn: TxnMetadata,
    commit: boolean,
    opts: { epoch: number; transactionVersion: number; noPartitionAdded: boolean; reason: string },
  ): Promise<EndTxnResult> {
    const target = commit ? TxnState.PrepareCommit : TxnState.PrepareAbort;
    if (!isValidTransition(txn.state, target)) return noProducer(ErrorCode.INVALID_TXN_STATE);
    const fencing = txn.state === TxnState.PrepareEpochFence;
    const v2 = supportsEpochBump(opts.transactionVersion);
    let producerEpoch = opts.epoch;
    let lastProducerEpoch = fencing ? -1 : txn.lastProducerEpoch;
    let nextProducerId = -1n;
    if (v2) {
      if (!fencing && isEpochExhausted(txn.producerEpoch)) {
        try {
          nextProducerId = await this.#deps.nextProducerId();
        } catch (err) {
          this.#logger.warn({ err }, "producer id allocation failed");
          return noProducer(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
        }
        if (txn.pending || !isValidTransition(txn.state, target)) {
          return noProducer(ErrorCode.CONCURRENT_TRANSACTIONS);
        }
      }
      // An abort at Short.MAX_VALUE (a broken state) goes through without overflowing.
      producerEpoch = opts.epoch === EPOCH_MAX && !commit ? opts.epoch : opts.epoch + 1;
      lastProducerEpoch = opts.epoch;
    }
    const nowMs = this.#deps.clock.nowMs();
    const persisted = await this.#persist(txn, {
      ...recordOf(txn),
      producerEpoch,
      nextProducerId,
      state: target,
      partitions: opts.noPartitionAdded ? new Map() : txn.partitions,
      txnStartTimestampMs: opts.noPartitionAdded ? nowMs : txn.txnStartTimestampMs,
      txnLastUpdateTimestampMs: nowMs,
      clientTransactionVersion: opts.transactionVersion,
    });
    if (persisted !== ErrorCode.NONE) {
      if (fencing) txn.state = TxnState.Ongoing;
      return noProducer(persisted);
    }
    txn.lastProducerEpoch = lastProducerEpoch;
    if (opts.reason !== "client") {
      this.#logger.info(
        {
          transactionalId: txn.transactionalId,
          producerId: txn.producerId,
          epoch: producerEpoch,
          reason: opts.reason,
        },
        "aborting transaction",
      );
    }
    txn.markersPending = clonePartitions(txn.partitions);
    txn.pending = true;
    const result: EndTxnResult = v2
      ? {
          errorCode: ErrorCode.NONE,
          producerId: nextProducerId !== -1n ? nextProducerId : txn.producerId,
          producerEpoch: nextProducerId !== -1n ? 0 : producerEpoch,
        }
      : noProducer(ErrorCode.NONE);
    await this.#writeMarkersAndComplete(txn);
    return result;
  }

  /**
   * The epoch that fences a producer whose transaction the coordinator aborts (Kafka's
   * prepareFenceProducerEpoch; Krill keeps its transactions-v1 rule of not bumping an exhausted
   * epoch, which leaves room for the retry's rotation).
   */
  #fencingEpoch(txn: TxnMetadata): number {
    if (supportsEpochBump(this.#serverTransactionVersion())) {
      return txn.producerEpoch === EPOCH_MAX ? txn.producerEpoch : txn.producerEpoch + 1;
    }
    return isEpochExhausted(txn.producerEpoch) ? txn.producerEpoch : txn.producerEpoch + 1;
  }

  #serverTransactionVersion(): number {
    return this.#deps.transactionVersion?.() ?? 0;
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
              transactionVersion: txn.clientTransactionVersion,
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
    // Transactions v2 past an exhausted epoch: the next producer id takes over at epoch 0.
    const rotate = supportsEpochBump(txn.clientTransactionVersion) && txn.nextProducerId !== -1n;
    const error = await this.#persist(txn, {
      ...recordOf(txn),
      producerId: rotate ? txn.nextProducerId : txn.producerId,
      previousProducerId: rotate ? txn.producerId : txn.previousProducerId,
      nextProducerId: -1n,
      producerEpoch: rotate ? 0 : txn.producerEpoch,
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
        const epoch = this.#fencingEpoch(txn);
        txn.state = TxnState.PrepareEpochFence;
        work.push(
          this.#endTransaction(txn, false, {
            epoch,
            transactionVersion: this.#serverTransactionVersion(),
            noPartitionAdded: false,
            reason: "timeout",
          }),
        );
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
    txn.nextProducerId = next.nextProducerId;
    txn.clientTransactionVersion = next.clientTransactionVersion;
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
    nextProducerId: -1n,
    producerEpoch: -1,
    lastProducerEpoch: -1,
    txnTimeoutMs,
    state: TxnState.Empty,
    partitions: new Map(),
    txnStartTimestampMs: -1,
    txnLastUpdateTimestampMs: nowMs,
    pending: false,
    markersPending: new Map(),
    clientTransactionVersion: 0,
  };
}

function fromRecord(transactionalId: string, v: TxnRecordValue): TxnMetadata {
  return {
    transactionalId,
    producerId: v.producerId,
    previousProducerId: v.previousProducerId,
    nextProducerId: v.nextProducerId,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: -1,
    txnTimeoutMs: v.txnTimeoutMs,
    state: v.state,
    partitions: clonePartitions(v.partitions),
    txnStartTimestampMs: v.txnStartTimestampMs,
    txnLastUpdateTimestampMs: v.txnLastUpdateTimestampMs,
    pending: false,
    markersPending: new Map(),
    clientTransactionVersion: v.clientTransactionVersion,
  };
}

function recordOf(txn: TxnMetadata): TxnRecordValue {
  return {
    producerId: txn.producerId,
    previousProducerId: txn.previousProducerId,
    nextProducerId: txn.nextProducerId,
    producerEpoch: txn.producerEpoch,
    txnTimeoutMs: txn.txnTimeoutMs,
    state: txn.state,
    partitions: txn.partitions,
    txnStartTimestampMs: txn.txnStartTimestampMs,
    txnLastUpdateTimestampMs: txn.txnLastUpdateTimestampMs,
    clientTransactionVersion: txn.clientTransactionVersion,
  };
}

function noProducer(errorCode: number): EndTxnResult {
  return { errorCode, producerId: -1n, producerEpoch: -1 };
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
