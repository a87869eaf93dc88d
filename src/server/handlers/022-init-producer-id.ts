/**
 * InitProducerId (api key 22), versions 0-5.
 *
 * Without a transactional id (idempotent producers): every call gets a new producer id with epoch
 * 0 from a block reserved through the metadata log, so ids stay unique across restarts. As in
 * Kafka, a non-transactional producer that sends its current id and epoch (v3+, KIP-360) also
 * just gets a fresh id. A failed block reservation is COORDINATOR_LOAD_IN_PROGRESS (retriable).
 *
 * With a transactional id the transaction coordinator answers (src/server/txn/txn-coordinator.ts):
 * the id's producer id with its epoch bumped (fencing older instances; an open transaction is
 * aborted first and the answer is CONCURRENT_TRANSACTIONS, which the client retries),
 * INVALID_TRANSACTION_TIMEOUT beyond transaction.max.timeout.ms, and the KIP-360 resume with
 * producer id and epoch (v3+). PRODUCER_FENCED exists from v4; older versions get
 * INVALID_PRODUCER_EPOCH, as Kafka answers them.
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { INIT_PRODUCER_ID_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import {
  defaultInitProducerIdResponse,
  type InitProducerIdResponse,
} from "../../protocol/generated/init-producer-id-response.js";
import { authorize, authorizeByResourceType, authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

function failure(errorCode: number): InitProducerIdResponse {
  return { ...defaultInitProducerIdResponse(), errorCode, producerEpoch: -1 };
}

export const handler = defineHandler({
  api: INIT_PRODUCER_ID_API,
  minVersion: 0,
  maxVersion: 5,
  ordering: "serial",
  async handle(ctx, request) {
    // Kafka's handleInitProducerIdRequest: WRITE on the transactional id; without one,
    // IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
    if (request.transactionalId !== null) {
      if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
        return failure(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      }
    } else if (
      !authorizeCluster(ctx, AclOperation.IDEMPOTENT_WRITE, { logIfDenied: false }) &&
      !authorizeByResourceType(ctx, AclOperation.WRITE, ResourceType.TOPIC)
    ) {
      return failure(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    if (request.transactionalId !== null) {
      const service = ctx.broker.transactions;
      try {
        await service.ensureReady();
      } catch {
        return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
      const expected =
        ctx.apiVersion >= 3 && request.producerId >= 0n
          ? { producerId: request.producerId, producerEpoch: request.producerEpoch }
          : null;
      const result = await service.coordinator.initProducerId(
        request.transactionalId,
        request.transactionTimeoutMs,
        expected,
      );
      const errorCode =
        result.errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 4
          ? ErrorCode.INVALID_PRODUCER_EPOCH
          : result.errorCode;
      return {
        ...defaultInitProducerIdResponse(),
        errorCode,
        producerId: result.producerId,
        producerEpoch: result.producerEpoch,
      };
    }
    try {
      const producerId = await ctx.broker.producerIds.nextProducerId();
      return { ...defaultInitProducerIdResponse(), producerId, producerEpoch: 0 };
    } catch (err) {
      ctx.logger.warn({ err }, "producer id block reservation failed");
      return failure(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    }
  },
});
