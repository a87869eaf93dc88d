/**
 * What a request handler can reach of the running broker, in two layers:
 *
 * - `BrokerCore`: configuration, logging, time and randomness, the controller channel, the
 *   metadata publisher and image, the partition logs and metrics. The broker builds it first; every service is built from it.
 * - `BrokerServices`: the data path and the coordinators, built by `buildServices` in dependency
 *   order (partitions, producer ids, groups, transactions), each handed what it uses at
 *   construction. Nothing is looked up or installed later.
 *
 * Handlers read metadata through the current image and change it only through the controller
 * channel.
 * Data flows one way: metadata changes are published to the partition manager and the group
 * coordinator; the coordinators write their internal topics through the partition manager; the
 * transaction coordinator writes markers through it and hands committed offsets to the groups.
 */
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { BrokerConfig } from "../config/broker-config.js";
import type { LogManager } from "../log/log-manager.js";
import type { MetadataController } from "../metadata/controller.js";
import type { ControllerChannel } from "../metadata/controller-channel.js";
import type { MetadataImage } from "../metadata/image.js";
import type { MetadataPublisher } from "../metadata/publisher.js";
import type { QuorumMetadata } from "../metadata/quorum-metadata.js";
import type { QuorumEndpoint } from "../raft/quorum-endpoint.js";
import type { Random } from "../random.js";
import type { StandardAuthorizer } from "./authorizer.js";
import { DelayedFetchPurgatory } from "./fetch/delayed-fetch.js";
import type { FetchState } from "./fetch/fetch.js";
import { FetchSessionCache } from "./fetch/fetch-session.js";
import { GroupCoordinatorService } from "./group/coordinator-service.js";
import type { BrokerMetrics } from "./metrics.js";
import { PartitionManager } from "./partitions/partition-manager.js";
import { ProducerIdManager } from "./producer-state/producer-id-manager.js";
import type { BrokerQuotas } from "./quotas/broker-quotas.js";
import type { HandlerRegistry } from "./registry.js";
import { buildBrokerFetchers } from "./replication/broker-fetchers.js";
import type { ReplicaFetcherManager } from "./replication/replica-fetcher-manager.js";
import { TxnCoordinatorService } from "./txn/coordinator-service.js";

export interface AdvertisedEndpoint {
  readonly listenerName: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: string;
}

/** What the broker builds before its services, and what they are built from. */
export interface BrokerCore {
  /** The configuration in force (a new object after a dynamic broker config change). */
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly nodeId: number;
  readonly clusterId: string;
  /** The broker's one clock and one source of randomness (injected by tests and simulations). */
  readonly clock: Clock;
  readonly random: Random;
  /** The one way to change metadata: resolves once the change is committed and published. */
  readonly controller: ControllerChannel;
  /**
   * This node's controller while it is the active one (the quorum's leader), else null: what a
   * request on a controller listener runs on (Kafka's ControllerApis; see controller-apis.ts). A
   * combined single node's controller is always active.
   */
  activeController(): MetadataController | null;
  /**
   * The active controller's node id as the metadata quorum knows it (-1 while there is none):
   * what DescribeCluster names on a controller listener. A combined single node is its own.
   */
  activeControllerId(): number;
  /** Publishes each committed image; subsystems follow metadata with `onPublish`. */
  readonly publisher: MetadataPublisher;
  /** Partition logs of every topic in the image. */
  readonly logs: LogManager;
  readonly metrics: BrokerMetrics;
  /**
   * The StandardAuthorizer when `authorizer.class.name` names it, else undefined: every request
   * is allowed, as on a Kafka broker without an authorizer (auth.ts).
   */
  readonly authorizer: StandardAuthorizer | undefined;
  /**
   * Client quotas (src/server/quotas/), following the image; absent in hand-made contexts of
   * tests, where nothing is throttled.
   */
  readonly quotas?: BrokerQuotas;
  /** The current metadata image (a new object after every metadata change). */
  image(): MetadataImage;
  /** kraft.version in force in the metadata log (KIP-853): 1 formatted --standalone, 0 static voters. */
  kraftVersion(): number;
}

/** The data path and the coordinators. */
export interface BrokerServices {
  /** The partitions this node holds and their state (Kafka's ReplicaManager). */
  readonly partitions: PartitionManager;
  /** The replica fetchers of the partitions this node follows (src/server/replication/). */
  readonly replicaFetchers: ReplicaFetcherManager;
  /** Fetch sessions and the purgatory of waiting fetches, which appends wake. */
  readonly fetches: FetchState;
  /** Producer ids for InitProducerId, reserved in blocks through the controller. */
  readonly producerIds: ProducerIdManager;
  /** The group coordinator (__consumer_offsets). */
  readonly groups: GroupCoordinatorService;
  /** The transaction coordinator (__transaction_state) and its pending transactional offsets. */
  readonly transactions: TxnCoordinatorService;
}

export interface BrokerContext extends BrokerCore, BrokerServices {
  readonly registry: HandlerRegistry;
  /**
   * This node's membership of the KRaft metadata quorum (controller.quorum.voters set), else
   * undefined (a single node is its own quorum): `raft` takes inbound KRaft requests
   * (`handleRequest`) and answers DescribeQuorum, `log.isActive` says whether the controller here
   * is the active one.
   */
  readonly quorum: QuorumMetadata | undefined;
  /** The endpoints clients are told about, with the ports actually bound. */
  advertisedEndpoints(): readonly AdvertisedEndpoint[];
  /**
   * This node's member of the KRaft quorum, for the quorum's RPCs on the controller listener
   * (src/server/raft-apis.ts); undefined on a single node, whose metadata log is local.
   */
  readonly raftEndpoint?: QuorumEndpoint;
}

/** Long-polling fetches waiting at once; more are answered at once with what there is. */
const FETCH_WAITERS_MAX = 10_000;
/** Fetch sessions held at once (Kafka's max.incremental.fetch.session.cache.slots default). */
const FETCH_SESSION_SLOTS = 1000;
/** A fetch session unused this long may be evicted for a new one (Kafka's 120 s). */
const FETCH_SESSION_EVICTION_MS = 120_000;

/** Builds the services in dependency order; each gets what it uses, nothing is set later. */
export function buildServices(core: BrokerCore): BrokerServices {
  const fetches: FetchState = {
    sessions: new FetchSessionCache({
      slotsMax: FETCH_SESSION_SLOTS,
      evictionMs: FETCH_SESSION_EVICTION_MS,
      clock: core.clock,
      random: core.random,
    }),
    purgatory: new DelayedFetchPurgatory({ waitersMax: FETCH_WAITERS_MAX }),
  };
  const replicaFetchers = buildBrokerFetchers({
    nodeId: core.nodeId,
    config: core.config,
    image: () => core.image(),
    clock: core.clock,
    logger: core.logger,
  });
  const partitions = new PartitionManager({
    fetchers: replicaFetchers,
    logs: core.logs,
    image: () => core.image(),
    config: () => core.config,
    nodeId: core.nodeId,
    logger: core.logger,
    events: {
      onAppend: (key, bytes, stableBytes, visibleBytes) =>
        fetches.purgatory.onAppend(key, bytes, stableBytes, visibleBytes),
      onChange: (key) => fetches.purgatory.onPartitionEvent(key),
    },
    clock: core.clock,
    // ISR changes go to the active controller, which checks leader and partition epochs.
    alterPartition: core.controller,
  });
  partitions.loadFromImage(core.image());
  core.publisher.onPublish((next, previous, records) => partitions.applyDelta(next, previous, records));
  const producerIds = new ProducerIdManager(() => {
    const brokerEpoch = core.image().brokers.get(core.nodeId)?.brokerEpoch ?? -1n;
    return core.controller.allocateProducerIds(core.nodeId, brokerEpoch);
  });
  const groups = new GroupCoordinatorService(core, partitions);
  const transactions = new TxnCoordinatorService(core, { partitions, producerIds, groups });
  return { partitions, replicaFetchers, fetches, producerIds, groups, transactions };
}

/**
 * Once the broker is registered: the coordinators load their topic's partitions this node leads
 * now and whenever the topic appears or leadership moves (not on first use), so transactions
 * caught between prepare and complete are finished without waiting for a client.
 */
export function startServices(services: BrokerServices): void {
  services.groups.start();
  services.transactions.start();
}

/**
 * In reverse build order, after the listeners stop and before the partition logs close:
 * coordinators close (timers included), waiting fetches are answered, then the data path writes
 * its producer-state snapshots.
 */
export async function stopServices(services: BrokerServices, onError: (err: unknown, name: string) => void) {
  const steps: [string, () => Promise<void> | void][] = [
    ["txn-coordinator", () => services.transactions.close()],
    ["group-coordinator", () => services.groups.close()],
    ["fetch", () => services.fetches.purgatory.shutdown()],
    ["replica-fetchers", () => services.replicaFetchers.shutdown()],
    ["data-path", () => services.partitions.shutdown()],
  ];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      onError(err, name);
    }
  }
}

/** A subsystem a library caller adds to the broker (started after the built-in services). */
export interface BrokerComponent {
  readonly name: string;
  start(broker: BrokerContext): Promise<void> | void;
  /** Called in reverse start order on shutdown, after listeners stop. */
  stop?(): Promise<void> | void;
}
