/**
 * One running broker: loads configuration into a metadata image (replaying the metadata log),
 * opens the partition logs, binds the listeners, registers itself, and serves requests until
 * `stop()`. Start-up order matters: requests are only answered once the image, the logs and the
 * registration (which needs the bound ports) are in place; connections that arrive earlier wait.
 *
 * Shutdown: stop accepting, let connections answer what is in flight, stop the caller's components
 * and the services (coordinators, then the data path), then close the partition logs (which
 * writes the clean-shutdown marker) and the metadata log.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import { BrokerConfig } from "../config/broker-config.js";
import { KrillError } from "../errors.js";
import { DirLocks } from "../log/dir-lock.js";
import { LogManager } from "../log/log-manager.js";
import { createLogger, type LogFormat } from "../logging.js";
import type { MetadataController } from "../metadata/controller.js";
import type { ControllerChannel } from "../metadata/controller-channel.js";
import { registrationFeatures } from "../metadata/features.js";
import type { MetadataImage } from "../metadata/image.js";
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from "../metadata/internal-topics.js";
import { openLocalMetadata } from "../metadata/local-metadata.js";
import type { MetadataLog } from "../metadata/metadata-log.js";
import type { MetadataPublisher, SnapshotGenerator } from "../metadata/publisher.js";
import {
  openQuorumMetadata,
  processRoles,
  type QuorumMetadata,
  quorumConfigOf,
} from "../metadata/quorum-metadata.js";
import { CONFIG_RESOURCE_TYPE } from "../metadata/records.js";
import { formatMetadataOnFirstStart, META_PROPERTIES_FILE } from "../metadata/storage-format.js";
import { PRODUCE_API } from "../protocol/generated/apis.js";
import { uuidFromBytes } from "../protocol/primitives/uuid.js";
import type { QuorumConfig } from "../raft/config.js";
import { NetworkRaftChannel } from "../raft/network-channel.js";
import { SingleVoterEndpoint } from "../raft/single-voter-endpoint.js";
import type { RaftChannel } from "../raft/types.js";
import { type Random, SYSTEM_RANDOM } from "../random.js";
import { StandardAuthorizer } from "./authorizer.js";
import { BrokerLifecycleManager } from "./broker-lifecycle.js";
import { controllerForwarding } from "./controller-forwarding.js";
import { ControllerTasks } from "./controller-tasks.js";
import { Dispatcher } from "./dispatcher.js";
import { BrokerHealth, type CoordinatorState } from "./health.js";
import { ensureMetaProperties } from "./meta-properties.js";
import { logMetadataChanges } from "./metadata-changes.js";
import { BrokerMetrics, type PartitionStats } from "./metrics.js";
import type { FrameProcessor, RequestOutcome } from "./network/connection.js";
import { ResponseMemory } from "./network/response-memory.js";
import { type BoundListener, SocketServer } from "./network/socket-server.js";
import { BrokerQuotas } from "./quotas/broker-quotas.js";
import { loadHandlers } from "./registry.js";
import {
  type AdvertisedEndpoint,
  type BrokerComponent,
  type BrokerContext,
  type BrokerCore,
  type BrokerServices,
  buildServices,
  startServices,
  stopServices,
} from "./services.js";

/** Kafka's SecurityProtocol ids. */
const SECURITY_PROTOCOL_IDS: Record<string, number> = {
  PLAINTEXT: 0,
  SSL: 1,
  SASL_PLAINTEXT: 2,
  SASL_SSL: 3,
};

/** How long start-up waits for the controller to register and unfence this broker. */
const REGISTRATION_TIMEOUT_MS = 60_000;
/** How long stop waits for a controlled shutdown before stopping anyway. */
const CONTROLLED_SHUTDOWN_TIMEOUT_MS = 30_000;

export interface BrokerStartOptions {
  readonly logger?: Logger;
  readonly components?: readonly BrokerComponent[];
  /** Handler folder to load (tests); defaults to src/server/handlers. */
  readonly handlersDir?: string;
  /** Time for everything the broker runs (default: the wall clock). */
  readonly clock?: Clock;
  /** Randomness for everything the broker draws (default: the system's). */
  readonly random?: Random;
  /**
   * In a quorum (controller.quorum.voters set): the network to the other members, called once
   * with this node's id and the quorum's settings. Default: a NetworkRaftChannel to the voters'
   * controller listeners, which also takes the inbound KRaft requests from this node's controller
   * listener (`context.raftEndpoint`); a channel given here must deliver inbound requests itself.
   */
  readonly raftChannel?: (nodeId: number, quorum: QuorumConfig) => RaftChannel;
  /**
   * In a quorum: where controller writes go while the active controller is on another node (Kafka's
   * forwarding to the active controller). Default: a RemoteControllerChannel to the leader's
   * endpoint in controller.quorum.voters (controller-forwarding.ts).
   */
  readonly remoteController?: (member: QuorumMetadata) => ControllerChannel;
}

/** What the broker holds of its metadata side, local (single node) or quorum. */
interface BrokerMetadata {
  readonly log: MetadataLog;
  readonly publisher: MetadataPublisher;
  readonly snapshots: SnapshotGenerator;
  /** This node's controller (undefined on a node without the controller role). */
  readonly controller: MetadataController | undefined;
  readonly quorum: QuorumMetadata | undefined;
  /** The quorum's network when the broker built it (no `raftChannel` option): closed last. */
  readonly network?: NetworkRaftChannel;
  /** A single node's answers to the quorum RPCs, as the leader of a quorum of one. */
  readonly singleVoter?: SingleVoterEndpoint;
}

/** How long a stopping quorum leader waits for its EndQuorumEpoch to be acknowledged. */
const RESIGN_TIMEOUT_MS = 2000;

/** Between two attempts to register with the active controller. */

import type { Partition } from "./partitions/partition.js";
import { topicLogConfig } from "./partitions/topic-log-config.js";

export class Broker {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly context: BrokerContext;
  readonly #socketServer: SocketServer;
  readonly #metadata: BrokerMetadata;
  readonly #services: BrokerServices;
  readonly #components: readonly BrokerComponent[];
  #snapshotTimer: NodeJS.Timeout | undefined;
  #dirLocks: DirLocks | undefined;
  /** Closes the connection to the active controller (a quorum member's forwarding). */
  #closeForwarding: () => void = () => {};
  #stopping: Promise<void> | undefined;
  #health: BrokerHealth | undefined;
  #lifecycle: BrokerLifecycleManager | undefined;
  #controllerTasks: ControllerTasks | undefined;

  private constructor(
    config: BrokerConfig,
    logger: Logger,
    context: BrokerContext,
    services: BrokerServices,
    socketServer: SocketServer,
    metadata: BrokerMetadata,
    components: readonly BrokerComponent[],
  ) {
    this.config = config;
    this.logger = logger;
    this.context = context;
    this.#services = services;
    this.#socketServer = socketServer;
    this.#metadata = metadata;
    this.#components = components;
  }

  get boundListeners(): readonly BoundListener[] {
    return this.#socketServer.boundListeners;
  }

  static async start(config: BrokerConfig, options: BrokerStartOptions = {}): Promise<Broker> {
    // What start-up opened so far, undone in reverse if a later step fails (a port in use, a
    // corrupt log), so a failed start leaves no open files, timers or bound ports behind.
    const cleanups: (() => unknown)[] = [];
    try {
      return await Broker.#start(config, options, cleanups);
    } catch (err) {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch {
          // Already failing; the original error is the one to report.
        }
      }
      throw err;
    }
  }

  static async #start(
    config: BrokerConfig,
    options: BrokerStartOptions,
    cleanups: (() => unknown)[],
  ): Promise<Broker> {
    const logger =
      options.logger ?? createLogger({ format: config.get("krill.log.format") as LogFormat | "auto" });
    const clock = options.clock ?? SYSTEM_CLOCK;
    const random = options.random ?? SYSTEM_RANDOM;
    if (config.unusedKafkaKeys.length > 0) {
      logger.info(
        { keys: config.unusedKafkaKeys },
        "accepted Kafka configuration keys that Krill does not use",
      );
    }
    // Kafka's wording for a key no ConfigDef defines; start-up goes on (krill.config.strict refuses).
    for (const { key, origin } of config.unknownKeys) {
      logger.warn({ key, origin }, `The configuration '${key}' was supplied but isn't a known config.`);
    }
    // Every directory this broker writes is locked before anything in it is read or written.
    const dirs = [...new Set([...config.logDirs, config.metadataLogDir])].map((d) => path.resolve(d));
    const dirLocks = DirLocks.acquire(dirs);
    cleanups.push(() => dirLocks.release());
    const quorum = quorumConfigOf(config);
    if (quorum !== undefined && config.stringOrNull("cluster.id") === null) {
      // Members of a quorum share a cluster id, which one node cannot invent on its own.
      const unformatted = dirs.find((d) => !existsSync(path.join(d, META_PROPERTIES_FILE)));
      if (unformatted !== undefined) {
        throw new KrillError(
          "CONFIG_INVALID",
          `${unformatted} is not formatted; a member of a quorum (controller.quorum.voters) needs \`krill format --cluster-id <id> --config <file>\` (or kafka-storage format), or cluster.id set to the cluster's id`,
        );
      }
    }
    const clusterId = ensureMetaProperties(dirs, config.nodeId, config.stringOrNull("cluster.id"), random);
    // An unformatted node is formatted as `krill format` would (--standalone for a single node;
    // static voters, kraft.version 0, in a quorum).
    if (formatMetadataOnFirstStart(config, clock.nowMs())) logger.info("formatted the metadata directory");
    // The metrics port (with /health and /ready) answers from here on, so a probe sees the
    // broker alive while a long log recovery runs.
    const health = new BrokerHealth();
    const metricsPort = config.int("metrics.port");
    const metrics = metricsPort > 0 ? await BrokerMetrics.enabled() : BrokerMetrics.disabled();
    cleanups.push(() => metrics.close());
    if (metricsPort > 0) await metrics.serve(config.string("metrics.host"), metricsPort, logger, health);

    // Metadata: newest snapshot plus the log after it, the publisher, the controller.
    // Dynamic broker configs live in the image; `live` is the static config with them applied and
    // is swapped whenever a BROKER ConfigRecord is published.
    let live = config;
    let metadata: BrokerMetadata & { channel: ControllerChannel };
    let forwardingClose: () => void = () => {};
    if (quorum === undefined) {
      const local = await openLocalMetadata({
        dir: path.resolve(config.metadataLogDir),
        logger,
        nodeId: config.nodeId,
        config: () => live,
        clock,
        random,
        clusterId,
      });
      const singleVoter = new SingleVoterEndpoint({
        nodeId: config.nodeId,
        clusterId,
        log: () => ({
          epoch: local.log.epoch,
          startOffset: local.log.segments.logStartOffset,
          endOffset: local.log.endOffset,
        }),
        nowMs: () => clock.nowMs(),
      });
      metadata = { ...local, quorum: undefined, singleVoter };
      cleanups.push(() => local.log.close());
    } else {
      // The quorum's network: the voters' controller listeners over NodeClient, inbound requests
      // from this node's controller listener (ctx.broker.raftEndpoint). Tests may bring their own.
      let network: NetworkRaftChannel | undefined;
      const raftChannel =
        options.raftChannel ??
        ((nodeId: number, q: QuorumConfig) => {
          network = new NetworkRaftChannel({
            nodeId,
            voters: q.voters,
            listenerName: [...config.controllerListenerNames][0] ?? "CONTROLLER",
            requestTimeoutMs: q.requestTimeoutMs,
            logger: logger.child({ component: "raft-network" }),
          });
          return network;
        });
      let fatal: ((err: Error) => void) | undefined;
      const member = openQuorumMetadata({
        dir: config.metadataLogDir,
        logger,
        nodeId: config.nodeId,
        clusterId,
        quorum,
        roles: processRoles(config),
        config: () => live,
        channel: raftChannel(config.nodeId, quorum),
        clock,
        random,
        onFatal: (err) => fatal?.(err),
      });
      fatal = (err) => logger.fatal({ err }, "this node cannot follow the metadata log; stop it");
      cleanups.push(() => member.shutdown(0));
      network?.attach(member.raft);
      if (network !== undefined) {
        const built = network;
        cleanups.push(() => built.close());
      }
      metadata = { ...member, channel: member.channel, quorum: member, network };
      if (options.remoteController !== undefined) {
        member.channel.setRemote(options.remoteController(member));
      } else {
        const forwarding = controllerForwarding(member, {
          nodeId: config.nodeId,
          clusterId,
          quorum,
          logger,
          clock,
        });
        cleanups.push(() => forwarding.close());
        member.channel.setRemote(forwarding.channel);
        forwardingClose = () => forwarding.close();
      }
      member.start();
      logger.info(
        { voters: quorum.voters.map((v) => `${v.id}@${v.host}:${v.port}`), roles: member.roles },
        "metadata quorum member started",
      );
    }
    const { publisher, channel } = metadata;
    const image = publisher.image;
    logger.info({ clusterId, offset: image.offset, topics: image.topicsByName.size }, "metadata loaded");
    health.metadataLoaded = true;
    live = withDynamicConfigs(config, image, logger);

    // Partition logs: every topic of the image gets its partitions; strays are reported, not deleted.
    const logs = new LogManager({
      logDirs: config.logDirs,
      defaultConfig: topicLogConfig(live, new Map()),
      topicConfig: (topic) => topicLogConfig(live, publisher.image.topicConfigs(topic)),
      retentionCheckIntervalMs: config.int("log.retention.check.interval.ms"),
      clock,
      events: {
        info: (fields, message) => logger.info(fields, message),
        warn: (fields, message) => logger.warn(fields, message),
      },
    });
    const startup = logs.startup();
    cleanups.push(() => logs.shutdown());
    logger.info({ ...startup, repaired: startup.repaired.length }, "partition logs loaded");
    health.logsLoaded = true;
    // The broker config in force follows dynamic changes before the services see the batch (the
    // partition manager then reconfigures the topic logs).
    publisher.onPublish((next, _previous, records) => {
      const brokerConfigChanged = records.some(
        (r) => r.type === "Config" && r.data.resourceType === CONFIG_RESOURCE_TYPE.BROKER,
      );
      if (!brokerConfigChanged) return;
      live = withDynamicConfigs(config, next, logger);
      logger.info(
        { keys: records.flatMap((r) => (r.type === "Config" ? [r.data.name] : [])) },
        "dynamic broker config changed",
      );
    });
    publisher.onPublish((next, previous, records) => logMetadataChanges(logger, next, previous, records));
    publisher.onPublish((next, previous, records) => {
      for (const record of records) {
        if (record.type !== "RemoveTopic") continue;
        const topic = previous.topicsById.get(record.data.topicId);
        if (topic === undefined) continue;
        metrics.topicBytes.remove({ topic: topic.name, direction: "in" });
        metrics.topicBytes.remove({ topic: topic.name, direction: "out" });
        metrics.topicMessagesIn.remove({ topic: topic.name });
      }
      metrics.partitions.set(countPartitions(next));
    });
    metrics.partitions.set(countPartitions(publisher.image));
    metrics.offlinePartitionsSource = () => countOfflinePartitions(publisher.image);
    metrics.logDirsSource = () => config.logDirs;

    // Client quotas follow the image's ClientQuotaRecords (src/server/quotas/).
    const quotas = new BrokerQuotas(config);
    quotas.update(publisher.image.clientQuotas);
    publisher.onPublish((next) => quotas.update(next.clientQuotas));

    const registry = await loadHandlers(options.handlersDir);
    let advertised: AdvertisedEndpoint[] = [];
    const core: BrokerCore = {
      get config() {
        return live;
      },
      logger,
      nodeId: config.nodeId,
      clusterId,
      clock,
      random,
      controller: channel,
      // A single node's controller is always active; a quorum member's while it leads and has
      // published its own epoch's LeaderChangeMessage (RaftMetadataLog.isActive).
      activeController: () =>
        metadata.controller !== undefined && (metadata.quorum === undefined || metadata.quorum.log.isActive)
          ? metadata.controller
          : null,
      activeControllerId: () =>
        metadata.quorum === undefined ? config.nodeId : metadata.quorum.raft.leaderId,
      publisher,
      logs,
      metrics,
      authorizer:
        config.authorizer === undefined
          ? undefined
          : new StandardAuthorizer(config.authorizer, () => publisher.image, logger, clock),
      quotas,
      image: () => publisher.image,
      kraftVersion: () => metadata.log.kraftVersion,
    };
    // The partition manager gives every replica of the image its log before retention starts.
    const services = buildServices(core);
    cleanups.push(() => stopServices(services, () => {}));
    metrics.partitionSource = () => partitionStats(services.partitions.allPartitions());
    metrics.groupOffsetsSource = () => services.groups.coordinator.committedOffsets();
    metrics.purgatorySource = () => ({
      produce: services.partitions.delayedProduce.waiting,
      fetch: services.fetches.purgatory.waiting,
    });
    logs.startBackgroundTasks();
    const context: BrokerContext = {
      ...services,
      get config() {
        return live;
      },
      logger: core.logger,
      nodeId: core.nodeId,
      clusterId: core.clusterId,
      clock: core.clock,
      random: core.random,
      controller: core.controller,
      activeController: core.activeController,
      activeControllerId: core.activeControllerId,
      kraftVersion: core.kraftVersion,
      publisher: core.publisher,
      logs: core.logs,
      metrics: core.metrics,
      authorizer: core.authorizer,
      quotas: core.quotas,
      image: core.image,
      registry,
      quorum: metadata.quorum,
      advertisedEndpoints: () => advertised,
      raftEndpoint: metadata.network ?? metadata.singleVoter,
    };

    // Requests that arrive before registration completes wait for it.
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    let isReady = false;
    const dispatcher = new Dispatcher(registry, context, metrics);
    const gated: FrameProcessor = {
      process(frame, connection, waitForEarlier, waitForRoom) {
        // Controller listeners serve at once: the quorum must elect before anyone can register.
        if (isReady || config.controllerListenerNames.has(connection.listenerName)) {
          return dispatcher.process(frame, connection, waitForEarlier, waitForRoom);
        }
        return ready.then((): RequestOutcome | Promise<RequestOutcome> =>
          dispatcher.process(frame, connection, waitForEarlier, waitForRoom),
        );
      },
    };
    const idleMs = config.int("connections.max.idle.ms");
    const responseMemory = new ResponseMemory(config.int("krill.queued.max.response.bytes.total"));
    metrics.queuedResponseBytesSource = () => responseMemory.bytes;
    const socketServer = new SocketServer({
      // Controller listeners are bound too; the dispatcher serves only the controller's APIs there.
      listeners: [...config.listeners, ...config.controllerListeners],
      listenerTls: config.listenerTls,
      listenerSasl: config.listenerSasl,
      scramCredentials: (user, mechanism) => context.image().scramCredential(user, mechanism.type),
      limits: {
        frameBytesMax: config.int("socket.request.max.bytes"),
        inFlightRequestsMax: config.int("queued.max.requests"),
        queuedResponseBytesMax: config.int("krill.queued.max.response.bytes"),
        responseMemory,
        idleMs: idleMs < 0 ? -1 : idleMs,
        // Produce keeps no byte of its request once answered (the append writes synchronously).
        pooledFrameApiKeys: new Set([PRODUCE_API.apiKey]),
      },
      connectionsMax: () => live.int("max.connections"),
      processor: gated,
      logger,
      onConnectionCountChange: (listener, n) => metrics.connections.set({ listener }, n),
      onBytes: (direction, n) => metrics.networkBytes.inc({ direction }, n),
    });
    cleanups.push(() => socketServer.stop(0));
    const bound = await socketServer.start();
    const controllerBound = bound.find((l) => config.controllerListenerNames.has(l.spec.name));
    metadata.singleVoter?.setEndpoint(
      controllerBound && {
        name: controllerBound.spec.name,
        host: BrokerConfig.advertisedHost(controllerBound.host),
        port: controllerBound.port,
      },
    );
    advertised = config.advertisedListeners.map((a) => {
      const b = bound.find((l) => l.spec.name === a.name)!;
      const sameAsBound = config.listeners.some((l) => l === a);
      return {
        listenerName: a.name,
        host: BrokerConfig.advertisedHost(a.host),
        port: sameAsBound || a.port === 0 ? b.port : a.port,
        securityProtocol: a.securityProtocol,
      };
    });
    // Registration: fenced at first, unfenced once this broker has replayed the metadata log up
    // to its registration (at once on a combined node), then heartbeats keep the session alive. In
    // a quorum the active controller may not be elected yet, or be on a node that is not up: the
    // registration is retried until it is accepted.
    let lifecycle: BrokerLifecycleManager | undefined;
    if (metadata.quorum === undefined || metadata.quorum.roles.broker) {
      const manager = new BrokerLifecycleManager({
        channel,
        config: () => live,
        logger,
        metadataOffset: () => publisher.image.offset,
        clock,
      });
      lifecycle = manager;
      cleanups.push(() => manager.close());
      // A new active controller gives this broker one heartbeat interval to make contact.
      metadata.quorum?.log.onLeaderChange((leaderId) => {
        if (leaderId >= 0) manager.heartbeatSoon();
      });
      await manager.start(
        {
          brokerId: config.nodeId,
          clusterId,
          incarnationId: uuidFromBytes(random.bytes(16), 0),
          listeners: advertised.map((e) => ({
            name: e.listenerName,
            host: e.host,
            port: e.port,
            securityProtocol: SECURITY_PROTOCOL_IDS[e.securityProtocol] ?? 0,
          })),
          features: registrationFeatures(),
          rack: config.stringOrNull("broker.rack"),
          logDirs: [],
          previousBrokerEpoch: -1n,
        },
        metadata.quorum === undefined ? REGISTRATION_TIMEOUT_MS : Number.POSITIVE_INFINITY,
      );
      if (metadata.quorum !== undefined) {
        logger.info({ leader: metadata.quorum.log.leader }, "broker registered with the active controller");
      }
    }
    // The active controller fences brokers whose session expired and runs the periodic elections.
    const controller = metadata.controller;
    const controllerTasks =
      controller === undefined ? undefined : new ControllerTasks(controller, () => live, logger);
    if (controllerTasks !== undefined) {
      cleanups.push(() => controllerTasks.stop());
      controllerTasks.start();
    }
    // The coordinators load their topics now (transactions caught mid-commit are finished at
    // start), then the caller's components start.
    health.registered = true;
    startServices(services);
    health.coordinators = () => {
      const topics = core.image().topicsByName;
      const state = (topic: string, loaded: boolean): CoordinatorState =>
        loaded ? "loaded" : topics.has(topic) ? "loading" : "no topic yet";
      return {
        groups: state(CONSUMER_OFFSETS_TOPIC, services.groups.coordinator.isLoaded),
        transactions: state(TRANSACTION_STATE_TOPIC, services.transactions.coordinator.isLoaded),
      };
    };
    const components = options.components ?? [];
    for (const component of components) await component.start(context);
    const broker = new Broker(config, logger, context, services, socketServer, metadata, components);
    broker.#dirLocks = dirLocks;
    broker.#lifecycle = lifecycle;
    broker.#controllerTasks = controllerTasks;
    broker.#closeForwarding = forwardingClose;
    // A quiet cluster still snapshots on the time bound.
    const snapshotCheckMs = Math.min(
      60_000,
      Math.max(1_000, config.int("metadata.log.max.snapshot.interval.ms") || 60_000),
    );
    broker.#snapshotTimer = setInterval(() => {
      try {
        metadata.snapshots.maybeSnapshot();
      } catch (err) {
        logger.error({ err }, "metadata snapshot failed");
      }
    }, snapshotCheckMs);
    broker.#snapshotTimer.unref();
    isReady = true;
    markReady();
    health.phase = "serving";
    broker.#health = health;
    logger.info(
      {
        nodeId: config.nodeId,
        clusterId,
        listeners: advertised.map((e) => `${e.listenerName}://${e.host}:${e.port}`),
      },
      "broker started",
    );
    return broker;
  }

  /** Graceful stop; safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.logger.info("broker stopping");
    if (this.#health !== undefined) this.#health.phase = "stopping";
    clearInterval(this.#snapshotTimer);
    // Leaderships move to other brokers first, when there are any to move to (a lone broker has
    // nowhere to move them; its next start replaces this incarnation's registration).
    const image = this.context.image();
    const others = [...image.brokers.values()].some((b) => b.brokerId !== this.config.nodeId && !b.fenced);
    if (others) await this.#lifecycle?.controlledShutdown(CONTROLLED_SHUTDOWN_TIMEOUT_MS);
    this.#lifecycle?.close();
    this.#controllerTasks?.stop();
    // Data path: answer long-polling fetches now, so connections drain without waiting out max_wait_ms.
    this.#services.fetches.purgatory.shutdown();
    // A quorum leader resigns first (EndQuorumEpoch), so the others elect without waiting out
    // their fetch timeout; then nothing more is committed through this node.
    this.#metadata.quorum?.raft.shutdown(RESIGN_TIMEOUT_MS);
    await this.#socketServer.stop();
    for (const component of [...this.#components].reverse()) {
      try {
        await component.stop?.();
      } catch (err) {
        this.logger.error({ err, component: component.name }, "component failed to stop");
      }
    }
    await stopServices(this.#services, (err, service) =>
      this.logger.error({ err, service }, "service failed to stop"),
    );
    await this.context.logs.shutdown();
    this.#closeForwarding();
    if (this.#metadata.quorum !== undefined) await this.#metadata.quorum.shutdown(RESIGN_TIMEOUT_MS);
    else await this.#metadata.log.close();
    this.#metadata.network?.close();
    this.#dirLocks?.release();
    await this.context.metrics.close();
    this.logger.info("broker stopped");
  }
}

/** `base` with the image's dynamic broker configs (cluster default, then this node's) on top. */
function withDynamicConfigs(base: BrokerConfig, image: MetadataImage, logger: Logger): BrokerConfig {
  return base.withDynamic(
    { clusterDefault: image.brokerConfigs(""), perBroker: image.brokerConfigs(String(base.nodeId)) },
    (name, message) => logger.warn({ name, message }, "ignoring stored dynamic broker config"),
  );
}

/** Partitions of the image whose leader is none (-1): Kafka's OfflinePartitionsCount. */
function countOfflinePartitions(image: MetadataImage): number {
  let n = 0;
  for (const topic of image.topicsByName.values()) for (const p of topic.partitions) if (p.leader < 0) n++;
  return n;
}

function* partitionStats(partitions: Iterable<Partition>): Iterable<PartitionStats> {
  for (const p of partitions) {
    yield {
      topic: p.topic,
      partition: p.partitionId,
      logStartOffset: p.logStartOffset,
      logEndOffset: p.logEndOffset,
      highWatermark: p.highWatermark,
      sizeBytes: p.log.sizeBytes,
      isLeader: p.isLeader,
      underReplicated: p.isLeader && p.isr.size < p.replicas.length,
    };
  }
}

function countPartitions(image: MetadataImage): number {
  let n = 0;
  for (const t of image.topicsByName.values()) n += t.partitions.length;
  return n;
}
