/**
 * Fetch (api key 1), versions 4-18. Versions 0-3 expect magic 0/1 message sets (down-conversion),
 * which Krill does not do (Kafka 4 dropped them too).
 *
 * - v4+ isolation_level: read_committed reads up to the last stable offset (equal to the high
 *   watermark until transactions exist) and returns an empty aborted-transactions list.
 * - v7+ incremental fetch sessions (KIP-227); v11+ preferred read replica, always -1;
 *   v12+ diverging epoch from last_fetched_epoch; v13+ topic ids (unknown id: UNKNOWN_TOPIC_ID);
 *   v15+ replica state replaces replica_id; v18 (KIP-1166) a follower names the high watermark it
 *   last saw per partition, and a fetch that would wait is answered at once when this leader's is
 *   higher (consumers leave it unset).
 * - Long polling: `max_wait_ms` and `min_bytes`, woken by appends (see src/server/fetch/fetch.ts).
 * - Records are the stored bytes, written to the socket by reference.
 * - consumer_byte_rate: a consumer's fetch is capped at one quota window's bytes; over the
 *   quota it is answered empty with the throttle time and the connection muted (throttleFetch).
 * - Authorization: READ on each topic for a consumer, CLUSTER_ACTION for a follower
 *   (readAuthorization), TOPIC_AUTHORIZATION_FAILED per partition otherwise.
 * - On a controller listener, Fetch is the quorum's replication of `__cluster_metadata-0`
 *   (KIP-595): answered by this node's quorum member (src/server/raft-apis.ts), as Kafka's
 *   ControllerApis hands it to the raft client.
 */
import { brokerConfigDef } from "../../config/broker-config.js";
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { FETCH_API } from "../../protocol/generated/apis.js";
import type { FetchRequest } from "../../protocol/generated/fetch-request.js";
import type { FetchResponse } from "../../protocol/generated/fetch-response.js";
import { authorize, authorizeCluster } from "../auth.js";
import { listenerKind } from "../dispatcher.js";
import { type FetchOutcome, fetch } from "../fetch/fetch.js";
import { quotaUser } from "../quotas/broker-quotas.js";
import type { ClientQuotaManager } from "../quotas/client-quota-manager.js";
import { answerRaftRequest } from "../raft-apis.js";
import { defineHandler, type RequestContext } from "../registry.js";

/** Kafka's default fetch.max.bytes, if the broker config does not define it. */
const FETCH_MAX_BYTES_DEFAULT = 55 * 1024 * 1024;

/**
 * Kafka's checks: a follower (replica id >= 0) needs CLUSTER_ACTION on the cluster, else every
 * partition is TOPIC_AUTHORIZATION_FAILED; a consumer READ on each topic (an unknown topic id
 * stays UNKNOWN_TOPIC_ID). Decided once per topic and request.
 */
function readAuthorization(ctx: RequestContext, request: FetchRequest): (topic: string) => boolean {
  const replicaId = ctx.apiVersion >= 15 ? request.replicaState.replicaId : request.replicaId;
  if (replicaId >= 0) {
    const allowed = authorizeCluster(ctx, AclOperation.CLUSTER_ACTION);
    return () => allowed;
  }
  const decided = new Map<string, boolean>();
  return (topic) => {
    if (topic === "") return true;
    let allowed = decided.get(topic);
    if (allowed === undefined) {
      allowed = authorize(ctx, AclOperation.READ, ResourceType.TOPIC, topic);
      decided.set(topic, allowed);
    }
    return allowed;
  };
}

/** Bytes of a Fetch response besides its records, per partition (an estimate of Kafka's sizeOf). */
const PARTITION_OVERHEAD_BYTES = 60;

/**
 * consumer_byte_rate, as Kafka's handleFetchRequest: the response's size is recorded; over the
 * quota the records are dropped, and the client gets an empty response (its session kept) with
 * the throttle time, the size unrecorded, and the connection muted.
 */
function throttleFetch(
  ctx: RequestContext,
  quota: ClientQuotaManager,
  user: string,
  clientId: string,
  outcome: FetchOutcome,
): FetchResponse | undefined {
  let bytes = 0;
  for (const b of outcome.bytesByTopic.values()) bytes += b;
  for (const t of outcome.response.responses) bytes += t.partitions.length * PARTITION_OVERHEAD_BYTES;
  const nowMs = ctx.broker.clock.nowMs();
  const throttleMs = quota.recordAndGetThrottleMs(user, clientId, bytes, nowMs);
  if (throttleMs === 0) return undefined;
  quota.unrecord(user, clientId, bytes, nowMs);
  ctx.quota!.throttleMs = throttleMs;
  return { ...outcome.response, responses: [] };
}

export const handler = defineHandler({
  api: FETCH_API,
  minVersion: 4,
  maxVersion: 18,
  ordering: "serial",
  async handle(ctx, request) {
    if (listenerKind(ctx.broker, ctx.connection) === "controller")
      return answerRaftRequest(ctx, "Fetch", request);
    const configMaxBytes = brokerConfigDef("fetch.max.bytes")
      ? ctx.broker.config.int("fetch.max.bytes")
      : FETCH_MAX_BYTES_DEFAULT;
    const replicaId = ctx.apiVersion >= 15 ? request.replicaState.replicaId : request.replicaId;
    // consumer_byte_rate applies to consumers; a follower's fetch is a cluster action, exempt.
    const quota = replicaId < 0 ? ctx.broker.quotas?.fetch : undefined;
    if (replicaId >= 0 && ctx.quota !== undefined) ctx.quota.exempt = true;
    const user = quotaUser(ctx.connection);
    const clientId = ctx.clientId ?? "";
    // Kafka caps a throttled consumer's fetch at one quota window's worth.
    const fetchMaxBytes = Math.min(
      configMaxBytes,
      quota?.maxValueInQuotaWindow(user, clientId) ?? configMaxBytes,
    );
    const outcome = await fetch(ctx.broker.partitions, ctx.broker.fetches, request, ctx.apiVersion, {
      fetchMaxBytes,
      ...(ctx.broker.authorizer === undefined ? {} : { canRead: readAuthorization(ctx, request) }),
    });
    if (quota?.enabled === true && ctx.quota !== undefined) {
      const throttled = throttleFetch(ctx, quota, user, clientId, outcome);
      if (throttled !== undefined) return throttled;
    }
    for (const [topic, bytes] of outcome.bytesByTopic) {
      ctx.broker.metrics.topicBytes.inc({ topic, direction: "out" }, bytes);
    }
    return outcome.response;
  },
});
