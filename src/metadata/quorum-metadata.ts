/**
 * The metadata side of a node in a KRaft quorum (`controller.quorum.voters` set), wired together:
 * the analog of `openLocalMetadata` for a replicated metadata log.
 *
 *   handler -> QuorumControllerChannel -> (active here) MetadataController -> RaftMetadataLog.propose
 *                                      -> (elsewhere) the remote channel (forwarding to the leader)
 *   RaftClient (commit) -> RaftMetadataLog (queue) -> publisher -> snapshot generator -> proposal resolves
 *
 * Storage is Kafka's: `<metadata.log.dir>/__cluster_metadata-0/` holds the segments, snapshots and
 * the `quorum-state` file. The directory must be formatted (`krill format` or Kafka's
 * `kafka-storage format`): every node of a quorum must share the cluster id, which a node cannot
 * invent alone. Voters run the controller; a node without the controller role (or not among the
 * voters) follows the log as an observer. The controller accepts operations only while
 * `RaftMetadataLog.isActive` (leader, caught up with its own epoch); otherwise NOT_CONTROLLER.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import type { BrokerConfig } from "../config/broker-config.js";
import { KrillError } from "../errors.js";
import { RaftClient } from "../raft/client.js";
import type { QuorumConfig } from "../raft/config.js";
import { parseVoters } from "../raft/config.js";
import { FileRaftLog } from "../raft/file-log.js";
import { FileQuorumStateStore } from "../raft/file-quorum-state-store.js";
import { timerRaftClock } from "../raft/timer-clock.js";
import type { RaftChannel, RaftClock } from "../raft/types.js";
import { type Random, SYSTEM_RANDOM } from "../random.js";
import { MetadataController } from "./controller.js";
import { type ControllerChannel, LocalControllerChannel } from "./controller-channel.js";
import { MetadataImage } from "./image.js";
import { METADATA_DIR_NAME, NotControllerError } from "./metadata-log.js";
import { MetadataPublisher, SnapshotGenerator } from "./publisher.js";
import { RaftMetadataLog } from "./raft-metadata-log.js";
import { metadataRecordSerde } from "./record-serde.js";
import { META_PROPERTIES_FILE } from "./storage-format.js";

export interface ProcessRoles {
  readonly broker: boolean;
  readonly controller: boolean;
}

/** `process.roles` as a set of roles. */
export function processRoles(config: BrokerConfig): ProcessRoles {
  const roles = config.list("process.roles").map((r) => r.trim());
  return { broker: roles.includes("broker"), controller: roles.includes("controller") };
}

/**
 * The quorum settings of `config`, or undefined for a node that is its own single-voter quorum:
 * no voters, or only itself (`controller.quorum.voters=1@localhost:9093` on node 1, as Confluent's
 * sample), or only its own controller listener as bootstrap server (Kafka 4.4's sample
 * server.properties, formatted --standalone: one bootstrap server on a controller). Those run
 * today's single-node path unchanged. A dynamic quorum of several nodes (KIP-853: several bootstrap
 * servers, or a broker-only node) is refused, as is a controller that is not a voter.
 */
export function quorumConfigOf(config: BrokerConfig): QuorumConfig | undefined {
  const voters = parseVoters(config.list("controller.quorum.voters").join(","));
  const bootstrap = config.list("controller.quorum.bootstrap.servers").filter((s) => s.trim() !== "");
  if (voters.length === 0) {
    const selfOnly = bootstrap.length === 0 || (bootstrap.length === 1 && processRoles(config).controller);
    if (!selfOnly) {
      throw new KrillError(
        "CONFIG_INVALID",
        `controller.quorum.bootstrap.servers=${bootstrap.join(",")} names other controllers: a dynamic quorum (KIP-853), which Krill does not run yet; list every voter in controller.quorum.voters`,
      );
    }
    return undefined;
  }
  if (voters.length === 1 && voters[0]!.id === config.nodeId) return undefined;
  const roles = processRoles(config);
  if (roles.controller && !voters.some((v) => v.id === config.nodeId)) {
    throw new KrillError(
      "CONFIG_INVALID",
      `process.roles includes controller but node.id ${config.nodeId} is not in controller.quorum.voters`,
    );
  }
  if (roles.controller && (config.stringOrNull("controller.listener.names") ?? "").trim() === "") {
    throw new KrillError("CONFIG_INVALID", "a controller needs controller.listener.names");
  }
  return {
    voters,
    bootstrapServers: bootstrap,
    electionTimeoutMs: config.int("controller.quorum.election.timeout.ms"),
    fetchTimeoutMs: config.int("controller.quorum.fetch.timeout.ms"),
    electionBackoffMaxMs: config.int("controller.quorum.election.backoff.max.ms"),
    requestTimeoutMs: config.int("controller.quorum.request.timeout.ms"),
    retryBackoffMs: config.int("controller.quorum.retry.backoff.ms"),
    appendLingerMs: config.int("controller.quorum.append.linger.ms"),
  };
}

/**
 * The channel of a quorum member: the local controller while it is active, else the remote one
 * (the active controller over the network). Until a remote channel is given, writes on a node
 * that is not the active controller fail with NOT_CONTROLLER. Once one is given it takes every
 * call: a RemoteControllerChannel runs the call on this node's controller while it is the active
 * one, and retries on the new active controller when leadership moves during the call, which
 * choosing here per call could not.
 */
export class QuorumControllerChannel implements ControllerChannel {
  readonly #local: ControllerChannel | undefined;
  readonly #isActive: () => boolean;
  #remote: ControllerChannel | undefined;

  constructor(local: ControllerChannel | undefined, isActive: () => boolean) {
    this.#local = local;
    this.#isActive = isActive;
  }

  /** Where writes go when this node is not the active controller. */
  setRemote(remote: ControllerChannel): void {
    this.#remote = remote;
  }

  #target(): ControllerChannel {
    if (this.#remote !== undefined) return this.#remote;
    return this.#local !== undefined && this.#isActive() ? this.#local : NOT_CONTROLLER_CHANNEL;
  }

  createTopics(...args: Parameters<ControllerChannel["createTopics"]>) {
    return this.#target().createTopics(...args);
  }
  deleteTopics(...args: Parameters<ControllerChannel["deleteTopics"]>) {
    return this.#target().deleteTopics(...args);
  }
  createPartitions(...args: Parameters<ControllerChannel["createPartitions"]>) {
    return this.#target().createPartitions(...args);
  }
  alterTopicConfigs(...args: Parameters<ControllerChannel["alterTopicConfigs"]>) {
    return this.#target().alterTopicConfigs(...args);
  }
  alterBrokerConfigs(...args: Parameters<ControllerChannel["alterBrokerConfigs"]>) {
    return this.#target().alterBrokerConfigs(...args);
  }
  allocateProducerIds(...args: Parameters<ControllerChannel["allocateProducerIds"]>) {
    return this.#target().allocateProducerIds(...args);
  }
  alterUserScramCredentials(...args: Parameters<ControllerChannel["alterUserScramCredentials"]>) {
    return this.#target().alterUserScramCredentials(...args);
  }
  alterClientQuotas(...args: Parameters<ControllerChannel["alterClientQuotas"]>) {
    return this.#target().alterClientQuotas(...args);
  }
  createAcls(...args: Parameters<ControllerChannel["createAcls"]>) {
    return this.#target().createAcls(...args);
  }
  deleteAcls(...args: Parameters<ControllerChannel["deleteAcls"]>) {
    return this.#target().deleteAcls(...args);
  }
  registerBroker(...args: Parameters<ControllerChannel["registerBroker"]>) {
    return this.#target().registerBroker(...args);
  }
  brokerHeartbeat(...args: Parameters<ControllerChannel["brokerHeartbeat"]>) {
    return this.#target().brokerHeartbeat(...args);
  }
  alterPartition(...args: Parameters<ControllerChannel["alterPartition"]>) {
    return this.#target().alterPartition(...args);
  }
  electLeaders(...args: Parameters<ControllerChannel["electLeaders"]>) {
    return this.#target().electLeaders(...args);
  }
  updateFeatures(...args: Parameters<ControllerChannel["updateFeatures"]>) {
    return this.#target().updateFeatures(...args);
  }
}

const notController = (): Promise<never> =>
  Promise.reject(new NotControllerError("the active controller is on another node"));

const NOT_CONTROLLER_CHANNEL: ControllerChannel = {
  createTopics: notController,
  deleteTopics: notController,
  createPartitions: notController,
  alterTopicConfigs: notController,
  alterBrokerConfigs: notController,
  allocateProducerIds: notController,
  alterUserScramCredentials: notController,
  alterClientQuotas: notController,
  createAcls: notController,
  deleteAcls: notController,
  registerBroker: notController,
  brokerHeartbeat: notController,
  alterPartition: notController,
  electLeaders: notController,
  updateFeatures: notController,
};

export interface QuorumMetadata {
  readonly log: RaftMetadataLog;
  readonly raft: RaftClient;
  readonly raftLog: FileRaftLog;
  readonly publisher: MetadataPublisher;
  readonly snapshots: SnapshotGenerator;
  /** Undefined on a node without the controller role. */
  readonly controller: MetadataController | undefined;
  readonly channel: QuorumControllerChannel;
  readonly roles: ProcessRoles;
  /** Starts the quorum member (reads quorum-state, takes its initial state, arms its timer). */
  start(): void;
  /** Graceful: a leader resigns (EndQuorumEpoch) and waits up to `timeoutMs`; then everything closes. */
  shutdown(timeoutMs: number): Promise<void>;
}

export interface QuorumMetadataOptions {
  /** metadata.log.dir */
  readonly dir: string;
  readonly logger: Logger;
  readonly nodeId: number;
  readonly clusterId: string;
  readonly quorum: QuorumConfig;
  readonly roles: ProcessRoles;
  readonly config: () => BrokerConfig;
  /** The network to the other quorum members; inbound requests go to `raft.handleRequest`. */
  readonly channel: RaftChannel;
  readonly clock?: Clock;
  /** Timers of the core; default: setTimeout on `clock`. */
  readonly raftClock?: RaftClock;
  readonly random?: Random;
  /** The node cannot follow the metadata log any more (it should stop). */
  readonly onFatal?: (err: Error) => void;
}

/** Opens the formatted metadata log and wires the quorum member; `start()` sets it running. */
export function openQuorumMetadata(options: QuorumMetadataOptions): QuorumMetadata {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const random = options.random ?? SYSTEM_RANDOM;
  const metadataDir = path.resolve(options.dir);
  if (!existsSync(path.join(metadataDir, META_PROPERTIES_FILE))) {
    throw new KrillError(
      "CONFIG_INVALID",
      `${metadataDir} is not formatted: a quorum member needs \`krill format --cluster-id <id> --config <file>\` (or kafka-storage format) with the cluster's id first`,
    );
  }
  const partitionDir = path.join(metadataDir, METADATA_DIR_NAME);
  const raftLog = FileRaftLog.open({ dir: partitionDir, clock, logger: options.logger });
  const voterIds = options.quorum.voters.map((v) => v.id);
  const store = new FileQuorumStateStore(partitionDir, voterIds);
  const log = new RaftMetadataLog({
    nodeId: options.nodeId,
    log: raftLog,
    serde: metadataRecordSerde,
    logger: options.logger,
    clock,
    onFatal: options.onFatal,
  });
  const raftLogger = options.logger.child({ component: "raft" });
  const raft = new RaftClient({
    nodeId: options.nodeId,
    clusterId: options.clusterId,
    config: options.quorum,
    clock: options.raftClock ?? timerRaftClock(clock),
    random,
    channel: options.channel,
    log: raftLog,
    store,
    listener: log,
    logger: (line) => raftLogger.info(line),
  });
  log.attach(raft);
  log.onLeaderChange((leaderId, epoch) => {
    if (leaderId >= 0) options.logger.info({ leaderId, epoch }, "metadata quorum leader changed");
    else options.logger.debug({ epoch }, "metadata quorum has no leader");
  });
  log.onActivation((epoch) => options.logger.info({ epoch }, "this node is the active controller"));
  const publisher = new MetadataPublisher(MetadataImage.EMPTY);
  const snapshots = new SnapshotGenerator({ log, publisher, config: options.config, clock });
  log.register(publisher);
  log.register({ handleCommit: () => void snapshots.maybeSnapshot() });
  const isController = options.roles.controller && voterIds.includes(options.nodeId);
  const controller = isController
    ? new MetadataController({
        log,
        image: () => publisher.image,
        config: options.config,
        logger: options.logger,
        random,
        clock,
        clusterId: options.clusterId,
        isActive: () => log.isActive,
        unreachableQuorumPeers: () => raft.unreachableVoters,
      })
    : undefined;
  if (controller !== undefined) {
    // Fast failover (docs/replication.md): a new active controller fences at once the broker of a
    // node whose process the quorum found gone, instead of waiting for its first contact.
    log.onActivation(() => {
      controller.fenceStaleBrokers().catch((err: unknown) => {
        options.logger.warn({ err }, "fencing stale brokers at activation failed");
      });
    });
    log.onVoterUnreachable((nodeId) => controller.quorumPeerUnreachable(nodeId));
  }
  const channel = new QuorumControllerChannel(
    controller === undefined ? undefined : new LocalControllerChannel(controller),
    () => log.isActive,
  );
  return {
    log,
    raft,
    raftLog,
    publisher,
    snapshots,
    controller,
    channel,
    roles: options.roles,
    start: () => raft.start(),
    async shutdown(timeoutMs: number): Promise<void> {
      raft.shutdown(timeoutMs);
      // Bounded by count too, in case `clock` is not the wall clock.
      for (let i = 0; i * 20 < timeoutMs && !raft.isShutdownComplete(); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      raft.close();
      await log.close();
      await raftLog.close();
    },
  };
}
