/**
 * DescribeProducers (api key 61), version 0 (kafka-transactions.sh describe-producers and
 * find-hanging): per partition the producers its producer state tracks: id, epoch, last
 * sequence, last timestamp, coordinator epoch of the last marker and the first offset of the
 * open transaction (-1 if none). Unknown partitions: UNKNOWN_TOPIC_OR_PARTITION; a partition whose
 * producer state cannot be loaded: KAFKA_STORAGE_ERROR.
 */

import { isKrillError } from "../../errors.js";
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { DESCRIBE_PRODUCERS_API } from "../../protocol/generated/apis.js";
import type {
  DescribeProducersResponse,
  DescribeProducersResponsePartitionResponse,
} from "../../protocol/generated/describe-producers-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DESCRIBE_PRODUCERS_API,
  minVersion: 0,
  maxVersion: 0,
  ordering: "serial",
  handle(ctx, request): DescribeProducersResponse {
    const partitions = ctx.broker.partitions;
    const nowMs = partitions.clock.nowMs();
    // Kafka's handleDescribeProducersRequest: READ on each topic.
    const readable = filterAuthorized(
      ctx,
      AclOperation.READ,
      ResourceType.TOPIC,
      request.topics.map((t) => t.name),
    );
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((index): DescribeProducersResponsePartitionResponse => {
          const out: DescribeProducersResponsePartitionResponse = {
            partitionIndex: index,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            activeProducers: [],
          };
          if (!readable.has(t.name)) return { ...out, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
          const found = partitions.lookup(t.name, index);
          if (!found.ok) return { ...out, errorCode: found.errorCode };
          try {
            for (const e of found.partition.producerState(nowMs).entries()) {
              out.activeProducers.push({
                producerId: e.producerId,
                producerEpoch: e.producerEpoch,
                lastSequence: e.batches.at(-1)?.lastSeq ?? -1,
                lastTimestamp: BigInt(Math.trunc(e.lastTimestampMs)),
                coordinatorEpoch: e.coordinatorEpoch,
                currentTxnStartOffset: BigInt(e.currentTxnFirstOffset),
              });
            }
          } catch (err) {
            return {
              ...out,
              errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
              errorMessage: isKrillError(err) ? err.message : "producer state could not be loaded",
            };
          }
          return out;
        }),
      })),
    };
  },
});
