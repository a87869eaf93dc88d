/**
 * OffsetForLeaderEpoch (api key 23), versions 2-4 (Kafka 4 serves 2+): for each partition, the
 * largest leader epoch <= the requested one and the offset where it ends (the start of the next
 * epoch, or the log end offset for the latest). Consumers use it to detect log truncation
 * (KIP-320). current_leader_epoch is checked (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH), and only
 * the leader answers (NOT_LEADER_OR_FOLLOWER), as Kafka's ReplicaManager.lastOffsetForLeaderEpoch.
 * Kafka's LeaderEpochFileCache.endOffsetFor: an epoch older than the log's first gives that epoch
 * with the first epoch's start offset; an epoch newer than any known, or a log without epochs,
 * gives -1/-1.
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { OFFSET_FOR_LEADER_EPOCH_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { OffsetForLeaderEpochResponseEpochEndOffset } from "../../protocol/generated/offset-for-leader-epoch-response.js";
import { authorizeCluster, filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: OFFSET_FOR_LEADER_EPOCH_API,
  minVersion: 2,
  maxVersion: 4,
  ordering: "serial",
  handle(ctx, request) {
    const partitions = ctx.broker.partitions;
    // Kafka's handleOffsetForLeaderEpochRequest: CLUSTER_ACTION (a follower), else DESCRIBE on
    // each topic.
    const describable = authorizeCluster(ctx, AclOperation.CLUSTER_ACTION, { logIfDenied: false })
      ? undefined
      : filterAuthorized(
          ctx,
          AclOperation.DESCRIBE,
          ResourceType.TOPIC,
          request.topics.map((t) => t.topic),
        );
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((p): OffsetForLeaderEpochResponseEpochEndOffset => {
          const out = {
            errorCode: ErrorCode.NONE as number,
            partition: p.partition,
            leaderEpoch: -1,
            endOffset: -1n,
          };
          if (describable !== undefined && !describable.has(topic.topic)) {
            out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
            return out;
          }
          const found = partitions.lookupAtEpoch(topic.topic, p.partition, p.currentLeaderEpoch);
          if (!found.ok) {
            out.errorCode = found.errorCode;
            return out;
          }
          const end = found.partition.endOffsetForEpoch(p.leaderEpoch);
          out.leaderEpoch = end.epoch;
          out.endOffset = BigInt(end.endOffset);
          return out;
        }),
      })),
    };
  },
});
