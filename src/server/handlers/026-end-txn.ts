/**
 * EndTxn (api key 26), versions 0-4: commits or aborts the transaction. The coordinator writes
 * PrepareCommit/PrepareAbort to __transaction_state, the COMMIT/ABORT marker to every partition of
 * the transaction, then CompleteCommit/CompleteAbort (src/server/txn/txn-coordinator.ts). A retry
 * of a completed commit (or abort) succeeds; the opposite outcome is INVALID_TXN_STATE.
 * PRODUCER_FENCED from v2 (INVALID_PRODUCER_EPOCH before). v5 (KIP-890 part 2, an epoch bump per
 * transaction) is not served: Krill does not advertise transaction.version 2, so clients use v4.
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { END_TXN_API } from "../../protocol/generated/apis.js";
import type { EndTxnResponse } from "../../protocol/generated/end-txn-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";
import { fencedFor } from "../txn/errors.js";

export const handler = defineHandler({
  api: END_TXN_API,
  minVersion: 0,
  maxVersion: 4,
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
    const errorCode = await coordinator.endTxn(
      request.transactionalId,
      request.producerId,
      request.producerEpoch,
      request.committed,
    );
    return {
      throttleTimeMs: 0,
      errorCode: fencedFor(errorCode, ctx.apiVersion, 2),
      producerId: -1n,
      producerEpoch: -1,
    };
  },
});
