/**
 * Transaction verification for the data path across the cluster (Kafka's AddPartitionsToTxnManager,
 * KIP-890): a transactional batch that would open a transaction in a partition this node leads
 * is checked with the transactional id's coordinator before it is appended. When this node is
 * the coordinator the local TransactionCoordinator answers; otherwise the coordinator (the
 * leader of the id's `__transaction_state` partition, on its inter-broker listener) is asked
 * with AddPartitionsToTxn v4+: `verify_only` for transactions v1 (the partition must already be
 * in the transaction: Produce below v12, TxnOffsetCommit below v5), without it for transactions
 * v2, where the coordinator adds the partition itself (Produce v12+, TxnOffsetCommit v5+).
 *
 * As Kafka's manager: requests to one coordinator node are batched, one in flight per node, and
 * what arrives meanwhile goes in the next request; one entry per transactional id per request
 * (a second produce of the same producer, epoch and kind joins it; a newer epoch replaces an
 * older one, which is answered INVALID_PRODUCER_EPOCH; the same epoch otherwise NETWORK_EXCEPTION,
 * which the producer retries). The coordinator's answer is translated as Kafka's manager does:
 * PRODUCER_FENCED is INVALID_PRODUCER_EPOCH, a partition outside the transaction is
 * TRANSACTION_ABORTABLE for clients that know it and INVALID_TXN_STATE for the others, a
 * top-level CLUSTER_AUTHORIZATION_FAILED is INVALID_TXN_STATE,
 * a failed or timed-out request NETWORK_EXCEPTION, and a coordinator that does not serve v4 is
 * not asked (the batch goes in unverified, as Kafka does). No leader for the id's partition, or
 * a fenced one, is COORDINATOR_NOT_AVAILABLE. The producer-facing translation of the retriable
 * ones (NOT_ENOUGH_REPLICAS) is the caller's (`produceErrorOfAdd`).
 *
 * Bounds: at most `PENDING_MAX` transactional ids wait per node (beyond, NETWORK_EXCEPTION at
 * once); each request has the inter-broker request timeout. Concurrency: event loop only.
 */

import { isKrillError } from "../../errors.js";
import type { MetadataImage } from "../../metadata/image.js";
import { TRANSACTION_STATE_TOPIC } from "../../metadata/internal-topics.js";
import type { AddPartitionsToTxnRequest } from "../../protocol/generated/add-partitions-to-txn-request.js";
import type { AddPartitionsToTxnResponse } from "../../protocol/generated/add-partitions-to-txn-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { TransactionCoordinator } from "./txn-coordinator.js";

/** What the data path asks (Produce, TxnOffsetCommit); TransactionCoordinator answers it locally. */
export interface TransactionVerifier {
  /**
   * Transactions v1: may this batch open the producer's transaction in this partition? The
   * producer-facing error code (NONE: yes). `abortable`: the client knows TRANSACTION_ABORTABLE
   * (Produce v11+, TxnOffsetCommit v4+: Kafka's genericError), which a partition outside the
   * transaction then gets instead of INVALID_TXN_STATE.
   */
  verifyTransactionalProduce(
    transactionalId: string | null,
    producerId: bigint,
    producerEpoch: number,
    topic: string,
    partition: number,
    abortable: boolean,
  ): number | Promise<number>;
  /** Transactions v2: adds the partition to the transaction; the coordinator's error code. */
  addPartitionImplicitly(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): Promise<number>;
}

export interface TxnVerificationDeps {
  /** This node's coordinator: answers for the ids it coordinates. */
  readonly coordinator: TransactionCoordinator;
  readonly nodeId: number;
  readonly image: () => MetadataImage;
  /**
   * Sends AddPartitionsToTxn (v4 or later) to a broker's inter-broker listener; rejects on a
   * network failure or timeout, or with a KrillError UNSUPPORTED_VERSION when it serves no v4.
   */
  readonly send: (
    brokerId: number,
    request: AddPartitionsToTxnRequest,
  ) => Promise<AddPartitionsToTxnResponse>;
  /** Starts this node's coordinator (it loads the partitions the image gives it). */
  readonly kick?: () => void;
  readonly logger?: { warn(fields: object, msg: string): void };
}

/** Transactional ids waiting for the next request to one coordinator node. */
const PENDING_MAX = 10_000;

interface Waiter {
  readonly topic: string;
  readonly partition: number;
  readonly resolve: (errorCode: number) => void;
}

interface PendingTxn {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly verifyOnly: boolean;
  readonly waiters: Waiter[];
}

interface NodeQueue {
  pending: Map<string, PendingTxn>;
  inflight: boolean;
}

export class TxnVerification implements TransactionVerifier {
  readonly #deps: TxnVerificationDeps;
  readonly #queues = new Map<number, NodeQueue>();
  #closed = false;

  constructor(deps: TxnVerificationDeps) {
    this.#deps = deps;
  }

  verifyTransactionalProduce(
    transactionalId: string | null,
    producerId: bigint,
    producerEpoch: number,
    topic: string,
    partition: number,
    abortable: boolean,
  ): number | Promise<number> {
    const coordinator = this.#deps.coordinator;
    if (transactionalId === null || this.#isLocal(transactionalId)) {
      return coordinator.verifyTransactionalProduce(
        transactionalId,
        producerId,
        producerEpoch,
        topic,
        partition,
        abortable,
      );
    }
    return this.#remote(transactionalId, producerId, producerEpoch, topic, partition, true).then((code) =>
      // Kafka's coordinator answers TRANSACTION_ABORTABLE for a partition outside the transaction,
      // Krill's INVALID_TXN_STATE: either reaches the client as its version knows it.
      produceErrorOfVerification(
        code === ErrorCode.TRANSACTION_ABORTABLE || code === ErrorCode.INVALID_TXN_STATE
          ? abortable
            ? ErrorCode.TRANSACTION_ABORTABLE
            : ErrorCode.INVALID_TXN_STATE
          : code,
      ),
    );
  }

  addPartitionImplicitly(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): Promise<number> {
    const coordinator = this.#deps.coordinator;
    if (this.#isLocal(transactionalId)) {
      return coordinator.addPartitionImplicitly(transactionalId, producerId, producerEpoch, topic, partition);
    }
    return this.#remote(transactionalId, producerId, producerEpoch, topic, partition, false);
  }

  /** Fails what waits (NETWORK_EXCEPTION); later calls fail at once. */
  close(): void {
    this.#closed = true;
    for (const q of this.#queues.values()) {
      for (const txn of q.pending.values())
        for (const w of txn.waiters) w.resolve(ErrorCode.NETWORK_EXCEPTION);
      q.pending.clear();
    }
  }

  /**
   * Whether this node's coordinator answers for `transactionalId`: it has the id's partition
   * loaded or loading, or the image names this node its leader (the coordinator is then started
   * so that it loads it; meanwhile it answers a retriable error).
   */
  #isLocal(transactionalId: string): boolean {
    const coordinator = this.#deps.coordinator;
    if (coordinator.gate(transactionalId) === ErrorCode.NONE) return true;
    const leader = this.#deps.image().topicsByName.get(TRANSACTION_STATE_TOPIC)?.partitions[
      coordinator.partitionFor(transactionalId)
    ]?.leader;
    if (leader !== this.#deps.nodeId) return false;
    this.#deps.kick?.();
    return true;
  }

  /** The coordinator node of `transactionalId` per the image, or an error code. */
  #coordinatorNode(transactionalId: string): { nodeId: number } | { errorCode: number } {
    const image = this.#deps.image();
    const state =
      image.topicsByName.get(TRANSACTION_STATE_TOPIC)?.partitions[
        this.#deps.coordinator.partitionFor(transactionalId)
      ];
    if (state === undefined || state.leader < 0) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    if (state.leader === this.#deps.nodeId) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    const broker = image.brokers.get(state.leader);
    if (broker === undefined || broker.fenced) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    return { nodeId: state.leader };
  }

  #remote(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topic: string,
    partition: number,
    verifyOnly: boolean,
  ): Promise<number> {
    if (this.#closed) return Promise.resolve(ErrorCode.NETWORK_EXCEPTION);
    const node = this.#coordinatorNode(transactionalId);
    if ("errorCode" in node) return Promise.resolve(node.errorCode);
    let queue = this.#queues.get(node.nodeId);
    if (queue === undefined) {
      queue = { pending: new Map(), inflight: false };
      this.#queues.set(node.nodeId, queue);
    }
    const q = queue;
    return new Promise<number>((resolve) => {
      const waiter: Waiter = { topic, partition, resolve };
      const existing = q.pending.get(transactionalId);
      if (existing !== undefined) {
        if (
          existing.producerId === producerId &&
          existing.producerEpoch === producerEpoch &&
          existing.verifyOnly === verifyOnly
        ) {
          existing.waiters.push(waiter);
          return;
        }
        if (existing.producerEpoch > producerEpoch) {
          resolve(ErrorCode.INVALID_PRODUCER_EPOCH);
          return;
        }
        // Kafka's rule: a newer epoch fences the waiting one; the same epoch (a retry) replaces it.
        const error =
          existing.producerEpoch < producerEpoch
            ? ErrorCode.INVALID_PRODUCER_EPOCH
            : ErrorCode.NETWORK_EXCEPTION;
        for (const w of existing.waiters) w.resolve(error);
        q.pending.delete(transactionalId);
      } else if (q.pending.size >= PENDING_MAX) {
        resolve(ErrorCode.NETWORK_EXCEPTION);
        return;
      }
      q.pending.set(transactionalId, { producerId, producerEpoch, verifyOnly, waiters: [waiter] });
      this.#pump(node.nodeId, q);
    });
  }

  #pump(nodeId: number, q: NodeQueue): void {
    if (q.inflight || q.pending.size === 0) return;
    const batch = q.pending;
    q.pending = new Map();
    q.inflight = true;
    const request: AddPartitionsToTxnRequest = {
      transactions: [...batch].map(([transactionalId, txn]) => {
        const topics = new Map<string, Set<number>>();
        for (const w of txn.waiters) {
          let set = topics.get(w.topic);
          if (set === undefined) {
            set = new Set();
            topics.set(w.topic, set);
          }
          set.add(w.partition);
        }
        return {
          transactionalId,
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          verifyOnly: txn.verifyOnly,
          topics: [...topics].map(([name, partitions]) => ({ name, partitions: [...partitions] })),
        };
      }),
      v3AndBelowTransactionalId: "",
      v3AndBelowProducerId: 0n,
      v3AndBelowProducerEpoch: 0,
      v3AndBelowTopics: [],
    };
    this.#deps
      .send(nodeId, request)
      .then(
        (response) => answer(batch, response),
        (err: unknown) => {
          // A coordinator that does not serve v4 cannot verify: the batch goes in (Kafka's choice).
          const unsupported =
            isKrillError(err, "UNSUPPORTED_VERSION") ||
            (err instanceof Error && isKrillError(err.cause, "UNSUPPORTED_VERSION"));
          if (!unsupported) {
            this.#deps.logger?.warn(
              { coordinator: nodeId, err: err instanceof Error ? err.message : String(err) },
              "AddPartitionsToTxn to the transaction coordinator failed",
            );
          }
          for (const txn of batch.values()) {
            for (const w of txn.waiters)
              w.resolve(unsupported ? ErrorCode.NONE : ErrorCode.NETWORK_EXCEPTION);
          }
        },
      )
      .finally(() => {
        q.inflight = false;
        if (this.#closed) return;
        this.#pump(nodeId, q);
        if (!q.inflight && q.pending.size === 0) this.#queues.delete(nodeId);
      });
  }
}

/** Hands each waiter its partition's result, translated as Kafka's AddPartitionsToTxnManager does. */
function answer(batch: Map<string, PendingTxn>, response: AddPartitionsToTxnResponse): void {
  if (response.errorCode !== ErrorCode.NONE) {
    // The producer must not see CLUSTER_AUTHORIZATION_FAILED: the verification did not complete.
    const error =
      response.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED
        ? ErrorCode.INVALID_TXN_STATE
        : response.errorCode;
    for (const txn of batch.values()) for (const w of txn.waiters) w.resolve(error);
    return;
  }
  for (const [transactionalId, txn] of batch) {
    const result = response.resultsByTransaction.find((r) => r.transactionalId === transactionalId);
    for (const w of txn.waiters) {
      if (result === undefined) {
        w.resolve(ErrorCode.NETWORK_EXCEPTION);
        continue;
      }
      const code =
        result.topicResults
          .find((t) => t.name === w.topic)
          ?.resultsByPartition.find((p) => p.partitionIndex === w.partition)?.partitionErrorCode ??
        ErrorCode.NONE;
      w.resolve(translate(code));
    }
  }
}

function translate(code: number): number {
  // Producers expect INVALID_PRODUCER_EPOCH. (TRANSACTION_ABORTABLE is left to the caller: only
  // clients that know it get it.)
  return code === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
}

/**
 * The producer-facing error of a verification (Kafka's ReplicaManager postVerificationCallback):
 * retriable coordinator errors become NOT_ENOUGH_REPLICAS, which every client retries without a
 * metadata refresh; INVALID_TXN_STATE and the rest stay.
 */
export function produceErrorOfVerification(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.NETWORK_EXCEPTION:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    default:
      return errorCode;
  }
}
