/**
 * DescribeTransactions (api key 65), version 0 (kafka-transactions.sh describe): per transactional
 * id its state name, timeout, start time, producer id and epoch, and the partitions of the open
 * transaction (while preparing: those still waiting for their marker). An unknown id is
 * TRANSACTIONAL_ID_NOT_FOUND; while the coordinator loads, COORDINATOR_LOAD_IN_PROGRESS.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { DESCRIBE_TRANSACTIONS_API } from "../../protocol/generated/apis.js";
import type {
  DescribeTransactionsResponse,
  DescribeTransactionsResponseTransactionState,
} from "../../protocol/generated/describe-transactions-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";
import { stateName } from "../txn/txn-coordinator.js";
import { TxnState } from "../txn/txn-metadata.js";

export const handler = defineHandler({
  api: DESCRIBE_TRANSACTIONS_API,
  minVersion: 0,
  maxVersion: 0,
  ordering: "concurrent",
  handle(ctx, request): DescribeTransactionsResponse {
    const coordinator = ctx.broker.transactions.kick();
    const transactionStates = request.transactionalIds.map((transactionalId) => {
      const out: DescribeTransactionsResponseTransactionState = {
        errorCode: ErrorCode.NONE,
        transactionalId,
        transactionState: "",
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n,
        producerId: -1n,
        producerEpoch: -1,
        topics: [],
      };
      // Kafka's handleDescribeTransactionsRequest: DESCRIBE on the transactional id; topics the
      // client may not describe are left out.
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
        return { ...out, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
      }
      const gate = coordinator.gate(transactionalId);
      if (gate !== ErrorCode.NONE) return { ...out, errorCode: gate };
      const txn = coordinator.metadata(transactionalId);
      if (txn === undefined) return { ...out, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
      const preparing = txn.state === TxnState.PrepareCommit || txn.state === TxnState.PrepareAbort;
      const partitions = preparing && txn.pending ? txn.markersPending : txn.partitions;
      return {
        ...out,
        transactionState: stateName(txn.state),
        transactionTimeoutMs: txn.txnTimeoutMs,
        transactionStartTimeMs: BigInt(txn.txnStartTimestampMs),
        producerId: txn.producerId,
        producerEpoch: txn.producerEpoch,
        topics: [...partitions]
          .filter(([topic]) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic))
          .map(([topic, ids]) => ({ topic, partitions: [...ids] })),
      };
    });
    return { throttleTimeMs: 0, transactionStates };
  },
});
