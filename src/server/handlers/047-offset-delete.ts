/**
 * OffsetDelete (key 47), version 0: deletes a group's committed offsets for some partitions. A
 * classic group with members refuses it unless it uses the consumer protocol, and then only for
 * topics none of its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC per partition).
 */
import { OFFSET_DELETE_API } from "../../protocol/generated/apis.js";
import type { OffsetDeleteResponse } from "../../protocol/generated/offset-delete-response.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: OFFSET_DELETE_API,
  minVersion: 0,
  maxVersion: 0,
  ordering: "serial",
  async handle(ctx, request): Promise<OffsetDeleteResponse> {
    const coordinator = await ctx.broker.groups.ready();
    const result = await coordinator.deleteOffsets(
      request.groupId,
      request.topics.map((t) => ({
        name: t.name,
        partitionIndexes: t.partitions.map((p) => p.partitionIndex),
      })),
    );
    return { throttleTimeMs: 0, errorCode: result.errorCode, topics: result.topics };
  },
});
