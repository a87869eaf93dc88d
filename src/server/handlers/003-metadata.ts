/**
 * Metadata (key 3), versions 0-13.
 *
 * Brokers are listed with their endpoint on the listener the request arrived on, and the
 * controller id is a random live broker, as Kafka names it in KRaft: clients cannot reach the
 * controllers, and admin writes sent to any broker are forwarded to the active one (KIP-590). Topics are
 * looked up by name, or by id from v10 (name null); no list (v1+ null, v0 empty) means every
 * topic. An unknown name is created when auto.create.topics.enable is on and the request allows it
 * (always for v0-3, the allow_auto_topic_creation flag from v4): internal topics get their Kafka
 * settings, others the broker defaults. Creation is synchronous here, so the reply already carries
 * the new topic's partitions rather than Kafka's LEADER_NOT_AVAILABLE-then-retry.
 * Topic ids are v12's: v10 and v11 carry the fields (a nullable name, a topic id) but Kafka refuses
 * a topic with a null name or a non-zero id there (KafkaApis.handleTopicMetadataRequest throws
 * InvalidRequestException, answered by MetadataRequest.getErrorResponse: every requested topic
 * with INVALID_REQUEST, a null name as "", no brokers), and so does Krill (`invalidTopicIdUse`).
 * Per-version notes: v1 adds controller id, rack, is_internal; v2 cluster id; v5 offline replicas;
 * v7 leader epoch; v8-10 cluster authorized operations; v8+ topic authorized operations
 * (-2147483648 unless asked; every supported operation without an authorizer).
 *
 * Authorization (Kafka's handleTopicMetadataRequest): a topic needs DESCRIBE; when all topics are
 * asked for, the others are left out; when named, they are answered TOPIC_AUTHORIZATION_FAILED
 * whether they exist or not (by id: with the id, no name). Auto-creation needs CREATE on the
 * cluster or the topic (else TOPIC_AUTHORIZATION_FAILED). Cluster operations (v8-10) are 0 without
 * DESCRIBE on the cluster.
 * v10 topic ids; v12 drops the cluster-operations field; v13 adds a top-level error code (KIP-1102),
 * always NONE here as in Kafka's broker, which never sets it (REBOOTSTRAP_REQUIRED is a client-side
 * recovery path).
 */

import { AclOperation, CLUSTER_NAME, ResourceType } from "../../metadata/acls.js";
import { topicNameError } from "../../metadata/controller.js";
import type { MetadataImage, TopicImage } from "../../metadata/image.js";
import { internalTopicRequest, isInternalTopic } from "../../metadata/internal-topics.js";
import { METADATA_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { MetadataRequest } from "../../protocol/generated/metadata-request.js";
import type { MetadataResponse, MetadataResponseTopic } from "../../protocol/generated/metadata-response.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import { authorizeCluster, authorizedOperations, filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";
import type { BrokerContext } from "../services.js";

/** Kafka's "authorized operations not requested" value. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11. */
export const TOPIC_OPERATIONS_ALL = [3, 4, 5, 6, 7, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);
/** CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12. */
export const CLUSTER_OPERATIONS_ALL = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);

/**
 * A topic's partitions as Kafka's KRaftMetadataCache reports them: a partition whose leader is
 * -1 or not a registered broker is LEADER_NOT_AVAILABLE with leader -1; replicas on fenced or
 * unregistered brokers are listed offline.
 */
export function topicMetadata(
  topic: TopicImage,
  authorizedOperations: number,
  image: MetadataImage,
): MetadataResponseTopic {
  const online = (id: number) => {
    const b = image.brokers.get(id);
    return b !== undefined && !b.fenced;
  };
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map((p) => {
      const hasLeader = image.brokers.has(p.leader);
      return {
        errorCode: hasLeader ? ErrorCode.NONE : ErrorCode.LEADER_NOT_AVAILABLE,
        partitionIndex: p.partitionId,
        leaderId: hasLeader ? p.leader : -1,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: [...p.replicas],
        isrNodes: [...p.isr],
        offlineReplicas: p.replicas.filter((r) => !online(r)),
      };
    }),
    topicAuthorizedOperations: authorizedOperations,
  };
}

function errorTopic(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: name !== null && isInternalTopic(name),
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

type BrokerEndpoint = MetadataResponse["brokers"][number] & { fenced: boolean };

/** Registered brokers with their endpoint on a listener, by id; fenced ones only when asked. */
export function brokerEndpoints(
  image: MetadataImage,
  listenerName: string,
  options: { includeFenced: boolean },
): BrokerEndpoint[] {
  const out: BrokerEndpoint[] = [];
  for (const b of image.brokers.values()) {
    if (b.fenced && !options.includeFenced) continue;
    const endpoint = b.endPoints.find((e) => e.name === listenerName) ?? b.endPoints[0];
    if (endpoint === undefined) continue;
    out.push({
      nodeId: b.brokerId,
      host: endpoint.host,
      port: endpoint.port,
      rack: b.rack,
      fenced: b.fenced,
    });
  }
  return out.sort((a, b) => a.nodeId - b.nodeId);
}

/** The unfenced brokers, as Metadata lists them. */
export function brokersFor(image: MetadataImage, listenerName: string): MetadataResponse["brokers"] {
  return brokerEndpoints(image, listenerName, { includeFenced: false }).map(({ fenced: _, ...b }) => b);
}

/** Kafka's KRaftMetadataCache.getRandomAliveBrokerId: -1 when none is alive. */
export function randomLiveBroker(nodes: ReadonlyArray<{ brokerId: number }>, draw: number): number {
  if (nodes.length === 0) return -1;
  return nodes[Math.min(nodes.length - 1, Math.floor(draw * nodes.length))]!.brokerId;
}

/** Creates the missing topics it may; returns the image after creation and the per-name errors. */
async function autoCreate(broker: BrokerContext, names: readonly string[]): Promise<Map<string, number>> {
  const errors = new Map<string, number>();
  const requests = [];
  for (const name of names) {
    if (topicNameError(name) !== undefined) {
      errors.set(name, ErrorCode.INVALID_TOPIC_EXCEPTION);
      continue;
    }
    requests.push(
      internalTopicRequest(name, broker.config) ?? {
        name,
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [],
        configs: [],
      },
    );
  }
  if (requests.length === 0) return errors;
  const results = await broker.controller.createTopics(requests, false);
  for (const r of results) {
    // Another request creating the same topic first is success for this one.
    if (r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
      broker.logger.warn(
        { topic: r.name, errorCode: r.errorCode, message: r.errorMessage },
        "topic auto-creation failed",
      );
      errors.set(
        r.name,
        r.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION
          ? r.errorCode
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
    }
  }
  return errors;
}

/**
 * Kafka's refusal of topic ids below v12 (KafkaApis.handleTopicMetadataRequest), as the message it
 * logs, or undefined when the request is fine. Below v10 the fields cannot be set.
 */
export function invalidTopicIdUse(request: MetadataRequest, version: number): string | undefined {
  if (version >= 12 || request.topics === null) return undefined;
  for (const t of request.topics) {
    if (t.name === null) return `Topic name can not be null for version ${version}`;
    if (t.topicId !== ZERO_UUID) return `Topic IDs are not supported in requests for version ${version}`;
  }
  return undefined;
}

/** MetadataRequest.getErrorResponse: every requested topic with the error, nothing else. */
function errorResponse(request: MetadataRequest, errorCode: number): MetadataResponse {
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    brokers: [],
    clusterId: null,
    controllerId: -1,
    topics: (request.topics ?? []).map((t) => ({
      ...errorTopic(t.name ?? "", t.topicId, errorCode),
      isInternal: false,
    })),
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export const handler = defineHandler({
  api: METADATA_API,
  minVersion: 0,
  maxVersion: 13,
  ordering: "concurrent",
  async handle(ctx, request) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const refusal = invalidTopicIdUse(request, version);
    if (refusal !== undefined) {
      ctx.logger.info({ version }, `Metadata request refused: ${refusal}`);
      return errorResponse(request, ErrorCode.INVALID_REQUEST);
    }
    const operations = (t: TopicImage) =>
      request.includeTopicAuthorizedOperations
        ? authorizedOperations(ctx, ResourceType.TOPIC, t.name)
        : AUTHORIZED_OPERATIONS_OMITTED;
    const allTopics = request.topics === null || (version === 0 && request.topics.length === 0);
    let image = broker.image();
    const topics: MetadataResponseTopic[] = [];
    if (allTopics) {
      // Topics the client may not describe are left out, without an audit line each.
      const visible = filterAuthorized(
        ctx,
        AclOperation.DESCRIBE,
        ResourceType.TOPIC,
        image.topicsByName.keys(),
        {
          logIfDenied: false,
        },
      );
      for (const t of image.topicsByName.values())
        if (visible.has(t.name)) topics.push(topicMetadata(t, operations(t), image));
    } else {
      const requested = request.topics ?? [];
      const names = requested.map((t) => (t.name === null ? image.topicsById.get(t.topicId)?.name : t.name));
      const describable = filterAuthorized(
        ctx,
        AclOperation.DESCRIBE,
        ResourceType.TOPIC,
        names.filter((n) => n !== undefined),
      );
      const allowAutoCreate =
        broker.config.bool("auto.create.topics.enable") && (version < 4 || request.allowAutoTopicCreation);
      const missing = [
        ...new Set(
          requested
            .filter((t) => t.name !== null && describable.has(t.name) && !image.topicsByName.has(t.name))
            .map((t) => t.name as string),
        ),
      ];
      let createErrors = new Map<string, number>();
      if (allowAutoCreate && missing.length > 0) {
        // Creating needs CREATE on the cluster or on each topic (Kafka's handleTopicMetadataRequest).
        const creatable = authorizeCluster(ctx, AclOperation.CREATE, { logIfDenied: false })
          ? new Set(missing)
          : filterAuthorized(ctx, AclOperation.CREATE, ResourceType.TOPIC, missing);
        for (const name of missing) {
          if (!creatable.has(name)) createErrors.set(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        }
        const toCreate = missing.filter((n) => creatable.has(n));
        if (toCreate.length > 0) {
          createErrors = new Map([...createErrors, ...(await autoCreate(broker, toCreate))]);
          image = broker.image();
        }
      }
      for (const t of requested) {
        if (t.name === null) {
          const byId = image.topicsById.get(t.topicId);
          if (byId === undefined || t.topicId === ZERO_UUID) {
            topics.push(errorTopic(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID));
          } else if (!describable.has(byId.name)) {
            // Topic ids are not secret: the error names the id, not the topic.
            topics.push(errorTopic(null, t.topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          } else {
            topics.push(topicMetadata(byId, operations(byId), image));
          }
          continue;
        }
        // Not disclosed whether a topic the client may not describe exists.
        if (!describable.has(t.name)) {
          topics.push(errorTopic(t.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        const found = image.topicsByName.get(t.name);
        if (found !== undefined) {
          topics.push(topicMetadata(found, operations(found), image));
        } else {
          const code =
            createErrors.get(t.name) ??
            (topicNameError(t.name) !== undefined
              ? ErrorCode.INVALID_TOPIC_EXCEPTION
              : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          topics.push(errorTopic(t.name, ZERO_UUID, code));
        }
      }
    }
    const brokers = brokersFor(image, ctx.connection.listenerName);
    let clusterAuthorizedOperations = AUTHORIZED_OPERATIONS_OMITTED;
    if (version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations) {
      clusterAuthorizedOperations = authorizeCluster(ctx, AclOperation.DESCRIBE)
        ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
        : 0;
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      brokers,
      clusterId: broker.clusterId,
      controllerId: randomLiveBroker(
        brokers.map((b) => ({ brokerId: b.nodeId })),
        broker.random.nextFloat(),
      ),
      topics,
      clusterAuthorizedOperations,
    };
  },
});
