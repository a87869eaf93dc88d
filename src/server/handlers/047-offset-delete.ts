/**
 * OffsetDelete (key 47), version 0: deletes a group's committed offsets for some partitions. A
 * classic group with members refuses it unless it uses the consumer protocol, and then only for
 * topics none of its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC per partition).
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { OFFSET_DELETE_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { OffsetDeleteResponse } from "../../protocol/generated/offset-delete-response.js";
import { authorize, failedTopic, filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: OFFSET_DELETE_API,
  minVersion: 0,
  maxVersion: 0,
  ordering: "serial",
  async handle(ctx, request): Promise<OffsetDeleteResponse> {
    // Kafka's handleOffsetDeleteRequest: DELETE on the group, READ on each topic.
    if (!authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
    }
    const readable = filterAuthorized(
      ctx,
      AclOperation.READ,
      ResourceType.TOPIC,
      request.topics.map((t) => t.name),
    );
    const coordinator = await ctx.broker.groups.ready();
    const result = await coordinator.deleteOffsets(
      request.groupId,
      request.topics
        .filter((t) => readable.has(t.name))
        .map((t) => ({
          name: t.name,
          partitionIndexes: t.partitions.map((p) => p.partitionIndex),
        })),
    );
    const denied = request.topics
      .filter((t) => !readable.has(t.name))
      .map((t) => failedTopic(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
    return { throttleTimeMs: 0, errorCode: result.errorCode, topics: [...result.topics, ...denied] };
  },
});
