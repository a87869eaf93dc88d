/**
 * Produce (api key 0), versions 3-13, advertised from 0 as Kafka 4 advertises it (KAFKA-18659):
 * librdkafka enables compression only when the broker lists Produce v2 (its test for the v1+
 * message format), so a broker advertising 3 gets every librdkafka batch uncompressed. Versions
 * 0-2 carry magic 0/1 message sets, which neither Kafka 4 nor Krill reads: a request at those
 * versions closes the connection, as Kafka's request parsing fails and closes it.
 *
 * - acks 0, 1 or -1; anything else is INVALID_REQUIRED_ACKS per partition. acks=0 sends no
 *   response; if a partition failed, the connection is closed instead, as Kafka does, so the
 *   client notices (refreshes metadata) rather than losing data silently.
 * - acks=-1 checks min.insync.replicas (capped by the replication factor) against the ISR before
 *   appending (NOT_ENOUGH_REPLICAS), then waits until the high watermark covers the batch
 *   (src/server/produce/delayed-produce.ts: REQUEST_TIMED_OUT after timeout_ms,
 *   NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER_OR_FOLLOWER); acks=1 is answered after the
 *   leader's append.
 * - Per-partition validation and append: see src/server/produce/produce.ts.
 * - v7+ may use zstd; v8+ carries record errors (KIP-467) and an error message; v10+ has the
 *   current-leader tagged fields (left at their defaults: this broker leads every partition);
 *   v11+ may get TRANSACTION_ABORTABLE. A transactional batch opening a transaction in a
 *   partition is verified against the coordinator below v12 (KIP-890 part 1: the client added
 *   the partition); from v12 the coordinator adds the partition itself (transactions v2, KIP-890
 *   part 2). v13 names topics by id (KIP-516): an unknown id is UNKNOWN_TOPIC_ID for each of its
 *   partitions.
 * - Authorization: WRITE on the transactional id, then WRITE on each topic (produceAuthorization).
 * - producer_byte_rate: the request's size is recorded once it is handled; over the quota, the
 *   response carries the throttle time and the connection is muted for it (src/server/quotas/).
 */
import { KrillError } from "../../errors.js";
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { PRODUCE_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { ProduceRequest } from "../../protocol/generated/produce-request.js";
import { authorize, filterAuthorized } from "../auth.js";
import { produce } from "../produce/produce.js";
import { quotaUser } from "../quotas/broker-quotas.js";
import { defineHandler, NO_RESPONSE, type RequestContext } from "../registry.js";

/**
 * Kafka's checks: WRITE on the transactional id (else every partition fails with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then WRITE on each topic (TOPIC_AUTHORIZATION_FAILED).
 */
function produceAuthorization(
  ctx: RequestContext,
  request: ProduceRequest,
): (topic: string) => number | undefined {
  if (ctx.broker.authorizer === undefined) return () => undefined;
  if (
    request.transactionalId !== null &&
    !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)
  ) {
    return () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  }
  const image = ctx.broker.image();
  const names = request.topicData.map((t) =>
    ctx.apiVersion >= 13 ? (image.topicsById.get(t.topicId)?.name ?? "") : t.name,
  );
  const writable = filterAuthorized(ctx, AclOperation.WRITE, ResourceType.TOPIC, names);
  return (topic) => (writable.has(topic) ? undefined : ErrorCode.TOPIC_AUTHORIZATION_FAILED);
}

export const handler = defineHandler({
  api: PRODUCE_API,
  minVersion: 3,
  advertisedMinVersion: 0,
  maxVersion: 13,
  ordering: "serial",
  async handle(ctx, request) {
    const denied = produceAuthorization(ctx, request);
    const outcome = await produce(
      ctx.broker.partitions,
      ctx.broker.transactions.verification,
      request,
      ctx.apiVersion,
      denied,
    );
    // producer_byte_rate: the request's bytes, whatever became of its partitions (Kafka's
    // handleProduceRequest); acks=0 gets no response but its connection is still muted.
    const quotas = ctx.broker.quotas;
    if (quotas?.produce.enabled === true && ctx.quota !== undefined) {
      ctx.quota.throttleMs = quotas.produce.recordAndGetThrottleMs(
        quotaUser(ctx.connection),
        ctx.clientId ?? "",
        ctx.quota.requestBytes,
        ctx.broker.clock.nowMs(),
      );
    }
    for (const [topic, bytes] of outcome.bytesByTopic) {
      ctx.broker.metrics.topicBytes.inc({ topic, direction: "in" }, bytes);
    }
    for (const [topic, records] of outcome.messagesByTopic) {
      ctx.broker.metrics.topicMessagesIn.inc({ topic }, records);
    }
    if (request.acks === 0) {
      if (outcome.anyError) {
        // Throwing is how a handler asks the dispatcher to close the connection.
        throw new KrillError(
          "STATE",
          "acks=0 produce failed on some partition: closing the connection as Kafka does",
        );
      }
      return NO_RESPONSE;
    }
    return outcome.response;
  },
});
