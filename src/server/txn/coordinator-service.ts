/**
 * The transaction coordinator inside a running broker: its state goes to the partitions of
 * __transaction_state through the partition manager, markers are appended directly to partitions
 * this node leads and sent with WriteTxnMarkers to the leaders of the others (retried by the
 * coordinator's tick until written), producer ids come from the data path's ProducerIdManager,
 * and transactional offset commits are handed to the group coordinator when their transaction
 * commits.
 *
 * Like Kafka, __transaction_state is created on first use (FindCoordinator for a transaction key,
 * or InitProducerId with a transactional id). The coordinator serves the partitions this node
 * leads: the image making this node leader of one loads it, with the partition's leader epoch as
 * the coordinator epoch its markers carry, and leadership moving away unloads it (Kafka's
 * onElection / onResignation). On a restart with the topic present, loading starts with the
 * broker (`startServices`), so transactions caught between prepare and complete are finished
 * without waiting for a client. Requests meanwhile get COORDINATOR_LOAD_IN_PROGRESS.
 *
 * A timer runs the coordinator's `tick` (timed-out transactions, marker retries, expired ids)
 * every transaction.abort.timed.out.transaction.cleanup.interval.ms (Kafka's default 10 s).
 *
 * Concurrency contract: single event loop; appends to a partition are synchronous in call order.
 */

import { KrillError } from "../../errors.js";
import { finalizedLevel, TRANSACTION_VERSION_FEATURE } from "../../metadata/features.js";
import type { MetadataImage } from "../../metadata/image.js";
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from "../../metadata/internal-topics.js";
import type { AddPartitionsToTxnRequest } from "../../protocol/generated/add-partitions-to-txn-request.js";
import type { AddPartitionsToTxnResponse } from "../../protocol/generated/add-partitions-to-txn-response.js";
import { ADD_PARTITIONS_TO_TXN_API, WRITE_TXN_MARKERS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import {
  appendCoordinatorRecords,
  awaitCoordinatorAppend,
  createCoordinatorTopic,
  replayCoordinatorPartition,
} from "../coordinator-log.js";
import type { GroupCoordinatorService } from "../group/coordinator-service.js";
import { NodeClient, type NodeEndpoint } from "../network/node-client.js";
import type { PartitionManager } from "../partitions/partition-manager.js";
import type { ProducerIdManager } from "../producer-state/producer-id-manager.js";
import { interBrokerEndpoints } from "../replication/broker-fetchers.js";
import type { BrokerCore } from "../services.js";
import {
  TransactionCoordinator,
  type TxnMarker,
  type TxnMarkerWriter,
  type TxnStateLog,
} from "./txn-coordinator.js";
import { TxnOffsets } from "./txn-offsets.js";
import { TxnVerification } from "./txn-verification.js";

/** Transactional ids held at once; each costs a few hundred bytes and one compacted record. */
const TRANSACTIONAL_IDS_MAX = 1_000_000;
/** Kafka's request.timeout.ms for the AddPartitionsToTxnManager's inter-broker requests. */
const VERIFICATION_TIMEOUT_MS = 30_000;

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

/**
 * Markers for partitions this node leads are appended here; the others go to their leader in a
 * WriteTxnMarkers request (v1, or v2 for a transactions-v2 marker; one marker each; Kafka's TransactionMarkerChannelManager batches
 * them per broker), over one NodeClient per broker. A partition without a leader, a network
 * failure or an error from the leader leaves the marker pending: the coordinator retries it.
 */
export class ClusterMarkerWriter implements TxnMarkerWriter {
  readonly #local: LocalMarkerWriter;
  readonly #broker: BrokerCore;
  readonly #endpointOf: (brokerId: number) => NodeEndpoint | null;
  readonly #clients = new Map<number, NodeClient>();

  constructor(broker: BrokerCore, partitions: PartitionManager) {
    this.#broker = broker;
    this.#local = new LocalMarkerWriter(partitions);
    this.#endpointOf = interBrokerEndpoints(broker.config, () => broker.image());
  }

  async writeMarker(m: TxnMarker): Promise<number> {
    const state = this.#broker.image().topicsByName.get(m.topic)?.partitions[m.partition];
    if (state === undefined || state.leader === this.#broker.nodeId) return this.#local.writeMarker(m);
    if (state.leader < 0) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    const response = await this.#client(state.leader).request(
      WRITE_TXN_MARKERS_API,
      {
        markers: [
          {
            producerId: m.producerId,
            producerEpoch: m.producerEpoch,
            transactionResult: m.commit,
            topics: [{ name: m.topic, partitionIndexes: [m.partition] }],
            coordinatorEpoch: m.coordinatorEpoch,
            transactionVersion: m.transactionVersion,
          },
        ],
      },
      // v2 (KIP-1228) carries the marker's transaction version; v1 markers are transactions v1.
      { version: m.transactionVersion > 0 ? 2 : 1 },
    );
    const errorCode =
      response.markers[0]?.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    // As for a local marker: one older than the producer's epoch belongs to a fenced transaction.
    return errorCode === ErrorCode.INVALID_PRODUCER_EPOCH ? ErrorCode.NONE : errorCode;
  }

  #client(brokerId: number): NodeClient {
    let client = this.#clients.get(brokerId);
    if (client === undefined) {
      client = new NodeClient({
        endpoint: () => this.#endpointOf(brokerId),
        clientId: `broker-${this.#broker.nodeId}-txn-markers`,
        logger: this.#broker.logger,
      });
      this.#clients.set(brokerId, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
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
    return awaitCoordinatorAppend(this.#partitions, found.partition, outcome);
  }
}

/** What the transaction coordinator uses of the other services. */
export interface TxnCoordinatorServiceDeps {
  readonly partitions: PartitionManager;
  readonly producerIds: ProducerIdManager;
  readonly groups: GroupCoordinatorService;
}

/**
 * AddPartitionsToTxn v4+ to other brokers' inter-broker listeners (TxnVerification's transport),
 * one NodeClient per broker, with Kafka's inter-broker request timeout.
 */
class InterBrokerSender {
  readonly #broker: BrokerCore;
  readonly #endpointOf: (brokerId: number) => NodeEndpoint | null;
  readonly #clients = new Map<number, NodeClient>();

  constructor(broker: BrokerCore) {
    this.#broker = broker;
    this.#endpointOf = interBrokerEndpoints(broker.config, () => broker.image());
  }

  send = (brokerId: number, request: AddPartitionsToTxnRequest): Promise<AddPartitionsToTxnResponse> => {
    let client = this.#clients.get(brokerId);
    if (client === undefined) {
      client = new NodeClient({
        endpoint: () => this.#endpointOf(brokerId),
        clientId: `broker-${this.#broker.nodeId}-txn-verification`,
        logger: this.#broker.logger,
        requestTimeoutMs: VERIFICATION_TIMEOUT_MS,
      });
      this.#clients.set(brokerId, client);
    }
    return client.request(ADD_PARTITIONS_TO_TXN_API, (version) => {
      // Only v4+ carries a broker's batch of transactions (KIP-890).
      if (version < 4)
        throw new KrillError("UNSUPPORTED_VERSION", `AddPartitionsToTxn v${version} cannot verify`);
      return request;
    });
  };

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}

export class TxnCoordinatorService {
  readonly coordinator: TransactionCoordinator;
  /** The data path's check of transactional batches, on this node or the coordinator's. */
  readonly verification: TxnVerification;
  readonly offsets: TxnOffsets;
  readonly #sender: InterBrokerSender;
  readonly #broker: BrokerCore;
  readonly #groups: GroupCoordinatorService;
  readonly #partitions: PartitionManager;
  readonly #markers: ClusterMarkerWriter;
  #ready: Promise<void> | null = null;
  /** The broker serves (`start`): the topic's appearance starts the loading. */
  #serving = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;

  constructor(broker: BrokerCore, { partitions, producerIds, groups }: TxnCoordinatorServiceDeps) {
    this.#broker = broker;
    this.#groups = groups;
    this.#partitions = partitions;
    this.#markers = new ClusterMarkerWriter(broker, partitions);
    const logger = broker.logger.child({ component: "txn-coordinator" });
    this.coordinator = new TransactionCoordinator({
      config: {
        stateLogPartitions: broker.config.int("transaction.state.log.num.partitions"),
        maxTimeoutMs: broker.config.int("transaction.max.timeout.ms"),
        transactionalIdExpirationMs: broker.config.int("transactional.id.expiration.ms"),
        transactionalIdsMax: TRANSACTIONAL_IDS_MAX,
      },
      log: new PartitionTxnStateLog(partitions),
      markers: this.#markers,
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
    this.#sender = new InterBrokerSender(broker);
    this.verification = new TxnVerification({
      coordinator: this.coordinator,
      nodeId: broker.nodeId,
      image: () => broker.image(),
      send: this.#sender.send,
      kick: () => void this.kick(),
      logger: { warn: (f, m) => logger.warn(f, m) },
    });
    this.offsets = new TxnOffsets({
      partitions,
      groups: groups.coordinator,
      transactions: this.coordinator,
      verifier: this.verification,
    });
    // A __consumer_offsets partition led here from now on: its open transactions' offsets.
    groups.onPartitionLoaded((partition) => {
      if (this.#ready !== null) this.offsets.loadPartition(partition);
    });
    broker.publisher.onPublish((next) => {
      // Once started, leadership changes of __transaction_state load and unload its partitions;
      // a serving broker starts when the topic appears (created through another node).
      if (this.#ready !== null) this.#followLeadership(next).catch(() => {});
      else if (this.#serving && next.topicsByName.has(TRANSACTION_STATE_TOPIC))
        this.ensureReady().catch(() => {});
    });
  }

  /**
   * The broker serves: from now on this node loads the partitions of __transaction_state it leads
   * as soon as the topic exists, whether or not a transactional request reached it (Kafka's
   * brokers load a coordinator partition when they become its leader). Without this, a node that
   * never saw one answered a transactional produce for a partition it leads NOT_ENOUGH_REPLICAS
   * forever (its coordinator never assigned, so "loading"), and did not complete the prepared
   * transactions of a partition it came to lead after a failover until a client asked it.
   */
  start(): void {
    this.#serving = true;
    if (this.#broker.image().topicsByName.has(TRANSACTION_STATE_TOPIC)) this.kick();
  }

  /**
   * Loads the partitions of __transaction_state this node leads, at their leader epoch, and
   * unloads the others; resolves when the loads are done. Nothing changes without the topic.
   */
  #followLeadership(image: MetadataImage): Promise<void> {
    const topic = image.topicsByName.get(TRANSACTION_STATE_TOPIC);
    if (topic === undefined) return Promise.resolve();
    const nodeId = this.#broker.nodeId;
    const loads: Promise<void>[] = [];
    for (const p of topic.partitions) {
      const held = this.#partitions.held(TRANSACTION_STATE_TOPIC, p.partitionId);
      if (p.leader === nodeId && held?.isLeader === true) {
        loads.push(
          this.coordinator.loadPartition(p.partitionId, p.leaderEpoch).catch((err: unknown) => {
            this.#broker.logger.warn(
              { err, partition: p.partitionId },
              "loading a transaction partition failed",
            );
            throw err;
          }),
        );
      } else {
        this.coordinator.unloadPartition(p.partitionId);
      }
    }
    return Promise.all(loads).then(() => {});
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
        await this.#followLeadership(broker.image());
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
    if (this.coordinator.isLoaded) return this.coordinator;
    // A partition whose load failed is tried again here (the image will not announce it again).
    if (this.#ready === null) this.ensureReady().catch(() => {});
    else this.#followLeadership(this.#broker.image()).catch(() => {});
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
    this.verification.close();
    this.#sender.close();
    this.#markers.close();
  }
}
