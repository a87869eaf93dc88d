/**
 * AddPartitionsToTxn (api key 24), versions 0-5.
 *
 * v0-3 (clients): one transaction; the partitions join its transaction (state Ongoing, written
 * to __transaction_state). Unknown partitions fail with UNKNOWN_TOPIC_OR_PARTITION and the
 * others get OPERATION_NOT_ATTEMPTED. PRODUCER_FENCED from v2 (INVALID_PRODUCER_EPOCH before).
 * v4+ (brokers, KIP-890 part 1): a batch of transactions with a top-level error code; entries
 * with verify_only only check that the partitions are already in the transaction
 * (INVALID_TXN_STATE if not); the others add them for a transactions-v2 produce (the implicit add
 * of KIP-890 part 2, as Kafka's brokers send it to the coordinator). v5 only announces
 * TRANSACTION_ABORTABLE, which Krill never sends.
 */

import type {
  AddPartitionsToTxnResponse,
  AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
} from "../../protocol/generated/add-partitions-to-txn-response.js";
import { ADD_PARTITIONS_TO_TXN_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { defineHandler } from "../registry.js";
import { fencedFor } from "../txn/errors.js";
import type { PartitionErrors } from "../txn/txn-coordinator.js";
import { TV_2 } from "../txn/txn-metadata.js";

function toTopicResults(
  results: PartitionErrors[],
  apiVersion: number,
): AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[] {
  return results.map((t) => ({
    name: t.name,
    resultsByPartition: t.results.map((r) => ({
      partitionIndex: r.partitionIndex,
      partitionErrorCode: fencedFor(r.errorCode, apiVersion, 2),
    })),
  }));
}

export const handler = defineHandler({
  api: ADD_PARTITIONS_TO_TXN_API,
  minVersion: 0,
  maxVersion: 5,
  ordering: "serial",
  async handle(ctx, request): Promise<AddPartitionsToTxnResponse> {
    const coordinator = ctx.broker.transactions.kick();
    const topicsOf = (topics: readonly { name: string; partitions: number[] }[]) =>
      topics.map((t) => ({ name: t.name, partitions: t.partitions }));
    if (ctx.apiVersion < 4) {
      const results = await coordinator.addPartitions(
        request.v3AndBelowTransactionalId,
        request.v3AndBelowProducerId,
        request.v3AndBelowProducerEpoch,
        topicsOf(request.v3AndBelowTopics),
      );
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        resultsByTransaction: [],
        resultsByTopicV3AndBelow: toTopicResults(results, ctx.apiVersion),
      };
    }
    const resultsByTransaction = await Promise.all(
      request.transactions.map(async (txn) => {
        const topics = topicsOf(txn.topics);
        const results = txn.verifyOnly
          ? coordinator.verifyPartitions(txn.transactionalId, txn.producerId, txn.producerEpoch, topics)
          : await coordinator.addPartitions(
              txn.transactionalId,
              txn.producerId,
              txn.producerEpoch,
              topics,
              TV_2,
            );
        return {
          transactionalId: txn.transactionalId,
          topicResults: toTopicResults(results, ctx.apiVersion),
        };
      }),
    );
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      resultsByTransaction,
      resultsByTopicV3AndBelow: [],
    };
  },
});
