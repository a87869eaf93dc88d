/**
 * The transaction coordinator inside a running broker: its state goes to the partitions of
 * __transaction_state through the partition manager, markers are appended directly to the local
 * partitions (one node: no WriteTxnMarkers hop), producer ids come from the data path's
 * ProducerIdManager, and transactional offset commits are handed to the group coordinator when
 * their transaction commits.
 *
 * Like Kafka, __transaction_state is created on first use (FindCoordinator for a transaction key,
 * or InitProducerId with a transactional id). On a restart with the topic present, loading starts
 * with the broker (`startServices`), so transactions caught between prepare and complete are
 * finished without waiting for a client. Requests meanwhile get COORDINATOR_LOAD_IN_PROGRESS.
 *
 * A timer runs the coordinator's `tick` (timed-out transactions, marker retries, expired ids)
 * every transaction.abort.timed.out.transaction.cleanup.interval.ms (Kafka's default 10 s).
 *
 * Concurrency contract: single event loop; appends to a partition are synchronous in call order.
 */

import { finalizedLevel, TRANSACTION_VERSION_FEATURE } from "../../metadata/features.js";
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from "../../metadata/internal-topics.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import {
  appendCoordinatorRecords,
  createCoordinatorTopic,
  replayCoordinatorPartition,
} from "../coordinator-log.js";
import type { GroupCoordinatorService } from "../group/coordinator-service.js";
import type { PartitionManager } from "../partitions/partition-manager.js";
import type { ProducerIdManager } from "../producer-state/producer-id-manager.js";
import type { BrokerCore } from "../services.js";
import {
  TransactionCoordinator,
  type TxnMarker,
  type TxnMarkerWriter,
  type TxnStateLog,
} from "./txn-coordinator.js";
import { TxnOffsets } from "./txn-offsets.js";

/** Transactional ids held at once; each costs a few hundred bytes and one compacted record. */
const TRANSACTIONAL_IDS_MAX = 1_000_000;

/** __transaction_state through the partition manager: one uncompressed batch per record. */
export class PartitionTxnStateLog implements TxnStateLog {
  readonly #partitions: PartitionManager;

  constructor(partitions: PartitionManager) {
    this.#partitions = partitions;
  }

  append(partition: number, key: Buffer, value: Buffer | null): Promise<void> {
    return appendCoordinatorRecords(this.#partitions, TRANSACTION_STATE_TOPIC, partition, [{ key, value }]);
  }

  async replay(partition: number, onRecord: (key: Buffer, value: Buffer | null) => void): Promise<void> {
    for (const { batch, records } of replayCoordinatorPartition(
      this.#partitions,
      TRANSACTION_STATE_TOPIC,
      partition,
    )) {
      if (batch.isControl) continue;
      for (const r of records) onRecord(r.key, r.value);
    }
  }
}

/** Markers appended to this node's partitions. */
export class LocalMarkerWriter implements TxnMarkerWriter {
  readonly #partitions: PartitionManager;

  constructor(partitions: PartitionManager) {
    this.#partitions = partitions;
  }

  async writeMarker(m: TxnMarker): Promise<number> {
    const found = this.#partitions.lookup(m.topic, m.partition);
    if (!found.ok) return found.errorCode;
    const outcome = found.partition.appendTxnMarker(
      m.producerId,
      m.producerEpoch,
      m.coordinatorEpoch,
      m.commit,
      this.#partitions.clock.nowMs(),
      m.transactionVersion,
    );
    if (outcome.kind === "error") {
      // A marker older than the producer's epoch belongs to a transaction already fenced there.
      return outcome.errorCode === ErrorCode.INVALID_PRODUCER_EPOCH ? ErrorCode.NONE : outcome.errorCode;
    }
    if (outcome.kind === "appended" && outcome.durable !== undefined) await outcome.durable;
    return ErrorCode.NONE;
  }
}

/** What the transaction coordinator uses of the other services. */
export interface TxnCoordinatorServiceDeps {
  readonly partitions: PartitionManager;
  readonly producerIds: ProducerIdManager;
  readonly groups: GroupCoordinatorService;
}

export class TxnCoordinatorService {
  readonly coordinator: TransactionCoordinator;
  readonly offsets: TxnOffsets;
  readonly #broker: BrokerCore;
  readonly #groups: GroupCoordinatorService;
  #ready: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;

  constructor(broker: BrokerCore, { partitions, producerIds, groups }: TxnCoordinatorServiceDeps) {
    this.#broker = broker;
    this.#groups = groups;
    const logger = broker.logger.child({ component: "txn-coordinator" });
    this.coordinator = new TransactionCoordinator({
      config: {
        stateLogPartitions: broker.config.int("transaction.state.log.num.partitions"),
        maxTimeoutMs: broker.config.int("transaction.max.timeout.ms"),
        transactionalIdExpirationMs: broker.config.int("transactional.id.expiration.ms"),
        transactionalIdsMax: TRANSACTIONAL_IDS_MAX,
      },
      log: new PartitionTxnStateLog(partitions),
      markers: new LocalMarkerWriter(partitions),
      nextProducerId: () => producerIds.nextProducerId(),
      clock: broker.clock,
      partitionExists: (topic, partition) => {
        // The coordinator's own log never takes part in a transaction.
        if (topic === TRANSACTION_STATE_TOPIC) return false;
        return broker.image().hasPartition(topic, partition);
      },
      onTransactionCompleted: (producerId, commit) => this.offsets.complete(producerId, commit),
      transactionVersion: () => finalizedLevel(broker.image().features, TRANSACTION_VERSION_FEATURE),
      logger: { info: (f, m) => logger.info(f, m), warn: (f, m) => logger.warn(f, m) },
    });
    this.offsets = new TxnOffsets({
      partitions,
      groups: groups.coordinator,
      transactions: this.coordinator,
    });
  }

  /**
   * Creates __transaction_state if needed, loads it (after the group coordinator, so committed
   * transactional offsets land in a loaded store) and starts the timer. Concurrent callers share
   * one attempt; a failed attempt is forgotten so the next call retries.
   */
  ensureReady(): Promise<void> {
    if (this.#ready === null) {
      this.#ready = (async () => {
        const broker = this.#broker;
        await createCoordinatorTopic(broker, TRANSACTION_STATE_TOPIC);
        const offsetsTopic = broker.image().topicsByName.get(CONSUMER_OFFSETS_TOPIC);
        if (offsetsTopic !== undefined) {
          await this.#groups.ensureReady();
          this.offsets.load(offsetsTopic.partitions.length);
        }
        await this.coordinator.load();
        this.#startTimer();
      })().catch((err: unknown) => {
        this.#ready = null;
        this.#broker.logger.warn({ err }, "transaction coordinator is not ready");
        throw err;
      });
    }
    return this.#ready;
  }

  /** Starts `ensureReady` without waiting (requests are answered LOAD_IN_PROGRESS meanwhile). */
  kick(): TransactionCoordinator {
    if (!this.coordinator.isLoaded) this.ensureReady().catch(() => {});
    return this.coordinator;
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    const intervalMs = this.#broker.config.int("transaction.abort.timed.out.transaction.cleanup.interval.ms");
    this.#timer = setInterval(() => {
      if (this.#ticking) return;
      this.#ticking = true;
      this.coordinator
        .tick()
        .catch((err: unknown) => this.#broker.logger.warn({ err }, "transaction coordinator tick failed"))
        .finally(() => {
          this.#ticking = false;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.coordinator.close();
  }
}
