/**
 * EndTxn (api key 26), versions 0-5: commits or aborts the transaction. The coordinator writes
 * PrepareCommit/PrepareAbort to __transaction_state, the COMMIT/ABORT marker to every partition of
 * the transaction, then CompleteCommit/CompleteAbort (src/server/txn/txn-coordinator.ts). A retry
 * of a completed commit (or abort) succeeds; the opposite outcome is INVALID_TXN_STATE.
 * PRODUCER_FENCED from v2 (INVALID_PRODUCER_EPOCH before). v5 is transactions v2 (KIP-890 part 2,
 * as Kafka's KafkaApis maps EndTxn v5+ to TV_2): the epoch is bumped at every transaction end,
 * the markers carry the bumped epoch, and the answer returns the producer id and epoch the client
 * uses next (a fresh id at epoch 0 once the epoch is exhausted).
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { END_TXN_API } from "../../protocol/generated/apis.js";
import type { EndTxnResponse } from "../../protocol/generated/end-txn-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";
import { fencedFor } from "../txn/errors.js";
import { TV_2 } from "../txn/txn-metadata.js";

export const handler = defineHandler({
  api: END_TXN_API,
  minVersion: 0,
  maxVersion: 5,
  ordering: "serial",
  async handle(ctx, request): Promise<EndTxnResponse> {
    // Kafka's handleEndTxnRequest: WRITE on the transactional id.
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1n,
        producerEpoch: -1,
      };
    }
    const coordinator = ctx.broker.transactions.kick();
    const result = await coordinator.endTxn(
      request.transactionalId,
      request.producerId,
      request.producerEpoch,
      request.committed,
      ctx.apiVersion >= 5 ? TV_2 : 0,
    );
    return {
      throttleTimeMs: 0,
      errorCode: fencedFor(result.errorCode, ctx.apiVersion, 2),
      producerId: ctx.apiVersion >= 5 ? result.producerId : -1n,
      producerEpoch: ctx.apiVersion >= 5 ? result.producerEpoch : -1,
    };
  },
});
