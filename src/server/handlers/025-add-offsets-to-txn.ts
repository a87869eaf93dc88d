/**
 * AddOffsetsToTxn (api key 25), versions 0-4: adds the group's __consumer_offsets partition to
 * the transaction, so the TxnOffsetCommit that follows is part of it and its offsets become
 * visible when the transaction commits. Errors as AddPartitionsToTxn; PRODUCER_FENCED from v2
 * (INVALID_PRODUCER_EPOCH before). v4 only announces TRANSACTION_ABORTABLE.
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { CONSUMER_OFFSETS_TOPIC, ensureInternalTopic } from "../../metadata/internal-topics.js";
import type { AddOffsetsToTxnResponse } from "../../protocol/generated/add-offsets-to-txn-response.js";
import { ADD_OFFSETS_TO_TXN_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";
import { fencedFor } from "../txn/errors.js";

export const handler = defineHandler({
  api: ADD_OFFSETS_TO_TXN_API,
  minVersion: 0,
  maxVersion: 4,
  ordering: "serial",
  async handle(ctx, request): Promise<AddOffsetsToTxnResponse> {
    // Kafka's handleAddOffsetsToTxnRequest: WRITE on the transactional id, READ on the group.
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    }
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    }
    const coordinator = ctx.broker.transactions.kick();
    if (request.groupId === "") return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID };
    try {
      await ensureInternalTopic(
        CONSUMER_OFFSETS_TOPIC,
        ctx.broker.controller,
        ctx.broker.image(),
        ctx.broker.config,
      );
    } catch {
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    }
    const partition = ctx.broker.groups.coordinator.partitionFor(request.groupId);
    const [topic] = await coordinator.addPartitions(
      request.transactionalId,
      request.producerId,
      request.producerEpoch,
      [{ name: CONSUMER_OFFSETS_TOPIC, partitions: [partition] }],
    );
    const errorCode = topic?.results[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    return { throttleTimeMs: 0, errorCode: fencedFor(errorCode, ctx.apiVersion, 2) };
  },
});
