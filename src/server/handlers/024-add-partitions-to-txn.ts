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

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { isInternalTopic } from "../../metadata/internal-topics.js";
import type {
  AddPartitionsToTxnResponse,
  AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
} from "../../protocol/generated/add-partitions-to-txn-response.js";
import { ADD_PARTITIONS_TO_TXN_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorize, authorizeCluster, filterAuthorized } from "../auth.js";
import { defineHandler, type RequestContext } from "../registry.js";
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

/**
 * Kafka's checks for v0-3 (a producer's request): WRITE on the transactional id (every partition
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), WRITE on each topic (internal topics never pass): when
 * a topic is denied, nothing is added and the others are answered OPERATION_NOT_ATTEMPTED (or
 * UNKNOWN_TOPIC_OR_PARTITION). Undefined when everything may be added.
 */
function deniedPartitions(
  ctx: RequestContext,
  transactionalId: string,
  topics: readonly { name: string; partitions: number[] }[],
): PartitionErrors[] | undefined {
  if (ctx.broker.authorizer === undefined) return undefined;
  const every = (errorCode: (topic: string, partition: number) => number): PartitionErrors[] =>
    topics.map((t) => ({
      name: t.name,
      results: t.partitions.map((partitionIndex) => ({
        partitionIndex,
        errorCode: errorCode(t.name, partitionIndex),
      })),
    }));
  if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
    return every(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  }
  const writable = filterAuthorized(
    ctx,
    AclOperation.WRITE,
    ResourceType.TOPIC,
    topics.map((t) => t.name).filter((n) => !isInternalTopic(n)),
  );
  if (topics.every((t) => writable.has(t.name))) return undefined;
  const image = ctx.broker.image();
  return every((topic, partition) =>
    !writable.has(topic)
      ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
      : image.hasPartition(topic, partition)
        ? ErrorCode.OPERATION_NOT_ATTEMPTED
        : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  );
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
      const denied = deniedPartitions(
        ctx,
        request.v3AndBelowTransactionalId,
        topicsOf(request.v3AndBelowTopics),
      );
      if (denied !== undefined) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          resultsByTransaction: [],
          resultsByTopicV3AndBelow: toTopicResults(denied, ctx.apiVersion),
        };
      }
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
    // v4+ comes from brokers (KIP-890): CLUSTER_ACTION.
    if (!authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        resultsByTransaction: [],
        resultsByTopicV3AndBelow: [],
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
