/**
 * DeleteRecords (api key 21), versions 0-2: moves each partition's log start offset up to the
 * requested offset (-1: the high watermark) and deletes the segments wholly below it. An offset
 * above the high watermark or below -1 is OFFSET_OUT_OF_RANGE; a topic whose cleanup.policy does
 * not include delete is POLICY_VIOLATION, as in Kafka. One node: no waiting for followers.
 */

import { isKrillError } from "../../errors.js";
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { DELETE_RECORDS_API } from "../../protocol/generated/apis.js";
import type { DeleteRecordsResponseDeleteRecordsPartitionResult } from "../../protocol/generated/delete-records-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DELETE_RECORDS_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "serial",
  handle(ctx, request) {
    const partitions = ctx.broker.partitions;
    // Kafka's handleDeleteRecordsRequest: DELETE on each topic.
    const deletable = filterAuthorized(
      ctx,
      AclOperation.DELETE,
      ResourceType.TOPIC,
      request.topics.map((t) => t.name),
    );
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((p): DeleteRecordsResponseDeleteRecordsPartitionResult => {
          const out = {
            partitionIndex: p.partitionIndex,
            lowWatermark: -1n,
            errorCode: ErrorCode.NONE as number,
          };
          if (!deletable.has(topic.name)) {
            out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
            return out;
          }
          const found = partitions.lookup(topic.name, p.partitionIndex);
          if (!found.ok) {
            out.errorCode = found.errorCode;
            return out;
          }
          if (!found.config.cleanupPolicy.includes("delete")) {
            out.errorCode = ErrorCode.POLICY_VIOLATION;
            return out;
          }
          const partition = found.partition;
          if (p.offset < -1n || p.offset > BigInt(partition.highWatermark)) {
            out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
            return out;
          }
          try {
            out.lowWatermark = BigInt(partition.deleteRecordsBefore(Number(p.offset)));
          } catch (err) {
            ctx.logger.warn({ err, topic: topic.name, partition: p.partitionIndex }, "DeleteRecords failed");
            out.errorCode = isKrillError(err, "OFFSET_OUT_OF_RANGE")
              ? ErrorCode.OFFSET_OUT_OF_RANGE
              : ErrorCode.KAFKA_STORAGE_ERROR;
          }
          return out;
        }),
      })),
    };
  },
});
