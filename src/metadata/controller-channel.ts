/**
 * The controller channel: the one way a broker's handlers and services reach the controller
 * (CreateTopics, DeleteTopics, CreatePartitions, the config alters, producer-id blocks, the
 * broker's own registration). Each call resolves once the controller's records are committed and
 * published on this node, with the controller's answer.
 *
 * Today the active controller lives in the same process (`LocalControllerChannel`). In a cluster,
 * a broker-only node forwards these calls to the active controller over the network, as Kafka's
 * brokers forward admin requests in an Envelope (KIP-590) and send BrokerRegistration and
 * AllocateProducerIds to the controller; only this file's implementation changes, not its
 * callers. Callers therefore pass plain data (no image objects, no callbacks), so every call can
 * be serialized.
 */

import { isKrillError } from "../errors.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import type { AclApiError, AclBinding, AclDeleteResult, AclFilter } from "./acls.js";
import type { QuotaAlteration, QuotaAlterResult } from "./client-quotas.js";
import type {
  BrokerHeartbeatReply,
  BrokerHeartbeatRequest,
  BrokerRegistrationReply,
  BrokerRegistrationRequest,
} from "./cluster-control.js";
import type {
  ApiResult,
  ConfigAlteration,
  CreatePartitionsRequest,
  CreateTopicRequest,
  CreateTopicResult,
  DeleteTopicResult,
} from "./controller.js";
import type { FeatureUpdate, FeatureUpdateResult } from "./feature-control.js";
import type {
  AlterPartitionRequest,
  AlterPartitionResponse,
  ElectLeadersResult,
} from "./replication-control.js";
import type { ScramAlterResult, ScramDeletion, ScramUpsertion } from "./scram-control.js";

export type {
  AlterPartitionRequest,
  AlterPartitionResponse,
  BrokerHeartbeatReply,
  BrokerHeartbeatRequest,
  BrokerRegistrationReply,
  BrokerRegistrationRequest,
  ElectLeadersResult,
};

/** ElectLeaders' partitions: null = every partition. */
export type ElectionTargets = ReadonlyArray<{
  readonly topic: string;
  readonly partitions: readonly number[];
}> | null;

/**
 * Whether a controller write failed because this node's controller is not (or stopped being)
 * the active one: a KrillError NOT_CONTROLLER, or an error carrying Kafka's NOT_CONTROLLER code
 * (`errorCode`), as a replicated metadata log rejects proposals when leadership moves.
 */
export function isNotControllerError(err: unknown): boolean {
  if (isKrillError(err, "NOT_CONTROLLER")) return true;
  return (
    err instanceof Error && (err as Error & { errorCode?: unknown }).errorCode === ErrorCode.NOT_CONTROLLER
  );
}

export interface ConfigAlterResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** Per call: what the client's request allows. */
export interface ControllerCallOptions {
  /**
   * The request's own timeout (CreateTopics' timeout_ms and the like), when it has one: a channel
   * that forwards gives up after it and answers REQUEST_TIMED_OUT. The in-process controller
   * does not use it.
   */
  readonly timeoutMs?: number;
}

/**
 * Admin writes answer with per-item wire error codes and never throw for a refusal; a forwarding
 * channel that cannot reach the active controller in time answers every item REQUEST_TIMED_OUT.
 */
export interface ControllerChannel {
  createTopics(
    requests: readonly CreateTopicRequest[],
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<CreateTopicResult[]>;
  deleteTopics(
    targets: ReadonlyArray<{ readonly name: string | null; readonly topicId: string | null }>,
    options?: ControllerCallOptions,
  ): Promise<DeleteTopicResult[]>;
  createPartitions(
    requests: readonly CreatePartitionsRequest[],
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<ApiResult[]>;
  /** Topic overrides of `resourceName`, replaced (incremental = false) or edited key by key. */
  alterTopicConfigs(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<ConfigAlterResult>;
  /** Dynamic broker configs of `resourceName` ("" = cluster-wide default, else a broker id). */
  alterBrokerConfigs(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<ConfigAlterResult>;
  /** SCRAM credentials added, replaced or deleted (Kafka's AlterUserScramCredentials). */
  alterUserScramCredentials(
    deletions: readonly ScramDeletion[],
    upsertions: readonly ScramUpsertion[],
  ): Promise<ScramAlterResult[]>;
  /** Client quotas set or removed (Kafka's AlterClientQuotas): one result per entity. */
  alterClientQuotas(
    alterations: readonly QuotaAlteration[],
    validateOnly: boolean,
  ): Promise<QuotaAlterResult[]>;
  /** ACL bindings stored (Kafka's CreateAcls): one result per binding, in order. */
  createAcls(bindings: readonly AclBinding[]): Promise<AclApiError[]>;
  /** ACL bindings matching each filter removed (Kafka's DeleteAcls): one result per filter. */
  deleteAcls(filters: readonly AclFilter[]): Promise<AclDeleteResult[]>;
  /** A block of producer ids for `brokerId` (Kafka's AllocateProducerIds). */
  allocateProducerIds(
    brokerId: number,
    brokerEpoch: bigint,
  ): Promise<{ firstProducerId: bigint; count: number }>;
  /**
   * Kafka's BrokerRegistration: the broker is registered fenced, with a new broker epoch (the
   * registration record's offset) unless it is the same incarnation again. On a fresh cluster the
   * first registration finalizes metadata.version. Errors come back in the reply.
   */
  registerBroker(request: BrokerRegistrationRequest): Promise<BrokerRegistrationReply>;
  /**
   * Kafka's BrokerHeartbeat: keeps the broker's session, unfences it once caught up, and runs
   * controlled shutdown (WantShutDown). STALE_BROKER_EPOCH for an old epoch.
   */
  brokerHeartbeat(request: BrokerHeartbeatRequest): Promise<BrokerHeartbeatReply>;
  /** Kafka's AlterPartition (v2+) from a partition leader: a new ISR, epochs checked. */
  alterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse>;
  /** Kafka's ElectLeaders: electionType 0 preferred, 1 unclean. */
  electLeaders(electionType: number, topicPartitions: ElectionTargets): Promise<ElectLeadersResult>;
  /** Kafka's UpdateFeatures: all the updates or none (feature-control.ts). */
  updateFeatures(
    updates: readonly FeatureUpdate[],
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<FeatureUpdateResult>;
}

/** The channel of a combined node: the active controller is in this process. */
export class LocalControllerChannel implements ControllerChannel {
  readonly #controller: ControllerChannel;

  constructor(controller: ControllerChannel) {
    this.#controller = controller;
  }

  createTopics(requests: readonly CreateTopicRequest[], validateOnly: boolean): Promise<CreateTopicResult[]> {
    return this.#controller.createTopics(requests, validateOnly);
  }

  deleteTopics(
    targets: ReadonlyArray<{ readonly name: string | null; readonly topicId: string | null }>,
  ): Promise<DeleteTopicResult[]> {
    return this.#controller.deleteTopics(targets);
  }

  createPartitions(
    requests: readonly CreatePartitionsRequest[],
    validateOnly: boolean,
  ): Promise<ApiResult[]> {
    return this.#controller.createPartitions(requests, validateOnly);
  }

  alterTopicConfigs(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<ConfigAlterResult> {
    return this.#controller.alterTopicConfigs(resourceName, alterations, incremental, validateOnly);
  }

  alterBrokerConfigs(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<ConfigAlterResult> {
    return this.#controller.alterBrokerConfigs(resourceName, alterations, incremental, validateOnly);
  }

  alterUserScramCredentials(
    deletions: readonly ScramDeletion[],
    upsertions: readonly ScramUpsertion[],
  ): Promise<ScramAlterResult[]> {
    return this.#controller.alterUserScramCredentials(deletions, upsertions);
  }

  alterClientQuotas(
    alterations: readonly QuotaAlteration[],
    validateOnly: boolean,
  ): Promise<QuotaAlterResult[]> {
    return this.#controller.alterClientQuotas(alterations, validateOnly);
  }

  createAcls(bindings: readonly AclBinding[]): Promise<AclApiError[]> {
    return this.#controller.createAcls(bindings);
  }

  deleteAcls(filters: readonly AclFilter[]): Promise<AclDeleteResult[]> {
    return this.#controller.deleteAcls(filters);
  }

  allocateProducerIds(
    brokerId: number,
    brokerEpoch: bigint,
  ): Promise<{ firstProducerId: bigint; count: number }> {
    return this.#controller.allocateProducerIds(brokerId, brokerEpoch);
  }

  registerBroker(request: BrokerRegistrationRequest): Promise<BrokerRegistrationReply> {
    return this.#controller.registerBroker(request);
  }

  brokerHeartbeat(request: BrokerHeartbeatRequest): Promise<BrokerHeartbeatReply> {
    return this.#controller.brokerHeartbeat(request);
  }

  alterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return this.#controller.alterPartition(request);
  }

  electLeaders(electionType: number, topicPartitions: ElectionTargets): Promise<ElectLeadersResult> {
    return this.#controller.electLeaders(electionType, topicPartitions);
  }

  updateFeatures(updates: readonly FeatureUpdate[], validateOnly: boolean): Promise<FeatureUpdateResult> {
    return this.#controller.updateFeatures(updates, validateOnly);
  }
}
