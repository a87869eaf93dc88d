/**
 * The controller channel of a node whose controller is not the active one (a broker-only node, or
 * a combined node following the quorum's leader): each call becomes the Kafka request to the
 * active controller's controller listener, as Kafka's brokers send admin writes to the controller
 * (ForwardingManager, NodeToControllerChannelManager): CreateTopics, DeleteTopics,
 * CreatePartitions, IncrementalAlterConfigs / AlterConfigs, AllocateProducerIds,
 * BrokerRegistration. The controller runs it (src/server/controller-apis.ts) and answers once
 * its records are committed by the quorum; a controller listener never forwards further.
 *
 * Finding the controller and retrying (NodeToControllerRequestThread's rules):
 * - The active controller comes from the quorum (`activeController`: leader id and endpoint, null
 *   while there is no leader); the client's endpoint follows it.
 * - A call that meets no leader, a connection failure or disconnect, or an answer with
 *   NOT_CONTROLLER in it (the leader moved), tries again after a backoff
 *   (`retryBackoffMs` doubling up to `retryBackoffMaxMs`) until its deadline: the request's own
 *   timeout (CreateTopics' timeout_ms...) or, without one, Kafka's forwarding timeout of 60 s.
 *   Past it, every item is answered REQUEST_TIMED_OUT, which is what Kafka's broker answers
 *   (its forwarding callback's onTimeout). UNSUPPORTED_VERSION or an answer that does not decode
 *   is UNKNOWN_SERVER_ERROR, as Kafka's ForwardingManager answers version mismatches.
 * - When `localController` names an active controller in this process (the node won the
 *   election meanwhile), the call runs on it directly; its KrillError NOT_CONTROLLER (leadership
 *   lost during the proposal) is retried like the remote one.
 *
 * Published on this node: the controller answers once committed, not once this node has
 * replayed the records, and its answers carry no offset. After a remote success the call waits,
 * within what is left of its deadline, until this node's image shows the effect (the topic ids
 * created, gone, the partition count, the config values set, the producer-id block, the
 * registration); past the deadline it answers the success anyway, since the write is committed.
 * Incremental APPEND/SUBTRACT alters cannot be predicted and do not wait. Kafka's brokers do not
 * wait at all: its clients retry UNKNOWN_TOPIC_OR_PARTITION and LEADER_NOT_AVAILABLE from a
 * broker whose metadata is behind, so this wait is a courtesy (read-your-writes through the same
 * node), not something a client relies on.
 *
 * Concurrency: calls are independent; each holds at most one request in flight. Waiters for the
 * image are bounded by the calls in flight, each by its deadline.
 */
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import { isKrillError, KrillError } from "../errors.js";
import {
  ALLOCATE_PRODUCER_IDS_API,
  ALTER_CLIENT_QUOTAS_API,
  ALTER_CONFIGS_API,
  ALTER_PARTITION_API,
  ALTER_USER_SCRAM_CREDENTIALS_API,
  type ApiDescriptor,
  BROKER_HEARTBEAT_API,
  BROKER_REGISTRATION_API,
  CREATE_ACLS_API,
  CREATE_PARTITIONS_API,
  CREATE_TOPICS_API,
  DELETE_ACLS_API,
  DELETE_TOPICS_API,
  ELECT_LEADERS_API,
  INCREMENTAL_ALTER_CONFIGS_API,
  UPDATE_FEATURES_API,
} from "../protocol/generated/apis.js";
import { ErrorCode, errorCodeName } from "../protocol/generated/error-codes.js";
import { ZERO_UUID } from "../protocol/primitives/uuid.js";
import type { AclApiError, AclBinding, AclDeleteResult, AclFilter } from "./acls.js";
import type { QuotaAlteration, QuotaAlterResult } from "./client-quotas.js";
import type {
  ApiResult,
  ConfigAlteration,
  CreatePartitionsRequest,
  CreateTopicRequest,
  CreateTopicResult,
  DeleteTopicResult,
} from "./controller.js";
import {
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  type BrokerHeartbeatReply,
  type BrokerHeartbeatRequest,
  type BrokerRegistrationReply,
  type BrokerRegistrationRequest,
  type ConfigAlterResult,
  type ControllerCallOptions,
  type ControllerChannel,
  type ElectionTargets,
  type ElectLeadersResult,
  isNotControllerError,
} from "./controller-channel.js";
import type { FeatureUpdate, FeatureUpdateResult } from "./feature-control.js";
import type { MetadataImage } from "./image.js";
import type { MetadataPublisher } from "./publisher.js";
import { CONFIG_RESOURCE_TYPE } from "./records.js";
import type { ScramAlterResult, ScramDeletion, ScramUpsertion } from "./scram-control.js";

/** How long one BrokerHeartbeat is retried (Kafka's broker.heartbeat.interval.ms default). */
const HEARTBEAT_TIMEOUT_MS = 2_000;

/** The active controller as the quorum names it. */
export interface ControllerNode {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

/** What the channel uses of a Kafka-protocol client (src/server/network/node-client.ts). */
export interface ControllerRequester {
  request<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    body: Req,
    options?: { readonly version?: number; readonly timeoutMs?: number },
  ): Promise<Res>;
}

export interface RemoteControllerChannelOptions {
  /** A client whose endpoint is the active controller's controller listener. */
  readonly client: ControllerRequester;
  /** The active controller now, or null while the quorum has no leader. */
  readonly activeController: () => ControllerNode | null;
  /** This process's controller while it is the active one (a combined node), else null. */
  readonly localController?: () => ControllerChannel | null;
  /** This node's publisher: calls wait until it has published their effect. */
  readonly publisher: MetadataPublisher;
  readonly clusterId: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Deadline of calls whose request has no timeout (Kafka's forwarding retry timeout). */
  readonly timeoutMs?: number;
  /** First backoff between attempts (Kafka's retry.backoff.ms), doubled up to the max. */
  readonly retryBackoffMs?: number;
  readonly retryBackoffMaxMs?: number;
}

/** Kafka's BrokerServer forwards with retryTimeoutMs = 60000. */
export const FORWARD_TIMEOUT_MS_DEFAULT = 60_000;
const RETRY_BACKOFF_MS_DEFAULT = 100;
const RETRY_BACKOFF_MAX_MS_DEFAULT = 1_000;

/** One attempt's outcome. */
type Attempt<T> = { readonly ok: T } | { readonly retry: string };
/** A call's failure: the wire error every item is answered with. */
interface Failure {
  readonly errorCode: number;
  readonly errorMessage: string;
}

interface Call<T> {
  readonly timeoutMs: number | undefined;
  readonly local: (controller: ControllerChannel) => Promise<T>;
  readonly remote: (timeoutMs: number) => Promise<Attempt<T>>;
  /** Whether this node's image shows the effect of a remote success (undefined: do not wait). */
  readonly published?: (result: T, image: MetadataImage) => boolean;
}

interface ImageWaiter {
  readonly done: (image: MetadataImage) => boolean;
  readonly resolve: () => void;
}

export class RemoteControllerChannel implements ControllerChannel {
  readonly #client: ControllerRequester;
  readonly #activeController: () => ControllerNode | null;
  readonly #localController: () => ControllerChannel | null;
  readonly #publisher: MetadataPublisher;
  readonly #clusterId: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #retryBackoffMs: number;
  readonly #retryBackoffMaxMs: number;
  readonly #waiters = new Set<ImageWaiter>();

  constructor(options: RemoteControllerChannelOptions) {
    this.#client = options.client;
    this.#activeController = options.activeController;
    this.#localController = options.localController ?? (() => null);
    this.#publisher = options.publisher;
    this.#clusterId = options.clusterId;
    this.#logger = options.logger;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#timeoutMs = options.timeoutMs ?? FORWARD_TIMEOUT_MS_DEFAULT;
    this.#retryBackoffMs = options.retryBackoffMs ?? RETRY_BACKOFF_MS_DEFAULT;
    this.#retryBackoffMaxMs = options.retryBackoffMaxMs ?? RETRY_BACKOFF_MAX_MS_DEFAULT;
    this.#publisher.onPublish((image) => {
      for (const waiter of this.#waiters) {
        if (waiter.done(image)) {
          this.#waiters.delete(waiter);
          waiter.resolve();
        }
      }
    });
  }

  createTopics(
    requests: readonly CreateTopicRequest[],
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<CreateTopicResult[]> {
    const timeoutMs = options?.timeoutMs;
    const body = {
      topics: requests.map((r) => ({
        name: r.name,
        numPartitions: r.numPartitions,
        replicationFactor: r.replicationFactor,
        assignments: r.assignments.map((a) => ({
          partitionIndex: a.partitionIndex,
          brokerIds: [...a.brokerIds],
        })),
        configs: r.configs.map((c) => ({ name: c.name, value: c.value })),
      })),
      timeoutMs: timeoutMs ?? this.#timeoutMs,
      validateOnly,
    };
    return this.#run(
      {
        timeoutMs,
        local: (c) => c.createTopics(requests, validateOnly),
        remote: async (ms) => {
          const res = await this.#client.request(CREATE_TOPICS_API, body, { timeoutMs: ms });
          if (res.topics.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER)) return notController();
          return {
            ok: res.topics.map((t) => ({
              name: t.name,
              topicId: t.topicId,
              errorCode: t.errorCode,
              errorMessage: t.errorMessage,
              numPartitions: t.numPartitions,
              replicationFactor: t.replicationFactor,
            })),
          };
        },
        published: validateOnly
          ? undefined
          : (results, image) =>
              results.every(
                (r) =>
                  r.errorCode !== ErrorCode.NONE ||
                  (r.topicId !== ZERO_UUID
                    ? image.topicsById.has(r.topicId)
                    : image.topicsByName.has(r.name)),
              ),
      },
      (f) =>
        requests.map((r) => ({
          name: r.name,
          topicId: ZERO_UUID,
          errorCode: f.errorCode,
          errorMessage: f.errorMessage,
          numPartitions: -1,
          replicationFactor: -1,
        })),
    );
  }

  deleteTopics(
    targets: ReadonlyArray<{ readonly name: string | null; readonly topicId: string | null }>,
    options?: ControllerCallOptions,
  ): Promise<DeleteTopicResult[]> {
    const timeoutMs = options?.timeoutMs;
    const body = {
      topics: targets.map((t) => ({
        name: t.topicId === null ? t.name : null,
        topicId: t.topicId ?? ZERO_UUID,
      })),
      // Versions before 6 name topics only; a target given by id needs v6.
      topicNames: targets.flatMap((t) => (t.name !== null && t.topicId === null ? [t.name] : [])),
      timeoutMs: timeoutMs ?? this.#timeoutMs,
    };
    const needsIds = targets.some((t) => t.topicId !== null);
    return this.#run(
      {
        timeoutMs,
        local: (c) => c.deleteTopics(targets),
        remote: async (ms) => {
          const res = await this.#client.request(DELETE_TOPICS_API, body, {
            timeoutMs: ms,
            ...(needsIds ? { version: 6 } : {}),
          });
          if (res.responses.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER)) return notController();
          return {
            ok: res.responses.map((t) => ({
              name: t.name,
              topicId: t.topicId,
              errorCode: t.errorCode,
              errorMessage: t.errorMessage,
            })),
          };
        },
        published: (results, image) =>
          results.every(
            (r) =>
              r.errorCode !== ErrorCode.NONE ||
              (r.topicId !== ZERO_UUID
                ? !image.topicsById.has(r.topicId)
                : r.name === null || !image.topicsByName.has(r.name)),
          ),
      },
      (f) =>
        targets.map((t) => ({
          name: t.name,
          topicId: t.topicId ?? ZERO_UUID,
          errorCode: f.errorCode,
          errorMessage: f.errorMessage,
        })),
    );
  }

  createPartitions(
    requests: readonly CreatePartitionsRequest[],
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<ApiResult[]> {
    const timeoutMs = options?.timeoutMs;
    const body = {
      topics: requests.map((r) => ({
        name: r.name,
        count: r.count,
        assignments:
          r.assignments === null ? null : r.assignments.map((brokerIds) => ({ brokerIds: [...brokerIds] })),
      })),
      timeoutMs: timeoutMs ?? this.#timeoutMs,
      validateOnly,
    };
    const counts = new Map(requests.map((r) => [r.name, r.count]));
    return this.#run(
      {
        timeoutMs,
        local: (c) => c.createPartitions(requests, validateOnly),
        remote: async (ms) => {
          const res = await this.#client.request(CREATE_PARTITIONS_API, body, { timeoutMs: ms });
          if (res.results.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER)) return notController();
          return {
            ok: res.results.map((t) => ({
              name: t.name,
              errorCode: t.errorCode,
              errorMessage: t.errorMessage,
            })),
          };
        },
        published: validateOnly
          ? undefined
          : (results, image) =>
              results.every(
                (r) =>
                  r.errorCode !== ErrorCode.NONE ||
                  (image.topicsByName.get(r.name)?.partitions.length ?? 0) >= (counts.get(r.name) ?? 0),
              ),
      },
      (f) => requests.map((r) => ({ name: r.name, errorCode: f.errorCode, errorMessage: f.errorMessage })),
    );
  }

  alterTopicConfigs(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<ConfigAlterResult> {
    return this.#alterConfigs(
      CONFIG_RESOURCE_TYPE.TOPIC,
      resourceName,
      alterations,
      incremental,
      validateOnly,
      options,
      (c) => c.alterTopicConfigs(resourceName, alterations, incremental, validateOnly),
      (image) => image.topicConfigs(resourceName),
    );
  }

  alterBrokerConfigs(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<ConfigAlterResult> {
    return this.#alterConfigs(
      CONFIG_RESOURCE_TYPE.BROKER,
      resourceName,
      alterations,
      incremental,
      validateOnly,
      options,
      (c) => c.alterBrokerConfigs(resourceName, alterations, incremental, validateOnly),
      (image) => image.brokerConfigs(resourceName),
    );
  }

  /** IncrementalAlterConfigs or (replacing the whole set) AlterConfigs for one resource. */
  #alterConfigs(
    resourceType: number,
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    incremental: boolean,
    validateOnly: boolean,
    options: ControllerCallOptions | undefined,
    local: (c: ControllerChannel) => Promise<ConfigAlterResult>,
    current: (image: MetadataImage) => ReadonlyMap<string, string>,
  ): Promise<ConfigAlterResult> {
    const answer = (r: { errorCode: number; errorMessage: string | null }): Attempt<ConfigAlterResult> =>
      r.errorCode === ErrorCode.NOT_CONTROLLER
        ? notController()
        : { ok: { errorCode: r.errorCode, errorMessage: r.errorMessage } };
    const remote = async (ms: number): Promise<Attempt<ConfigAlterResult>> => {
      if (incremental) {
        const res = await this.#client.request(
          INCREMENTAL_ALTER_CONFIGS_API,
          {
            resources: [
              {
                resourceType,
                resourceName,
                configs: alterations.map((a) => ({
                  name: a.name,
                  configOperation: a.op ?? 0,
                  value: a.value,
                })),
              },
            ],
            validateOnly,
          },
          { timeoutMs: ms },
        );
        return answer(res.responses[0] ?? missingResource());
      }
      const res = await this.#client.request(
        ALTER_CONFIGS_API,
        {
          resources: [
            {
              resourceType,
              resourceName,
              configs: alterations.map((a) => ({ name: a.name, value: a.value })),
            },
          ],
          validateOnly,
        },
        { timeoutMs: ms },
      );
      return answer(res.responses[0] ?? missingResource());
    };
    const expected = validateOnly ? undefined : expectedConfigs(alterations, incremental);
    return this.#run(
      {
        timeoutMs: options?.timeoutMs,
        local,
        remote,
        published:
          expected === undefined
            ? undefined
            : (result, image) => result.errorCode !== ErrorCode.NONE || expected(current(image)),
      },
      (f) => f,
    );
  }

  allocateProducerIds(
    brokerId: number,
    brokerEpoch: bigint,
  ): Promise<{ firstProducerId: bigint; count: number }> {
    return this.#runOrThrow("AllocateProducerIds", {
      timeoutMs: undefined,
      local: (c) => c.allocateProducerIds(brokerId, brokerEpoch),
      remote: async (ms) => {
        const res = await this.#client.request(
          ALLOCATE_PRODUCER_IDS_API,
          { brokerId, brokerEpoch },
          { timeoutMs: ms },
        );
        if (res.errorCode === ErrorCode.NOT_CONTROLLER) return notController();
        if (res.errorCode !== ErrorCode.NONE) {
          throw new KrillError("STATE", `AllocateProducerIds answered ${errorCodeName(res.errorCode)}`);
        }
        return { ok: { firstProducerId: res.producerIdStart, count: res.producerIdLen } };
      },
      published: (block, image) => image.nextProducerId >= block.firstProducerId + BigInt(block.count),
    });
  }

  /**
   * AlterUserScramCredentials: to the active controller as the same request (Kafka forwards it);
   * a controller that does not serve it makes the call fail with UNKNOWN_SERVER_ERROR.
   */
  alterUserScramCredentials(
    deletions: readonly ScramDeletion[],
    upsertions: readonly ScramUpsertion[],
  ): Promise<ScramAlterResult[]> {
    return this.#runOrThrow("AlterUserScramCredentials", {
      timeoutMs: undefined,
      local: (c) => c.alterUserScramCredentials(deletions, upsertions),
      remote: async (ms) => {
        const res = await this.#client.request(
          ALTER_USER_SCRAM_CREDENTIALS_API,
          {
            deletions: deletions.map((d) => ({ ...d })),
            upsertions: upsertions.map((u) => ({ ...u })),
          },
          { timeoutMs: ms },
        );
        if (res.results.some((r) => r.errorCode === ErrorCode.NOT_CONTROLLER)) return notController();
        return {
          ok: res.results.map((r) => ({
            user: r.user,
            errorCode: r.errorCode,
            errorMessage: r.errorMessage,
          })),
        };
      },
    });
  }

  /** AlterClientQuotas: to the active controller as the same request (Kafka forwards it). */
  alterClientQuotas(
    alterations: readonly QuotaAlteration[],
    validateOnly: boolean,
  ): Promise<QuotaAlterResult[]> {
    return this.#runOrThrow("AlterClientQuotas", {
      timeoutMs: undefined,
      local: (c) => c.alterClientQuotas(alterations, validateOnly),
      remote: async (ms) => {
        const res = await this.#client.request(
          ALTER_CLIENT_QUOTAS_API,
          {
            entries: alterations.map((a) => ({
              entity: a.entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName })),
              ops: a.ops.map((o) => ({ key: o.key, value: o.value ?? 0, remove: o.value === null })),
            })),
            validateOnly,
          },
          { timeoutMs: ms },
        );
        if (res.entries.some((r) => r.errorCode === ErrorCode.NOT_CONTROLLER)) return notController();
        return {
          ok: res.entries.map((r) => ({
            entity: r.entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName })),
            errorCode: r.errorCode,
            errorMessage: r.errorMessage,
          })),
        };
      },
    });
  }

  /** CreateAcls: to the active controller as the same request (Kafka forwards it). */
  createAcls(bindings: readonly AclBinding[]): Promise<AclApiError[]> {
    return this.#runOrThrow("CreateAcls", {
      timeoutMs: undefined,
      local: (c) => c.createAcls(bindings),
      remote: async (ms) => {
        const res = await this.#client.request(
          CREATE_ACLS_API,
          {
            creations: bindings.map((b) => ({
              resourceType: b.resourceType,
              resourceName: b.resourceName,
              resourcePatternType: b.patternType,
              principal: b.principal,
              host: b.host,
              operation: b.operation,
              permissionType: b.permissionType,
            })),
          },
          { timeoutMs: ms },
        );
        if (res.results.some((r) => r.errorCode === ErrorCode.NOT_CONTROLLER)) return notController();
        return { ok: res.results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage })) };
      },
    });
  }

  /** DeleteAcls: to the active controller as the same request (Kafka forwards it). */
  deleteAcls(filters: readonly AclFilter[]): Promise<AclDeleteResult[]> {
    return this.#runOrThrow("DeleteAcls", {
      timeoutMs: undefined,
      local: (c) => c.deleteAcls(filters),
      remote: async (ms) => {
        const res = await this.#client.request(
          DELETE_ACLS_API,
          {
            filters: filters.map((f) => ({
              resourceTypeFilter: f.resourceType,
              resourceNameFilter: f.resourceName,
              patternTypeFilter: f.patternType,
              principalFilter: f.principal,
              hostFilter: f.host,
              operation: f.operation,
              permissionType: f.permissionType,
            })),
          },
          { timeoutMs: ms },
        );
        if (res.filterResults.some((r) => r.errorCode === ErrorCode.NOT_CONTROLLER)) return notController();
        return {
          ok: res.filterResults.map((r) => ({
            errorCode: r.errorCode,
            errorMessage: r.errorMessage,
            matching: r.matchingAcls.map((m) => ({
              resourceType: m.resourceType,
              resourceName: m.resourceName,
              patternType: m.patternType,
              principal: m.principal,
              host: m.host,
              operation: m.operation,
              permissionType: m.permissionType,
            })),
          })),
        };
      },
    });
  }

  registerBroker(request: BrokerRegistrationRequest): Promise<BrokerRegistrationReply> {
    const body = {
      brokerId: request.brokerId,
      clusterId: request.clusterId,
      incarnationId: request.incarnationId,
      listeners: request.listeners.map((e) => ({ ...e })),
      features: request.features.map((f) => ({ ...f })),
      rack: request.rack,
      isMigratingZkBroker: false,
      logDirs: [...request.logDirs],
      previousBrokerEpoch: request.previousBrokerEpoch,
    };
    return this.#runOrThrow("BrokerRegistration", {
      timeoutMs: undefined,
      local: (c) => c.registerBroker(request),
      remote: async (ms) => {
        const res = await this.#client.request(BROKER_REGISTRATION_API, body, { timeoutMs: ms });
        if (res.errorCode === ErrorCode.NOT_CONTROLLER) return notController();
        return { ok: { errorCode: res.errorCode, errorMessage: null, brokerEpoch: res.brokerEpoch } };
      },
      published: (reply, image) =>
        reply.errorCode !== ErrorCode.NONE ||
        image.brokers.get(request.brokerId)?.incarnationId === request.incarnationId,
    });
  }

  brokerHeartbeat(request: BrokerHeartbeatRequest): Promise<BrokerHeartbeatReply> {
    return this.#runOrThrow("BrokerHeartbeat", {
      // A heartbeat is only worth its interval: the lifecycle manager sends the next one (and a
      // controlled shutdown keeps its own deadline), so it is not retried for the forwarding timeout.
      timeoutMs: HEARTBEAT_TIMEOUT_MS,
      local: (c) => c.brokerHeartbeat(request),
      remote: async (ms) => {
        const res = await this.#client.request(
          BROKER_HEARTBEAT_API,
          { ...request, offlineLogDirs: [], cordonedLogDirs: null },
          { timeoutMs: ms },
        );
        if (res.errorCode === ErrorCode.NOT_CONTROLLER) return notController();
        return {
          ok: {
            errorCode: res.errorCode,
            errorMessage: null,
            isCaughtUp: res.isCaughtUp,
            isFenced: res.isFenced,
            inControlledShutdown: false,
            shouldShutDown: res.shouldShutDown,
          },
        };
      },
    });
  }

  alterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return this.#runOrThrow("AlterPartition", {
      timeoutMs: undefined,
      local: (c) => c.alterPartition(request),
      remote: async (ms) => {
        // v3 (KIP-903's broker epochs), which every KRaft controller since Kafka 3.5 serves.
        const res = await this.#client.request(
          ALTER_PARTITION_API,
          alterPartitionAt(request, ALTER_PARTITION_VERSION),
          { version: ALTER_PARTITION_VERSION, timeoutMs: ms },
        );
        if (res.errorCode === ErrorCode.NOT_CONTROLLER) return notController();
        return { ok: res };
      },
    });
  }

  electLeaders(electionType: number, topicPartitions: ElectionTargets): Promise<ElectLeadersResult> {
    return this.#runOrThrow("ElectLeaders", {
      timeoutMs: undefined,
      local: (c) => c.electLeaders(electionType, topicPartitions),
      remote: async (ms) => {
        const res = await this.#client.request(
          ELECT_LEADERS_API,
          {
            electionType,
            topicPartitions:
              topicPartitions === null
                ? null
                : topicPartitions.map((t) => ({ topic: t.topic, partitions: [...t.partitions] })),
            timeoutMs: ms,
          },
          { timeoutMs: ms },
        );
        if (res.errorCode === ErrorCode.NOT_CONTROLLER) return notController();
        return {
          ok: {
            errorCode: res.errorCode,
            errorMessage: null,
            results: res.replicaElectionResults.map((t) => ({
              topic: t.topic,
              partitions: t.partitionResult.map((p) => ({
                partitionId: p.partitionId,
                errorCode: p.errorCode,
                errorMessage: p.errorMessage,
              })),
            })),
          },
        };
      },
    });
  }

  /**
   * UpdateFeatures: to the active controller as the same request (v2, Kafka forwards it); a
   * success returns once this node's image holds every recorded level (kraft.version has none).
   */
  updateFeatures(
    updates: readonly FeatureUpdate[],
    validateOnly: boolean,
    options?: ControllerCallOptions,
  ): Promise<FeatureUpdateResult> {
    const timeoutMs = options?.timeoutMs;
    return this.#run(
      {
        timeoutMs,
        local: (c) => c.updateFeatures(updates, validateOnly),
        remote: async (ms) => {
          const res = await this.#client.request(
            UPDATE_FEATURES_API,
            {
              timeoutMs: ms,
              featureUpdates: updates.map((u) => ({
                feature: u.feature,
                maxVersionLevel: u.maxVersionLevel,
                allowDowngrade: false,
                upgradeType: u.upgradeType,
              })),
              validateOnly,
            },
            { timeoutMs: ms },
          );
          if (res.errorCode === ErrorCode.NOT_CONTROLLER) return notController();
          return { ok: { errorCode: res.errorCode, errorMessage: res.errorMessage } };
        },
        published: validateOnly
          ? undefined
          : (result, image) =>
              result.errorCode !== ErrorCode.NONE ||
              updates.every(
                (u) => u.feature === "kraft.version" || image.features.get(u.feature) === u.maxVersionLevel,
              ),
      },
      (f) => f,
    );
  }

  /** A call without items: its failure is thrown (KrillError REQUEST_TIMED_OUT and the like). */
  async #runOrThrow<T>(name: string, call: Call<T>): Promise<T> {
    let failure: Failure | undefined;
    const result = await this.#run(call, (f) => {
      failure = f;
      return undefined;
    });
    if (failure !== undefined) {
      throw new KrillError(
        failure.errorCode === ErrorCode.REQUEST_TIMED_OUT ? "REQUEST_TIMED_OUT" : "STATE",
        `${name} to the active controller failed: ${failure.errorMessage}`,
      );
    }
    return result as T;
  }

  /** Attempts `call` until it succeeds or its deadline passes; see the module comment. */
  async #run<T, F>(call: Call<T>, failed: (failure: Failure) => F): Promise<T | F> {
    const timeoutMs = call.timeoutMs !== undefined && call.timeoutMs > 0 ? call.timeoutMs : this.#timeoutMs;
    const deadlineMs = this.#clock.nowMs() + timeoutMs;
    let backoffMs = this.#retryBackoffMs;
    let reason = "no attempt";
    for (;;) {
      const remainingMs = deadlineMs - this.#clock.nowMs();
      if (remainingMs <= 0) {
        this.#logger.info({ timeoutMs, reason }, "no active controller answered in time");
        return failed({
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage: `The active controller did not answer within ${timeoutMs} ms (${reason}).`,
        });
      }
      const local = this.#localController();
      try {
        if (local !== null) return await call.local(local);
        if (this.#activeController() === null) {
          reason = "no controller is active";
        } else {
          const attempt = await call.remote(remainingMs);
          if ("ok" in attempt) {
            if (call.published !== undefined) await this.#published(call.published, attempt.ok, deadlineMs);
            return attempt.ok;
          }
          reason = attempt.retry;
        }
      } catch (err) {
        if (isNotControllerError(err)) {
          reason = (err as Error).message;
        } else if (
          isKrillError(err, "NETWORK_EXCEPTION") ||
          isKrillError(err, "REQUEST_TIMED_OUT") ||
          isKrillError(err, "REQUEST_QUEUE_FULL")
        ) {
          reason = err.message;
        } else if (isKrillError(err, "UNSUPPORTED_VERSION") || isKrillError(err, "DECODE_ERROR")) {
          this.#logger.warn({ err }, "the active controller's answer is not usable");
          return failed({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: err.message });
        } else {
          throw err;
        }
      }
      this.#logger.debug({ reason, backoffMs }, "retrying a controller write");
      await delay(Math.min(backoffMs, Math.max(0, deadlineMs - this.#clock.nowMs())));
      backoffMs = Math.min(backoffMs * 2, this.#retryBackoffMaxMs);
    }
  }

  /** Waits until this node's image satisfies `done`, or the deadline. */
  #published<T>(
    done: (result: T, image: MetadataImage) => boolean,
    result: T,
    deadlineMs: number,
  ): Promise<void> {
    const check = (image: MetadataImage) => done(result, image);
    if (check(this.#publisher.image)) return Promise.resolve();
    const waitMs = deadlineMs - this.#clock.nowMs();
    if (waitMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        this.#logger.debug("a forwarded write is committed but not yet published on this node");
        resolve();
      }, waitMs);
      timer.unref();
      const waiter: ImageWaiter = {
        done: check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.add(waiter);
    });
  }
}

function notController<T>(): Attempt<T> {
  return { retry: "the controller answered NOT_CONTROLLER" };
}

function missingResource(): { errorCode: number; errorMessage: string } {
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: "The controller answered no resource." };
}

/**
 * What a successful alter leaves in the resource's configs, as a check; undefined when it cannot
 * be known from the request alone (APPEND and SUBTRACT depend on the current list).
 */
function expectedConfigs(
  alterations: readonly ConfigAlteration[],
  incremental: boolean,
): ((configs: ReadonlyMap<string, string>) => boolean) | undefined {
  if (!incremental) {
    const next = new Map<string, string>();
    for (const a of alterations) if (a.value !== null) next.set(a.name, a.value);
    return (configs) => configs.size === next.size && [...next].every(([k, v]) => configs.get(k) === v);
  }
  if (alterations.some((a) => (a.op ?? 0) !== 0 && a.op !== 1)) return undefined;
  return (configs) =>
    alterations.every((a) => (a.op === 1 ? !configs.has(a.name) : configs.get(a.name) === a.value));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

const ALTER_PARTITION_VERSION = 3;

/**
 * The request as AlterPartitionRequest.Builder builds it for `version`: v3 and later carry the ISR
 * with broker epochs only (`newIsrWithEpochs`), v0-2 the bare broker ids (`newIsr`).
 */
export function alterPartitionAt(request: AlterPartitionRequest, version: number): AlterPartitionRequest {
  return {
    ...request,
    topics: request.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => {
        const withEpochs =
          p.newIsrWithEpochs.length > 0 || p.newIsr.length === 0
            ? p.newIsrWithEpochs
            : p.newIsr.map((brokerId) => ({ brokerId, brokerEpoch: -1n }));
        return version >= 3
          ? { ...p, newIsr: [], newIsrWithEpochs: withEpochs }
          : { ...p, newIsr: withEpochs.map((b) => b.brokerId), newIsrWithEpochs: [] };
      }),
    })),
  };
}
