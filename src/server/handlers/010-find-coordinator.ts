/**
 * FindCoordinator (key 10), versions 0-6.
 *
 * The coordinator of a key is the leader of its partition of the internal topic (Kafka's
 * KafkaApis.getCoordinator): __consumer_offsets for a group (Java's String.hashCode of the group
 * id, modulo the partition count), __transaction_state for a transactional id; the answer is that
 * broker's endpoint on the listener the request came in on. Finding a group coordinator creates
 * __consumer_offsets on first use and starts loading the partitions this node leads; transaction
 * keys ensure __transaction_state exists. If that fails, or the partition has no leader, or its
 * leader is fenced or has no endpoint, the answer is COORDINATOR_NOT_AVAILABLE and the client
 * retries. Share-group keys (type 2) are refused with INVALID_REQUEST since share groups are not
 * served.
 * Per-version notes: v1 adds key_type and error_message; v3 is flexible; v4+ batches keys into
 * `coordinator_keys` and answers in `coordinators` (one entry per key, in order); v5-6 change no
 * fields (they announce newer error semantics and share keys).
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import {
  CONSUMER_OFFSETS_TOPIC,
  ensureInternalTopic,
  TRANSACTION_STATE_TOPIC,
} from "../../metadata/internal-topics.js";
import { FIND_COORDINATOR_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type {
  FindCoordinatorResponse,
  FindCoordinatorResponseCoordinator,
} from "../../protocol/generated/find-coordinator-response.js";
import { authorize } from "../auth.js";
import { defineHandler, type RequestContext } from "../registry.js";

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

async function find(
  ctx: RequestContext,
  key: string,
  keyType: number,
): Promise<FindCoordinatorResponseCoordinator> {
  const failure = (errorCode: number, errorMessage: string): FindCoordinatorResponseCoordinator => ({
    key,
    nodeId: -1,
    host: "",
    port: -1,
    errorCode,
    errorMessage,
  });
  const broker = ctx.broker;
  // Kafka's FindCoordinator: DESCRIBE on the group or the transactional id.
  if (keyType === KEY_TYPE_GROUP && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key)) {
    return failure(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
  }
  if (
    keyType === KEY_TYPE_TRANSACTION &&
    !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)
  ) {
    return failure(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "Transactional Id authorization failed.");
  }
  try {
    if (keyType === KEY_TYPE_GROUP) {
      await broker.groups.ensureReady();
    } else if (keyType === KEY_TYPE_TRANSACTION) {
      await ensureInternalTopic(TRANSACTION_STATE_TOPIC, broker.controller, broker.image(), broker.config);
    } else {
      return failure(ErrorCode.INVALID_REQUEST, `Unsupported key type ${keyType}`);
    }
  } catch {
    return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE, "The coordinator is not available.");
  }
  const unavailable = () => failure(ErrorCode.COORDINATOR_NOT_AVAILABLE, "The coordinator is not available.");
  const [topic, partition] =
    keyType === KEY_TYPE_GROUP
      ? [CONSUMER_OFFSETS_TOPIC, broker.groups.coordinator.partitionFor(key)]
      : [TRANSACTION_STATE_TOPIC, broker.transactions.coordinator.partitionFor(key)];
  const image = broker.image();
  const leader = image.topicsByName.get(topic)?.partitions[partition]?.leader ?? -1;
  if (leader < 0) return unavailable();
  const listenerName = ctx.connection.listenerName;
  if (leader === broker.nodeId) {
    const endpoint = broker.advertisedEndpoints().find((e) => e.listenerName === listenerName);
    if (endpoint === undefined)
      return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE, "No endpoint on this listener.");
    return {
      key,
      nodeId: leader,
      host: endpoint.host,
      port: endpoint.port,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
    };
  }
  // Kafka's metadataCache.getAliveBrokerNode: a live (unfenced) broker with this listener.
  const registration = image.brokers.get(leader);
  const endpoint = registration?.endPoints.find((e) => e.name === listenerName);
  if (registration === undefined || registration.fenced || endpoint === undefined) return unavailable();
  return {
    key,
    nodeId: leader,
    host: endpoint.host,
    port: endpoint.port,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
}

export const handler = defineHandler({
  api: FIND_COORDINATOR_API,
  minVersion: 0,
  maxVersion: 6,
  ordering: "concurrent",
  async handle(ctx, request): Promise<FindCoordinatorResponse> {
    if (ctx.apiVersion >= 4) {
      const coordinators = await Promise.all(
        request.coordinatorKeys.map((key) => find(ctx, key, request.keyType)),
      );
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        nodeId: 0,
        host: "",
        port: 0,
        coordinators,
      };
    }
    const c = await find(ctx, request.key, ctx.apiVersion >= 1 ? request.keyType : KEY_TYPE_GROUP);
    return {
      throttleTimeMs: 0,
      errorCode: c.errorCode,
      // Kafka puts the error's name in the message even on success.
      errorMessage: c.errorMessage ?? "NONE",
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
      coordinators: [],
    };
  },
});
